"""public channel: tracking token on the case, rate-limit events

Revision ID: b7c8d9e0f1a2
Revises: a6b7c8d9e0f1
Create Date: 2026-11-21 19:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c8d9e0f1a2"
down_revision: str | Sequence[str] | None = "a6b7c8d9e0f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("tracking_token", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_case_record_tracking_token", ["tracking_token"])
    op.create_table(
        "rate_event",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_rate_event_bucket_key_at", "rate_event", ["bucket", "key", "at"])


def downgrade() -> None:
    op.drop_index("ix_rate_event_bucket_key_at", table_name="rate_event")
    op.drop_table("rate_event")
    with op.batch_alter_table("case_record") as batch:
        batch.drop_constraint("uq_case_record_tracking_token", type_="unique")
        batch.drop_column("tracking_token")
