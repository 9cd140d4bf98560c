"""Figures (统计数据): what the programme is judged by, from facts recorded as the cases move.

Every figure counts facts (engine.storage.models.FigureFact) written in the same transaction as the step that caused
them, with the case's unit, tier, field, category, channel and batch *at that moment*, and the area, size class and
pools/tags its enterprise had when the case was collected (a case keeps one row however its enterprise is
reclassified later; cases collected after the change count in the new row). Nothing is recomputed
from the current diagram or rule tables, so a process or rule change mid-period leaves earlier figures as they
were. Per-day totals (FigureDaily) are kept in step at commit, so a quarter or a year sums a few thousand rows.

Counts are cohort counts: "of the problems collected in the period (registered, or assigned to the unit, or
reaching the tier), how many are closed / resolved / ..." — the way a programme office reads its ledger
(“收集问题676个，已办结508个，办结率75.1%”). Only `closures` (销号数, for trend charts) is dated by the day of
closure. Lead and co-handling units are credited separately.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import json
import re

from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from engine.domain.calendar import is_working_day
from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import CATEGORIES
from engine.domain.vocabulary import CHANNELS
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import SIZE_CLASSES
from engine.domain.vocabulary import TIERS
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.common import parse_id
from engine.storage.append import append
from engine.storage.models import Area
from engine.storage.models import Case
from engine.storage.models import CaseUnit
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag
from engine.storage.models import EvaluationBoard
from engine.storage.models import EvaluationEvent
from engine.storage.models import FigureDaily
from engine.storage.models import FigureFact
from engine.storage.models import HumanTask
from engine.storage.models import Unit

MEASURES = (
    "collected",
    "closed",
    "resolved",
    "on_time",
    "close_days",
    "revisits",
    "satisfied",
    "reopened",
    "returns",
    "extensions",
    "closures",
)
SATISFIED = frozenset({"very_satisfied", "satisfied", "basically"})
GROUPS = ("unit", "field", "category", "channel", "tier", "batch", "area", "size", "pool", "tag")
ROLES = ("lead", "co")


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL_TZ).date()


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when closed the same day)."""
    days, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days += 1
    return days


# ---------------------------------------------------------------------------------------------------------
# Recording facts (inside the caller's transaction)


@dataclasses.dataclass(frozen=True)
class Party:
    party: str  # case / tier / unit
    day: dt.date
    unit_id: int | None = None
    role: str | None = None
    tier: str | None = None


ATTRIBUTES = ("tier", "field", "category", "channel", "batch", "area", "size")


def daily_keys(
    party, unit_id, role, tier, field, category, channel, batch, area=None, size=None, tags=()
) -> list[tuple[str, str, str]]:
    """The per-day total rows (dim, key, key2) one fact adds to (see `_daily_keys`)."""
    return list(
        _daily_keys(party, unit_id, role, tier, field, category, channel, batch, area, size, tuple(tags))
    )


@functools.lru_cache(maxsize=4096)
def _daily_keys(
    party, unit_id, role, tier, field, category, channel, batch, area, size, tags
) -> tuple[tuple[str, str, str], ...]:
    """The per-day total rows (dim, key, key2) one fact adds to; the same few combinations come up again and
    again, so the answers are kept.

    Single dimensions: all / field / category / channel / batch / area / size / tag (the case), tier (the tier),
    lead / co (the unit; key = unit id). Pairs, both ways round, so that any one filter with any one grouping reads
    an index range: "lead*category" keyed (unit, category) and "category*lead" keyed (category, unit); likewise a
    tier with the case's attributes, and the case's attributes with each other. `area` is the area id, `size` the
    size class and `tags` the ids of the enterprise's pools and tags: a fact adds to each of its tags' rows (so a
    grouping by tag counts a case once per tag, like units), but tags are not paired with each other.
    """
    values = {
        "tier": tier,
        "field": field,
        "category": category,
        "channel": channel,
        "batch": batch,
        "area": area,
        "size": size,
    }
    if party == "unit":
        own, attributes = (role, str(unit_id)), [a for a in ATTRIBUTES if values[a]]
    elif party == "tier":
        own, attributes = ("tier", tier), [a for a in ATTRIBUTES[1:] if values[a]]
    else:
        own, attributes = None, [a for a in ATTRIBUTES[1:] if values[a]]
    rows = []
    if own is None:
        rows.append(("all", "", ""))
        rows += [(a, values[a], "") for a in attributes]
        for a in attributes:
            rows += [(f"{a}*{b}", values[a], values[b]) for b in attributes if b != a]
        for tag in tags:
            rows.append(("tag", tag, ""))
            for a in attributes:
                rows += [(f"tag*{a}", tag, values[a]), (f"{a}*tag", values[a], tag)]
    else:
        name, key = own
        rows.append((name, key, ""))
        for a in attributes:
            rows += [(f"{name}*{a}", key, values[a]), (f"{a}*{name}", values[a], key)]
        for tag in tags:
            rows += [(f"{name}*tag", key, tag), (f"tag*{name}", tag, key)]
    return tuple(rows)


