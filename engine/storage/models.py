"""Tables: units and users, enterprises and their classes (areas, tags and pools), cases and their history, process/rule versions, instances, task projection,
the official holiday schedules admins enter, attachment bytes kept in the database, worker heartbeats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from engine.storage.db import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime()}


class Unit(Base):
    """An organisation unit: a department, a street office, a service office."""

    __tablename__ = "unit"
    unit_id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))  # department / street / service_office / supervision / ...
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    """A person who logs in. Roles live in user_role; a handler belongs to exactly one unit."""

    __tablename__ = "user_account"
    user_id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(200))  # for e-mailed notifications (optional)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.user_id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class ApiToken(Base):
    """A bearer token: only its SHA-256 is stored. Short-lived from login, long-lived when an admin issues it."""

    __tablename__ = "api_token"
    token_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.user_id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    # service: issued by an admin for another system; login: from POST /auth/token; session: a browser login
    kind: Mapped[str] = mapped_column(String(20), default="service", server_default="service")
    last_used_at: Mapped[dt.datetime | None]
    client: Mapped[str | None] = mapped_column(String(200))  # the browser or address it was issued to


class Area(Base):
    """An area (乡镇街道): a sub-district, town, township or development zone the office splits its work by. The
    office's own list, edited by managers; `unit_id` is the street/town office that serves its enterprises."""

    __tablename__ = "area"
    area_id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # street / town / township / zone (vocabulary.AREA_KINDS)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class EnterpriseTag(Base):
    """A pool (企业库: 重点企业库, 潜力企业库, 挂牌服务 …) or a tag (专精特新 …) the office defines. `with_batch` /
    `with_date`: its memberships carry a batch (挂牌服务 第一批) / the date the enterprise entered (挂牌日期)."""

    __tablename__ = "enterprise_tag"
    tag_id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # pool / tag (vocabulary.TAG_KINDS)
    description: Mapped[str | None] = mapped_column(String(500))
    with_batch: Mapped[bool] = mapped_column(Boolean, default=False)
    with_date: Mapped[bool] = mapped_column(Boolean, default=False)
    date_label: Mapped[str | None] = mapped_column(String(20))  # what the date is called: 挂牌日期, 入库日期
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class Enterprise(Base):
    """A company, identified by its unified social credit code (统一社会信用代码). contact_name/phone are its main
    contact (the one a registration or the public form gives); further contacts are enterprise_contact rows."""

    __tablename__ = "enterprise"
    enterprise_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    field: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.area_id"), index=True)
    size_class: Mapped[str | None] = mapped_column(String(10), index=True)  # vocabulary.SIZE_CLASSES
    sector: Mapped[str | None] = mapped_column(String(1))  # GB/T 4754 section letter (vocabulary.SECTORS)
    updated_at: Mapped[dt.datetime | None]


class EnterpriseMembership(Base):
    """An enterprise in a pool or carrying a tag, from `since` (or when added) until removed. Rows are never
    deleted: leaving a pool sets removed_at, so the file shows when it was in which pool and batch."""

    __tablename__ = "enterprise_membership"
    membership_id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("enterprise_tag.tag_id"))
    batch: Mapped[str | None] = mapped_column(String(50))
    since: Mapped[dt.date | None]
    note: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[dt.datetime]
    added_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    removed_at: Mapped[dt.datetime | None]
    removed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))

    __table_args__ = (
        Index("ix_enterprise_membership_enterprise", "enterprise_id", "removed_at"),
        Index("ix_enterprise_membership_tag", "tag_id", "removed_at", "enterprise_id"),
        # One current membership per enterprise and tag (past ones are history).
        Index(
            "ux_enterprise_membership_current",
            "enterprise_id",
            "tag_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )


class EnterpriseContact(Base):
    """A further contact person of an enterprise (法定代表人, 财务负责人, 联络员 …) besides its main contact."""

    __tablename__ = "enterprise_contact"
    contact_id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class EnterpriseYear(Base):
    """An enterprise's key figures for one year, each optional: output value and revenue (万元), employees."""

    __tablename__ = "enterprise_year"
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    output_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 产值, 万元
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 营业收入, 万元
    employees: Mapped[int | None] = mapped_column(Integer)  # 从业人数
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class EnterpriseChange(Base):
    """Append-only record of every change to an enterprise's file: who, when, what (before → after)."""

    __tablename__ = "enterprise_change"
    change_id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"))
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    # created / updated / joined / left / figures / imported
    action: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))  # page / api / file
    summary: Mapped[str] = mapped_column(String(500))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_enterprise_change_enterprise", "enterprise_id", "change_id"),)


