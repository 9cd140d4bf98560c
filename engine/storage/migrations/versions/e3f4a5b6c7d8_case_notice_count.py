"""public notices (通报) and extensions (延期) counted on the case, original deadline kept

Revision ID: e3f4a5b6c7d8
Revises: d7e8f9a0b1c2
Create Date: 2026-11-21 16:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3f4a5b6c7d8"
down_revision: str | Sequence[str] | None = "d7e8f9a0b1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("notice_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("original_deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("extensions_count", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("extensions_count")
        batch.drop_column("original_deadline_at")
        batch.drop_column("notice_count")
