"""figures: facts credited to cases, tiers and units; per-day totals; when the unit reported its result

Revision ID: d9e0f1a2b3c4
Revises: c8d9e0f1a2b3
Create Date: 2026-11-21 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d9e0f1a2b3c4"
down_revision: str | Sequence[str] | None = "c8d9e0f1a2b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES = (
    "collected",
    "closed",
    "resolved",
    "on_time",
    "close_days",
    "revisits",
    "satisfied",
    "reopened",
    "returns",
    "extensions",
    "closures",
)


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "figure_fact",
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("party", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("batch", sa.String(length=100), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.case_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.unit_id"]),
        sa.PrimaryKeyConstraint("fact_id"),
    )
    op.create_index("ix_figure_fact_case", "figure_fact", ["case_id", "party", "measure"])
    op.create_index("ix_figure_fact_day", "figure_fact", ["party", "measure", "day"])
    op.create_index("ix_figure_fact_batch", "figure_fact", ["batch", "day"])
    op.create_table(
        "figure_daily",
        sa.Column("dim", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("key2", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(m, sa.Integer(), nullable=False) for m in MEASURES],
        sa.PrimaryKeyConstraint("dim", "key", "key2", "day"),
    )
    op.create_index("ix_case_record_status_flag", "case_record", ["status", "flag"])
    op.create_index("ix_human_task_overdue", "human_task", ["role", "due_at", "unit_id", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_human_task_overdue", table_name="human_task")
    op.drop_index("ix_case_record_status_flag", table_name="case_record")
    op.drop_table("figure_daily")
    op.drop_index("ix_figure_fact_batch", table_name="figure_fact")
    op.drop_index("ix_figure_fact_day", table_name="figure_fact")
    op.drop_index("ix_figure_fact_case", table_name="figure_fact")
    op.drop_table("figure_fact")
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("handled_at")
