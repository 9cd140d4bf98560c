"""Figures (统计数据): what the programme is judged by, from facts recorded as the cases move.

Every figure counts facts (engine.models.FigureFact) written in the same transaction as the step that caused
them, with the case's unit, tier, field, category, channel and batch *at that moment*. Nothing is recomputed
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
import re

from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from engine.calendar import is_working_day
from engine.clock import LOCAL_TZ
from engine.domain import CATEGORIES
from engine.domain import CHANNELS
from engine.domain import FIELDS
from engine.domain import TIERS
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.models import Case
from engine.models import CaseUnit
from engine.models import FigureDaily
from engine.models import FigureFact
from engine.models import HumanTask
from engine.models import Unit

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
GROUPS = ("unit", "field", "category", "channel", "tier", "batch")
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

    def dims(self, case: Case) -> list[tuple[str, str]]:
        if self.party == "unit":
            return [(self.role, str(self.unit_id))]
        if self.party == "tier":
            return [("tier", self.tier)]
        dims = [("all", ""), ("field", case.field), ("category", case.category), ("channel", case.channel)]
        return dims + ([("batch", case.batch)] if case.batch else [])


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
        seen = {}
        rows = session.execute(
            select(
                FigureFact.party, FigureFact.unit_id, FigureFact.role, FigureFact.tier, FigureFact.day
            ).where(FigureFact.case_id == case.case_id, FigureFact.measure == "collected")
        )
        for party, unit_id, role, tier, day in rows:
            seen[_party_key(party, unit_id, role, tier)] = Party(party, day, unit_id, role, tier)
        state = cases[case.case_id] = {"seen": seen, "units": None}
    return state


def _party_key(party, unit_id, role, tier):
    return (party, unit_id, role, tier if party == "tier" else None)


def credit(session: Session, eng, case: Case, party: Party, measure: str, amount: int = 1, day=None) -> None:
    """Record one fact and add it to the per-day totals written at commit."""
    if not amount:
        return
    day = day or party.day
    session.add(
        FigureFact(
            case_id=case.case_id,
            measure=measure,
            party=party.party,
            day=day,
            amount=amount,
            unit_id=party.unit_id,
            role=party.role,
            tier=party.tier if party.party == "tier" else case.tier,
            field=case.field,
            category=case.category,
            channel=case.channel,
            batch=case.batch,
            at=eng.now(),
        )
    )
    pending = session.info.setdefault("figure_daily", collections.defaultdict(collections.Counter))
    for dim, key in party.dims(case):
        pending[(day, dim, key)][measure] += amount


def _collect(session, eng, case: Case, state: dict, party: Party) -> None:
    key = _party_key(party.party, party.unit_id, party.role, party.tier)
    if key not in state["seen"]:
        state["seen"][key] = party
        credit(session, eng, case, party, "collected")


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


def after_sync(session: Session, eng, case: Case, was: Before, units: list[tuple[int, str]]) -> None:
    """After the case row follows its workflow: credit new parties, returns and approved extensions."""
    state = _state(session, case)
    state["units"] = units
    today = local_day(eng.now())
    _collect(session, eng, case, state, Party("case", local_day(case.created_at)))
    if case.tier:
        _collect(session, eng, case, state, Party("tier", today, tier=case.tier))
    for unit_id, role in units:
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
    for (day, dim, key), counts in sorted(pending.items()):
        rows.append({"day": day, "dim": dim, "key": key} | {m: counts.get(m, 0) for m in MEASURES})
    add_to_daily(session, rows)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("figure_daily", None)
    session.info.pop("figure_cases", None)


def add_to_daily(session: Session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = FigureDaily.__table__
    for start in range(0, len(rows), 500):
        stmt = insert(table).values(rows[start : start + 500])
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "dim", "key"],
            set_={m: table.c[m] + stmt.excluded[m] for m in MEASURES},
        )
        session.execute(stmt)


def rebuild_daily(session: Session) -> int:
    """Recompute the per-day totals from the facts (repair after a manual data fix). Returns rows written."""
    session.execute(FigureDaily.__table__.delete())
    totals: dict = collections.defaultdict(collections.Counter)
    cases = {}
    query = select(FigureFact).order_by(FigureFact.fact_id).execution_options(yield_per=5000)
    for fact in session.scalars(query):
        case = cases.get(fact.case_id)
        if case is None:
            case = cases[fact.case_id] = session.get(Case, fact.case_id)
        party = Party(fact.party, fact.day, fact.unit_id, fact.role, fact.tier)
        for dim, key in party.dims(case):
            totals[(fact.day, dim, key)][fact.measure] += fact.amount
    rows = [
        {"day": d, "dim": dim, "key": k} | {m: c.get(m, 0) for m in MEASURES}
        for (d, dim, k), c in sorted(totals.items())
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
                "日期格式应为 YYYY-MM-DD", {"date_from": "日期格式应为 YYYY-MM-DD"}
            ) from None
        end = end or today or start
        start = start or dt.date(end.year, 1, 1)
        if start > end:
            raise ValidationFailed("开始日期不能晚于结束日期", {"date_from": "开始日期不能晚于结束日期"})
        if (end - start).days > 366 * 10:
            raise ValidationFailed("统计区间最长十年", {"date_from": "统计区间最长十年"})
        return Period(start, end, f"{start.isoformat()} 至 {end.isoformat()}", f"{start}~{end}")
    if code and "~" in str(code):
        start, _sep, end = str(code).partition("~")
        return parse_period(date_from=start.strip() or None, date_to=end.strip() or None, today=today)
    code = (code or "").strip().upper().replace("Q", "-Q").replace("--", "-")
    if not code:
        today = today or dt.date.today()
        return quarter_period(today.year, (today.month - 1) // 3 + 1)
    if m := re.fullmatch(r"(\d{4})", code):
        year = int(m[1])
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年", str(year))
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", code):
        return quarter_period(int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", code):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            start = dt.date(year, month, 1)
            end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
            return Period(start, end, f"{year}年{month}月", f"{year}-{month:02d}")
    raise ValidationFailed(
        "统计期间应写作 2026、2026-Q3 或 2026-07，或填写起止日期",
        {"period": "应写作 2026、2026-Q3 或 2026-07"},
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


FILTERS = ("field", "category", "channel", "batch", "tier", "unit")


def _clean_filters(filters: dict | None) -> dict:
    f = {k: str(v).strip() for k, v in (filters or {}).items() if k in FILTERS and v not in (None, "")}
    allowed = {"field": FIELDS, "category": CATEGORIES, "channel": CHANNELS, "tier": list(TIERS)}
    for key, values in allowed.items():
        if key in f and f[key] not in values:
            raise ValidationFailed("筛选条件有误", {key: f"应为 {'、'.join(values)} 之一"})
    if "unit" in f:
        try:
            f["unit"] = int(f["unit"])
        except ValueError:
            raise ValidationFailed("筛选条件有误", {"unit": "应为单位编号"}) from None
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

    Without filters the per-day totals answer; with filters the facts themselves are summed.
    Returns {"total": row, "rows": [row + key], "party": ...}.
    """
    if group is not None and group not in GROUPS:
        raise ValidationFailed("分组方式有误", {"group": f"应为 {'、'.join(GROUPS)} 之一"})
    if role not in ROLES:
        raise ValidationFailed("单位角色有误", {"role": "应为 lead（牵头）或 co（协办）"})
    f = _clean_filters(filters)
    party = _party_for(group, f)
    rows = []
    if group is not None:
        by_key = _sums(session, period, group, f, role, party)
        rows = [{"key": key} | rates(counts) for key, counts in sorted(by_key.items())]
    # Overall, a case counts once even when several units or tiers were credited with it.
    overall = _sums(session, period, None, f, role, _party_for(None, f))
    return {
        "total": rates(overall.get("", collections.Counter())),
        "rows": rows,
        "party": party,
        "period": period,
        "filters": f,
        "role": role,
    }


