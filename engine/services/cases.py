"""Cases (诉求): register one (which starts the loop), and the case page's full picture."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.domain import calendar
from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import ROLES
from engine.errors import Conflict
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import flow
from engine.services import pairing
from engine.services import plans
from engine.services.access import can_act
from engine.services.access import can_see_case
from engine.services.attachments import FileStager
from engine.services.attachments import Upload
from engine.services.attachments import attachment_dict
from engine.services.attachments import link_form_attachments
from engine.services.attachments import store_uploads
from engine.services.case_list import case_summary
from engine.services.common import Actor
from engine.services.common import record_event
from engine.services.common import require_role
from engine.services.common import unit_names
from engine.services.common import user_names
from engine.services.enterprises import add_enterprise
from engine.services.enterprises import enterprise_by_credit_code
from engine.services.references import check_references
from engine.storage import search
from engine.storage.models import Attachment
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import CaseRound
from engine.storage.models import CaseUnit
from engine.storage.models import Enterprise
from engine.storage.models import HumanTask
from engine.storage.models import IdempotencyKey
from engine.storage.models import NumberCounter
from engine.storage.models import User

REGISTER_FORM = "register_problem"


def register_case(
    eng,
    actor: Actor,
    raw,
    uploads: list[Upload] | None = None,
    new_enterprise: dict | None = None,
    idempotency_key: str | None = None,
    tracking_token: str | None = None,
    *,
    reuse_enterprise: bool = False,
) -> dict:
    """Register a problem and start its handling loop (triage decides tier and time limit).

    `raw` is the register_problem form (a MultiDict from a page or a dict from the API). With `new_enterprise`
    the enterprise is created in the same transaction, so a refused case leaves no orphan enterprise behind.
    With `idempotency_key` (other systems retrying a submission) the same key and content return the case made
    the first time (`replayed` true) instead of a second one. With `reuse_enterprise` an enterprise already on
    file under the new enterprise's credit code is used instead (other systems do not know our enterprise ids).
    :raises ValidationFailed: bad fields (nothing saved). :raises PermissionDenied: not a registrar.
    :raises Conflict: the key was used before with different content.
    """
    require_role(actor, "registrar", "dispatcher")
    digest = None
    if idempotency_key is not None:
        idempotency_key = _check_key(idempotency_key)
        digest = _request_hash(raw, new_enterprise)
        replay = _replay(eng, actor, idempotency_key, digest)
        if replay is not None:
            return replay
    try:
        return _register(
            eng,
            actor,
            raw,
            uploads,
            new_enterprise,
            idempotency_key,
            digest,
            tracking_token,
            reuse_enterprise,
        )
    except IntegrityError:
        # Two retries raced: the other one stored the key (and its case) first.
        replay = _replay(eng, actor, idempotency_key, digest) if idempotency_key else None
        if replay is None:
            raise
        return replay


def _check_key(key) -> str:
    key = str(key).strip()
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise ValidationFailed(
            _("Idempotency-Key 应为 1 到 200 个可打印字符"),
            {"Idempotency-Key": _("应为 1 到 200 个可打印字符")},
        )
    return key


def _request_hash(raw, new_enterprise) -> str:
    payload = raw.to_dict(flat=False) if hasattr(raw, "to_dict") else raw
    text = json.dumps([payload, new_enterprise], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _replay(eng, actor: Actor, key: str, digest: str) -> dict | None:
    with eng.db.read() as session:
        stored = session.get(IdempotencyKey, (actor.user_id, key))
        if stored is None:
            return None
        if stored.request_hash != digest:
            raise Conflict(
                _("这个 Idempotency-Key 已用于另一份不同的诉求内容：重试请原样提交，新的诉求请使用新的键"),
                idempotency_key=key,
            )
        case = session.get(Case, stored.case_id)
        return _registered(case) | {"replayed": True}


def _registered(case: Case) -> dict:
    return {
        "case_id": case.case_id,
        "case_no": case.case_no,
        "status": case.status,
        "tier": case.tier,
        "time_limit_days": case.time_limit_days,
    }


def _register(
    eng,
    actor,
    raw,
    uploads,
    new_enterprise,
    idempotency_key,
    digest,
    tracking_token=None,
    reuse_enterprise=False,
) -> dict:
    form = eng.forms.get(REGISTER_FORM)
    uploads = uploads or []
    stager = FileStager(eng.files.current)
    try:
        with eng.db.transaction() as session:
            enterprise = None
            if new_enterprise and reuse_enterprise:
                enterprise = enterprise_by_credit_code(session, new_enterprise.get("credit_code"))
            if new_enterprise and enterprise is None:
                enterprise = add_enterprise(session, eng, actor, new_enterprise, prefix="enterprise.")
            files = store_uploads(eng, session, stager, actor, uploads)
            data = form.parse_submission(_with_enterprise(raw, enterprise), files=files)
            check_references(session, actor, form, data)
            enterprise = enterprise or session.get(Enterprise, data["enterprise_id"])
            case = create_case(session, eng, actor, form, enterprise, data, tracking_token=tracking_token)
            if idempotency_key is not None:
                session.add(
                    IdempotencyKey(
                        user_id=actor.user_id,
                        key=idempotency_key,
                        request_hash=digest,
                        case_id=case.case_id,
                        created_at=eng.now(),
                    )
                )
                session.flush()
            return _registered(case) | {"replayed": False}
    except BaseException:
        stager.discard()
        raise


def create_case(
    session: Session, eng, actor: Actor, form, enterprise: Enterprise, data: dict, **extra
) -> Case:
    """Create a case from validated register-form data and start its loop, in the caller's transaction."""
    case = _new_case(session, eng, actor, enterprise, data)
    for key, value in extra.items():
        setattr(case, key, value)
    link_form_attachments(session, actor, case, form, data, "register", 1)
    record_event(
        session,
        eng,
        case_id=case.case_id,
        round_no=1,
        kind="registered",
        title="登记诉求",
        actor=actor,
        data=data,
        task_name="register",
    )
    flow.start_round(eng, session, case, actor)
    return case


