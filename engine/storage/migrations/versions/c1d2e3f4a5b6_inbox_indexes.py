"""speed (issue 12): the inbox reads each disjoint part of "mine" and "unit" as one index range in page order

Revision ID: c1d2e3f4a5b6
Revises: a7b8c9d0e1f2
Create Date: 2026-12-07 23:10:00

The projection is rebuilt on every step, so nothing to backfill: the indexes are built from the rows there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1d2e3f4a5b6"
down_revision: str | Sequence[str] | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A role's pool without a unit, and with one (partial: PostgreSQL keeps index order after `col = x`, not after
# `col IS NULL`, so the no-unit pool has its own index).
POOLS = [
    ("ix_human_task_pool", ["role", "created_at", "task_id"], "assignee_id IS NULL AND unit_id IS NULL"),
    ("ix_human_task_unit_pool", ["role", "unit_id", "created_at", "task_id"], "assignee_id IS NULL"),
]


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.drop_index("ix_human_task_role_unit")
        batch.drop_index("ix_human_task_assignee_id")
        batch.create_index("ix_human_task_mine", ["assignee_id", "created_at", "task_id"], unique=False)
        for name, columns, where in POOLS:
            batch.create_index(
                name, columns, unique=False, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
            )
        batch.create_index("ix_human_task_unit", ["unit_id", "created_at", "task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.drop_index("ix_human_task_unit")
        batch.drop_index("ix_human_task_unit_pool")
        batch.drop_index("ix_human_task_pool")
        batch.drop_index("ix_human_task_mine")
        batch.create_index("ix_human_task_assignee_id", ["assignee_id"], unique=False)
        batch.create_index("ix_human_task_role_unit", ["role", "unit_id", "created_at"], unique=False)