def _sums(session: Session, period: Period, group, f: dict, role: str, party: str) -> dict:
    """Without filters the per-day totals answer; with filters the facts themselves are summed."""
    if not f:
        return _from_daily(session, period, group, role)
    return _from_facts(session, period, group, f, role, party)


def _daily_dim(group: str | None, role: str) -> str:
    if group is None:
        return "all"
    return role if group == "unit" else group


def _from_daily(session: Session, period: Period, group: str | None, role: str) -> dict:
    table = FigureDaily
    query = (
        select(table.key, *[func.sum(getattr(table, m)) for m in MEASURES])
        .where(table.dim == _daily_dim(group, role), table.day >= period.start, table.day <= period.end)
        .group_by(table.key)
    )
    return {
        key: collections.Counter(dict(zip(MEASURES, (int(s or 0) for s in sums), strict=True)))
        for key, *sums in session.execute(query)
    }


def _fact_query(period: Period, f: dict, role: str, party: str):
    query = select().where(
        FigureFact.party == party, FigureFact.day >= period.start, FigureFact.day <= period.end
    )
    for key in ("field", "category", "channel", "batch", "tier"):
        if key in f:
            query = query.where(getattr(FigureFact, key) == f[key])
    if party == "unit":
        query = query.where(FigureFact.role == role)
        if "unit" in f:
            query = query.where(FigureFact.unit_id == f["unit"])
    return query


def _from_facts(session: Session, period: Period, group: str | None, f: dict, role: str, party: str) -> dict:
    column = None if group is None else FigureFact.unit_id if group == "unit" else getattr(FigureFact, group)
    query = _fact_query(period, f, role, party)
    columns = [FigureFact.measure, func.sum(FigureFact.amount)]
    if column is not None:
        columns.insert(0, column)
    query = query.add_columns(*columns).group_by(
        *([column] if column is not None else []), FigureFact.measure
    )
    result: dict = collections.defaultdict(collections.Counter)
    for row in session.execute(query):
        key = str(row[0]) if column is not None else ""
        result[key if column is not None else ""][row[-2]] += int(row[-1] or 0)
    return dict(result)


