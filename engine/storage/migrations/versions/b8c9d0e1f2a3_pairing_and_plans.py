"""pairing (包联): levels the office keeps, the roster of leaders and cadres, enterprise pairings; per-enterprise
plans (一企一策) with items and their cases; the audit of both

Revision ID: b8c9d0e1f2a3
Revises: f5a6b7c8d9e0
Create Date: 2026-12-14 10:00:00

"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8c9d0e1f2a3"
down_revision: str | Sequence[str] | None = "f5a6b7c8d9e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The starting list of levels; the programme office renames, reorders, adds and retires them (包联层级).
DEFAULT_LEVELS = [
    ("city_leader", "市级领导结对", "City leader pairing", "person", True),
    ("county_leader", "县级领导包保", "County leader pairing", "person", True),
    ("helping_unit", "帮扶单位挂钩", "Helping unit", "unit", False),
    ("street", "属地镇街服务", "Local street or town", "unit", False),
    ("cadre", "助企干部", "Helper cadre", "person", False),
    ("enterprise_head", "企业负责人", "Enterprise head", "enterprise", False),
]


def _user(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True)


def upgrade() -> None:
    op.create_table(
        "pairing_level",
        sa.Column("level_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("gives_leader", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _user("updated_by"),
        sa.PrimaryKeyConstraint("level_id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("name"),
    )
    levels = sa.table(
        "pairing_level",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("name_en", sa.String),
        sa.column("kind", sa.String),
        sa.column("gives_leader", sa.Boolean),
        sa.column("sort_order", sa.Integer),
        sa.column("is_active", sa.Boolean),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        levels,
        [
            {
                "code": code,
                "name": name,
                "name_en": name_en,
                "kind": kind,
                "gives_leader": gives_leader,
                "sort_order": (index + 1) * 10,
                "is_active": True,
                "updated_at": now if op.get_bind().dialect.name != "sqlite" else now.replace(tzinfo=None),
            }
            for index, (code, name, name_en, kind, gives_leader) in enumerate(DEFAULT_LEVELS)
        ],
    )
    op.create_table(
        "roster_person",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.unit_id"), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        _user("user_id"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_index("ix_roster_person_name_unit", "roster_person", ["name", "unit_id"])
    op.create_table(
        "pairing",
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column(
            "enterprise_id",
            sa.Integer(),
            sa.ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("level_id", sa.Integer(), sa.ForeignKey("pairing_level.level_id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.unit_id"), nullable=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("roster_person.person_id"), nullable=True),
        sa.Column("contact_name", sa.String(length=50), nullable=True),
        sa.Column("contact_title", sa.String(length=100), nullable=True),
        sa.Column("contact_phone", sa.String(length=30), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user("created_by"),
        sa.PrimaryKeyConstraint("pairing_id"),
    )
    op.create_index("ix_pairing_enterprise_level", "pairing", ["enterprise_id", "level_id"])
    op.create_index("ix_pairing_unit_enterprise", "pairing", ["unit_id", "enterprise_id"])
    op.create_index("ix_pairing_person_enterprise", "pairing", ["person_id", "enterprise_id"])
    op.create_table(
        "plan",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.enterprise_id"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user("created_by"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    op.create_index("ix_plan_enterprise_id", "plan", ["enterprise_id"])
    op.create_table(
        "plan_item",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.plan_id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), sa.ForeignKey("unit.unit_id"), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress_note", sa.Text(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _user("updated_by"),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("ix_plan_item_plan_id", "plan_item", ["plan_id"])
    op.create_index("ix_plan_item_owner_unit_id", "plan_item", ["owner_unit_id"])
    op.create_table(
        "plan_item_case",
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("plan_item.item_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "case_id", sa.Integer(), sa.ForeignKey("case_record.case_id", ondelete="CASCADE"), nullable=False
        ),
        sa.PrimaryKeyConstraint("item_id", "case_id"),
    )
    op.create_index("ix_plan_item_case_case_id", "plan_item_case", ["case_id"])
    op.create_table(
        "programme_event",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _user("actor_id"),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column(
            "enterprise_id",
            sa.Integer(),
            sa.ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_programme_event_subject", "programme_event", ["subject", "subject_id", "event_id"])


def downgrade() -> None:
    op.drop_index("ix_programme_event_subject", table_name="programme_event")
    op.drop_table("programme_event")
    op.drop_index("ix_plan_item_case_case_id", table_name="plan_item_case")
    op.drop_table("plan_item_case")
    op.drop_index("ix_plan_item_owner_unit_id", table_name="plan_item")
    op.drop_index("ix_plan_item_plan_id", table_name="plan_item")
    op.drop_table("plan_item")
    op.drop_index("ix_plan_enterprise_id", table_name="plan")
    op.drop_table("plan")
    op.drop_index("ix_pairing_person_enterprise", table_name="pairing")
    op.drop_index("ix_pairing_unit_enterprise", table_name="pairing")
    op.drop_index("ix_pairing_enterprise_level", table_name="pairing")
    op.drop_table("pairing")
    op.drop_index("ix_roster_person_name_unit", table_name="roster_person")
    op.drop_table("roster_person")
    op.drop_table("pairing_level")
