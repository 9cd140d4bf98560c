"""Cases (诉求): register one (which starts the loop), search the case list, and the case page's full picture."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import search
from engine.clock import LOCAL_TZ
from engine.domain import CASE_STATUSES
from engine.domain import TIERS
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.models import Attachment
from engine.models import Case
from engine.models import CaseEvent
from engine.models import CaseRound
from engine.models import CaseUnit
from engine.models import Enterprise
from engine.models import HumanTask
from engine.models import IdempotencyKey
from engine.models import Unit
from engine.models import User
from engine.services import figures
from engine.services import flow
from engine.services.attachments import FileStager
from engine.services.attachments import Upload
from engine.services.attachments import attachment_dict
from engine.services.attachments import link_form_attachments
from engine.services.attachments import store_uploads
from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.common import record_event
from engine.services.common import require_role
from engine.services.common import unit_names
from engine.services.common import user_names
from engine.services.enterprises import add_enterprise
from engine.services.references import check_references

REGISTER_FORM = "register_problem"
FILTER_KEYS = (
    "batch",
    "status",
    "field",
    "category",
    "unit",
    "channel",
    "tier",
    "urgency",
    "date_from",
    "date_to",
    "q",
    "enterprise_id",
    "flag",
    "library",
    # drill-down from a figure or a chart: the cases behind one number
    "figure",
    "period",
    "role",
    "overdue",
    "open",
)
FIGURE_DIMS = ("unit", "field", "category", "channel", "tier", "batch")


def can_see_case(session: Session, actor: Actor, case: Case | None, *, raise_error: bool = False) -> bool:
    """Everyone but a pure handler sees all cases; a handler sees cases its unit is or was involved in."""
    if case is None:
        if raise_error:
            raise NotFound("诉求不存在")
        return False
    if actor.sees_all_cases:
        return True
    visible = actor.unit_id is not None and session.get(CaseUnit, (case.case_id, actor.unit_id)) is not None
    if not visible and raise_error:
        raise PermissionDenied("这件诉求不属于您所在单位，无权查看")
    return visible


def register_case(
    eng,
    actor: Actor,
    raw,
    uploads: list[Upload] | None = None,
    new_enterprise: dict | None = None,
    idempotency_key: str | None = None,
    tracking_token: str | None = None,
) -> dict:
    """Register a problem and start its handling loop (triage decides tier and time limit).

    `raw` is the register_problem form (a MultiDict from a page or a dict from the API). With `new_enterprise`
    the enterprise is created in the same transaction, so a refused case leaves no orphan enterprise behind.
    With `idempotency_key` (other systems retrying a submission) the same key and content return the case made
    the first time (`replayed` true) instead of a second one.
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
        return _register(eng, actor, raw, uploads, new_enterprise, idempotency_key, digest, tracking_token)
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
            "Idempotency-Key 应为 1 到 200 个可打印字符", {"Idempotency-Key": "应为 1 到 200 个可打印字符"}
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
                "这个 Idempotency-Key 已用于另一份不同的诉求内容：重试请原样提交，新的诉求请使用新的键",
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


def _register(eng, actor, raw, uploads, new_enterprise, idempotency_key, digest, tracking_token=None) -> dict:
    form = eng.forms.get(REGISTER_FORM)
    uploads = uploads or []
    stager = FileStager(eng.settings.upload_dir)
    try:
        with eng.db.transaction() as session:
            enterprise = None
            if new_enterprise:
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
    case.case_no = f"JN{local:%Y%m}{case.case_id:06d}"
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


def _text_filter(query, q: str, dialect: str):
    """Substring match on the case text, narrowed first through the n-gram index when the query allows it."""
    needle = search.normalise(q).strip()[:100]
    for word in needle.split():  # every word must occur
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Case.search_text.like(f"%{escaped}%", escape="\\"))
    phrases = search.query_phrases(needle)
    if phrases is None:
        return query
    if dialect == "sqlite":
        match = " AND ".join('"' + phrase + '"' for phrase in phrases)
        return query.where(
            Case.case_id.in_(text("SELECT rowid FROM case_fts WHERE case_fts MATCH :m").bindparams(m=match))
        )
    # All bigrams present (not a phrase query: GIN answers that without re-reading every candidate's
    # tsvector); the LIKE above keeps only the rows that contain the words themselves.
    tsquery = func.plainto_tsquery("simple", " ".join(phrases))
    return query.where(func.to_tsvector("simple", Case.search_grams).op("@@")(tsquery))


