"""batch (交办批次) of cases imported from a visit spreadsheet

Revision ID: c8d9e0f1a2b3
Revises: b7c8d9e0f1a2
Create Date: 2026-11-21 20:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8d9e0f1a2b3"
down_revision: str | Sequence[str] | None = "b7c8d9e0f1a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("batch", sa.String(length=100), nullable=True))
    op.create_index("ix_case_record_batch", "case_record", ["batch"])


def downgrade() -> None:
    op.drop_index("ix_case_record_batch", table_name="case_record")
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("batch")