def tag_ids(tags: str | None) -> list[str]:
    """The tag ids of a fact's `tags` column (",3,7," → ["3", "7"])."""
    return [t for t in (tags or "").split(",") if t]


@dataclasses.dataclass
class Before:
    """The case as it was before a step: whom returns and extensions count against."""

    tier: str | None
    returns: int
    extensions: int
    lead_unit_id: int | None


def before(case: Case) -> Before:
    return Before(case.tier, case.returns_count or 0, case.extensions_count or 0, case.lead_unit_id)


def _state(session: Session, case: Case) -> dict:
    """Per case and transaction: which parties have been credited with the case (and their cohort day)."""
    cases = session.info.setdefault("figure_cases", {})
    state = cases.get(case.case_id)
    if state is None:
        stored = _stored_parties(case)
        seen, classes = stored if stored is not None else _credited_parties(session, case)
        state = cases[case.case_id] = {"seen": seen, "units": None, "classes": classes}
        if stored is None:  # not summarised on the case yet: keep what the facts said there
            _store_parties(case, state)
    return state


def _credited_parties(session: Session, case: Case) -> tuple[dict, tuple | None]:
    """(parties, classes) read from the case's "collected" facts: for a case the row does not summarise yet."""
    seen, classes = {}, None
    rows = session.execute(
        select(
            FigureFact.party,
            FigureFact.unit_id,
            FigureFact.role,
            FigureFact.tier,
            FigureFact.day,
            FigureFact.area_id,
            FigureFact.size_class,
            FigureFact.tags,
        ).where(FigureFact.case_id == case.case_id, FigureFact.measure == "collected")
    )
    for party, unit_id, role, tier, day, area_id, size, tags in rows:
        seen[_party_key(party, unit_id, role, tier)] = Party(party, day, unit_id, role, tier)
        if party == "case":
            classes = (area_id, size, tags)
    return seen, classes


def _classes(session: Session, case: Case, state: dict) -> tuple:
    """The enterprise's area id, size class and tags (",3,7,") that the case's facts record: those it had when
    the case was collected (its first fact), so that every later fact of the case — its closure too — lands in
    the same row as its collection, however the enterprise is reclassified meanwhile. Kept on the case row with
    its parties (or read from its collected fact); read from the enterprise when there is none yet."""
    if state["classes"] is None:
        rows = session.execute(
            select(Enterprise.area_id, Enterprise.size_class, EnterpriseMembership.tag_id)
            .outerjoin(
                EnterpriseMembership,
                (EnterpriseMembership.enterprise_id == Enterprise.enterprise_id)
                & EnterpriseMembership.removed_at.is_(None),
            )
            .where(Enterprise.enterprise_id == case.enterprise_id)
        ).all()
        area_id, size = (rows[0][0], rows[0][1]) if rows else (None, None)
        ids = sorted({tag for _a, _s, tag in rows if tag is not None})
        tags = "," + ",".join(str(t) for t in ids) + "," if ids else None
        state["classes"] = (area_id, size, tags)
    return state["classes"]


def parties_known(case: Case) -> bool:
    """Whether the case row says which parties have been credited (else they are read from its facts)."""
    return case.figure_parties is not None


def _stored_parties(case: Case) -> tuple[dict, tuple | None] | None:
    """(parties, classes) as the case row keeps them, or None when it does not yet."""
    if case.figure_parties is None:
        return None
    stored = json.loads(case.figure_parties)
    seen = {}
    for party, unit_id, role, tier, day in stored["parties"]:
        seen[_party_key(party, unit_id, role, tier)] = Party(
            party, dt.date.fromisoformat(day), unit_id, role, tier
        )
    classes = stored.get("classes")
    return seen, (tuple(classes) if classes else None)


