"""Reading visit campaigns: the campaign list with its coverage, one campaign's page (coverage by unit, cadre, area
and wave, the questionnaire's answers counted, the enterprises and their visits), one visit, an enterprise's
visits, and what the visitor's recording page needs.

Coverage is counted from the campaign's rows (visit_target: one per enterprise in scope, with its visitor, status
and deadline) and the recorded visits, in grouped queries over indexed columns. A unit's staff and a cadre see only
the rows of the enterprises they visit; the programme office, supervisors and leaders see everything.
"""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.clock import LOCAL_TZ
from engine.domain.text import spreadsheet_text
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.access import can_act
from engine.services.common import Actor
from engine.services.common import in_id_range
from engine.services.common import paginate
from engine.services.common import unit_names
from engine.services.visits import OFFICE
from engine.services.visits import STATUSES
from engine.services.visits import TARGET_STATUSES
from engine.services.visits import VISIT_FORM
from engine.services.visits import _campaign
from engine.storage.models import Area
from engine.storage.models import Case
from engine.storage.models import Enterprise
from engine.storage.models import HumanTask
from engine.storage.models import ProgrammeEvent
from engine.storage.models import Visit
from engine.storage.models import VisitAnswer
from engine.storage.models import VisitCampaign
from engine.storage.models import VisitCase
from engine.storage.models import VisitTarget
from engine.storage.models import VisitWave
from engine.storage.models import WorkflowInstance

READ_ALL = ("manager", "dispatcher", "admin", "supervisor", "leader")
GROUPS = ("campaign", "wave", "unit", "cadre", "area")
TARGET_FILTERS = (
    "campaign",
    "status",
    "unit",
    "area",
    "wave",
    "cadre",
    "flag",
    "answer",
    "campaign_status",
    "target",
    "enterprise",
)
MAX_GROUP_ROWS = 500


def sees_all(actor: Actor) -> bool:
    return actor.has_role(*READ_ALL)


def _scope(actor: Actor):
    """The campaign rows this actor may see (None: all)."""
    if sees_all(actor):
        return None
    mine = [VisitTarget.visitor_user_id == actor.user_id]
    if actor.unit_id is not None:
        mine.append(VisitTarget.visitor_unit_id == actor.unit_id)
    return or_(*mine)


def _now(eng) -> dt.datetime:
    return eng.now()


def _key_columns(group: str):
    return {
        "campaign": (VisitTarget.campaign_id,),
        "wave": (VisitTarget.wave_id,),
        "unit": (VisitTarget.visitor_unit_id,),
        "area": (VisitTarget.area_id,),
        "cadre": (
            VisitTarget.visitor_user_id,
            VisitTarget.visitor_person_id,
            VisitTarget.visitor_unit_id,
            VisitTarget.visitor_name,
        ),
    }[group]


def cadre_key(user_id, person_id, unit_id) -> str:
    """A visitor as a filter value: u<user id>, p<roster person id>, or n<unit id> for a unit."""
    if user_id:
        return f"u{user_id}"
    if person_id:
        return f"p{person_id}"
    return f"n{unit_id or 0}"


def _cadre_condition(value: str):
    kind, number = value[:1], value[1:]
    if not number.isdigit() or not in_id_range(int(number)) or kind not in ("u", "p", "n"):
        raise ValidationFailed(_("走访人筛选有误"), {"cadre": _("应为 u<账号>、p<名册人员> 或 n<单位>")})
    number = int(number)
    if kind == "u":
        return VisitTarget.visitor_user_id == number
    if kind == "p":
        return and_(VisitTarget.visitor_user_id.is_(None), VisitTarget.visitor_person_id == number)
    return and_(
        VisitTarget.visitor_user_id.is_(None),
        VisitTarget.visitor_person_id.is_(None),
        (VisitTarget.visitor_unit_id == number) if number else VisitTarget.visitor_unit_id.is_(None),
    )


def _int_filter(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("筛选条件有误"), {field: _("应为编号")}) from None
    if not in_id_range(number):
        raise ValidationFailed(_("筛选条件有误"), {field: _("编号超出范围")})
    return number