def trend(session: Session, period: Period, filters: dict | None = None, role: str = "lead") -> list[dict]:
    """Collected (by day of collection) and closures (by day of closure) per month, or per day for a month."""
    f = _clean_filters(filters)
    by_day: dict = collections.defaultdict(collections.Counter)
    if not f:
        rows = session.execute(
            select(FigureDaily.day, FigureDaily.collected, FigureDaily.closures).where(
                FigureDaily.dim == "all", FigureDaily.day >= period.start, FigureDaily.day <= period.end
            )
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
    day = period.start
    while day <= period.end:
        key = day.isoformat() if daily else day.strftime("%Y-%m")
        buckets.setdefault(key, collections.Counter())
        day += dt.timedelta(days=1)
    for day, counts in by_day.items():
        buckets[day.isoformat() if daily else day.strftime("%Y-%m")].update(counts)
    return [
        {"bucket": key, "collected": c["collected"], "closures": c["closures"]} for key, c in buckets.items()
    ]


def live(session: Session, now: dt.datetime, unit_id: int | None = None) -> dict:
    """What is open right now, from the task projection: flags of open cases and overdue handler tasks."""
    cases = func.count(func.distinct(HumanTask.case_id))
    mine = [HumanTask.unit_id == unit_id] if unit_id is not None else []
    flags = collections.Counter()
    for flag, count in session.execute(select(HumanTask.flag, cases).where(*mine).group_by(HumanTask.flag)):
        flags[flag or "green"] += count
    overdue = [HumanTask.role == "handler", HumanTask.due_at < now, HumanTask.unit_id.is_not(None), *mine]
    by_unit = dict(
        session.execute(select(HumanTask.unit_id, cases).where(*overdue).group_by(HumanTask.unit_id)).all()
    )
    return {
        "flags": {name: flags.get(name, 0) for name in ("green", "yellow", "red")},
        "overdue": session.scalar(select(cases).where(*overdue)) or 0,
        "overdue_by_unit": by_unit,
    }


def drill_cases(period: Period, measure: str, filters: dict | None = None, role: str = "lead"):
    """The case ids behind one figure (a subquery for the case list): e.g. a unit's closed cases in a quarter."""
    if measure not in MEASURES:
        raise ValidationFailed("统计项有误", {"figure": f"应为 {'、'.join(MEASURES)} 之一"})
    f = _clean_filters(filters)
    party = _party_for(None, f)
    query = _fact_query(period, f, role, party).where(FigureFact.measure == measure, FigureFact.amount > 0)
    return query.add_columns(FigureFact.case_id)


def unit_labels(session: Session) -> dict[str, str]:
    return {str(u): n for u, n in session.execute(select(Unit.unit_id, Unit.name))}


def dashboard(
    session: Session, period: Period, now: dt.datetime, filters: dict | None = None, role: str = "lead"
) -> dict:
    """Everything the dashboard draws for a period: totals, the trend, rows per unit, category, field, channel
    and tier, and what is open and overdue right now."""
    f = _clean_filters(filters)
    groups = {}
    for group in ("unit", "category", "field", "channel", "tier"):
        by_key = _sums(session, period, group, f, role, _party_for(group, f))
        groups[group] = [{"key": key} | rates(counts) for key, counts in sorted(by_key.items())]
    overall = _sums(session, period, None, f, role, _party_for(None, f))
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


def _scope(actor, filters: dict | None) -> dict:
    """Who sees which figures: the programme office and leaders all of them, a unit's handler its own unit's."""
    if not actor.has_role(*VIEWERS):
        raise PermissionDenied("您没有权限查看统计数据")
    f = dict(filters or {})
    if not actor.sees_all_cases:
        if actor.unit_id is None:
            raise PermissionDenied("您没有所属单位，无法查看统计数据")
        f["unit"] = actor.unit_id
    return f


def _today(eng) -> dt.date:
    return local_day(eng.now())


def view(eng, actor, period_code=None, date_from=None, date_to=None, group=None, filters=None, role="lead"):
    """The figures page: one period, overall and per `group`, with unit names for unit rows."""
    f = _scope(actor, filters)
    period = parse_period(period_code, date_from, date_to, today=_today(eng))
    with eng.db.read() as session:
        result = figures(session, period, group, f, role or "lead")
        names = unit_labels(session)
    for row in result["rows"]:
        row["label"] = names.get(row["key"], row["key"]) if group == "unit" else row["key"]
    return result


def dashboard_view(eng, actor, period_code=None, date_from=None, date_to=None, filters=None, role="lead"):
    f = _scope(actor, filters)
    period = parse_period(period_code, date_from, date_to, today=_today(eng))
    with eng.db.read() as session:
        result = dashboard(session, period, eng.now(), f, role or "lead")
        names = unit_labels(session)
    for row in result["groups"]["unit"]:
        row["label"] = names.get(row["key"], row["key"])
    result["live"]["overdue_by_unit"] = [
        {"key": str(unit_id), "label": names.get(str(unit_id), str(unit_id)), "count": count}
        for unit_id, count in sorted(result["live"]["overdue_by_unit"].items(), key=lambda item: -item[1])
    ]
    return result
