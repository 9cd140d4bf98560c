"""The case list (诉求台账): filters (incl. the cases behind a figure and the enterprise's area, size class, pools and
tags), text search, the row every list shows, and counts per group of the cases found."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text

from engine.domain import calendar
from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import SIZE_CLASSES
from engine.domain.vocabulary import TIERS
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import figures
from engine.services.common import MAX_ID
from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.common import parse_id
from engine.services.common import unit_names
from engine.services.common import whole_number
from engine.storage import search
from engine.storage.models import Area
from engine.storage.models import Case
from engine.storage.models import CaseUnit
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag
from engine.storage.models import HumanTask
from engine.storage.models import Unit

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
    # the enterprise's classes as they are now (behind a figure: as they were when the fact was recorded)
    "area",
    "size",
    "pool",
    "tag",
    # drill-down from a figure or a chart: the cases behind one number
    "figure",
    "period",
    "role",
    "overdue",
    "open",
)
FIGURE_DIMS = ("unit", "field", "category", "channel", "tier", "batch", "area", "size", "pool", "tag")
NONE = "none"  # area=none / size=none: enterprises without one
GROUPS = ("area", "size", "pool", "tag")


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


def case_query(actor: Actor, filters: dict, dialect: str = "sqlite", now=None):
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
        if "unit" in dims:
            dims["unit"] = _id(dims["unit"], "unit", _("应为单位编号"))
        period = figures.parse_period(str(f.pop("period", "")) or None, today=now.astimezone(LOCAL_TZ).date())
        behind = figures.drill_cases(period, str(f.pop("figure")), dims, str(f.pop("role", "lead")))
        query = query.where(Case.case_id.in_(behind))
    if "overdue" in f:
        late = [HumanTask.case_id == Case.case_id, HumanTask.role == "handler", HumanTask.due_at < now]
        if "unit" in f and whole_number(f["unit"]) is not None:
            late.append(HumanTask.unit_id == _id(f["unit"], "unit", _("应为单位编号")))
        query = query.where(exists().where(*late))
    if "open" in f:
        query = query.where(Case.status != "closed")
    if f.get("flag") == "green":  # never flagged, or back to green
        query = query.where(or_(Case.flag.is_(None), Case.flag == f.pop("flag")))
    for key in ("status", "field", "category", "channel", "tier", "urgency", "flag", "library", "batch"):
        if key in f:
            query = query.where(getattr(Case, key) == f[key])
    if "enterprise_id" in f:
        query = query.where(Case.enterprise_id == _id(f["enterprise_id"], "enterprise_id"))
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
        query = query.where(Case.created_at < _local_day(f["date_to"], "date_to", days_after=1))
    return _class_filters(query, f, dialect)


def _class_filters(query, f: dict, dialect: str):
    """The enterprise's area, size class, pools and tags now; an unknown area, pool or tag matches nothing."""
    enterprise = []
    if "area" in f:
        value = str(f["area"]).strip()
        enterprise.append(
            Enterprise.area_id.is_(None) if value == NONE else Enterprise.area_id == _id_of(Area, value)
        )
    if "size" in f:
        value = str(f["size"]).strip()
        if value != NONE and value not in SIZE_CLASSES:
            raise ValidationFailed(
                _("查询条件有误"), {"size": _("应为 %(values)s 之一", values="、".join(SIZE_CLASSES))}
            )
        enterprise.append(
            Enterprise.size_class.is_(None) if value == NONE else Enterprise.size_class == value
        )
    for key in ("pool", "tag"):
        if key in f:
            enterprise.append(
                exists().where(
                    EnterpriseMembership.enterprise_id == Enterprise.enterprise_id,
                    EnterpriseMembership.tag_id == _id_of(EnterpriseTag, str(f[key]).strip()),
                    EnterpriseMembership.removed_at.is_(None),
                )
            )
    if enterprise:
        query = query.where(Case.enterprise_id.in_(select(Enterprise.enterprise_id).where(*enterprise)))
    if "q" in f:
        query = _text_filter(query, str(f["q"]), dialect)
    return query


def _id_of(model, value: str):
    """An area or tag given by id, code or name, as SQL (a subquery for a code or name)."""
    if value.isdigit():
        return int(value) if len(value) <= 9 else -1
    id_column = Area.area_id if model is Area else EnterpriseTag.tag_id
    return select(id_column).where((model.code == value) | (model.name == value)).limit(1).scalar_subquery()


