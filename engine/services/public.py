"""The public channel: an enterprise submits a problem without an account, follows it by a private tracking link,
and answers the revisit itself. Abuse is limited per client address; text is stored as text and shown escaped."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.domain import calendar
from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import TIERS
from engine.errors import NotFound
from engine.errors import RateLimited
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.i18n import reader_language
from engine.services import cases as case_service
from engine.services import tasks as task_service
from engine.services.common import Actor
from engine.services.enterprises import normalise_credit_code
from engine.services.enterprises import validate_enterprise
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import Enterprise
from engine.storage.models import FormStamp
from engine.storage.models import HumanTask
from engine.storage.models import RateEvent

CHANNEL = "网上申报"
# Who acts for a public submission: no account, so no registrar of its own (its registrar tasks go to the pool).
PORTAL = Actor(user_id=None, username="portal", display_name="企业网上申报", roles=frozenset({"registrar"}))
PER_HOUR = 5  # submissions per client address per hour
ALL_PER_HOUR = 300  # all public submissions per hour (a flood from many addresses)
LIMITS = {"title": 100, "description": 2000, "contact_name": 50, "contact_phone": 30}
# The steps the enterprise sees on its tracking page (the registration, then these completed tasks).
PUBLIC_STEPS = ("dispatch", "sign_for", "handle", "leader_coordinate", "revisit", "close_out")


def _milestone(step: str) -> str:
    """What a step of the loop means to the enterprise, in the reader's language."""
    return {
        "registered": _("已受理"),
        "dispatch": _("已交办承办单位"),
        "sign_for": _("承办单位已签收"),
        "handle": _("承办单位已反馈办理结果"),
        "leader_coordinate": _("市领导已协调"),
        "revisit": _("已回访"),
        "close_out": _("已办结销号"),
        "escalation": _("已提级协调"),
        "reopened": _("根据回访意见重新办理"),
    }[step]


def _limit(session, eng, client: str) -> None:
    since = eng.now() - dt.timedelta(hours=1)
    mine = session.scalar(
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.bucket == "public_submit", RateEvent.key == client, RateEvent.at >= since)
    )
    everyone = session.scalar(
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.bucket == "public_submit", RateEvent.at >= since)
    )
    if mine >= PER_HOUR or everyone >= ALL_PER_HOUR:
        raise RateLimited(_("提交太频繁，请一小时后再试；紧急问题请拨打 12345 热线"))
    session.execute(delete(RateEvent).where(RateEvent.bucket == "public_submit", RateEvent.at < since))
    session.add(RateEvent(bucket="public_submit", key=client[:100], at=eng.now()))


STAMP_DAYS = 1  # a public form's stamp is good for a day (web/public.py signs it) and submits once


def _use_stamp(session, eng, stamp: str) -> None:
    """Record the form's stamp as used; a second submission with the same stamp is refused."""
    if not stamp or len(stamp) > 64 or session.get(FormStamp, stamp) is not None:
        raise ValidationFailed(
            _("这份表单已经提交过了"), {"": _("这份表单已经提交过了；如需再报一个问题，请重新打开申报页面")}
        )
    session.execute(delete(FormStamp).where(FormStamp.used_at < eng.now() - dt.timedelta(days=STAMP_DAYS)))
    session.add(FormStamp(stamp=stamp, used_at=eng.now()))
    session.flush()