class Case(Base):
    """One reported problem of one enterprise: the read model lists, search and the case page use.

    status: registered, on_site, dispatching, coordinating, signing, handling, verifying, revisiting, closing, closed
    (see engine.domain.vocabulary.CASE_STATUSES); it follows the current task of the current round.
    """

    __tablename__ = "case_record"
    case_id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str | None] = mapped_column(String(30), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id"), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    field: Mapped[str] = mapped_column(String(20), index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    urgency: Mapped[str] = mapped_column(String(10))
    library: Mapped[str] = mapped_column(String(10), default="general")
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    tier: Mapped[str | None] = mapped_column(String(20), index=True)
    time_limit_days: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    current_task: Mapped[str | None] = mapped_column(String(100))
    round_no: Mapped[int] = mapped_column(Integer, default=1)
    returns_count: Mapped[int] = mapped_column(Integer, default=0)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"), index=True)
    responsible_leader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    registrar_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    signed_at: Mapped[dt.datetime | None]
    deadline_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    flag: Mapped[str | None] = mapped_column(String(10), index=True)
    notice_count: Mapped[int] = mapped_column(Integer, default=0)  # public notices (通报) for lateness
    original_deadline_at: Mapped[dt.datetime | None]  # the deadline before any approved extension
    extensions_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    handled_at: Mapped[dt.datetime | None]  # the unit's latest result (办理结果) this round: on time or not
    search_text: Mapped[str] = mapped_column(Text)
    search_grams: Mapped[str] = mapped_column(
        Text, default=""
    )  # engine.storage.search.grams(search_text), indexed
    tracking_token: Mapped[str | None] = mapped_column(String(64), unique=True)  # public tracking link
    batch: Mapped[str | None] = mapped_column(String(100), index=True)  # 交办批次 of an imported visit sheet
    # Which parties the figures have credited with the case and their cohort days (JSON, engine.services.figures):
    # a summary of this case's "collected" facts kept in the same transaction as they are written, so a step
    # need not read them back. NULL (cases from before it, or rows loaded in bulk): read from the facts.
    figure_parties: Mapped[str | None] = mapped_column(Text)

    # The dashboard's "open now by flag": an index-only count over the open cases.
    __table_args__ = (Index("ix_case_record_status_flag", "status", "flag"),)


class CaseUnit(Base):
    """Every unit that has been involved with a case (lead or co-handling), for visibility and unit filters."""

    __tablename__ = "case_unit"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_record.case_id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.unit_id"), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(10))  # lead / co / former


class CaseRound(Base):
    """One handling round of a case; a reopened case gets a new round and a new workflow instance."""

    __tablename__ = "case_round"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_record.case_id", ondelete="CASCADE"), primary_key=True
    )
    round_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.instance_id"))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[str | None] = mapped_column(String(20))  # closed / reopened


class CaseEvent(Base):
    """Append-only audit trail: every transition, submission (with its data), rule decision and admin action."""

    __tablename__ = "case_event"
    event_id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.case_id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    task_name: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict | None] = mapped_column(JSON)
    # The task a task_completed / task_withdrawn event is about: a stale page is told why its task is gone by
    # an indexed look-up here, not by scanning every event's JSON.
    task_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_case_event_case", "case_id", "event_id"),
        Index("ix_case_event_task", "task_id"),
    )


class ProcessVersion(Base):
    """A deployed BPMN diagram, keyed by process id + content hash; instances point at the version they run."""

    __tablename__ = "process_version"
    version_id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    comment: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("process_id", "content_hash"),)


class RuleVersion(Base):
    """A published DMN decision table version; decisions use the newest one for a decision id."""

    __tablename__ = "rule_version"
    rule_version_id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    dmn_xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    comment: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("decision_id", "content_hash"),)