def _conditions(eng, actor: Actor, filters: dict) -> tuple[list, dict]:
    """SQL conditions on visit_target for the filters (and the actor's scope), and the filters as understood."""
    filters = {
        k: str(v).strip() for k, v in (filters or {}).items() if k in TARGET_FILTERS and v not in (None, "")
    }
    conditions = []
    scope = _scope(actor)
    if scope is not None:
        conditions.append(scope)
    for key, column in (
        ("target", VisitTarget.target_id),
        ("enterprise", VisitTarget.enterprise_id),
        ("campaign", VisitTarget.campaign_id),
        ("wave", VisitTarget.wave_id),
        ("area", VisitTarget.area_id),
        ("unit", VisitTarget.visitor_unit_id),
    ):
        if key in filters:
            if filters[key] == "none" and key in ("area", "unit"):
                conditions.append(column.is_(None))
            else:
                conditions.append(column == _int_filter(filters[key], key))
    status = filters.get("status")
    if status:
        if status == "overdue":
            conditions += [VisitTarget.status == "pending", VisitTarget.due_at < _now(eng)]
        elif status in TARGET_STATUSES:
            conditions.append(VisitTarget.status == status)
        else:
            raise ValidationFailed(
                _("筛选条件有误"), {"status": _("应为 pending、visited、withdrawn 或 overdue")}
            )
    if filters.get("flag"):
        if filters["flag"] not in ("yellow", "red"):
            raise ValidationFailed(_("筛选条件有误"), {"flag": _("应为 yellow 或 red")})
        conditions += [VisitTarget.status == "pending", VisitTarget.flag == filters["flag"]]
    if filters.get("cadre"):
        conditions.append(_cadre_condition(filters["cadre"]))
    if filters.get("campaign_status"):
        if filters["campaign_status"] not in STATUSES:
            raise ValidationFailed(_("筛选条件有误"), {"campaign_status": _("应为 draft、running 或 closed")})
        conditions.append(
            VisitTarget.campaign_id.in_(
                select(VisitCampaign.campaign_id).where(VisitCampaign.status == filters["campaign_status"])
            )
        )
    if filters.get("answer"):
        field, sep, value = filters["answer"].partition("=")
        if not sep or not field or len(field) > 100 or len(value) > 200:
            raise ValidationFailed(
                _("筛选条件有误"), {"answer": _("应写成 问题字段=答案，如 operation=difficult")}
            )
        conditions.append(
            select(VisitAnswer.visit_id)
            .join(Visit, Visit.visit_id == VisitAnswer.visit_id)
            .where(
                Visit.target_id == VisitTarget.target_id,
                VisitAnswer.field == field,
                VisitAnswer.value == value,
            )
            .exists()
        )
    return conditions, filters


def _labels(session: Session, group: str, keys) -> dict:
    ids = sorted({k for k in keys if isinstance(k, int)})
    if group == "campaign":
        return dict(
            session.execute(
                select(VisitCampaign.campaign_id, VisitCampaign.name).where(
                    VisitCampaign.campaign_id.in_(ids)
                )
            ).all()
        )
    if group == "wave":
        return dict(
            session.execute(select(VisitWave.wave_id, VisitWave.name).where(VisitWave.wave_id.in_(ids))).all()
        )
    if group == "unit":
        return unit_names(session)
    if group == "area":
        return dict(session.execute(select(Area.area_id, Area.name)).all())
    return {}


