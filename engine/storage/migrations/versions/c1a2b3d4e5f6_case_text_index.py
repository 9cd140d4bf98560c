"""n-gram text index for case search (SQLite FTS5 table, PostgreSQL GIN over a simple tsvector)

Revision ID: c1a2b3d4e5f6
Revises: b35efd8c6946
Create Date: 2026-11-21 15:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1a2b3d4e5f6"
down_revision: str | Sequence[str] | None = "b35efd8c6946"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from engine.storage.search import grams

    op.add_column("case_record", sa.Column("search_grams", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE case_fts USING fts5(grams, content='', tokenize='unicode61')")
    else:
        op.execute(
            "CREATE INDEX ix_case_record_search_grams ON case_record "
            "USING gin (to_tsvector('simple', search_grams))"
        )
    rows = bind.execute(sa.text("SELECT case_id, search_text FROM case_record")).all()
    for case_id, text in rows:
        value = grams(text)
        bind.execute(
            sa.text("UPDATE case_record SET search_grams = :g WHERE case_id = :i"), {"g": value, "i": case_id}
        )
        if bind.dialect.name == "sqlite":
            bind.execute(
                sa.text("INSERT INTO case_fts(rowid, grams) VALUES (:i, :g)"), {"g": value, "i": case_id}
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE case_fts")
    else:
        op.execute("DROP INDEX ix_case_record_search_grams")
    op.drop_column("case_record", "search_grams")