class ActiveVersion(Base):
    """Which version of a process, rule table or form new work uses. Deploying points here; so does a rollback,
    which makes an earlier version current again without copying it. Absent: the newest version is current."""

    __tablename__ = "active_version"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # process / rules / form
    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # process id, decision id or form key
    version_id: Mapped[int] = mapped_column(Integer)
    activated_at: Mapped[dt.datetime]
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class DesignDraft(Base):
    """A designer's or manager's unsaved work on a diagram, table or form: one draft per thing, not yet live."""

    __tablename__ = "design_draft"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    base_version_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class RuleExample(Base):
    """An example case a decision table must keep answering the same way: inputs → expected outputs."""

    __tablename__ = "rule_example"
    example_id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(100), index=True)
    label: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[dict] = mapped_column(JSON)
    expected: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class FormVersion(Base):
    """A saved version of a task form (JSON Schema); the active one is what tasks render and validate."""

    __tablename__ = "form_version"
    form_version_id: Mapped[int] = mapped_column(primary_key=True)
    form_key: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    schema_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    comment: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("form_key", "content_hash"),)


class DesignAudit(Base):
    """Append-only record of every change to processes, rule tables and forms: who, when, before → after."""

    __tablename__ = "design_audit"
    audit_id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(100))
    # deploy / publish / rollback / migrate_case / reevaluate / import
    action: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(String(500))
    before_version: Mapped[int | None] = mapped_column(Integer)
    after_version: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_design_audit_kind_key_at", "kind", "key", "at"),)


class IdempotencyKey(Base):
    """A client's Idempotency-Key for a case submission: a retry with the same key and content gets the same
    case back; the same key with other content is refused. Unique per submitting account."""

    __tablename__ = "idempotency_key"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.user_id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.case_id"))
    created_at: Mapped[dt.datetime]


class FormStamp(Base):
    """A public form's anti-bot stamp that was used: each stamp submits once (kept until it expires anyway)."""

    __tablename__ = "form_stamp"
    stamp: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[dt.datetime] = mapped_column(index=True)


class NumberCounter(Base):
    """The last official number given out per series ("case"): taken in the transaction that saves the case, so
    a rolled-back registration gives its number back and official numbers have no gaps."""

    __tablename__ = "number_counter"
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class RateEvent(Base):
    """One attempt counted by a rate limit (public submissions per client address, …)."""

    __tablename__ = "rate_event"
    event_id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime]

    __table_args__ = (Index("ix_rate_event_bucket_key_at", "bucket", "key", "at"),)


class WorkflowInstance(Base):
    """A SpiffWorkflow instance (one handling round), serialised without its spec. lock_version guards updates."""

    __tablename__ = "workflow_instance"
    instance_id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_record.case_id", ondelete="CASCADE"), index=True
    )
    round_no: Mapped[int] = mapped_column(Integer, default=1)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.version_id"))
    status: Mapped[str] = mapped_column(String(20))  # running / completed / error
    # What the instance runs for when it is not a case's round: "evaluation", "visit" (None: read from case_id).
    kind: Mapped[str | None] = mapped_column(String(20))
    end_event: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(Text)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    lock_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """Projection of a READY human task with the case fields lists need: inboxes never deserialise workflows."""

    __tablename__ = "human_task"
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_instance.instance_id", ondelete="CASCADE"), index=True
    )
    # NULL for a programme-level task (the quarterly evaluation): case_no then holds the quarter.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_record.case_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str | None] = mapped_column(
        String(20)
    )  # as on its instance (None: a case's or evaluation's)
    task_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    form_key: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    created_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime | None]
    flag: Mapped[str | None] = mapped_column(String(10))
    case_no: Mapped[str] = mapped_column(String(30))
    case_title: Mapped[str] = mapped_column(String(200))
    enterprise_name: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    tier: Mapped[str | None] = mapped_column(String(20))
    round_no: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # The inbox reads each disjoint part of "mine" and "unit" as one index range in page order
        # (services/tasks.py): my own tasks, each role's pool without a unit and with my unit, a unit's tasks.
        # Pools are partial indexes: PostgreSQL keeps index order after `col = x` but not after `col IS NULL`.
        Index("ix_human_task_mine", "assignee_id", "created_at", "task_id"),
        Index(
            "ix_human_task_pool",
            "role",
            "created_at",
            "task_id",
            postgresql_where=text("assignee_id IS NULL AND unit_id IS NULL"),
            sqlite_where=text("assignee_id IS NULL AND unit_id IS NULL"),
        ),
        Index(
            "ix_human_task_unit_pool",
            "role",
            "unit_id",
            "created_at",
            "task_id",
            postgresql_where=text("assignee_id IS NULL"),
            sqlite_where=text("assignee_id IS NULL"),
        ),
        Index("ix_human_task_unit", "unit_id", "created_at", "task_id"),
        # Overdue now, per unit: a range of the handlers' tasks past their due time.
        Index("ix_human_task_overdue", "role", "due_at", "unit_id", "case_id"),
    )