def coverage_rows(session: Session, eng, conditions: list, group: str) -> tuple[list[dict], dict]:
    """Coverage grouped by `group` under `conditions` (on visit_target): per row and in total, the enterprises in
    scope, visited, still to visit, overdue, visits recorded, problems found and problems per visit."""
    keys = _key_columns(group)
    now = _now(eng)
    targets = session.execute(
        select(
            *keys,
            func.count(),
            func.sum(case((VisitTarget.status == "visited", 1), else_=0)),
            func.sum(case((VisitTarget.status == "pending", 1), else_=0)),
            func.sum(case((and_(VisitTarget.status == "pending", VisitTarget.due_at < now), 1), else_=0)),
        )
        .where(*conditions)
        .group_by(*keys)
    ).all()
    visits = session.execute(
        select(*keys, func.count(Visit.visit_id), func.coalesce(func.sum(Visit.problems), 0))
        .join(VisitTarget, VisitTarget.target_id == Visit.target_id)
        .where(*conditions)
        .group_by(*keys)
    ).all()
    n = len(keys)
    done = {tuple(row[:n]): (row[n], row[n + 1]) for row in visits}
    labels = _labels(session, group, [row[0] for row in targets])
    rows = []
    for row in targets:
        key = tuple(row[:n])
        in_scope, visited, pending, overdue = (int(v or 0) for v in row[n : n + 4])
        count, problems = done.get(key, (0, 0))
        if group == "cadre":
            value, label = cadre_key(*key[:3]), key[3] or _("（未指定）")
        else:
            value = "none" if key[0] is None else str(key[0])
            none_label = (
                _("（走访人无所属单位）")
                if group == "unit"
                else _("（未定区域）")
                if group == "area"
                else _("（未指定）")
            )
            label = labels.get(key[0]) if key[0] is not None else none_label
        rows.append(
            _row(value, label or str(key[0]), in_scope, visited, pending, overdue, int(count), int(problems))
        )
    rows.sort(key=lambda r: (-r["in_scope"], r["label"]))
    total = _row(
        "",
        _("合计"),
        *(
            sum(r[k] for r in rows)
            for k in ("in_scope", "visited", "pending", "overdue", "visits", "problems")
        ),
    )
    return rows[:MAX_GROUP_ROWS], total


def _row(key, label, in_scope, visited, pending, overdue, visits, problems) -> dict:
    return {
        "key": key,
        "label": label,
        "in_scope": in_scope,
        "visited": visited,
        "pending": pending,
        "overdue": overdue,
        "coverage": round(100.0 * visited / in_scope, 1) if in_scope else None,
        "visits": visits,
        "problems": problems,
        "problems_per_visit": round(problems / visits, 2) if visits else None,
    }


def coverage(eng, actor: Actor, group: str = "campaign", filters: dict | None = None) -> dict:
    """Coverage (走访覆盖率) by campaign, wave, unit, cadre or area, over the rows the filters and the actor's scope
    leave. :raises ValidationFailed: an unknown grouping or filter."""
    if group not in GROUPS:
        raise ValidationFailed(
            _("分组方式有误"), {"group": _("应为 %(values)s 之一", values="、".join(GROUPS))}
        )
    with eng.db.read() as session:
        conditions, f = _conditions(eng, actor, filters or {})
        rows, total = coverage_rows(session, eng, conditions, group)
        return {"group": group, "filters": f, "rows": rows, "total": total, "as_of": eng.now()}


def _campaign_dict(campaign: VisitCampaign) -> dict:
    return {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "description": campaign.description,
        "status": campaign.status,
        "status_label": STATUSES.get(campaign.status, campaign.status),
        "form_key": campaign.form_key,
        "start_date": campaign.start_date,
        "end_date": campaign.end_date,
        "scope": campaign.scope or {},
        "assignment": campaign.assignment or {},
        "created_at": campaign.created_at,
        "launched_at": campaign.launched_at,
        "closed_at": campaign.closed_at,
    }


def list_campaigns(eng, actor: Actor) -> dict:
    """Every campaign the actor has rows in (the office: all), newest first, with its coverage."""
    with eng.db.read() as session:
        conditions, _f = _conditions(eng, actor, {})
        rows, total = coverage_rows(session, eng, conditions, "campaign")
        by_id = {int(r["key"]): r for r in rows if r["key"] != "none"}
        query = select(VisitCampaign).order_by(
            VisitCampaign.start_date.desc(), VisitCampaign.campaign_id.desc()
        )
        if not sees_all(actor):
            query = query.where(VisitCampaign.campaign_id.in_([int(k) for k in by_id]))
        items = [
            _campaign_dict(c)
            | {"coverage": by_id.get(c.campaign_id) or _row(str(c.campaign_id), c.name, 0, 0, 0, 0, 0, 0)}
            for c in session.scalars(query.limit(500))
        ]
        return {"items": items, "total": total, "can_manage": actor.has_role(*OFFICE)}


def _survey(eng, form_key: str | None):
    if not form_key:
        return None
    try:
        return eng.forms.get(form_key)
    except SpecError:
        return None