def _id(value, field: str, message: str | None = None) -> int:
    """A record id given as a filter. :raises ValidationFailed: not a whole number from 1 to MAX_ID."""
    number = parse_id(value)
    if number is None:
        raise ValidationFailed(
            _("查询条件有误"), {field: message or _("应为 1 到 %(maximum)s 之间的整数", maximum=MAX_ID)}
        )
    return number


def _unit_id(value):
    """A unit filter given by id or code; an unknown code simply matches nothing."""
    if whole_number(value) is not None:
        return _id(value, "unit", _("应为单位编号"))
    return select(Unit.unit_id).where(Unit.code == str(value)).scalar_subquery()


def _local_day(value, field: str, days_after: int = 0) -> dt.datetime:
    """The start (local midnight) of the day `value` names, or of the day `days_after` it, as a UTC moment.

    :raises ValidationFailed: not a date, or one at the calendar's edge (year 1 or 9999) that has no such moment.
    """
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("查询条件有误"), {field: _("日期格式应为 YYYY-MM-DD")}) from None
    try:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ) + dt.timedelta(days=days_after)
        return start.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed(_("查询条件有误"), {field: _("日期超出范围")}) from None


def search_cases(eng, actor: Actor, filters: dict | None = None, page=1, per_page=20, group=None) -> dict:
    """The case list: filters by status, field, category, unit, channel, tier, date range, text and the
    enterprise's area, size class, pool and tag; paginated. With `group` (area / size / pool / tag), also how many
    of the cases found fall in each (their enterprise's classes now).

    :raises ValidationFailed: a filter or grouping that is not understood.
    """
    if group not in (None, "") and group not in GROUPS:
        raise ValidationFailed(
            _("分组方式有误"), {"group": _("应为 %(values)s 之一", values="、".join(GROUPS))}
        )
    page, per_page = paginate(page, per_page)
    query = case_query(actor, filters or {}, eng.db.engine.dialect.name, eng.now())
    with eng.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = session.scalars(
            query.order_by(Case.created_at.desc(), Case.case_id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        units = unit_names(session)
        result = {
            "items": [case_summary(c, units) for c in rows],
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
        }
        if group:
            result["group"] = group
            result["groups"] = _groups(session, query, group)
        return result


def _groups(session, query, group: str) -> list[dict]:
    """{key, label, count} of the cases of `query` per area, size class, pool or tag of their enterprise; a
    "none" row for cases whose enterprise has no area (size class)."""
    found = query.order_by(None).with_only_columns(Case.enterprise_id).subquery()
    if group in ("pool", "tag"):
        counts = dict(
            session.execute(
                select(EnterpriseMembership.tag_id, func.count())
                .join(found, found.c.enterprise_id == EnterpriseMembership.enterprise_id)
                .where(EnterpriseMembership.removed_at.is_(None))
                .group_by(EnterpriseMembership.tag_id)
            ).all()
        )
        tags = session.scalars(
            select(EnterpriseTag)
            .where(EnterpriseTag.kind == group)
            .order_by(EnterpriseTag.sort_order, EnterpriseTag.tag_id)
        )
        return [
            {"key": str(t.tag_id), "label": t.name, "count": counts.get(t.tag_id, 0)}
            for t in tags
            if t.is_active or counts.get(t.tag_id)
        ]
    column = Enterprise.area_id if group == "area" else Enterprise.size_class
    counts = dict(
        session.execute(
            select(column, func.count())
            .join(found, found.c.enterprise_id == Enterprise.enterprise_id)
            .group_by(column)
        ).all()
    )
    if group == "area":
        areas = session.scalars(select(Area).order_by(Area.sort_order, Area.area_id))
        keys = [(str(a.area_id), a.name, a.area_id) for a in areas if a.is_active or counts.get(a.area_id)]
    else:
        keys = [(v, v, v) for v in SIZE_CLASSES]
    rows = [{"key": key, "label": label, "count": counts.get(value, 0)} for key, label, value in keys]
    return rows + [{"key": NONE, "label": None, "count": counts.get(None, 0)}]


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
        # The deadline falls in a year without official holiday data: counted on weekdays, so only an estimate.
        "deadline_estimated": calendar.is_estimated(case.deadline_at),
        "flag": case.flag,
        "notice_count": case.notice_count,
        "original_deadline_at": case.original_deadline_at,
        "extensions_count": case.extensions_count,
        "outcome": case.outcome,
        "satisfaction": case.satisfaction,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
    }