class Attachment(Base):
    """An uploaded file, kept in one of the file stores (engine/storage/files.py) under `storage_key`; linked to a
    case when its form is submitted."""

    __tablename__ = "attachment"
    attachment_id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_record.case_id", ondelete="CASCADE"), index=True
    )
    round_no: Mapped[int | None] = mapped_column(Integer)
    task_name: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    # Which store holds the bytes: "local" (the upload folder of the machine that received it), "database"
    # (attachment_blob) or "s3". `jienan move-attachments` moves files into the configured store.
    store: Mapped[str] = mapped_column(String(20), server_default="local")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    uploaded_at: Mapped[dt.datetime]


class AttachmentBlob(Base):
    """The bytes of an attachment kept in the database (bytea on PostgreSQL): every web process can serve it."""

    __tablename__ = "attachment_blob"
    storage_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Notification(Base):
    """An in-app notification for one user (the bell); e-mailed too when a sender is configured."""

    __tablename__ = "notification"
    notification_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.user_id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.case_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(
        String(20)
    )  # task / reminder / flag / escalation / reassignment / notice
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]  # e-mailed (only when a sender is configured)
    # E-mail delivery (engine/services/notifications.py send_pending): a worker claims a row by setting
    # mail_claim and pushing mail_next_at past the time it needs to send; a failure sets mail_next_at to the
    # next retry (exponential backoff) and mail_error; after MAIL_ATTEMPTS failures mail_failed_at ends it.
    mail_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    mail_next_at: Mapped[dt.datetime | None]
    mail_claim: Mapped[str | None] = mapped_column(String(32))
    mail_error: Mapped[str | None] = mapped_column(String(300))
    mail_failed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_notification_user", "user_id", "read_at", "notification_id"),
        Index("ix_notification_unsent", "sent_at", "notification_id"),
    )


class FigureFact(Base):
    """One business fact credited to one party of a case, recorded when it happens: the source of every figure.

    party: "case" (the case itself), "tier" (the rung that held it) or "unit" (a lead or co-handling unit,
    credited separately by `role`). `day` is the party's cohort day — the local day the case was registered,
    reached the tier or was assigned to the unit — so "of the problems collected in a period, how many are
    closed" reads one day range; `closures` facts are dated the day of closure instead. Facts are never
    recomputed from the current diagram or rule tables, so later changes to them don't rewrite history.
    """

    __tablename__ = "figure_fact"
    fact_id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.case_id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(20))
    party: Mapped[str] = mapped_column(String(10))
    day: Mapped[dt.date]
    amount: Mapped[int] = mapped_column(Integer, default=1)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    role: Mapped[str | None] = mapped_column(String(10))  # lead / co (unit party only)
    tier: Mapped[str | None] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    batch: Mapped[str | None] = mapped_column(String(100))
    # The enterprise's classes when the case was collected (every fact of a case carries the same): its area id,
    # size class and pool/tag ids (",3,7,": between commas). NULL for facts recorded before they existed.
    area_id: Mapped[int | None] = mapped_column(Integer)
    size_class: Mapped[str | None] = mapped_column(String(10))
    tags: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime]

    __table_args__ = (
        Index("ix_figure_fact_case", "case_id", "party", "measure"),
        Index("ix_figure_fact_day", "party", "measure", "day"),
        Index("ix_figure_fact_batch", "batch", "day"),
    )