def _case_query(actor: Actor, filters: dict, dialect: str = "sqlite", now=None):
    query = select(Case)
    now = now or dt.datetime.now(dt.UTC)
    if not actor.sees_all_cases:
        query = query.where(
            exists().where(CaseUnit.case_id == Case.case_id, CaseUnit.unit_id == actor.unit_id)
        )
    f = {k: v for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in (None, "", [])}
    if "figure" in f:
        # The cases a figure counted: its dimensions apply to the facts (the unit or tier at the time), not to
        # where the case stands now.
        dims = {k: f.pop(k) for k in FIGURE_DIMS if k in f}
        if "unit" in dims and not str(dims["unit"]).isdigit():
            raise ValidationFailed("查询条件有误", {"unit": "应为单位编号"})
        period = figures.parse_period(str(f.pop("period", "")) or None, today=now.astimezone(LOCAL_TZ).date())
        behind = figures.drill_cases(period, str(f.pop("figure")), dims, str(f.pop("role", "lead")))
        query = query.where(Case.case_id.in_(behind))
    if "overdue" in f:
        late = [HumanTask.case_id == Case.case_id, HumanTask.role == "handler", HumanTask.due_at < now]
        if "unit" in f and str(f["unit"]).isdigit():
            late.append(HumanTask.unit_id == int(f["unit"]))
        query = query.where(exists().where(*late))
    if "open" in f:
        query = query.where(Case.status != "closed")
    if f.get("flag") == "green":  # never flagged, or back to green
        query = query.where(or_(Case.flag.is_(None), Case.flag == f.pop("flag")))
    for key in ("status", "field", "category", "channel", "tier", "urgency", "flag", "library", "batch"):
        if key in f:
            query = query.where(getattr(Case, key) == f[key])
    if "enterprise_id" in f:
        query = query.where(Case.enterprise_id == _int(f["enterprise_id"], "enterprise_id"))
    if "unit" in f:
        unit_id = _unit_id(f["unit"])
        query = query.where(
            exists().where(
                CaseUnit.case_id == Case.case_id,
                CaseUnit.unit_id == unit_id,
                CaseUnit.relation.in_(("lead", "co")),
            )
        )
    if "date_from" in f:
        query = query.where(Case.created_at >= _local_day(f["date_from"], "date_from"))
    if "date_to" in f:
        query = query.where(Case.created_at < _local_day(f["date_to"], "date_to") + dt.timedelta(days=1))
    if "q" in f:
        query = _text_filter(query, str(f["q"]), dialect)
    return query


def _int(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("查询条件有误", {field: "应为数字"}) from None


def _unit_id(value):
    """A unit filter given by id or code; an unknown code simply matches nothing."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    return select(Unit.unit_id).where(Unit.code == str(value)).scalar_subquery()


def _local_day(value, field: str) -> dt.datetime:
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed("查询条件有误", {field: "日期格式应为 YYYY-MM-DD"}) from None
    return dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ)


def search_cases(eng, actor: Actor, filters: dict | None = None, page=1, per_page=20) -> dict:
    """The case list: filters by status, field, category, unit, channel, tier, date range and text; paginated."""
    page, per_page = paginate(page, per_page)
    query = _case_query(actor, filters or {}, eng.db.engine.dialect.name, eng.now())
    with eng.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = session.scalars(
            query.order_by(Case.created_at.desc(), Case.case_id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        units = unit_names(session)
        return {
            "items": [case_summary(c, units) for c in rows],
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
        }


def case_summary(case: Case, units: dict[int, str]) -> dict:
    return {
        "case_id": case.case_id,
        "case_no": case.case_no,
        "title": case.title,
        "enterprise_id": case.enterprise_id,
        "enterprise_name": case.enterprise_name,
        "channel": case.channel,
        "field": case.field,
        "category": case.category,
        "urgency": case.urgency,
        "library": case.library,
        "tier": case.tier,
        "tier_label": TIERS.get(case.tier, ("", ""))[0],
        "status": case.status,
        "status_label": CASE_STATUSES.get(case.status, (case.status, ""))[0],
        "current_task": case.current_task,
        "round_no": case.round_no,
        "returns_count": case.returns_count,
        "lead_unit_id": case.lead_unit_id,
        "lead_unit": units.get(case.lead_unit_id),
        "time_limit_days": case.time_limit_days,
        "deadline_at": case.deadline_at,
        "flag": case.flag,
        "notice_count": case.notice_count,
        "original_deadline_at": case.original_deadline_at,
        "extensions_count": case.extensions_count,
        "outcome": case.outcome,
        "satisfaction": case.satisfaction,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
    }


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
    from engine.domain import ROLES

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
        "form_key": task.form_key,
    }


def can_act(actor: Actor, task: HumanTask) -> bool:
    """May this user complete this task? Role, then unit, then personal assignment."""
    if task.role not in actor.roles:
        return False
    if task.unit_id is not None and task.unit_id != actor.unit_id:
        return False
    if task.assignee_id is not None and task.assignee_id != actor.user_id:
        return False
    return True


def leader_user_id(session: Session, username: str) -> int | None:
    return session.scalar(select(User.user_id).where(User.username == username))
