"""enterprise file: areas (乡镇街道), tags and pools the office defines, an enterprise's area, size class, sector,
memberships, further contacts, key figures per year and change record; figure facts carry the enterprise's classes

Revision ID: e8f9a0b1c2d3
Revises: b8c9d0e1f2a3
Create Date: 2026-12-14 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e8f9a0b1c2d3"
down_revision: str | Sequence[str] | None = "b8c9d0e1f2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "area",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.unit_id"), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.PrimaryKeyConstraint("area_id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "enterprise_tag",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("with_batch", sa.Boolean(), nullable=False),
        sa.Column("with_date", sa.Boolean(), nullable=False),
        sa.Column("date_label", sa.String(length=20), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.PrimaryKeyConstraint("tag_id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("enterprise") as batch:
        batch.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("size_class", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("sector", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_enterprise_area_id_area", "area", ["area_id"], ["area_id"])
        batch.create_index("ix_enterprise_area_id", ["area_id"])
        batch.create_index("ix_enterprise_size_class", ["size_class"])
    op.create_table(
        "enterprise_membership",
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("enterprise_tag.tag_id"), nullable=False),
        sa.Column("batch", sa.String(length=50), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.enterprise_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("membership_id"),
    )
    op.create_index(
        "ix_enterprise_membership_enterprise", "enterprise_membership", ["enterprise_id", "removed_at"]
    )
    op.create_index(
        "ix_enterprise_membership_tag", "enterprise_membership", ["tag_id", "removed_at", "enterprise_id"]
    )
    op.create_index(
        "ux_enterprise_membership_current",
        "enterprise_membership",
        ["enterprise_id", "tag_id"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "enterprise_contact",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("position", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.enterprise_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("contact_id"),
    )
    op.create_index("ix_enterprise_contact_enterprise_id", "enterprise_contact", ["enterprise_id"])
    op.create_table(
        "enterprise_year",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("output_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("revenue", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.enterprise_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("enterprise_id", "year"),
    )
    op.create_table(
        "enterprise_change",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.enterprise_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("change_id"),
    )
    op.create_index("ix_enterprise_change_enterprise", "enterprise_change", ["enterprise_id", "change_id"])
    # Facts recorded before this revision had no enterprise classes: they stay NULL (no area, no size, no tag).
    with op.batch_alter_table("figure_fact") as batch:
        batch.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("size_class", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("tags", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("figure_fact") as batch:
        batch.drop_column("tags")
        batch.drop_column("size_class")
        batch.drop_column("area_id")
    op.execute("DELETE FROM figure_daily WHERE dim IN ('area', 'size', 'tag') OR dim LIKE 'area*%' "
               "OR dim LIKE 'size*%' OR dim LIKE 'tag*%' OR dim LIKE '%*area' OR dim LIKE '%*size' "
               "OR dim LIKE '%*tag'")  # fmt: skip
    op.drop_index("ix_enterprise_change_enterprise", table_name="enterprise_change")
    op.drop_table("enterprise_change")
    op.drop_table("enterprise_year")
    op.drop_index("ix_enterprise_contact_enterprise_id", table_name="enterprise_contact")
    op.drop_table("enterprise_contact")
    op.drop_index("ux_enterprise_membership_current", table_name="enterprise_membership")
    op.drop_index("ix_enterprise_membership_tag", table_name="enterprise_membership")
    op.drop_index("ix_enterprise_membership_enterprise", table_name="enterprise_membership")
    op.drop_table("enterprise_membership")
    with op.batch_alter_table("enterprise") as batch:
        batch.drop_index("ix_enterprise_size_class")
        batch.drop_index("ix_enterprise_area_id")
        batch.drop_constraint("fk_enterprise_area_id_area", type_="foreignkey")
        batch.drop_column("updated_at")
        batch.drop_column("sector")
        batch.drop_column("size_class")
        batch.drop_column("area_id")
    op.drop_table("enterprise_tag")
    op.drop_table("area")