def _store_parties(case: Case, state: dict) -> None:
    """Summarise the credited parties and the enterprise classes the facts record on the case row (written with
    it, in the transaction that credits them)."""
    case.figure_parties = json.dumps(
        {
            "parties": [
                [p.party, p.unit_id, p.role, p.tier if p.party == "tier" else None, p.day.isoformat()]
                for p in state["seen"].values()
            ],
            "classes": list(state["classes"]) if state["classes"] is not None else None,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _party_key(party, unit_id, role, tier):
    return (party, unit_id, role, tier if party == "tier" else None)


def credit(session: Session, eng, case: Case, party: Party, measure: str, amount: int = 1, day=None) -> None:
    """Record one fact and add it to the per-day totals written at commit."""
    if not amount:
        return
    day = day or party.day
    area_id, size, tags = _classes(session, case, _state(session, case))
    tier = party.tier if party.party == "tier" else case.tier
    append(
        session,
        FigureFact.__table__,
        {
            "case_id": case.case_id,
            "measure": measure,
            "party": party.party,
            "day": day,
            "amount": amount,
            "unit_id": party.unit_id,
            "role": party.role,
            "tier": tier,
            "field": case.field,
            "category": case.category,
            "channel": case.channel,
            "batch": case.batch,
            "area_id": area_id,
            "size_class": size,
            "tags": tags,
            "at": eng.now(),
        },
    )
    pending = session.info.setdefault("figure_daily", collections.defaultdict(collections.Counter))
    for dim, key, key2 in _daily_keys(
        party.party,
        party.unit_id,
        party.role,
        tier,
        case.field,
        case.category,
        case.channel,
        case.batch,
        str(area_id) if area_id is not None else None,
        size,
        tuple(tag_ids(tags)),
    ):
        pending[(day, dim, key, key2)][measure] += amount


def _collect(session, eng, case: Case, state: dict, party: Party) -> None:
    key = _party_key(party.party, party.unit_id, party.role, party.tier)
    if key not in state["seen"]:
        state["seen"][key] = party
        credit(session, eng, case, party, "collected")
        _store_parties(case, state)  # after crediting: the first fact settles the classes too


def current_parties(session: Session, case: Case, tier=None) -> list[Party]:
    """The parties a fact about the case is credited to now: the case, its tier, its lead and co units."""
    state = _state(session, case)
    seen = state["seen"]
    fallback = local_day(case.created_at)
    parties = [seen.get(("case", None, None, None)) or Party("case", fallback)]
    tier = tier or case.tier
    if tier:
        parties.append(seen.get(("tier", None, None, tier)) or Party("tier", fallback, tier=tier))
    units = state["units"]
    if units is None:
        units = state["units"] = [
            (unit_id, relation)
            for unit_id, relation in session.execute(
                select(CaseUnit.unit_id, CaseUnit.relation).where(
                    CaseUnit.case_id == case.case_id, CaseUnit.relation.in_(ROLES)
                )
            )
        ]
    for unit_id, role in units:
        party = seen.get(("unit", unit_id, role, None))
        if party is not None:
            parties.append(party)
    return parties


def after_sync(session: Session, eng, case: Case, was: Before, units: list[tuple[int, str]] | None) -> None:
    """After the case row follows its workflow: credit new parties, returns and approved extensions.

    `units` are the units now involved as (unit id, "lead" or "co"), or None when they are the ones of the case's
    previous step (which credited them) and its parties are known (`parties_known`)."""
    state = _state(session, case)
    if units is not None:
        state["units"] = units
    today = local_day(eng.now())
    _collect(session, eng, case, state, Party("case", local_day(case.created_at)))
    if case.tier:
        _collect(session, eng, case, state, Party("tier", today, tier=case.tier))
    for unit_id, role in units or ():
        _collect(session, eng, case, state, Party("unit", today, unit_id, role))
    returned = (case.returns_count or 0) - was.returns
    if returned > 0:
        returning = [p for p in current_parties(session, case, tier=was.tier) if p.party != "unit"]
        if was.lead_unit_id:
            lead = state["seen"].get(("unit", was.lead_unit_id, "lead", None))
            returning += [lead] if lead else []
        for party in returning:
            credit(session, eng, case, party, "returns", returned)
    extended = (case.extensions_count or 0) - was.extensions
    if extended > 0:
        for party in current_parties(session, case):
            if party.role != "co":
                credit(session, eng, case, party, "extensions", extended)


def round_ended(session: Session, eng, case: Case, reopened: bool) -> None:
    """At the end of a round: its revisit (if the enterprise answered) and, when the case closes, the closure."""
    now = eng.now()
    parties = current_parties(session, case)
    if case.satisfaction:
        for party in parties:
            credit(session, eng, case, party, "revisits")
            credit(session, eng, case, party, "satisfied", int(case.satisfaction in SATISFIED))
            credit(session, eng, case, party, "reopened", int(reopened))
    if reopened:
        return
    close_day = local_day(now)
    on_time = case.deadline_at is None or (case.handled_at or now) <= case.deadline_at
    for party in parties:
        credit(session, eng, case, party, "closed")
        credit(session, eng, case, party, "resolved", int(case.outcome == "resolved"))
        credit(session, eng, case, party, "on_time", int(on_time))
        credit(session, eng, case, party, "close_days", working_days_between(party.day, close_day))
        credit(session, eng, case, party, "closures", day=close_day)


@event.listens_for(Session, "before_commit")
def _write_daily(session: Session) -> None:
    """Add the transaction's facts to the per-day totals (one upsert, rows in key order so that concurrent
    transactions lock them in the same order)."""
    pending = session.info.pop("figure_daily", None)
    session.info.pop("figure_cases", None)
    if not pending:
        return
    session.flush()
    rows = []
    for (day, dim, key, key2), counts in sorted(pending.items()):
        rows.append(
            {"day": day, "dim": dim, "key": key, "key2": key2} | {m: counts.get(m, 0) for m in MEASURES}
        )
    add_to_daily(session, rows)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("figure_daily", None)
    session.info.pop("figure_cases", None)


def add_to_daily(session: Session, rows: list[dict]) -> None:
    """Add `rows` (day, dim, key, key2 and every measure) to the per-day totals: one upsert run for many rows."""
    if rows:
        session.execute(_daily_upsert(session.get_bind().dialect.name), rows)


@functools.cache
def _daily_upsert(dialect: str):
    """The upsert of one per-day row, built once per dialect: executed for many rows at once it is compiled
    once and then taken from the statement cache (a multi-row VALUES list would compile on every commit)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = FigureDaily.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["day", "dim", "key", "key2"],
        set_={m: table.c[m] + stmt.excluded[m] for m in MEASURES},
    )


def rebuild_daily(session: Session) -> int:
    """Recompute the per-day totals from the facts (repair after a manual data fix). Returns rows written."""
    session.execute(FigureDaily.__table__.delete())
    totals: dict = collections.defaultdict(collections.Counter)
    query = select(FigureFact).order_by(FigureFact.fact_id).execution_options(yield_per=5000)
    for f in session.scalars(query):
        area = str(f.area_id) if f.area_id is not None else None
        for dim, key, key2 in _daily_keys(
            f.party, f.unit_id, f.role, f.tier, f.field, f.category, f.channel, f.batch, area, f.size_class,
            tuple(tag_ids(f.tags)),
        ):  # fmt: skip
            totals[(f.day, dim, key, key2)][f.measure] += f.amount
    rows = [
        {"day": d, "dim": dim, "key": k, "key2": k2} | {m: c.get(m, 0) for m in MEASURES}
        for (d, dim, k, k2), c in sorted(totals.items())
    ]
    add_to_daily(session, rows)
    return len(rows)


# ---------------------------------------------------------------------------------------------------------
# Reading figures


@dataclasses.dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str
    code: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def quarter_period(year: int, quarter: int) -> Period:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = (dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)) - dt.timedelta(days=1)
    return Period(start, end, f"{year}年第{quarter}季度", f"{year}-Q{quarter}")


def quarter_of(day: dt.date) -> Period:
    """The quarter `day` falls in."""
    return quarter_period(day.year, (day.month - 1) // 3 + 1)


def previous_quarter(period: Period) -> Period:
    """The quarter before `period`'s (a quarter's own start day minus one)."""
    return quarter_of(period.start - dt.timedelta(days=1))


def parse_period(
    code: str | None = None, date_from=None, date_to=None, today: dt.date | None = None
) -> Period:
    """A period from its code ("2026", "2026-Q3", "2026-07") or a from/to range of days.

    :raises ValidationFailed: what to fix, in words.
    """
    if date_from or date_to:
        try:
            start = dt.date.fromisoformat(str(date_from)) if date_from else None
            end = dt.date.fromisoformat(str(date_to)) if date_to else None
        except ValueError:
            raise ValidationFailed(
                _("日期格式应为 YYYY-MM-DD"), {"date_from": _("日期格式应为 YYYY-MM-DD")}
            ) from None
        end = end or today or start
        start = start or dt.date(end.year, 1, 1)
        if start > end:
            raise ValidationFailed(
                _("开始日期不能晚于结束日期"), {"date_from": _("开始日期不能晚于结束日期")}
            )
        if (end - start).days > 366 * 10:
            raise ValidationFailed(_("统计区间最长十年"), {"date_from": _("统计区间最长十年")})
        return Period(start, end, f"{start.isoformat()} 至 {end.isoformat()}", f"{start}~{end}")
    if code and "~" in str(code):
        start, _sep, end = str(code).partition("~")
        return parse_period(date_from=start.strip() or None, date_to=end.strip() or None, today=today)
    code = (code or "").strip().upper().replace("Q", "-Q").replace("--", "-")
    if not code:
        today = today or dt.date.today()
        return quarter_of(today)
    try:
        if m := re.fullmatch(r"([0-9]{4})", code):
            year = int(m[1])
            return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年", str(year))
        if m := re.fullmatch(r"([0-9]{4})-Q([1-4])", code):
            return quarter_period(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"([0-9]{4})-([0-9]{1,2})", code):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12:
                start = dt.date(year, month, 1)
                end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
                return Period(start, end, f"{year}年{month}月", f"{year}-{month:02d}")
    except ValueError:
        pass  # year 0, or a period running past the year 9999: no such period on the calendar
    raise ValidationFailed(
        _("统计期间应写作 2026、2026-Q3 或 2026-07，或填写起止日期"),
        {"period": _("应写作 2026、2026-Q3 或 2026-07")},
    )


def rates(counts: dict) -> dict:
    """The figures of one row: its counts and the rates derived from them (None when nothing to divide by)."""

    def ratio(numerator, denominator, digits=1):
        return round(100.0 * counts[numerator] / counts[denominator], digits) if counts[denominator] else None

    row = {m: int(counts.get(m) or 0) for m in MEASURES}
    counts = row
    return row | {
        "closure_rate": ratio("closed", "collected"),
        "resolution_rate": ratio("resolved", "collected"),
        "on_time_rate": ratio("on_time", "closed"),
        "satisfaction_rate": ratio("satisfied", "revisits"),
        "reopen_rate": ratio("reopened", "revisits"),
        "avg_days": round(counts["close_days"] / counts["closed"], 1) if counts["closed"] else None,
    }


FILTERS = ("field", "category", "channel", "batch", "tier", "unit", "area", "size", "pool", "tag")
# Filters and groupings over the enterprise's classes; "pool" and "tag" are both enterprise_tag ids (dim "tag").
CLASS_DIMS = {"area": "area", "size": "size", "pool": "tag", "tag": "tag"}


def _clean_filters(filters: dict | None) -> dict:
    f = {k: str(v).strip() for k, v in (filters or {}).items() if k in FILTERS and v not in (None, "")}
    allowed = {
        "field": FIELDS,
        "category": CATEGORIES,
        "channel": CHANNELS,
        "tier": list(TIERS),
        "size": SIZE_CLASSES,
    }
    for key, values in allowed.items():
        if key in f and f[key] not in values:
            raise ValidationFailed(
                _("筛选条件有误"), {key: _("应为 %(values)s 之一", values="、".join(values))}
            )
    if "unit" in f:
        f["unit"] = parse_id(f["unit"])
        if f["unit"] is None:
            raise ValidationFailed(_("筛选条件有误"), {"unit": _("应为单位编号")})
    for key in ("area", "pool", "tag"):
        if key in f and not (f[key].isdigit() and len(f[key]) <= 9):
            raise ValidationFailed(_("筛选条件有误"), {key: _("应为编号")})
    if "pool" in f and "tag" in f and f["pool"] == f["tag"]:
        del f["tag"]  # the same enterprise_tag twice: one filter
    return f


def resolve_classes(session: Session, filters: dict | None) -> dict:
    """`filters` with an area, pool or tag given by code or name replaced by its id (what facts record).

    :raises ValidationFailed: no such area, pool or tag.
    """
    f = dict(filters or {})
    for key, model, id_column in (
        ("area", Area, Area.area_id),
        ("pool", EnterpriseTag, EnterpriseTag.tag_id),
        ("tag", EnterpriseTag, EnterpriseTag.tag_id),
    ):
        value = str(f.get(key) or "").strip()
        if not value or (value.isdigit() and len(value) <= 9):
            continue
        found = session.scalar(select(id_column).where((model.code == value) | (model.name == value)))
        if found is None:
            messages = {"area": _("没有这个乡镇街道"), "pool": _("没有这个企业库"), "tag": _("没有这个标签")}
            raise ValidationFailed(_("筛选条件有误"), {key: messages[key]})
        f[key] = str(found)
    return f


def _party_for(group: str | None, f: dict) -> str:
    if group == "unit" or "unit" in f:
        return "unit"
    if group == "tier" or "tier" in f:
        return "tier"
    return "case"


def figures(
    session: Session,
    period: Period,
    group: str | None = None,
    filters: dict | None = None,
    role: str = "lead",
) -> dict:
    """Figures for a period, overall or one row per value of `group`, with optional filters.

    Returns {"total": row, "rows": [row + key], "period", "filters", "role"}.
    """
    if group is not None and group not in GROUPS:
        raise ValidationFailed(
            _("分组方式有误"), {"group": _("应为 %(values)s 之一", values="、".join(GROUPS))}
        )
    if role not in ROLES:
        raise ValidationFailed(_("单位角色有误"), {"role": _("应为 lead（牵头）或 co（协办）")})
    f = _clean_filters(filters)
    rows = []
    if group is not None:
        by_key = _of_kind(session, group, _sums(session, period, group, f, role))
        rows = [{"key": key} | rates(counts) for key, counts in sorted(by_key.items(), key=_row_order)]
    # Overall, a case counts once even when several units or tiers were credited with it.
    overall = _sums(session, period, None, f, role)
    return {
        "total": rates(overall.get("", collections.Counter())),
        "rows": rows,
        "period": period,
        "filters": f,
        "role": role,
    }


def _sums(session: Session, period: Period, group, f: dict, role: str) -> dict:
    """Sums per value of `group` (or one "" row). With no filter or one filter the per-day totals answer (an
    index range of at most a few thousand rows for a year); with two or more the facts themselves are summed."""
    lookup = _daily_lookup(group, f, role)
    if lookup is None:
        return _from_facts(session, period, group, f, role, _party_for(group, f))
    dim, key, by = lookup
    return _from_daily(session, period, dim, key, by)


def _row_order(item) -> tuple:
    """Rows by key, numeric keys (units, areas, tags: their ids) in number order."""
    key = item[0]
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _of_kind(session: Session, group: str | None, by_key: dict) -> dict:
    """A grouping by pool keeps the pools' rows, by tag the tags' (both are enterprise_tag ids, one dimension)."""
    if group not in ("pool", "tag") or not by_key:
        return by_key
    kinds = dict(session.execute(select(EnterpriseTag.tag_id, EnterpriseTag.kind)).all())
    return {key: counts for key, counts in by_key.items() if kinds.get(int(key)) == group}


def _dim_name(name: str, role: str) -> str:
    return role if name == "unit" else CLASS_DIMS.get(name, name)


def _daily_lookup(group: str | None, f: dict, role: str):
    """(dim, key or None, column to group by) in figure_daily for this question, or None (ask the facts)."""
    if len(f) > 1:
        return None
    if not f:
        return ("all", None, None) if group is None else (_dim_name(group, role), None, "key")
    ((name, value),) = f.items()
    if group is None or group == name:
        return _dim_name(name, role), str(value), ("key" if group else None)
    if _dim_name(name, role) == _dim_name(
        group, role
    ):  # a pool and a tag: tags are not paired with each other
        return None
    return f"{_dim_name(name, role)}*{_dim_name(group, role)}", str(value), "key2"


def _from_daily(session: Session, period: Period, dim: str, key: str | None, by: str | None) -> dict:
    table = FigureDaily
    conditions = [table.dim == dim, table.day >= period.start, table.day <= period.end]
    if key is not None:
        conditions.insert(1, table.key == key)
    elif by is None:  # "all": one key
        conditions.insert(1, table.key == "")
    sums = [func.sum(getattr(table, m)) for m in MEASURES]
    if by is None:
        query = select(*sums).where(*conditions)
        rows = [("", *session.execute(query).one())]
    else:
        column = getattr(table, by)
        rows = session.execute(select(column, *sums).where(*conditions).group_by(column)).all()
    return {
        label: collections.Counter(dict(zip(MEASURES, (int(v or 0) for v in values), strict=True)))
        for label, *values in rows
        if any(values)
    }


def _fact_query(period: Period, f: dict, role: str, party: str):
    query = select().where(
        FigureFact.party == party, FigureFact.day >= period.start, FigureFact.day <= period.end
    )
    for key in ("field", "category", "channel", "batch", "tier"):
        if key in f:
            query = query.where(getattr(FigureFact, key) == f[key])
    if "area" in f:
        query = query.where(FigureFact.area_id == int(f["area"]))
    if "size" in f:
        query = query.where(FigureFact.size_class == f["size"])
    for key in ("pool", "tag"):
        if key in f:
            query = query.where(FigureFact.tags.like(f"%,{int(f[key])},%"))
    if party == "unit":
        query = query.where(FigureFact.role == role)
        if "unit" in f:
            query = query.where(FigureFact.unit_id == f["unit"])
    return query


FACT_COLUMNS = {"unit": "unit_id", "area": "area_id", "size": "size_class", "pool": "tags", "tag": "tags"}


def _from_facts(session: Session, period: Period, group: str | None, f: dict, role: str, party: str) -> dict:
    column = None if group is None else getattr(FigureFact, FACT_COLUMNS.get(group, group))
    query = _fact_query(period, f, role, party)
    columns = [FigureFact.measure, func.sum(FigureFact.amount)]
    if column is not None:
        columns.insert(0, column)
    query = query.add_columns(*columns).group_by(
        *([column] if column is not None else []), FigureFact.measure
    )
    result: dict = collections.defaultdict(collections.Counter)
    for row in session.execute(query):
        if column is not None and row[0] is None:  # no batch (or no tier yet): not a group of its own
            continue
        keys = [str(row[0]) if column is not None else ""]
        if group in ("pool", "tag"):  # filtered by the same one: that row only, as for any other dimension
            keys = [f[group]] if group in f else tag_ids(row[0])
        for key in keys:  # a fact counts once under each of its tags
            result[key][row[-2]] += int(row[-1] or 0)
    return dict(result)


def trend(session: Session, period: Period, filters: dict | None = None, role: str = "lead") -> list[dict]:
    """Collected (by day of collection) and closures (by day of closure) per month, or per day for a month."""
    f = _clean_filters(filters)
    by_day: dict = collections.defaultdict(collections.Counter)
    lookup = _daily_lookup(None, f, role)
    if lookup is not None:
        dim, key, _by = lookup
        conditions = [FigureDaily.dim == dim, FigureDaily.day >= period.start, FigureDaily.day <= period.end]
        conditions.append(FigureDaily.key == (key if key is not None else ""))
        rows = session.execute(
            select(FigureDaily.day, FigureDaily.collected, FigureDaily.closures).where(*conditions)
        )
        for day, collected, closures in rows:
            by_day[day]["collected"] += collected
            by_day[day]["closures"] += closures
    else:
        party = _party_for(None, f)
        query = _fact_query(period, f, role, party).where(FigureFact.measure.in_(("collected", "closures")))
        query = query.add_columns(FigureFact.day, FigureFact.measure, func.sum(FigureFact.amount)).group_by(
            FigureFact.day, FigureFact.measure
        )
        for day, measure, amount in session.execute(query):
            by_day[day][measure] += int(amount or 0)
    daily = period.days <= 62
    buckets: dict = {}
    for offset in range(period.days):  # never a day past the end (which may be the calendar's last)
        day = period.start + dt.timedelta(days=offset)
        key = day.isoformat() if daily else day.strftime("%Y-%m")
        buckets.setdefault(key, collections.Counter())
    for day, counts in by_day.items():
        buckets[day.isoformat() if daily else day.strftime("%Y-%m")].update(counts)
    return [
        {"bucket": key, "collected": c["collected"], "closures": c["closures"]} for key, c in buckets.items()
    ]


OPEN_STATUSES = tuple(status for status in CASE_STATUSES if status != "closed")


LATE_FLAGS = ("yellow", "red", "black")  # every flag but green, as the live figures count them


def live(session: Session, now: dt.datetime, unit_id: int | None = None) -> dict:
    """What is open right now: open cases by flag, and cases whose handler's task is past due (per unit).

    Programme-wide the flags are index-only counts of the open cases (one count per flag: a GROUP BY would let
    SQLite walk the whole flag index instead); for one unit they come from its tasks in the projection.
    Overdue reads the range of handler tasks past their due time (distinct cases first, then per unit).
    """
    flags = {}
    if unit_id is None:
        is_open = Case.status.in_(OPEN_STATUSES)
        total = session.scalar(select(func.count()).select_from(Case).where(is_open)) or 0
        for flag in LATE_FLAGS:
            flags[flag] = session.scalar(
                select(func.count()).select_from(Case).where(is_open, Case.flag == flag)
            )
        flags["green"] = total - sum(flags[flag] for flag in LATE_FLAGS)
    else:
        counted = collections.Counter()
        for flag, count in session.execute(
            select(HumanTask.flag, func.count(func.distinct(HumanTask.case_id)))
            .where(HumanTask.unit_id == unit_id)
            .group_by(HumanTask.flag)
        ):
            counted[flag if flag in LATE_FLAGS else "green"] += count
        flags = {name: counted.get(name, 0) for name in ("green", *LATE_FLAGS)}
    late = [HumanTask.role == "handler", HumanTask.due_at < now]
    if unit_id is not None:
        late.append(HumanTask.unit_id == unit_id)
    pairs = select(HumanTask.unit_id, HumanTask.case_id).where(*late).distinct().subquery()
    by_unit = {
        unit: count
        for unit, count in session.execute(select(pairs.c.unit_id, func.count()).group_by(pairs.c.unit_id))
        if unit is not None
    }
    return {
        "flags": {name: flags.get(name, 0) for name in ("green", *LATE_FLAGS)},
        "overdue": sum(by_unit.values()),
        "overdue_by_unit": by_unit,
    }


def drill_cases(period: Period, measure: str, filters: dict | None = None, role: str = "lead"):
    """The case ids behind one figure (a subquery for the case list): e.g. a unit's closed cases in a quarter."""
    if measure not in MEASURES:
        raise ValidationFailed(
            _("统计项有误"), {"figure": _("应为 %(values)s 之一", values="、".join(MEASURES))}
        )
    f = _clean_filters(filters)
    party = _party_for(None, f)
    query = _fact_query(period, f, role, party).where(FigureFact.measure == measure, FigureFact.amount > 0)
    return query.add_columns(FigureFact.case_id)


def unit_labels(session: Session) -> dict[str, str]:
    return {str(u): n for u, n in session.execute(select(Unit.unit_id, Unit.name))}


def group_labels(session: Session, group: str | None) -> dict[str, str]:
    """Names of a grouping's keys that are ids: units, areas, pools and tags (as they are called now)."""
    if group == "unit":
        return unit_labels(session)
    if group == "area":
        return {str(a): n for a, n in session.execute(select(Area.area_id, Area.name))}
    if group in ("pool", "tag"):
        return {str(t): n for t, n in session.execute(select(EnterpriseTag.tag_id, EnterpriseTag.name))}
    return {}


def dashboard(
    session: Session, period: Period, now: dt.datetime, filters: dict | None = None, role: str = "lead"
) -> dict:
    """Everything the dashboard draws for a period: totals, the trend, rows per unit, category, field, channel
    and tier, and what is open and overdue right now."""
    f = _clean_filters(filters)
    groups = {}
    for group in ("unit", "category", "field", "channel", "tier"):
        by_key = _sums(session, period, group, f, role)
        groups[group] = [
            {"key": key} | rates(counts) for key, counts in sorted(by_key.items(), key=_row_order)
        ]
    overall = _sums(session, period, None, f, role)
    return {
        "total": rates(overall.get("", collections.Counter())),
        "trend": trend(session, period, f, role),
        "groups": groups,
        "live": live(session, now, f.get("unit")),
        "period": period,
        "filters": f,
        "role": role,
    }


# ---------------------------------------------------------------------------------------------------------
# Service calls for the pages and the API (permission + one read transaction)

VIEWERS = ("manager", "supervisor", "leader", "dispatcher", "admin", "handler")


def require_viewer(actor) -> None:
    """:raises PermissionDenied: the actor may not see figures at all (see `_scope`)."""
    _scope(actor, None)


def _scope(actor, filters: dict | None) -> dict:
    """Who sees which figures: the programme office and leaders all of them, a unit's handler its own unit's."""
    if not actor.has_role(*VIEWERS):
        raise PermissionDenied(_("您没有权限查看统计数据"))
    f = dict(filters or {})
    if not actor.sees_all_cases:
        if actor.unit_id is None:
            raise PermissionDenied(_("您没有所属单位，无法查看统计数据"))
        f["unit"] = actor.unit_id
    return f


def _today(eng) -> dt.date:
    return local_day(eng.now())


def view(eng, actor, period_code=None, date_from=None, date_to=None, group=None, filters=None, role="lead"):
    """The figures page: one period, overall and per `group`, with unit names for unit rows."""
    f = _scope(actor, filters)
    period = parse_period(period_code, date_from, date_to, today=_today(eng))
    with eng.db.read() as session:
        result = figures(session, period, group, resolve_classes(session, f), role or "lead")
        names = group_labels(session, group)
    for row in result["rows"]:
        row["label"] = names.get(row["key"], row["key"])
    return result


def dashboard_view(eng, actor, period_code=None, date_from=None, date_to=None, filters=None, role="lead"):
    f = _scope(actor, filters)
    period = parse_period(period_code, date_from, date_to, today=_today(eng))
    with eng.db.read() as session:
        result = dashboard(session, period, eng.now(), resolve_classes(session, f), role or "lead")
        names = unit_labels(session)
    for row in result["groups"]["unit"]:
        row["label"] = names.get(row["key"], row["key"])
    result["live"]["overdue_by_unit"] = [
        {"key": str(unit_id), "label": names.get(str(unit_id), str(unit_id)), "count": count}
        for unit_id, count in sorted(result["live"]["overdue_by_unit"].items(), key=lambda item: -item[1])
    ]
    return result


PLACEMENT_BOARDS = ("red", "yellow", "black")
INTERVIEW_LEVELS = ("office", "leader", "principal")


def placements(session: Session, period: Period) -> dict:
    """Board placements (家次) and interviews per unit over a period: the published quarterly boards of the
    quarters that end within it (a unit on the black board in two of them counts 2 家次) and the interviews
    recorded for those quarters, by level. Read from the frozen snapshots, so later edits never change them."""
    boards = session.scalars(
        select(EvaluationBoard).where(EvaluationBoard.snapshot.is_not(None)).order_by(EvaluationBoard.quarter)
    ).all()
    quarters = [b for b in boards if period.start <= dt.date.fromisoformat(b.snapshot["end"]) <= period.end]
    names = unit_labels(session)
    rows: dict[int, dict] = {}

    def row(unit_id: int, name: str) -> dict:
        if unit_id not in rows:
            rows[unit_id] = {"unit_id": unit_id, "unit": names.get(str(unit_id), name)}
            rows[unit_id] |= {code: 0 for code in (*PLACEMENT_BOARDS, "interviews", *INTERVIEW_LEVELS)}
        return rows[unit_id]

    for board in quarters:
        for unit in board.snapshot.get("units") or []:
            if unit.get("board") in PLACEMENT_BOARDS and unit.get("unit_id") is not None:
                row(int(unit["unit_id"]), unit.get("unit", ""))[unit["board"]] += 1
    interviews = session.scalars(
        select(EvaluationEvent).where(
            EvaluationEvent.kind == "interview",
            EvaluationEvent.quarter.in_([b.quarter for b in quarters]),
            EvaluationEvent.unit_id.is_not(None),
        )
    )
    for interview in interviews:
        counted = row(interview.unit_id, "")
        counted["interviews"] += 1
        level = (interview.data or {}).get("level")
        if level in INTERVIEW_LEVELS:
            counted[level] += 1
    ordered = sorted(rows.values(), key=lambda r: (-r["black"], -r["interviews"], -r["red"], r["unit"]))
    total = {
        key: sum(r[key] for r in ordered) for key in (*PLACEMENT_BOARDS, "interviews", *INTERVIEW_LEVELS)
    }
    return {
        "period": period.code,
        "label": period.label,
        "quarters": [b.quarter for b in quarters],
        "rows": ordered,
        "total": total,
    }


def placements_view(eng, actor, period_code=None, date_from=None, date_to=None) -> dict:
    """Board placements (家次) and interviews per unit for a period; published boards are open to all staff who
    see figures.

    :raises PermissionDenied: the actor may not see figures. :raises ValidationFailed: the period.
    """
    require_viewer(actor)
    period = parse_period(period_code, date_from, date_to, today=_today(eng))
    with eng.db.read() as session:
        return placements(session, period)
