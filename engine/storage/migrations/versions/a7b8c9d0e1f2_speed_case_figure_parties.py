"""speed (issue 12): the parties the figures credited with a case, kept on the case row

Revision ID: a7b8c9d0e1f2
Revises: e8f9a0b1c2d3
Create Date: 2026-12-07 21:00:00

A nullable column and nothing to backfill: a case without it has its parties read from its facts the next time
it moves, and written here then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7b8c9d0e1f2"
down_revision: str | Sequence[str] | None = "e8f9a0b1c2d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("figure_parties", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("figure_parties")