def answer_counts(
    session: Session, eng, campaign: VisitCampaign, conditions: list, lang: str = "zh"
) -> list[dict]:
    """The questionnaire's questions with choices, each with how many visits gave each answer (filterable)."""
    survey = _survey(eng, campaign.form_key)
    if survey is None:
        return []
    counts: dict[tuple[str, str], int] = {
        (field, value): n
        for field, value, n in session.execute(
            select(VisitAnswer.field, VisitAnswer.value, func.count())
            .join(Visit, Visit.visit_id == VisitAnswer.visit_id)
            .join(VisitTarget, VisitTarget.target_id == Visit.target_id)
            .where(VisitAnswer.campaign_id == campaign.campaign_id, *conditions)
            .group_by(VisitAnswer.field, VisitAnswer.value)
        )
    }
    result = []
    for spec in survey.fields:
        choices = spec.choices(lang) if spec.widget in ("radio", "select") else []
        if not choices:
            continue
        result.append(
            {
                "field": spec.name,
                "label": spec.label(lang),
                "answers": [
                    {"value": value, "label": label, "count": counts.get((spec.name, value), 0)}
                    for value, label in choices
                    if value != ""
                ],
            }
        )
    return result


def get_campaign(eng, actor: Actor, campaign_id, lang: str = "zh") -> dict:
    """One campaign: its waves, coverage in total and by unit, cadre, area and wave, the answers counted and its
    record. :raises NotFound: no such campaign (or none of its rows are the actor's)."""
    with eng.db.read() as session:
        campaign = _campaign(session, campaign_id)
        conditions, _f = _conditions(eng, actor, {"campaign": campaign.campaign_id})
        groups = {
            group: coverage_rows(session, eng, conditions, group)[0]
            for group in ("wave", "unit", "cadre", "area")
        }
        _rows, total = coverage_rows(session, eng, conditions, "campaign")
        if not sees_all(actor) and not total["in_scope"]:
            raise NotFound(_("没有这个走访活动"))
        waves = session.scalars(
            select(VisitWave)
            .where(VisitWave.campaign_id == campaign.campaign_id)
            .order_by(VisitWave.sort_order)
        ).all()
        events = session.scalars(
            select(ProgrammeEvent)
            .where(ProgrammeEvent.subject == "campaign", ProgrammeEvent.subject_id == campaign.campaign_id)
            .order_by(ProgrammeEvent.event_id.desc())
            .limit(30)
        ).all()
        survey = _survey(eng, campaign.form_key)
        return _campaign_dict(campaign) | {
            "survey_title": survey.label(lang) if survey else None,
            "waves": [
                {"wave_id": w.wave_id, "name": w.name, "start_date": w.start_date, "end_date": w.end_date}
                for w in waves
            ],
            "total": total,
            "groups": groups,
            "answers": answer_counts(session, eng, campaign, conditions, lang),
            "events": [
                {"at": e.at, "actor": e.actor_name, "action": e.action, "title": e.title}
                for e in events
                if sees_all(actor) or e.action not in ("flag", "supervised")
            ],
            "can_manage": actor.has_role(*OFFICE),
            "sees_all": sees_all(actor),
        }