def _with_enterprise(raw, enterprise):
    if enterprise is None:
        return raw
    if hasattr(raw, "getlist"):
        raw = raw.copy()
        raw.setlist("enterprise_id", [str(enterprise.enterprise_id)])
        return raw
    return {**raw, "enterprise_id": enterprise.enterprise_id}


def next_number(session: Session, series: str) -> int:
    """The next official number of `series`, taken in the caller's transaction: the counter row stays locked
    until it commits (a concurrent registration waits), and a rollback gives the number back — no gaps."""
    number = session.execute(
        update(NumberCounter)
        .where(NumberCounter.name == series)
        .values(value=NumberCounter.value + 1)
        .returning(NumberCounter.value)
    ).scalar_one_or_none()
    if number is None:  # no counter yet (a database filled by other means): continue from the case ids
        number = session.scalar(select(func.max(Case.case_id))) or 1
        session.add(NumberCounter(name=series, value=number))
        session.flush()
    return number


def _new_case(session: Session, eng, actor: Actor, enterprise: Enterprise, data: dict) -> Case:
    now = eng.now()
    case = Case(
        enterprise_id=enterprise.enterprise_id,
        enterprise_name=enterprise.name,
        title=data["title"],
        description=data["description"],
        channel=data["channel"],
        field=data["field"],
        category=data["category"],
        urgency=data["urgency"],
        library=data.get("library") or "general",
        contact_name=data.get("contact_name"),
        contact_phone=data.get("contact_phone"),
        status="registered",
        round_no=1,
        returns_count=0,
        registrar_id=actor.user_id,
        created_at=now,
        updated_at=now,
        search_text="",
    )
    session.add(case)
    session.flush()
    local = now.astimezone(LOCAL_TZ)
    case.case_no = f"JN{local:%Y%m}{next_number(session, 'case'):06d}"
    case.search_text = " ".join(
        [case.case_no, enterprise.name, enterprise.credit_code, case.title, case.description]
    ).lower()
    case.search_grams = search.grams(case.search_text)
    if session.bind.dialect.name == "sqlite":
        session.execute(
            text("INSERT INTO case_fts(rowid, grams) VALUES (:i, :g)"),
            {"i": case.case_id, "g": case.search_grams},
        )
    return case