def submit(eng, data: dict, *, client: str, stamp: str | None = None) -> dict:
    """Register a problem from the public form. Returns the case number and the private tracking token.

    `stamp` is the one-time id of the form the page served (each form submits once).
    :raises ValidationFailed: with one message per bad field (nothing saved), or a stamp used before.
    :raises RateLimited: too many.
    """
    clean = {k: str(data.get(k) or "").strip() for k in ("name", "credit_code", "field", *LIMITS)}
    errors = {}
    for key, limit in LIMITS.items():
        if len(clean[key]) > limit:
            errors[key] = _("最多 %(limit)s 个字", limit=limit)
    for key, message in (
        ("title", _("请用一句话概括遇到的困难")),
        ("description", _("请描述具体困难和诉求")),
        ("contact_name", _("请留下联系人，方便回访")),
        ("contact_phone", _("请留下联系电话，方便回访")),
    ):
        if not clean[key]:
            errors[key] = message
    if clean["field"] not in FIELDS:
        errors["field"] = _("请选择所属领域")
    try:
        enterprise_fields = validate_enterprise(
            {"name": clean["name"], "credit_code": clean["credit_code"], "field": clean["field"]}
        )
    except ValidationFailed as exc:
        errors.update(exc.errors)
        enterprise_fields = None
    if errors:
        raise ValidationFailed(_("请按提示修改后再提交"), errors)
    try:
        with eng.db.transaction() as session:
            _limit(session, eng, client)
            if stamp is not None:
                _use_stamp(session, eng, stamp)
    except IntegrityError:  # the same stamp submitted twice at the same moment: the other one won
        raise ValidationFailed(
            _("这份表单已经提交过了"), {"": _("这份表单已经提交过了；如需再报一个问题，请重新打开申报页面")}
        ) from None
    code = normalise_credit_code(enterprise_fields["credit_code"])
    with eng.db.read() as session:
        enterprise_id = session.scalars(
            select(Enterprise.enterprise_id).where(Enterprise.credit_code == code)
        ).first()
    raw = {
        "channel": CHANNEL,
        "field": clean["field"],
        "category": "其他",
        "urgency": "一般",
        "title": clean["title"],
        "description": clean["description"],
        "contact_name": clean["contact_name"],
        "contact_phone": clean["contact_phone"],
    }
    if data.get("category"):
        raw["category"] = str(data["category"])
    token = secrets.token_urlsafe(24)
    new_enterprise = None
    if enterprise_id is None:
        new_enterprise = {k: enterprise_fields[k] for k in ("name", "credit_code", "field")}
    else:
        raw["enterprise_id"] = enterprise_id
    result = case_service.register_case(eng, PORTAL, raw, new_enterprise=new_enterprise, tracking_token=token)
    return {"case_no": result["case_no"], "token": token}


def _case_for(session, token: str) -> Case:
    if not token or len(token) > 64:
        raise NotFound(_("查询链接无效"))
    case = session.scalars(select(Case).where(Case.tracking_token == token)).first()
    if case is None:
        raise NotFound(_("查询链接无效或已失效"))
    return case


def _open_revisit(session, case: Case) -> str | None:
    """The id of the case's open revisit task, if the loop is waiting for one."""
    return session.scalars(
        select(HumanTask.task_id).where(HumanTask.case_id == case.case_id, HumanTask.task_name == "revisit")
    ).first()


def track(eng, token: str) -> dict:
    """What the enterprise may see of its case: status, milestones, deadline, outcome, and an open revisit."""
    with eng.db.read() as session:
        case = _case_for(session, token)
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.case_id).order_by(CaseEvent.event_id)
        ).all()
        milestones = []
        for event in events:
            if event.kind in ("registered", "escalation", "reopened"):
                milestones.append({"at": event.at, "title": _milestone(event.kind)})
            elif event.kind == "task_completed" and event.task_name in PUBLIC_STEPS:
                milestones.append({"at": event.at, "title": _milestone(event.task_name)})
        revisit = _open_revisit(session, case)
        name = 1 if reader_language() == "en" else 0  # CASE_STATUSES, TIERS: code -> (Chinese, English)
        return {
            "case_no": case.case_no,
            "title": case.title,
            "description": case.description,
            "enterprise_name": case.enterprise_name,
            "status_label": CASE_STATUSES.get(case.status, (case.status, case.status))[name],
            "tier_label": TIERS.get(case.tier, ("", ""))[name],
            "created_at": case.created_at,
            "deadline_at": case.deadline_at,
            "deadline_estimated": calendar.is_estimated(case.deadline_at),
            "closed": case.status == "closed",
            "outcome": case.outcome,
            "milestones": milestones,
            "revisit_open": revisit is not None,
        }


def answer_revisit(eng, token: str, data: dict) -> dict:
    """The enterprise answers the revisit itself (method "online"), exactly as a caseworker's call would."""
    with eng.db.read() as session:
        case = _case_for(session, token)
        task_id = _open_revisit(session, case)
        enterprise_name = case.enterprise_name
    if task_id is None:
        raise ValidationFailed(_("目前没有需要您回答的回访"), {"": _("目前没有需要您回答的回访")})
    answer = {k: data.get(k) for k in ("solved", "satisfaction", "revisit_comment")}
    answer["revisit_method"] = "online"
    actor = Actor(
        user_id=None,
        username="enterprise",
        display_name=f"企业自评（{enterprise_name}）",
        roles=frozenset({"registrar"}),
    )
    return task_service.complete_task(eng, actor, task_id, answer)