class FigureDaily(Base):
    """Per-day totals of the facts, one row per day × dimension value, kept in step in the same transaction.

    dim: all / field / category / channel / batch / area / size / tag / tier / lead / co (area, tag, lead and co
    keyed by id), and pairs of them both ways round ("lead*category": key = unit id, key2 = category; tags are not
    paired with each other), so any period with at most one filter sums one index range of at most a few
    thousand rows instead of scanning the cases or the facts.
    """

    __tablename__ = "figure_daily"
    # Key order = lookup order: a dimension, a filter value, the grouping value, then the days.
    dim: Mapped[str] = mapped_column(String(30), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    key2: Mapped[str] = mapped_column(String(100), primary_key=True, default="")
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    collected: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    close_days: Mapped[int] = mapped_column(Integer, default=0)
    revisits: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    closures: Mapped[int] = mapped_column(Integer, default=0)


class EvaluationBoard(Base):
    """One quarter's evaluation (季度考评): its process instance, the computed draft the manager reviews and,
    once published, the frozen snapshot of figures, scores and boards that later edits never change."""

    __tablename__ = "evaluation_board"
    quarter: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2026-Q3
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instance.instance_id"))
    status: Mapped[str] = mapped_column(String(20))  # scheduled / review / published / completed
    due_at: Mapped[dt.datetime]
    computed_at: Mapped[dt.datetime | None]
    draft: Mapped[list | None] = mapped_column(JSON)  # the ranking under review (from the process)
    snapshot: Mapped[dict | None] = mapped_column(JSON)  # frozen at publication
    published_at: Mapped[dt.datetime | None]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class EvaluationEvent(Base):
    """What happened in a quarter's evaluation: computed, reviewed, published, each interview (约谈) recorded."""

    __tablename__ = "evaluation_event"
    event_id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(ForeignKey("evaluation_board.quarter"), index=True)
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    data: Mapped[dict | None] = mapped_column(JSON)


class OfficialCalendar(Base):
    """A year's official holiday schedule as an admin entered it (the State Council's notice, 国办发明电…): it
    takes precedence over the chinesecalendar library for that year. Its days are official_calendar_day rows."""

    __tablename__ = "official_calendar"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reference: Mapped[str] = mapped_column(String(200))  # the notice's reference, 国办发明电〔2026〕X号
    change_id: Mapped[int] = mapped_column(Integer)  # the calendar_change that wrote this version
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class OfficialCalendarDay(Base):
    """One day of an entered schedule: a day off (kind "off", weekend days inside a holiday block included) or a
    make-up working day (kind "work", 调休上班). Days not listed follow the week: Monday to Friday work."""

    __tablename__ = "official_calendar_day"
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("official_calendar.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # off / work
    name: Mapped[str | None] = mapped_column(String(50))  # 春节, 国庆节, … (as the notice names the holiday)


class CalendarChange(Base):
    """Append-only record of every change to the entered schedules: who, when, before → after, and the open
    deadlines it moved. Its newest id tells every process whether its cached schedules are stale."""

    __tablename__ = "calendar_change"
    change_id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))  # entered / updated / removed
    source: Mapped[str] = mapped_column(String(20))  # page / file / api
    summary: Mapped[str] = mapped_column(String(500))
    before: Mapped[dict | None] = mapped_column(JSON)  # {"reference", "holidays": [...], "workdays": [...]}
    after: Mapped[dict | None] = mapped_column(JSON)
    recomputed: Mapped[dict | None] = mapped_column(JSON)  # {"cases": n, "moved": [{case_no, from, to}, …]}


# --- Pairing (包联 / 结对 / 挂钩) and per-enterprise plans (一企一策) ---------------------------------------------


class PairingLevel(Base):
    """A level of pairing the programme office keeps (市级领导结对, 帮扶单位挂钩, 属地镇街, 助企干部, 企业负责人, …).

    kind: "person" (a leader or cadre on the roster, optionally with the person's unit), "unit" (a department or
    street, optionally with its responsible person) or "enterprise" (the enterprise's own head: a name kept on the
    pairing, not on the roster). gives_leader: the level's person is the case's responsible leader (包联领导) when
    the dispatcher opens the dispatch task — the first such level by sort order whose person has a leader account.
    """

    __tablename__ = "pairing_level"
    level_id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))
    gives_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class RosterPerson(Base):
    """A leader or helper cadre on the pairing roster (助企干部名册). Many have no account: they are known by name,
    unit, title and phone. When one has an account (user_id), their pairings are their "my enterprises".
    Identified on import by the account, else by name within a unit."""

    __tablename__ = "roster_person"
    person_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    title: Mapped[str | None] = mapped_column(String(100))  # 职务
    phone: Mapped[str | None] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"), unique=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    __table_args__ = (Index("ix_roster_person_name_unit", "name", "unit_id"),)