def get_case(eng, actor: Actor, case_id: int) -> dict:
    """Everything the case page shows: fields, current tasks and holders, timeline, rounds, attachments."""
    with eng.db.read() as session:
        case = session.get(Case, case_id)
        can_see_case(session, actor, case, raise_error=True)
        units = unit_names(session)
        result = case_summary(case, units)
        result.update(
            description=case.description,
            contact_name=case.contact_name,
            contact_phone=case.contact_phone,
            signed_at=case.signed_at,
        )
        enterprise = session.get(Enterprise, case.enterprise_id)
        result["enterprise"] = {
            "enterprise_id": enterprise.enterprise_id,
            "name": enterprise.name,
            "credit_code": enterprise.credit_code,
        }
        result["pairing"] = pairing.enterprise_pairing(session, enterprise.enterprise_id)
        result["plan_items"] = plans.items_for_case(session, actor, case_id)
        involved = session.execute(
            select(CaseUnit.unit_id, CaseUnit.relation).where(CaseUnit.case_id == case_id)
        )
        result["units"] = [{"unit_id": u, "name": units.get(u), "relation": r} for u, r in involved]
        tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).all()
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.event_id)
        ).all()
        rounds = session.scalars(
            select(CaseRound).where(CaseRound.case_id == case_id).order_by(CaseRound.round_no)
        ).all()
        people = user_names(
            session, [t.assignee_id for t in tasks] + [case.responsible_leader_id, case.registrar_id]
        )
        result["responsible_leader"] = people.get(case.responsible_leader_id)
        result["registrar"] = people.get(case.registrar_id)
        result["current_tasks"] = [
            task_holder(t, units, people) | {"can_act": can_act(actor, t)} for t in tasks
        ]
        result["timeline"] = [
            {
                "event_id": e.event_id,
                "at": e.at,
                "kind": e.kind,
                "title": e.title,
                "actor": e.actor_name,
                "task_name": e.task_name,
                "round_no": e.round_no,
                "data": e.data,
            }
            for e in events
        ]
        result["rounds"] = [
            {
                "round_no": r.round_no,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "result": r.result,
                "outcome": r.outcome,
                "satisfaction": r.satisfaction,
                "lead_unit": units.get(r.lead_unit_id),
            }
            for r in rounds
        ]
        result["attachments"] = [
            attachment_dict(a)
            for a in session.scalars(
                select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.attachment_id)
            )
        ]
        return result


def task_holder(task: HumanTask, units: dict[int, str], people: dict[int, str]) -> dict:
    """Who holds a task, in words: a person, a unit, or a role's pool."""
    if task.assignee_id:
        holder = people.get(task.assignee_id) or ""
    elif task.unit_id:
        holder = units.get(task.unit_id) or ""
    else:
        holder = ROLES.get(task.role, (task.role, ""))[0]
    return {
        "task_id": task.task_id,
        "task_name": task.task_name,
        "title": task.title,
        "role": task.role,
        "unit_id": task.unit_id,
        "assignee_id": task.assignee_id,
        "holder": holder,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "due_estimated": calendar.is_estimated(task.due_at),  # due in a year without official holiday data
        "form_key": task.form_key,
    }


def leader_user_id(session: Session, username: str) -> int | None:
    return session.scalar(select(User.user_id).where(User.username == username))
