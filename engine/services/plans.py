"""Per-enterprise plans (一企一策): a plan for one enterprise, its items (措施) with an owner unit, due date and
status, each linked to cases of that enterprise; the list of plans with their progress.

Who sees and does what:
- everyone but a pure handler sees every plan and item;
- a pure handler sees only the items its unit owns, and the plans that hold one; other units' items are neither
  shown nor counted in the progress it sees (a plan without any of its items is refused, 403);
- the programme office (manager, dispatcher, admin) writes plans and items;
- the owner unit's staff update their item's status and progress note (and nothing else).
Progress = done items / items not cancelled. An item is overdue when it is not done or cancelled and its due date
(a local day) has passed. Every change is in programme_event, shown on the plan page.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case as when
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.clock import LOCAL_TZ
from engine.domain.text import strip_controls
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import programme_log
from engine.services.common import Actor
from engine.services.common import in_id_range
from engine.services.common import paginate
from engine.services.common import require_role
from engine.storage.models import Case
from engine.storage.models import CaseUnit
from engine.storage.models import Enterprise
from engine.storage.models import Plan
from engine.storage.models import PlanItem
from engine.storage.models import PlanItemCase
from engine.storage.models import Unit

EDITORS = ("manager", "dispatcher", "admin")
PLAN_STATUSES: dict[str, tuple[str, str]] = {"active": ("推进中", "Active"), "closed": ("已结束", "Closed")}
ITEM_STATUSES: dict[str, tuple[str, str]] = {
    "pending": ("未开始", "Not started"),
    "in_progress": ("推进中", "In progress"),
    "done": ("已完成", "Done"),
    "cancelled": ("已取消", "Cancelled"),
}
OPEN_ITEM = ("pending", "in_progress")
PLAN_FIELDS = ("enterprise_id", "title", "goal", "status")
ITEM_FIELDS = ("title", "owner_unit", "due_date", "status", "progress_note", "case_ids")
OWNER_FIELDS = ("status", "progress_note")  # what the owner unit may change
MAX_ITEMS = 100
FILTERS = ("q", "status", "unit", "overdue", "enterprise_id")


def can_edit(actor: Actor) -> bool:
    return actor.has_role(*EDITORS)


def _unit_only(actor: Actor) -> int | None:
    if actor.sees_all_cases:
        return None
    return actor.unit_id if actor.unit_id is not None else -1


def _today(eng) -> dt.date:
    return eng.now().astimezone(LOCAL_TZ).date()


def _text(value) -> str:
    return strip_controls(str(value if value is not None else "")).strip()


# --- the list with progress ---------------------------------------------------------------------------------------


def _progress_query(actor: Actor, today: dt.date, unit_id: int | None = None):
    """Per plan: items, done, cancelled, overdue and the next due date — over the items the actor sees."""
    is_open = PlanItem.status.in_(OPEN_ITEM)
    query = select(
        PlanItem.plan_id,
        func.count().label("n_items"),
        func.count(when((PlanItem.status == "done", 1))).label("done"),
        func.count(when((PlanItem.status == "cancelled", 1))).label("cancelled"),
        func.count(when((is_open & (PlanItem.due_date < today), 1))).label("overdue"),
        func.min(when((is_open, PlanItem.due_date), else_=None)).label("next_due"),
    ).group_by(PlanItem.plan_id)
    only = _unit_only(actor)
    if only is not None:
        query = query.where(PlanItem.owner_unit_id == only)
    elif unit_id is not None:
        query = query.where(PlanItem.owner_unit_id == unit_id)
    return query.subquery()


def _progress(items: int, done: int, cancelled: int) -> int:
    counted = (items or 0) - (cancelled or 0)
    return round(100 * (done or 0) / counted) if counted > 0 else 0


def list_plans(eng, actor: Actor, filters: dict | None = None, page=1, per_page=20) -> dict:
    """Plans with their progress, those with overdue items first, then by the next due date.

    Filters: q (enterprise or plan title), status (active/closed), unit (plans with items of that unit: progress
    then counts that unit's items), overdue ("1": only plans with an overdue item), enterprise_id.
    :raises ValidationFailed: a bad filter."""
    page, per_page = paginate(page, per_page)
    f = {k: _text(v) for k, v in (filters or {}).items() if k in FILTERS and _text(v)}
    unit_id = _int(f["unit"], "unit") if "unit" in f else None
    today = _today(eng)
    progress = _progress_query(actor, today, unit_id)
    narrowed = _unit_only(actor) is not None or unit_id is not None
    query = select(
        Plan,
        Enterprise.name,
        progress.c.n_items,
        progress.c.done,
        progress.c.cancelled,
        progress.c.overdue,
        progress.c.next_due,
    ).join(Enterprise, Enterprise.enterprise_id == Plan.enterprise_id)
    query = (
        query.join(progress, progress.c.plan_id == Plan.plan_id)
        if narrowed
        else query.outerjoin(progress, progress.c.plan_id == Plan.plan_id)
    )
    if "status" in f:
        if f["status"] not in PLAN_STATUSES:
            raise ValidationFailed(_("查询条件有误"), {"status": _("应为 active 或 closed")})
        query = query.where(Plan.status == f["status"])
    if "enterprise_id" in f:
        query = query.where(Plan.enterprise_id == _int(f["enterprise_id"], "enterprise_id"))
    if f.get("overdue") in ("1", "true", "yes"):
        query = query.where(progress.c.overdue > 0)
    if "q" in f:
        like = "%" + f["q"][:50].replace("%", "") + "%"
        query = query.where(or_(Enterprise.name.like(like), Plan.title.like(like)))
    with eng.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(
            query.order_by(
                (Plan.status != "active"),
                func.coalesce(progress.c.overdue, 0).desc(),
                progress.c.next_due.is_(None),
                progress.c.next_due,
                Plan.plan_id.desc(),
            )
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        items = [
            _plan_summary(plan, name, n or 0, done or 0, cancelled or 0, overdue or 0, next_due)
            for plan, name, n, done, cancelled, overdue, next_due in rows
        ]
        return {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "filters": f,
        }


def _plan_summary(plan: Plan, enterprise_name: str, items, done, cancelled, overdue, next_due) -> dict:
    return {
        "plan_id": plan.plan_id,
        "enterprise_id": plan.enterprise_id,
        "enterprise_name": enterprise_name,
        "title": plan.title,
        "status": plan.status,
        "items": items,
        "done": done,
        "cancelled": cancelled,
        "overdue": overdue,
        "next_due": next_due,
        "progress": _progress(items, done, cancelled),
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }


def _int(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("查询条件有误"), {field: _("应为数字")}) from None
    if not in_id_range(number):
        raise ValidationFailed(_("查询条件有误"), {field: _("编号太大")})
    return number


def enterprise_plans(eng, actor: Actor, enterprise_id: int) -> list[dict]:
    """The plans of one enterprise (for its file), as the actor may see them."""
    return list_plans(eng, actor, {"enterprise_id": enterprise_id}, per_page=50)["items"]


# --- one plan -----------------------------------------------------------------------------------------------------


def _visible_items(session: Session, actor: Actor, plan_id: int) -> list[PlanItem]:
    query = select(PlanItem).where(PlanItem.plan_id == plan_id)
    only = _unit_only(actor)
    if only is not None:
        query = query.where(PlanItem.owner_unit_id == only)
    return list(session.scalars(query.order_by(PlanItem.sort_order, PlanItem.item_id)))


def _plan_or_refuse(session: Session, actor: Actor, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id) if in_id_range(plan_id) else None
    if plan is None:
        raise NotFound(_("这份一企一策不存在"))
    only = _unit_only(actor)
    if only is not None and not session.scalar(
        select(exists().where(PlanItem.plan_id == plan_id, PlanItem.owner_unit_id == only))
    ):
        raise PermissionDenied(_("这份一企一策没有本单位负责的措施，无权查看"))
    return plan


def get_plan(eng, actor: Actor, plan_id: int) -> dict:
    """A plan with the items the actor sees (each with its linked cases), its progress and history, and — for the
    programme office — the enterprise's cases to link. :raises NotFound: no such plan.
    :raises PermissionDenied: a handler whose unit owns none of its items."""
    today = _today(eng)
    with eng.db.read() as session:
        plan = _plan_or_refuse(session, actor, plan_id)
        enterprise = session.get(Enterprise, plan.enterprise_id)
        items = _visible_items(session, actor, plan_id)
        units = dict(session.execute(select(Unit.unit_id, Unit.name)).all())
        links = _links(session, actor, [i.item_id for i in items])
        rows = [_item_dict(i, units, links.get(i.item_id, []), today, actor) for i in items]
        done = sum(1 for r in rows if r["status"] == "done")
        cancelled = sum(1 for r in rows if r["status"] == "cancelled")
        result = {
            "plan_id": plan.plan_id,
            "enterprise_id": plan.enterprise_id,
            "enterprise_name": enterprise.name,
            "credit_code": enterprise.credit_code,
            "title": plan.title,
            "goal": plan.goal,
            "status": plan.status,
            "created_at": plan.created_at,
            "updated_at": plan.updated_at,
            "items": rows,
            "done": done,
            "overdue": sum(1 for r in rows if r["overdue"]),
            "progress": _progress(len(rows), done, cancelled),
            "can_edit": can_edit(actor),
            "partial": _unit_only(actor) is not None,
            "history": _history(session, plan_id, rows if _unit_only(actor) is not None else None),
        }
        if can_edit(actor):
            result["enterprise_cases"] = [
                {"case_id": c.case_id, "case_no": c.case_no, "title": c.title, "status": c.status}
                for c in session.scalars(
                    select(Case)
                    .where(Case.enterprise_id == plan.enterprise_id)
                    .order_by(Case.case_id.desc())
                    .limit(200)
                )
            ]
        return result


def _history(session: Session, plan_id: int, visible_items: list[dict] | None) -> list[dict]:
    """The plan's changes; for a handler only the plan's own and those of the items it sees."""
    events = programme_log.history(session, "plan", plan_id)
    if visible_items is None:
        return events
    ids = {i["item_id"] for i in visible_items}
    return [e for e in events if not (e["data"] or {}).get("item_id") or e["data"]["item_id"] in ids]


def _links(session: Session, actor: Actor, item_ids) -> dict[int, list[dict]]:
    if not item_ids:
        return {}
    rows = session.execute(
        select(PlanItemCase.item_id, Case.case_id, Case.case_no, Case.title, Case.status, Case.flag)
        .join(Case, Case.case_id == PlanItemCase.case_id)
        .where(PlanItemCase.item_id.in_(item_ids))
        .order_by(Case.case_id)
    ).all()
    visible = None
    if not actor.sees_all_cases:
        visible = set(
            session.scalars(
                select(CaseUnit.case_id).where(
                    CaseUnit.unit_id == actor.unit_id, CaseUnit.case_id.in_([r.case_id for r in rows])
                )
            )
        )
    found: dict[int, list[dict]] = {}
    for item_id, case_id, case_no, title, status, flag in rows:
        found.setdefault(item_id, []).append(
            {
                "case_id": case_id,
                "case_no": case_no,
                "title": title,
                "status": status,
                "flag": flag,
                "visible": visible is None or case_id in visible,
            }
        )
    return found


def _item_dict(item: PlanItem, units: dict, cases: list[dict], today: dt.date, actor: Actor) -> dict:
    return {
        "item_id": item.item_id,
        "plan_id": item.plan_id,
        "title": item.title,
        "owner_unit_id": item.owner_unit_id,
        "owner_unit": units.get(item.owner_unit_id),
        "due_date": item.due_date,
        "status": item.status,
        "overdue": item.status in OPEN_ITEM and item.due_date is not None and item.due_date < today,
        "progress_note": item.progress_note,
        "updated_at": item.updated_at,
        "cases": cases,
        "can_update": can_edit(actor) or (actor.unit_id is not None and actor.unit_id == item.owner_unit_id),
    }


def items_for_case(session: Session, actor: Actor, case_id: int) -> list[dict]:
    """The plan items a case is linked to, as the actor may see them (the case page names them)."""
    query = (
        select(PlanItem.item_id, PlanItem.title, PlanItem.status, Plan.plan_id, Plan.title)
        .join(PlanItemCase, PlanItemCase.item_id == PlanItem.item_id)
        .join(Plan, Plan.plan_id == PlanItem.plan_id)
        .where(PlanItemCase.case_id == case_id)
        .order_by(Plan.plan_id, PlanItem.sort_order, PlanItem.item_id)
    )
    only = _unit_only(actor)
    if only is not None:
        query = query.where(PlanItem.owner_unit_id == only)
    rows = session.execute(query)
    return [
        {"item_id": i, "title": t, "status": s, "plan_id": p, "plan_title": pt} for i, t, s, p, pt in rows
    ]


# --- writing ------------------------------------------------------------------------------------------------------


def _check_plan(data: dict, *, new: bool) -> tuple[dict, dict]:
    unknown = set(data) - set(PLAN_FIELDS) - ({"items"} if new else set())
    errors: dict[str, str] = {k: _("字段 %(name)s 不在一企一策中", name=k) for k in sorted(unknown)}
    clean: dict = {}
    if new or "title" in data:
        clean["title"] = _text(data.get("title"))
        if not clean["title"]:
            errors["title"] = _("请填写标题")
        elif len(clean["title"]) > 200:
            errors["title"] = _("最多 %(limit)s 个字", limit=200)
    if "goal" in data:
        clean["goal"] = _text(data.get("goal")) or None
        if clean["goal"] and len(clean["goal"]) > 2000:
            errors["goal"] = _("最多 %(limit)s 个字", limit=2000)
    if "status" in data or new:
        clean["status"] = _text(data.get("status")) or "active"
        if clean["status"] not in PLAN_STATUSES:
            errors["status"] = _("状态应为 active（推进中）或 closed（已结束）")
    return clean, errors


def create_plan(eng, actor: Actor, data: dict) -> dict:
    """A new plan for an enterprise, optionally with its items (`items`: a list of item fields).

    :raises ValidationFailed: bad fields (per item as items[n].field; nothing saved). :raises NotFound: no such
    enterprise. :raises PermissionDenied: not the programme office."""
    require_role(actor, *EDITORS)
    if not isinstance(data, dict):
        raise ValidationFailed(_("数据应为对象"))
    clean, errors = _check_plan(data, new=True)
    items = data.get("items") or []
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        errors["items"] = _("措施应为列表，最多 %(limit)s 项", limit=MAX_ITEMS)
        items = []
    try:
        enterprise_id = int(data.get("enterprise_id"))
        if not in_id_range(enterprise_id):
            raise ValueError
    except (TypeError, ValueError):
        errors["enterprise_id"] = _("请选择企业")
        enterprise_id = None
    with eng.db.transaction() as session:
        enterprise = session.get(Enterprise, enterprise_id) if enterprise_id else None
        if enterprise_id and enterprise is None:
            raise NotFound(_("企业不存在"))
        checked = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                errors[f"items[{index}]"] = _("每项措施应为对象")
                continue
            values, problems = _check_item(session, item, enterprise_id, new=True)
            errors.update({f"items[{index}].{k}": v for k, v in problems.items()})
            checked.append(values)
        if errors:
            raise ValidationFailed(_("一企一策有误，请按提示修改"), errors)
        now = eng.now()
        plan = Plan(
            enterprise_id=enterprise_id,
            title=clean["title"],
            goal=clean.get("goal"),
            status=clean["status"],
            created_at=now,
            created_by=actor.user_id,
            updated_at=now,
        )
        session.add(plan)
        session.flush()
        programme_log.record(
            session,
            eng,
            actor,
            subject="plan",
            subject_id=plan.plan_id,
            enterprise_id=enterprise_id,
            action="created",
            title=f"制定一企一策：{plan.title}",
        )
        for order, values in enumerate(checked, start=1):
            _add_item(session, eng, actor, plan, values, order)
        return {"plan_id": plan.plan_id, "enterprise_id": enterprise_id, "title": plan.title}


def update_plan(eng, actor: Actor, plan_id: int, data: dict) -> dict:
    """Change a plan's title, goal or status. :raises ValidationFailed, NotFound, PermissionDenied:"""
    require_role(actor, *EDITORS)
    if not isinstance(data, dict):
        raise ValidationFailed(_("数据应为对象"))
    clean, errors = _check_plan({k: v for k, v in data.items() if k != "enterprise_id"}, new=False)
    if "enterprise_id" in data:
        errors["enterprise_id"] = _("一企一策的企业不能更改")
    if errors:
        raise ValidationFailed(_("一企一策有误，请按提示修改"), errors)
    with eng.db.transaction() as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound(_("这份一企一策不存在"))
        before = {k: getattr(plan, k) for k in clean}
        changed = {k: v for k, v in clean.items() if before[k] != v}
        for key, value in changed.items():
            setattr(plan, key, value)
        if changed:
            plan.updated_at = eng.now()
            title = f"修改一企一策：{plan.title}"
            if set(changed) == {"status"}:
                title = ("结束一企一策：" if plan.status == "closed" else "重新推进一企一策：") + plan.title
            programme_log.record(
                session,
                eng,
                actor,
                subject="plan",
                subject_id=plan.plan_id,
                enterprise_id=plan.enterprise_id,
                action="updated",
                title=title,
                data={"before": {k: before[k] for k in changed}, "after": changed},
            )
        return {"plan_id": plan.plan_id, "changed": sorted(changed)}


def _check_item(session: Session, data: dict, enterprise_id: int | None, *, new: bool) -> tuple[dict, dict]:
    unknown = set(data) - set(ITEM_FIELDS)
    errors: dict[str, str] = {k: _("字段 %(name)s 不在措施中", name=k) for k in sorted(unknown)}
    clean: dict = {}
    if new or "title" in data:
        clean["title"] = _text(data.get("title"))
        if not clean["title"]:
            errors["title"] = _("请填写措施内容")
        elif len(clean["title"]) > 200:
            errors["title"] = _("最多 %(limit)s 个字", limit=200)
    if new or "owner_unit" in data:
        value = _text(data.get("owner_unit"))
        unit = None
        if value:
            query = select(Unit).where(Unit.is_active.is_(True))
            query = (
                query.where(Unit.unit_id == int(value))
                if value.isdigit() and in_id_range(int(value))
                else query.where(Unit.code == value)
            )
            unit = session.scalars(query).first()
        if unit is None:
            errors["owner_unit"] = (
                _("请选择责任单位") if not value else _("单位不存在：%(units)s", units=value)
            )
        else:
            clean["owner_unit_id"] = unit.unit_id
    if "due_date" in data:
        value = _text(data.get("due_date"))
        try:
            clean["due_date"] = dt.date.fromisoformat(value) if value else None
        except ValueError:
            errors["due_date"] = _("日期格式应为 YYYY-MM-DD")
        else:
            if clean["due_date"] and not 2000 <= clean["due_date"].year <= 2100:
                errors["due_date"] = _("日期应在 2000 至 2100 年之间")
    if new or "status" in data:
        clean["status"] = _text(data.get("status")) or "pending"
        if clean["status"] not in ITEM_STATUSES:
            errors["status"] = _("状态应为 %(values)s 之一", values="、".join(ITEM_STATUSES))
    if "progress_note" in data:
        clean["progress_note"] = _text(data.get("progress_note")) or None
        if clean["progress_note"] and len(clean["progress_note"]) > 2000:
            errors["progress_note"] = _("最多 %(limit)s 个字", limit=2000)
    if "case_ids" in data:
        ids = data.get("case_ids") or []
        if not isinstance(ids, list) or len(ids) > 50:
            errors["case_ids"] = _("关联诉求应为诉求编号的列表，最多 50 件")
        else:
            try:
                wanted = sorted({int(i) for i in ids})
                if not all(in_id_range(i) for i in wanted):
                    raise ValueError
            except (TypeError, ValueError):
                errors["case_ids"] = _("关联诉求应为诉求编号的列表，最多 50 件")
            else:
                found = (
                    set(
                        session.scalars(
                            select(Case.case_id).where(
                                Case.case_id.in_(wanted), Case.enterprise_id == enterprise_id
                            )
                        )
                    )
                    if wanted
                    else set()
                )
                if set(wanted) - found:
                    errors["case_ids"] = _("只能关联本企业的诉求")
                clean["case_ids"] = wanted
    return clean, errors


def _add_item(session: Session, eng, actor: Actor, plan: Plan, values: dict, order: int) -> PlanItem:
    item = PlanItem(
        plan_id=plan.plan_id,
        title=values["title"],
        owner_unit_id=values["owner_unit_id"],
        due_date=values.get("due_date"),
        status=values.get("status", "pending"),
        progress_note=values.get("progress_note"),
        sort_order=order,
        updated_at=eng.now(),
        updated_by=actor.user_id,
    )
    session.add(item)
    session.flush()
    for case_id in values.get("case_ids", []):
        session.add(PlanItemCase(item_id=item.item_id, case_id=case_id))
    programme_log.record(
        session,
        eng,
        actor,
        subject="plan",
        subject_id=plan.plan_id,
        enterprise_id=plan.enterprise_id,
        action="item_added",
        title=f"新增措施：{item.title}",
        data={"item_id": item.item_id},
    )
    return item


def add_item(eng, actor: Actor, plan_id: int, data: dict) -> dict:
    """Add an item to a plan. :raises ValidationFailed, NotFound, PermissionDenied:"""
    require_role(actor, *EDITORS)
    if not isinstance(data, dict):
        raise ValidationFailed(_("数据应为对象"))
    with eng.db.transaction() as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound(_("这份一企一策不存在"))
        values, errors = _check_item(session, data, plan.enterprise_id, new=True)
        count = session.scalar(select(func.count()).where(PlanItem.plan_id == plan_id))
        if count >= MAX_ITEMS:
            errors["title"] = _("一份一企一策最多 %(limit)s 项措施", limit=MAX_ITEMS)
        if errors:
            raise ValidationFailed(_("措施有误，请按提示修改"), errors)
        item = _add_item(session, eng, actor, plan, values, count + 1)
        plan.updated_at = eng.now()
        return {"item_id": item.item_id, "plan_id": plan_id}


def update_item(eng, actor: Actor, item_id: int, data: dict) -> dict:
    """Change an item. The programme office may change any field; the owner unit's staff only `status` and
    `progress_note`. :raises ValidationFailed: bad values. :raises NotFound: no such item (or not visible).
    :raises PermissionDenied: someone else's item, or a field the owner unit may not change."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("数据应为对象"))
    with eng.db.transaction() as session:
        item = session.get(PlanItem, item_id)
        if item is None:
            raise NotFound(_("这项措施不存在"))
        if not can_edit(actor):
            if actor.unit_id is None or item.owner_unit_id != actor.unit_id:
                raise PermissionDenied(_("这项措施不由本单位负责，无权修改"))
            if set(data) - set(OWNER_FIELDS):
                raise PermissionDenied(
                    _("责任单位只能更新措施的状态和进展，其他内容请联系企业服务办公室修改")
                )
        plan = session.get(Plan, item.plan_id)
        values, errors = _check_item(session, data, plan.enterprise_id, new=False)
        if errors:
            raise ValidationFailed(_("措施有误，请按提示修改"), errors)
        case_ids = values.pop("case_ids", None)
        before = {k: getattr(item, k) for k in values}
        changed = {k: v for k, v in values.items() if before[k] != v}
        for key, value in changed.items():
            setattr(item, key, value)
        if case_ids is not None:
            old = set(session.scalars(select(PlanItemCase.case_id).where(PlanItemCase.item_id == item_id)))
            if old != set(case_ids):
                session.execute(delete(PlanItemCase).where(PlanItemCase.item_id == item_id))
                session.add_all([PlanItemCase(item_id=item_id, case_id=c) for c in case_ids])
                changed["case_ids"] = case_ids
                before["case_ids"] = sorted(old)
        if changed:
            item.updated_at, item.updated_by = eng.now(), actor.user_id
            plan.updated_at = eng.now()
            programme_log.record(
                session,
                eng,
                actor,
                subject="plan",
                subject_id=plan.plan_id,
                enterprise_id=plan.enterprise_id,
                action="item_updated",
                title=_item_change_title(item, before, changed),
                data={
                    "item_id": item_id,
                    "before": _jsonable({k: before[k] for k in changed}),
                    "after": _jsonable(changed),
                },
            )
        return {"item_id": item_id, "plan_id": item.plan_id, "changed": sorted(changed)}


def _item_change_title(item: PlanItem, before: dict, changed: dict) -> str:
    if "status" in changed:
        old = ITEM_STATUSES.get(before["status"], (before["status"], ""))[0]
        return f"措施“{item.title}”：{old} → {ITEM_STATUSES[item.status][0]}"
    if set(changed) == {"progress_note"}:
        return f"更新措施“{item.title}”的进展"
    return f"修改措施“{item.title}”"


def _jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def remove_item(eng, actor: Actor, item_id: int) -> dict:
    """Delete an item (the programme office). :raises NotFound, PermissionDenied:"""
    require_role(actor, *EDITORS)
    with eng.db.transaction() as session:
        item = session.get(PlanItem, item_id)
        if item is None:
            raise NotFound(_("这项措施不存在"))
        plan = session.get(Plan, item.plan_id)
        title = item.title
        session.execute(delete(PlanItemCase).where(PlanItemCase.item_id == item_id))
        session.execute(delete(PlanItem).where(PlanItem.item_id == item_id))
        plan.updated_at = eng.now()
        programme_log.record(
            session,
            eng,
            actor,
            subject="plan",
            subject_id=plan.plan_id,
            enterprise_id=plan.enterprise_id,
            action="item_removed",
            title=f"删除措施：{title}",
            data={"item_id": item_id},
        )
        return {"item_id": item_id, "plan_id": plan.plan_id}