class Pairing(Base):
    """One enterprise paired at one level with a person, a unit (or both), or its own head (contact_*).

    unit_id is the unit that sees the pairing as its own: the unit of a unit level, or the person's unit."""

    __tablename__ = "pairing"
    pairing_id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"))
    level_id: Mapped[int] = mapped_column(ForeignKey("pairing_level.level_id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("roster_person.person_id"))
    contact_name: Mapped[str | None] = mapped_column(
        String(50)
    )  # the enterprise's own head (kind enterprise)
    contact_title: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))

    __table_args__ = (
        Index("ix_pairing_enterprise_level", "enterprise_id", "level_id"),
        Index("ix_pairing_unit_enterprise", "unit_id", "enterprise_id"),
        Index("ix_pairing_person_enterprise", "person_id", "enterprise_id"),
    )


class Plan(Base):
    """A per-enterprise service plan (一企一策). status: active (推进中) / closed (已结束)."""

    __tablename__ = "plan"
    plan_id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    updated_at: Mapped[dt.datetime]


class PlanItem(Base):
    """One measure of a plan with its owner unit and due date.

    status: pending (未开始), in_progress (推进中), done (已完成), cancelled (已取消, left out of progress).
    Overdue is not a status: an item not done or cancelled whose due date has passed."""

    __tablename__ = "plan_item"
    item_id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.plan_id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.unit_id"), index=True)
    due_date: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    progress_note: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class PlanItemCase(Base):
    """A case of the plan's enterprise that a plan item addresses."""

    __tablename__ = "plan_item_case"
    item_id: Mapped[int] = mapped_column(
        ForeignKey("plan_item.item_id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_record.case_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProgrammeEvent(Base):
    """Append-only record of changes to pairings and plans: who, when, what (a roster import, a removed pairing,
    an item's status and note)."""

    __tablename__ = "programme_event"
    event_id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(20))  # pairing / level / person / plan
    subject_id: Mapped[int | None] = mapped_column(
        Integer
    )  # the plan, level or person (None: a whole import)
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise.enterprise_id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_programme_event_subject", "subject", "subject_id", "event_id"),)


# --- Visit campaigns (走访) and enterprises rating the departments (测评) -----------------------------------------


class VisitCampaign(Base):
    """A visit campaign (走访活动): a name, a period in waves, the enterprises in scope and who visits each.

    status: draft (草稿: scope and visitors may change), running (进行中: visit tasks are out), closed (已结束: open
    visit tasks withdrawn). scope: how the enterprises were chosen (filters or an imported list), as entered.
    form_key: the questionnaire (活动走访调查表) the visitors fill in, a form designers keep in the form editor."""

    __tablename__ = "visit_campaign"
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    form_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    scope: Mapped[dict | None] = mapped_column(JSON)
    assignment: Mapped[dict | None] = mapped_column(JSON)  # {"mode": "pairing", "level": code} or by hand
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))
    launched_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]


class VisitWave(Base):
    """One wave (批次) of a campaign: its enterprises are to be visited between start_date and end_date (the visit
    task's deadline is the end of end_date)."""

    __tablename__ = "visit_wave"
    wave_id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("visit_campaign.campaign_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class VisitTarget(Base):
    """One enterprise in a campaign's scope with its visitor: a user (assignee), a roster person without an
    account (their unit's staff hold the task) or a unit. Once launched it has its visit task's instance.

    status: pending (待走访), visited (已走访), withdrawn (活动结束时未走访). flag mirrors the task's (yellow/red)."""

    __tablename__ = "visit_target"
    target_id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("visit_campaign.campaign_id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("visit_wave.wave_id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"))
    visitor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"), index=True)
    visitor_person_id: Mapped[int | None] = mapped_column(ForeignKey("roster_person.person_id"))
    visitor_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))
    visitor_name: Mapped[str | None] = mapped_column(String(100))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.area_id"))  # the enterprise's, at launch
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_instance.instance_id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="pending")
    flag: Mapped[str | None] = mapped_column(String(10))
    due_at: Mapped[dt.datetime | None]
    visited_at: Mapped[dt.datetime | None]

    __table_args__ = (
        UniqueConstraint("campaign_id", "enterprise_id", name="uq_visit_target_enterprise"),
        Index("ix_visit_target_campaign", "campaign_id", "status", "visitor_unit_id"),
        Index("ix_visit_target_enterprise", "enterprise_id"),
    )


