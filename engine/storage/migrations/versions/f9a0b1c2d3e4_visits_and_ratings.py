"""visit campaigns (走访: campaigns, waves, targets with their visit task, recorded visits, answers, cases found) and
rating rounds (测评: invites, ratings per unit); instances and tasks say what they run for (kind)

Revision ID: f9a0b1c2d3e4
Revises: c1d2e3f4a5b6
Create Date: 2026-12-07 23:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f9a0b1c2d3e4"
down_revision: str | Sequence[str] | None = "c1d2e3f4a5b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("workflow_instance") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
    op.create_table(
        "visit_campaign",
        sa.Column("campaign_id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("form_key", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=True),
        sa.Column("assignment", sa.JSON(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        _at("created_at"),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        _at("launched_at", True),
        _at("closed_at", True),
    )
    op.create_table(
        "visit_wave",
        sa.Column("wave_id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("visit_campaign.campaign_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
    )
    op.create_table(
        "visit_target",
        sa.Column("target_id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("visit_campaign.campaign_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("wave_id", sa.Integer(), sa.ForeignKey("visit_wave.wave_id"), nullable=False),
        sa.Column(
            "enterprise_id",
            sa.Integer(),
            sa.ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "visitor_user_id", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True, index=True
        ),
        sa.Column("visitor_person_id", sa.Integer(), sa.ForeignKey("roster_person.person_id"), nullable=True),
        sa.Column("visitor_unit_id", sa.Integer(), sa.ForeignKey("unit.unit_id"), nullable=True),
        sa.Column("visitor_name", sa.String(length=100), nullable=True),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("area.area_id"), nullable=True),
        sa.Column(
            "instance_id",
            sa.Integer(),
            sa.ForeignKey("workflow_instance.instance_id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("flag", sa.String(length=10), nullable=True),
        _at("due_at", True),
        _at("visited_at", True),
        sa.UniqueConstraint("campaign_id", "enterprise_id", name="uq_visit_target_enterprise"),
    )
    op.create_index("ix_visit_target_campaign", "visit_target", ["campaign_id", "status", "visitor_unit_id"])
    op.create_index("ix_visit_target_enterprise", "visit_target", ["enterprise_id"])
    op.create_table(
        "visit",
        sa.Column("visit_id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("visit_campaign.campaign_id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "target_id",
            sa.Integer(),
            sa.ForeignKey("visit_target.target_id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "enterprise_id",
            sa.Integer(),
            sa.ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("visitors", sa.String(length=200), nullable=False),
        sa.Column("met_with", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.unit_id"), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("roster_person.person_id"), nullable=True),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("area.area_id"), nullable=True),
        sa.Column("form_key", sa.String(length=100), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("problems", sa.Integer(), nullable=False),
        _at("recorded_at"),
    )
    op.create_index("ix_visit_enterprise", "visit", ["enterprise_id", "visited_on"])
    op.create_index("ix_visit_campaign", "visit", ["campaign_id", "unit_id"])
    op.create_index("ix_visit_target", "visit", ["target_id"])
    op.create_table(
        "visit_answer",
        sa.Column(
            "visit_id", sa.Integer(), sa.ForeignKey("visit.visit_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("field", sa.String(length=100), primary_key=True),
        sa.Column("value", sa.String(length=200), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_visit_answer_campaign", "visit_answer", ["campaign_id", "field", "value"])
    op.create_table(
        "visit_case",
        sa.Column(
            "visit_id", sa.Integer(), sa.ForeignKey("visit.visit_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("case_record.case_id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "rating_round",
        sa.Column("round_id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False, unique=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        _at("created_at"),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.user_id"), nullable=True),
    )
    op.create_table(
        "rating_invite",
        sa.Column("invite_id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("rating_round.round_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "enterprise_id",
            sa.Integer(),
            sa.ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token", sa.String(length=64), nullable=False, unique=True),
        sa.Column("units", sa.JSON(), nullable=False),
        _at("submitted_at", True),
        sa.UniqueConstraint("round_id", "enterprise_id", name="uq_rating_invite_enterprise"),
    )
    op.create_table(
        "rating",
        sa.Column("rating_id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("rating_round.round_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "invite_id",
            sa.Integer(),
            sa.ForeignKey("rating_invite.invite_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "enterprise_id",
            sa.Integer(),
            sa.ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.unit_id"), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        _at("at"),
        sa.UniqueConstraint("invite_id", "unit_id", name="uq_rating_unit"),
    )
    op.create_index("ix_rating_unit_at", "rating", ["unit_id", "at"])


def downgrade() -> None:
    for index, table in (("ix_rating_unit_at", "rating"),):
        op.drop_index(index, table_name=table)
    for table in ("rating", "rating_invite", "rating_round", "visit_case", "visit_answer"):
        op.drop_table(table)
    op.drop_index("ix_visit_target", table_name="visit")
    op.drop_index("ix_visit_campaign", table_name="visit")
    op.drop_index("ix_visit_enterprise", table_name="visit")
    op.drop_table("visit")
    op.drop_index("ix_visit_target_enterprise", table_name="visit_target")
    op.drop_index("ix_visit_target_campaign", table_name="visit_target")
    for table in ("visit_target", "visit_wave", "visit_campaign"):
        op.drop_table(table)
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("workflow_instance") as batch:
        batch.drop_column("kind")
