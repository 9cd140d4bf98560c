"""hostile input: single-use public form stamps, token kinds (web sessions are revocable tokens), login
throttling reuses rate_event, a gapless case-number counter

Revision ID: f1a2b3c4d5e6
Revises: e0f1a2b3c4d5
Create Date: 2026-12-07 20:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a2b3c4d5e6"
down_revision: str | Sequence[str] | None = "e0f1a2b3c4d5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_stamp",
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("stamp"),
    )
    op.create_index("ix_form_stamp_used_at", "form_stamp", ["used_at"])
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="service"))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("client", sa.String(length=200), nullable=True))
    op.execute("UPDATE api_token SET kind = 'login' WHERE name = 'login' AND created_by IS NULL")
    op.create_table(
        "number_counter",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute(
        "INSERT INTO number_counter (name, value) SELECT 'case', COALESCE(MAX(case_id), 0) FROM case_record"
    )


def downgrade() -> None:
    op.drop_table("number_counter")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("client")
        batch.drop_column("last_used_at")
        batch.drop_column("kind")
    op.drop_index("ix_form_stamp_used_at", table_name="form_stamp")
    op.drop_table("form_stamp")