class Visit(Base):
    """A visit recorded by its visitor: when, who went, whom they met, the questionnaire's answers and whether
    problems were found (each registered as a case: visit_case)."""

    __tablename__ = "visit"
    visit_id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit_campaign.campaign_id", ondelete="CASCADE")
    )
    target_id: Mapped[int | None] = mapped_column(ForeignKey("visit_target.target_id", ondelete="SET NULL"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"))
    visited_on: Mapped[dt.date]
    visitors: Mapped[str] = mapped_column(String(200))  # 走访人员
    met_with: Mapped[str] = mapped_column(String(200))  # 接待人 (name, position)
    summary: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.unit_id"))  # the visitor's unit
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))  # who recorded it
    person_id: Mapped[int | None] = mapped_column(ForeignKey("roster_person.person_id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.area_id"))
    form_key: Mapped[str | None] = mapped_column(String(100))
    answers: Mapped[dict | None] = mapped_column(JSON)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    recorded_at: Mapped[dt.datetime]

    __table_args__ = (
        Index("ix_visit_enterprise", "enterprise_id", "visited_on"),
        Index("ix_visit_campaign", "campaign_id", "unit_id"),
        Index("ix_visit_target", "target_id"),
    )


class VisitAnswer(Base):
    """One answer of a visit's questionnaire as text (one row per chosen value of a multi-choice question), so
    answers can be counted and filtered in SQL."""

    __tablename__ = "visit_answer"
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.visit_id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_visit_answer_campaign", "campaign_id", "field", "value"),)


class VisitCase(Base):
    """A problem found on a visit, registered as a case (channel 走访)."""

    __tablename__ = "visit_case"
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.visit_id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case_record.case_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RatingRound(Base):
    """A rating round (测评): the office opens it for a period; each enterprise in scope gets a link (no account) to
    rate the units that handled its cases in the period. status: open / closed."""

    __tablename__ = "rating_round"
    round_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    closes_on: Mapped[dt.date]
    scope: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.user_id"))


class RatingInvite(Base):
    """One enterprise's link in a round (a private token, like the tracking link: the office hands the links out);
    units: the unit ids it may rate (they handled its cases in the period). submitted_at: answered (once)."""

    __tablename__ = "rating_invite"
    invite_id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rating_round.round_id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    units: Mapped[list] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("round_id", "enterprise_id", name="uq_rating_invite_enterprise"),)


class Rating(Base):
    """An enterprise's rating of one unit in a round: a score of 1–5 (很不满意 … 很满意) and an optional comment."""

    __tablename__ = "rating"
    rating_id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rating_round.round_id", ondelete="CASCADE"))
    invite_id: Mapped[int] = mapped_column(ForeignKey("rating_invite.invite_id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.enterprise_id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.unit_id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[dt.datetime]

    __table_args__ = (
        UniqueConstraint("invite_id", "unit_id", name="uq_rating_unit"),
        Index("ix_rating_unit_at", "unit_id", "at"),
    )


class WorkerHeartbeat(Base):
    """One row per timer worker process: written on every pass, read by /healthz (age of the newest beat)."""

    __tablename__ = "worker_heartbeat"
    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid:random
    hostname: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
    beat_at: Mapped[dt.datetime]
    stopped_at: Mapped[dt.datetime | None]  # a graceful stop (SIGTERM); a killed worker just stops beating
    fired: Mapped[int] = mapped_column(Integer, server_default="0")  # instances run since it started
    mailed: Mapped[int] = mapped_column(Integer, server_default="0")  # e-mails sent since it started
