"""designers and managers: active version pointers, drafts, rule examples, form versions, design audit

Revision ID: f4a5b6c7d8e9
Revises: e3f4a5b6c7d8
Create Date: 2026-11-21 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f4a5b6c7d8e9"
down_revision: str | Sequence[str] | None = "e3f4a5b6c7d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "active_version",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "design_draft",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "rule_example",
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("expected", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.PrimaryKeyConstraint("example_id"),
    )
    op.create_index("ix_rule_example_decision_id", "rule_example", ["decision_id"])
    op.create_table(
        "form_version",
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("form_key", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("schema_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("form_version_id"),
        sa.UniqueConstraint("form_key", "content_hash"),
    )
    op.create_table(
        "design_audit",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("before_version", sa.Integer(), nullable=True),
        sa.Column("after_version", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("audit_id"),
    )
    op.create_index("ix_design_audit_kind_key_at", "design_audit", ["kind", "key", "at"])


def downgrade() -> None:
    op.drop_index("ix_design_audit_kind_key_at", table_name="design_audit")
    op.drop_table("design_audit")
    op.drop_table("form_version")
    op.drop_index("ix_rule_example_decision_id", table_name="rule_example")
    op.drop_table("rule_example")
    op.drop_table("design_draft")
    op.drop_table("active_version")
