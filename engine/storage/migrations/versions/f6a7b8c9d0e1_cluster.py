"""several machines on one PostgreSQL: e-mail claims and retries, attachments in the database, the task an
event is about (indexed, backfilled from the event's JSON), worker heartbeats

Revision ID: f6a7b8c9d0e1
Revises: f9a0b1c2d3e4
Create Date: 2026-12-07 23:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6a7b8c9d0e1"
down_revision: str | Sequence[str] | None = "f9a0b1c2d3e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TASK_EVENTS = "('task_completed', 'task_withdrawn')"


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("mail_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("mail_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("mail_claim", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("mail_error", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("mail_failed_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("attachment") as batch:
        batch.add_column(sa.Column("store", sa.String(length=20), nullable=False, server_default="local"))
    op.create_table(
        "attachment_blob",
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("storage_key"),
    )

    with op.batch_alter_table("case_event") as batch:
        batch.add_column(sa.Column("task_id", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"UPDATE case_event SET task_id = data->>'task_id' WHERE kind IN {TASK_EVENTS}")
    else:
        op.execute(
            f"UPDATE case_event SET task_id = json_extract(data, '$.task_id') WHERE kind IN {TASK_EVENTS}"
        )
    op.create_index("ix_case_event_task", "case_event", ["task_id"])

    op.create_table(
        "worker_heartbeat",
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("hostname", sa.String(length=100), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("mailed", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("worker_id"),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeat")
    op.drop_index("ix_case_event_task", table_name="case_event")
    with op.batch_alter_table("case_event") as batch:
        batch.drop_column("task_id")
    op.drop_table("attachment_blob")
    with op.batch_alter_table("attachment") as batch:
        batch.drop_column("store")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("mail_failed_at")
        batch.drop_column("mail_error")
        batch.drop_column("mail_claim")
        batch.drop_column("mail_next_at")
        batch.drop_column("mail_attempts")