def list_targets(eng, actor: Actor, filters: dict | None = None, page=1, per_page=50) -> dict:
    """The enterprises of campaigns (filter by campaign, wave, unit, area, cadre, status incl. overdue, flag,
    questionnaire answer) with their visitor, deadline, status and visit. :raises ValidationFailed: bad filter."""
    page, per_page = paginate(page, per_page, default=50)
    with eng.db.read() as session:
        conditions, f = _conditions(eng, actor, filters or {})
        query = (
            select(VisitTarget, Enterprise.name, Enterprise.credit_code, VisitWave.name, VisitCampaign.name)
            .join(Enterprise, Enterprise.enterprise_id == VisitTarget.enterprise_id)
            .join(VisitWave, VisitWave.wave_id == VisitTarget.wave_id)
            .join(VisitCampaign, VisitCampaign.campaign_id == VisitTarget.campaign_id)
            .where(*conditions)
        )
        total = session.scalar(select(func.count()).select_from(VisitTarget).where(*conditions))
        rows = session.execute(
            query.order_by(
                VisitTarget.status.desc(), VisitTarget.due_at, Enterprise.name, VisitTarget.target_id
            )
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        target_ids = [row[0].target_id for row in rows]
        visits = {
            v.target_id: v for v in session.scalars(select(Visit).where(Visit.target_id.in_(target_ids)))
        }
        tasks: dict[int, HumanTask] = {}
        instance_ids = [row[0].instance_id for row in rows if row[0].instance_id]
        for task in session.scalars(
            select(HumanTask).where(HumanTask.instance_id.in_(instance_ids), HumanTask.form_key == VISIT_FORM)
        ):
            tasks[task.instance_id] = task
        units = unit_names(session)
        areas = dict(session.execute(select(Area.area_id, Area.name)).all())
        now = eng.now()
        items = []
        for target, name, code, wave, campaign_name in rows:
            visit = visits.get(target.target_id)
            task = tasks.get(target.instance_id)
            items.append(
                {
                    "target_id": target.target_id,
                    "campaign_id": target.campaign_id,
                    "campaign": campaign_name,
                    "enterprise_id": target.enterprise_id,
                    "enterprise_name": name,
                    "credit_code": code,
                    "wave": wave,
                    "area": areas.get(target.area_id),
                    "visitor": target.visitor_name,
                    "visitor_key": cadre_key(
                        target.visitor_user_id, target.visitor_person_id, target.visitor_unit_id
                    ),
                    "unit": units.get(target.visitor_unit_id),
                    "status": target.status,
                    "status_label": TARGET_STATUSES.get(target.status, target.status),
                    "flag": target.flag if target.status == "pending" else None,
                    "due_at": target.due_at,
                    "overdue": target.status == "pending"
                    and target.due_at is not None
                    and target.due_at < now,
                    "visit": _visit_brief(visit) if visit else None,
                    "task_id": task.task_id if task is not None and can_act(actor, task) else None,
                }
            )
        return {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "filters": f,
        }


def _visit_brief(visit: Visit) -> dict:
    return {
        "visit_id": visit.visit_id,
        "visited_on": visit.visited_on,
        "visitors": visit.visitors,
        "problems": visit.problems,
    }


def _can_see_visit(actor: Actor, visit: Visit, target: VisitTarget | None) -> bool:
    if sees_all(actor) or visit.user_id == actor.user_id:
        return True
    if actor.unit_id is not None and visit.unit_id == actor.unit_id:
        return True
    return target is not None and target.visitor_user_id == actor.user_id


def get_visit(eng, actor: Actor, visit_id, lang: str = "zh") -> dict:
    """One recorded visit: who went, whom they met, the answers (labelled) and the cases it registered.
    :raises NotFound: unknown. :raises PermissionDenied: not the actor's unit's visit."""
    number = _int_filter(visit_id, "visit_id") if str(visit_id).isdigit() else None
    with eng.db.read() as session:
        visit = session.get(Visit, number) if number else None
        if visit is None:
            raise NotFound(_("没有这次走访记录"))
        target = session.get(VisitTarget, visit.target_id) if visit.target_id else None
        if not _can_see_visit(actor, visit, target):
            raise PermissionDenied(_("这次走访不是您或本单位的，无权查看"))
        enterprise = session.get(Enterprise, visit.enterprise_id)
        campaign = session.get(VisitCampaign, visit.campaign_id) if visit.campaign_id else None
        cases = session.execute(
            select(Case.case_id, Case.case_no, Case.title, Case.status)
            .join(VisitCase, VisitCase.case_id == Case.case_id)
            .where(VisitCase.visit_id == visit.visit_id)
            .order_by(Case.case_id)
        ).all()
        survey = _survey(eng, visit.form_key)
        answers = []
        for name, value in (visit.answers or {}).items():
            spec = next((f for f in survey.fields if f.name == name), None) if survey else None
            label = spec.label(lang) if spec else name
            shown = (
                dict(spec.choices(lang)).get(str(value), value)
                if spec and spec.widget in ("radio", "select")
                else value
            )
            answers.append({"field": name, "label": label, "value": value, "shown": shown})
        return {
            "visit_id": visit.visit_id,
            "campaign_id": visit.campaign_id,
            "campaign": campaign.name if campaign else None,
            "enterprise_id": visit.enterprise_id,
            "enterprise_name": enterprise.name,
            "visited_on": visit.visited_on,
            "visitors": visit.visitors,
            "met_with": visit.met_with,
            "summary": visit.summary,
            "unit": unit_names(session).get(visit.unit_id),
            "recorded_at": visit.recorded_at,
            "survey_title": survey.label(lang) if survey else None,
            "answers": answers,
            "problems": visit.problems,
            "cases": [{"case_id": c, "case_no": n, "title": t, "status": s} for c, n, t, s in cases],
        }


def enterprise_visits(eng, actor: Actor, enterprise_id: int) -> dict:
    """An enterprise's visits (newest first) and its visits still to make, for its file."""
    with eng.db.read() as session:
        visits = session.scalars(
            select(Visit)
            .where(Visit.enterprise_id == enterprise_id)
            .order_by(Visit.visited_on.desc(), Visit.visit_id.desc())
            .limit(100)
        ).all()
        campaigns = dict(session.execute(select(VisitCampaign.campaign_id, VisitCampaign.name)).all())
        units = unit_names(session)
        pending = session.execute(
            select(VisitTarget, VisitWave.name)
            .join(VisitWave, VisitWave.wave_id == VisitTarget.wave_id)
            .join(VisitCampaign, VisitCampaign.campaign_id == VisitTarget.campaign_id)
            .where(
                VisitTarget.enterprise_id == enterprise_id,
                VisitTarget.status == "pending",
                VisitCampaign.status == "running",
            )
        ).all()
        now = eng.now()
        return {
            "visits": [
                _visit_brief(v)
                | {
                    "campaign_id": v.campaign_id,
                    "campaign": campaigns.get(v.campaign_id),
                    "met_with": v.met_with,
                    "unit": units.get(v.unit_id),
                    "can_open": _can_see_visit(actor, v, None),
                }
                for v in visits
            ],
            "pending": [
                {
                    "campaign_id": t.campaign_id,
                    "campaign": campaigns.get(t.campaign_id),
                    "wave": wave,
                    "visitor": t.visitor_name,
                    "due_at": t.due_at,
                    "flag": t.flag,
                    "overdue": t.due_at is not None and t.due_at < now,
                }
                for t, wave in pending
            ],
        }


def record_context(eng, actor: Actor, task_id: str, lang: str = "zh") -> dict:
    """What the visitor's recording page shows: the enterprise (address, contacts), the campaign and wave, the
    deadline and flag, and the questionnaire's key. :raises NotFound: not an open visit task.
    :raises PermissionDenied: someone else's."""
    with eng.db.read() as session:
        task = session.get(HumanTask, str(task_id)[:36])
        if task is None or task.kind != "visit":
            raise NotFound(_("找不到这个走访任务：它可能已经记录或已撤回，请回到待办刷新"))
        if not can_act(actor, task):
            raise PermissionDenied(_("这个走访任务不归您办理"))
        instance = session.get(WorkflowInstance, task.instance_id)
        target = session.scalars(select(VisitTarget).where(VisitTarget.instance_id == task.instance_id)).one()
        campaign = session.get(VisitCampaign, target.campaign_id)
        wave = session.get(VisitWave, target.wave_id)
        enterprise = session.get(Enterprise, target.enterprise_id)
        area = session.get(Area, enterprise.area_id) if enterprise.area_id else None
        return {
            "task_id": task.task_id,
            "task_name": task.task_name,
            "title": task.title,
            "form_key": task.form_key,
            "lock_version": instance.lock_version,
            "due_at": task.due_at,
            "flag": target.flag,
            "overdue": target.due_at is not None and target.due_at < eng.now(),
            "campaign": {
                "campaign_id": campaign.campaign_id,
                "name": campaign.name,
                "description": campaign.description,
                "form_key": campaign.form_key,
            },
            "wave": wave.name,
            "visitor": target.visitor_name,
            "enterprise": {
                "enterprise_id": enterprise.enterprise_id,
                "name": enterprise.name,
                "credit_code": enterprise.credit_code,
                "address": enterprise.address,
                "area": area.name if area else None,
                "contact_name": enterprise.contact_name,
                "contact_phone": enterprise.contact_phone,
            },
        }


EXPORT_COLUMNS = (
    ("企业名称", 30),
    ("统一社会信用代码", 22),
    ("乡镇街道", 14),
    ("批次", 10),
    ("走访人", 14),
    ("走访单位", 20),
    ("状态", 14),
    ("截止时间", 17),
    ("走访日期", 12),
    ("走访人员", 20),
    ("接待人", 18),
    ("走访情况", 40),
    ("发现问题", 9),
    ("登记的诉求", 24),
)
EXPORT_LIMIT = 20_000


def export(eng, actor: Actor, campaign_id, filters: dict | None, out, lang: str = "zh") -> int:
    """A campaign's enterprises (the page's filters and the actor's scope) with their visitor, status, visit and
    questionnaire answers (one column per question, answers as labelled), written to `out` as .xlsx. Returns rows.

    :raises NotFound: no such campaign. :raises ValidationFailed: a bad filter."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("走访企业")
    with eng.db.read() as session:
        campaign = _campaign(session, campaign_id)
        conditions, _f = _conditions(eng, actor, (filters or {}) | {"campaign": campaign.campaign_id})
        survey = _survey(eng, campaign.form_key)
        questions = [spec for spec in survey.fields] if survey else []
        headings = [*EXPORT_COLUMNS, *((spec.label(lang), 16) for spec in questions)]
        for index, (_heading, width) in enumerate(headings, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.append([_heading_cell(sheet, heading) for heading, _w in headings])
        rows = session.execute(
            select(VisitTarget, Enterprise.name, Enterprise.credit_code, VisitWave.name)
            .join(Enterprise, Enterprise.enterprise_id == VisitTarget.enterprise_id)
            .join(VisitWave, VisitWave.wave_id == VisitTarget.wave_id)
            .where(*conditions)
            .order_by(VisitWave.sort_order, Enterprise.name, VisitTarget.target_id)
            .limit(EXPORT_LIMIT)
        ).all()
        targets = [row[0].target_id for row in rows]
        visits: dict[int, Visit] = {}
        cases: dict[int, list[str]] = {}
        for first in range(0, len(targets), 900):
            chunk = targets[first : first + 900]
            for visit in session.scalars(select(Visit).where(Visit.target_id.in_(chunk))):
                visits[visit.target_id] = visit
            for visit_id, case_no in session.execute(
                select(VisitCase.visit_id, Case.case_no)
                .join(Case, Case.case_id == VisitCase.case_id)
                .join(Visit, Visit.visit_id == VisitCase.visit_id)
                .where(Visit.target_id.in_(chunk))
            ):
                cases.setdefault(visit_id, []).append(case_no)
        units = unit_names(session)
        areas = dict(session.execute(select(Area.area_id, Area.name)).all())
        now = eng.now()
        for target, name, code, wave in rows:
            visit = visits.get(target.target_id)
            overdue = target.status == "pending" and target.due_at is not None and target.due_at < now
            values = [
                name,
                code,
                areas.get(target.area_id),
                wave,
                target.visitor_name,
                units.get(target.visitor_unit_id),
                _("超期未走访") if overdue else TARGET_STATUSES.get(target.status, target.status),
                _local(target.due_at),
                visit.visited_on if visit else None,
                visit.visitors if visit else None,
                visit.met_with if visit else None,
                visit.summary if visit else None,
                visit.problems if visit else None,
                "、".join(cases.get(visit.visit_id, [])) if visit else None,
            ]
            answers = (visit.answers or {}) if visit else {}
            for spec in questions:
                value = answers.get(spec.name)
                if value is not None and spec.widget in ("radio", "select"):
                    value = dict(spec.choices(lang)).get(str(value), value)
                values.append(value)
            sheet.append([_cell(sheet, value) for value in values])
    workbook.save(out)
    return len(rows)


def _heading_cell(sheet, heading: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=heading)
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor="DDE6F2")
    return cell


def _cell(sheet, value) -> WriteOnlyCell:
    if isinstance(value, str):
        value = spreadsheet_text(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _local(value):
    """Excel has no time zones: Beijing wall-clock time, without tzinfo."""
    if value is None:
        return None
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
