"""quarterly evaluation: boards with their frozen snapshot, evaluation events; programme-level tasks (no case)

Revision ID: e0f1a2b3c4d5
Revises: d9e0f1a2b3c4
Create Date: 2026-11-21 11:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e0f1a2b3c4d5"
down_revision: str | Sequence[str] | None = "d9e0f1a2b3c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "evaluation_board",
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["workflow_instance.instance_id"]),
        sa.ForeignKeyConstraint(["published_by"], ["user_account.user_id"]),
        sa.PrimaryKeyConstraint("quarter"),
    )
    op.create_table(
        "evaluation_event",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["user_account.user_id"]),
        sa.ForeignKeyConstraint(["quarter"], ["evaluation_board.quarter"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.unit_id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_evaluation_event_quarter", "evaluation_event", ["quarter"])


def downgrade() -> None:
    op.drop_index("ix_evaluation_event_quarter", table_name="evaluation_event")
    op.drop_table("evaluation_event")
    op.drop_table("evaluation_board")
    with op.batch_alter_table("human_task") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
