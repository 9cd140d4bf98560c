"""official holiday schedules admins enter per year (they take precedence over chinesecalendar), and their audit

Revision ID: f5a6b7c8d9e0
Revises: f1a2b3c4d5e6
Create Date: 2026-12-07 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f5a6b7c8d9e0"
down_revision: str | Sequence[str] | None = "f1a2b3c4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "official_calendar",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "official_calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "year",
            sa.Integer(),
            sa.ForeignKey("official_calendar.year", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_index("ix_official_calendar_day_year", "official_calendar_day", ["year"])
    op.create_table(
        "calendar_change",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("recomputed", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("change_id"),
    )
    op.create_index("ix_calendar_change_year", "calendar_change", ["year"])


def downgrade() -> None:
    op.drop_index("ix_calendar_change_year", table_name="calendar_change")
    op.drop_table("calendar_change")
    op.drop_index("ix_official_calendar_day_year", table_name="official_calendar_day")
    op.drop_table("official_calendar_day")
    op.drop_table("official_calendar")
