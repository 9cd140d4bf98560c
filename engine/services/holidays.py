"""The official holiday schedule of a year (法定节假日安排) as admins enter it — on the page, from an .xlsx or .csv
file, or through the API — with every change audited and the open deadlines it moves counted again.

The State Council publishes each next year's schedule in the autumn; `chinesecalendar` knows the years up to its
newest release. An entered schedule takes precedence over the library for its year. A year with neither is counted
on weekdays, and the pages say so (`missing_years`, and each deadline's `estimated` flag).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zipfile

from openpyxl import Workbook
from openpyxl import load_workbook
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.domain import calendar
from engine.domain.calendar import LIBRARY_YEARS
from engine.domain.calendar import FixedSchedules
from engine.domain.calendar import OfficialSchedule
from engine.domain.calendar import WorkingCalendar
from engine.domain.clock import LOCAL_TZ
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import deadlines
from engine.services import evaluation
from engine.services.common import Actor
from engine.services.common import require_role
from engine.storage.holidays import load_schedules
from engine.storage.models import CalendarChange
from engine.storage.models import OfficialCalendar
from engine.storage.models import OfficialCalendarDay
from engine.storage.models import User

ADMINS = ("admin",)
MAX_ROWS = 400  # rows of a file or lines of the form; a year's schedule has a few dozen
MAX_BYTES = 1024 * 1024
MAX_RANGE_DAYS = 31  # a holiday block longer than a month is a typo
MAX_NAME = 50
MAX_REFERENCE = 200
YEARS_AHEAD = 10
SOURCES = ("page", "file", "api")
OFF, WORK = "off", "work"
KIND_WORDS = {
    OFF: ("放假", "休", "休息", "假", "休假", "off", "holiday"),
    WORK: ("上班", "班", "补班", "调休上班", "work", "workday"),
}
# File columns: what each heading may be called.
HEADINGS = {
    "date": ("日期", "开始日期", "date", "start"),
    "end": ("结束日期", "至", "end"),
    "kind": ("类型", "kind", "type"),
    "name": ("名称", "节日", "name"),
}
TEMPLATE_HEADINGS = ("日期", "结束日期", "类型", "名称")
SHEET = "节假日安排"


@dataclasses.dataclass(frozen=True)
class DayRow:
    """One row of input as given: a day (or a block from `date` to `end`), off or work, with a name."""

    where: str  # how to point at it in a message: 第 3 行, holidays[2], …
    date: object
    kind: object
    name: object = ""
    end: object = None


# ---------------------------------------------------------------------------------------------------------
# What everyone may read: which years lack official data


def year_sources(eng, years) -> dict[int, str]:
    """Where each year's working days come from: entered / library / estimated (engine.domain.calendar)."""
    working = WorkingCalendar(eng.calendar)
    return {year: working.year_source(year) for year in years}


def missing_years(eng) -> list[int]:
    """This year and next year, when they have no official data yet (deadlines there are counted on weekdays):
    what the admin pages and the dashboard warn about."""
    today = eng.now().astimezone(LOCAL_TZ).date()
    sources = year_sources(eng, (today.year, today.year + 1))
    return [year for year, source in sources.items() if source == calendar.ESTIMATED]


# ---------------------------------------------------------------------------------------------------------
# Admin pages: the years, one year, its history


def overview(eng, actor: Actor) -> dict:
    """The years around today and every entered year: where their working days come from, the entered
    schedule's reference and size, and the latest changes."""
    require_role(actor, *ADMINS)
    today = eng.now().astimezone(LOCAL_TZ).date()
    with eng.db.read() as session:
        rows = session.scalars(select(OfficialCalendar)).all()
        names = _user_names(session, [row.updated_by for row in rows])
        entered = {
            row.year: {
                "reference": row.reference,
                "updated_at": row.updated_at,
                "updated_by": names.get(row.updated_by),
            }
            for row in rows
        }
        counts = _day_counts(session)
        changes = session.scalars(
            select(CalendarChange).order_by(CalendarChange.change_id.desc()).limit(20)
        ).all()
        history = [_change(c) for c in changes]
    first = min([today.year - 1, *entered])
    last = max([today.year + 1, *entered])
    sources = year_sources(eng, range(first, last + 1))
    years = []
    for year in range(last, first - 1, -1):
        row = entered.get(year, {})
        holidays, workdays = counts.get(year, (0, 0))
        years.append(
            {
                "year": year,
                "source": sources[year],
                "reference": row.get("reference"),
                "holidays": holidays,
                "workdays": workdays,
                "updated_at": row.get("updated_at"),
                "updated_by": row.get("updated_by"),
                "current": year == today.year,
                "next": year == today.year + 1,
            }
        )
    return {
        "today": today,
        "years": years,
        "missing": missing_years(eng),
        "history": history,
        "max_rows": MAX_ROWS,
    }


def year_detail(eng, actor: Actor, year) -> dict:
    """One year: where its working days come from, its days off and make-up working days (with their names), the
    entered reference, the form's text for editing, and every change to it. :raises NotFound: not a year we take."""
    require_role(actor, *ADMINS)
    year = _year(eng, year, NotFound)
    with eng.db.read() as session:
        row = session.get(OfficialCalendar, year)
        days = (
            [
                (d.day, d.kind, d.name or "")
                for d in session.scalars(
                    select(OfficialCalendarDay)
                    .where(OfficialCalendarDay.year == year)
                    .order_by(OfficialCalendarDay.day)
                )
            ]
            if row
            else _library_days(year)
        )
        changes = session.scalars(
            select(CalendarChange)
            .where(CalendarChange.year == year)
            .order_by(CalendarChange.change_id.desc())
        ).all()
        entered = {
            "reference": row.reference if row else "",
            "updated_at": row.updated_at if row else None,
            "updated_by": _user_names(session, [row.updated_by]).get(row.updated_by) if row else None,
            "history": [_change(c) for c in changes],
        }
    source = year_sources(eng, [year])[year]
    return {
        "year": year,
        "source": source,
        **entered,
        "holidays": [_day_dict(d, n) for d, k, n in days if k == OFF],
        "workdays": [_day_dict(d, n) for d, k, n in days if k == WORK],
        "holidays_text": _as_text([(d, n) for d, k, n in days if k == OFF]) if row else "",
        "workdays_text": _as_text([(d, n) for d, k, n in days if k == WORK]) if row else "",
        "max_rows": MAX_ROWS,
    }


def _day_dict(day: dt.date, name: str) -> dict:
    """A day for the page and the API: ISO date, the holiday's name, weekday 0 (Monday) to 6 (Sunday)."""
    return {"date": day.isoformat(), "name": name or None, "weekday": day.weekday()}


def _library_days(year: int) -> list[tuple[dt.date, str, str]]:
    return [(day, WORK if working else OFF, name) for day, working, name in calendar.library_days(year)]


def _weekday(day: dt.date) -> str:
    names = (_("星期一"), _("星期二"), _("星期三"), _("星期四"), _("星期五"), _("星期六"), _("星期日"))
    return names[day.weekday()]


def _as_text(days: list[tuple[dt.date, str]]) -> str:
    """Days as the form's lines: consecutive days of one name as a block, `YYYY-MM-DD~YYYY-MM-DD 名称`."""
    lines, block = [], []
    for day, name in sorted(days):
        if block and (day - block[-1][0]).days == 1 and name == block[-1][1]:
            block.append((day, name))
            continue
        if block:
            lines.append(_block_line(block))
        block = [(day, name)]
    if block:
        lines.append(_block_line(block))
    return "\n".join(lines)


def _block_line(block) -> str:
    first, last, name = block[0][0], block[-1][0], block[0][1]
    text = first.isoformat() if first == last else f"{first.isoformat()}~{last.isoformat()}"
    return f"{text} {name}".strip()


def _day_counts(session: Session) -> dict[int, tuple[int, int]]:
    counts: dict[int, list[int]] = {}
    for year, kind in session.execute(select(OfficialCalendarDay.year, OfficialCalendarDay.kind)):
        counts.setdefault(year, [0, 0])[0 if kind == OFF else 1] += 1
    return {year: (off, work) for year, (off, work) in counts.items()}


def _user_names(session: Session, user_ids) -> dict[int, str]:
    ids = [i for i in set(user_ids) if i]
    if not ids:
        return {}
    return dict(session.execute(select(User.user_id, User.display_name).where(User.user_id.in_(ids))).all())


def _change(change: CalendarChange) -> dict:
    return {
        "change_id": change.change_id,
        "year": change.year,
        "at": change.at,
        "actor": change.actor_name,
        "action": change.action,
        "source": change.source,
        "summary": change.summary,
        "before": change.before,
        "after": change.after,
        "recomputed": change.recomputed,
    }


# ---------------------------------------------------------------------------------------------------------
# Entering a year: from the form's lines, a file, or the API's lists


def save_from_text(eng, actor: Actor, year, reference: str, holidays_text: str, workdays_text: str) -> dict:
    """The page's form: one day or block per line (`YYYY-MM-DD` or `YYYY-MM-DD~YYYY-MM-DD 名称`). See `save_schedule`."""
    require_role(actor, *ADMINS)
    rows = _text_rows(holidays_text, OFF, _("放假日期")) + _text_rows(workdays_text, WORK, _("调休上班日期"))
    return save_schedule(eng, actor, year, reference, rows, "page")


def import_file(eng, actor: Actor, year, reference: str, filename: str, data: bytes) -> dict:
    """An .xlsx or .csv file with the columns 日期 / 结束日期 (optional) / 类型 / 名称, one day or block per row.
    See `save_schedule`. :raises ValidationFailed: not such a file, too big, too many rows, or bad rows."""
    require_role(actor, *ADMINS)
    return save_schedule(eng, actor, year, reference, read_file(filename, data), "file")


def save_from_lists(eng, actor: Actor, year, reference, holidays, workdays) -> dict:
    """The API's body: `holidays` and `workdays` as lists of "YYYY-MM-DD" or {"date", "end"?, "name"?}."""
    require_role(actor, *ADMINS)
    problems: dict[str, str] = {}
    rows = []
    for key, kind, items in (("holidays", OFF, holidays), ("workdays", WORK, workdays)):
        if items is None:
            items = []
        if not isinstance(items, list):
            problems[key] = _("应为日期列表")
            continue
        for index, item in enumerate(items):
            where = f"{key}[{index}]"
            if isinstance(item, dict):
                rows.append(DayRow(where, item.get("date"), kind, item.get("name") or "", item.get("end")))
            else:
                rows.append(DayRow(where, item, kind))
    if problems:
        raise ValidationFailed(_("节假日安排有误，没有保存"), problems)
    return save_schedule(eng, actor, year, reference, rows, "api")


def save_schedule(eng, actor: Actor, year, reference, rows: list[DayRow], source: str) -> dict:
    """Make `rows` the official schedule of `year` (replacing what was entered for it), audit the change and
    count the open deadlines it moves again — one transaction, all or nothing.

    Returns {year, changed, action, summary, holidays, workdays, recomputed, moved}. Saving what is already
    there changes nothing. :raises PermissionDenied: not an admin. :raises ValidationFailed: any bad row or field
    (each row's problem under its place, e.g. 第 3 行). :raises Conflict: another admin saved this year meanwhile.
    """
    require_role(actor, *ADMINS)
    schedule, names = _validate(eng, year, reference, rows)
    try:
        with eng.db.transaction() as session:
            return _store(eng, session, actor, schedule, names, source)
    except IntegrityError:
        raise Conflict(_("另一位管理员刚刚修改了 %(year)s 年的节假日安排，请刷新后再试", year=year)) from None
    except Conflict:
        raise _busy() from None
    finally:
        eng.calendar.invalidate()


def _busy() -> Conflict:
    """A case moved while its deadline was being counted again: the whole change waits for a retry."""
    return Conflict(_("保存时有诉求正在办理，节假日安排没有保存，请稍后再试"))


def remove_schedule(eng, actor: Actor, year, source: str = "page") -> dict:
    """Withdraw what was entered for `year`: it follows the library again, or weekdays (then the pages warn).
    Open deadlines are counted again and the change is audited. :raises NotFound: nothing entered for it."""
    require_role(actor, *ADMINS)
    year = _year(eng, year, NotFound)
    try:
        with eng.db.transaction() as session:
            row = session.get(OfficialCalendar, year, with_for_update=True)
            if row is None:
                raise NotFound(_("%(year)s 年没有录入的节假日安排", year=year))
            old = WorkingCalendar(FixedSchedules(load_schedules(session)))
            before = _snapshot(session, year, row.reference)
            session.execute(delete(OfficialCalendarDay).where(OfficialCalendarDay.year == year))
            session.delete(row)
            session.flush()
            new = WorkingCalendar(FixedSchedules(load_schedules(session)))
            fallback = "chinesecalendar" if year in LIBRARY_YEARS else "按周一至周五估算"
            summary = f"撤销{year}年节假日安排的录入（{before['reference']}），此后{fallback}"
            return _audit_and_recount(
                eng, session, actor, year, "removed", source, summary, before, None, old, new, None
            )
    except Conflict:
        raise _busy() from None
    finally:
        eng.calendar.invalidate()


def _store(eng, session: Session, actor: Actor, schedule: OfficialSchedule, names, source: str) -> dict:
    year = schedule.year
    row = session.get(OfficialCalendar, year, with_for_update=True)
    before = _snapshot(session, year, row.reference) if row else None
    after = {
        "reference": schedule.reference,
        "holidays": [{"date": d.isoformat(), "name": names.get(d)} for d in sorted(schedule.holidays)],
        "workdays": [{"date": d.isoformat(), "name": names.get(d)} for d in sorted(schedule.workdays)],
    }
    if before == after:
        return {"year": year, "changed": False, "action": None, "summary": _("与已录入的安排相同，未作修改")}
    old = WorkingCalendar(FixedSchedules(load_schedules(session)))
    if row is None:
        row = OfficialCalendar(year=year, change_id=0, updated_at=eng.now())
        session.add(row)
    row.reference, row.updated_at, row.updated_by = schedule.reference, eng.now(), actor.user_id
    session.execute(delete(OfficialCalendarDay).where(OfficialCalendarDay.year == year))
    session.flush()
    for day in sorted(schedule.holidays | schedule.workdays):
        kind = WORK if day in schedule.workdays else OFF
        session.add(OfficialCalendarDay(day=day, year=year, kind=kind, name=names.get(day)))
    session.flush()
    new = WorkingCalendar(FixedSchedules(load_schedules(session)))
    action = "updated" if before else "entered"
    summary = _summary(year, before, after)
    return _audit_and_recount(
        eng, session, actor, year, action, source, summary, before, after, old, new, row
    ) | {"holidays": len(schedule.holidays), "workdays": len(schedule.workdays)}


def _audit_and_recount(
    eng, session, actor, year, action, source, summary, before, after, old, new, row
) -> dict:
    reference = after["reference"] if after else None
    moved = deadlines.recount_cases(eng, session, old, new, year, reference)
    rescheduled = evaluation.reschedule(eng, session, new, year)
    change = CalendarChange(
        year=year,
        at=eng.now(),
        actor_id=actor.user_id,
        actor_name=actor.display_name,
        action=action,
        source=source,
        summary=summary[:500],
        before=before,
        after=after,
        recomputed={
            "cases": len(moved),
            "moved": moved[: deadlines.MOVED_LISTED],
            "evaluations": rescheduled,
        },
    )
    session.add(change)
    session.flush()
    if row is not None:
        row.change_id = change.change_id
    return {
        "year": year,
        "changed": True,
        "action": action,
        "summary": summary,
        "recomputed": len(moved),
        "moved": moved[: deadlines.MOVED_LISTED],
        "evaluations": rescheduled,
        "change_id": change.change_id,
    }


def _snapshot(session: Session, year: int, reference: str) -> dict:
    days = session.scalars(
        select(OfficialCalendarDay).where(OfficialCalendarDay.year == year).order_by(OfficialCalendarDay.day)
    ).all()
    return {
        "reference": reference,
        "holidays": [{"date": d.day.isoformat(), "name": d.name} for d in days if d.kind == OFF],
        "workdays": [{"date": d.day.isoformat(), "name": d.name} for d in days if d.kind == WORK],
    }


def _summary(year: int, before: dict | None, after: dict) -> str:
    """The change in words, as it is kept on the record (Chinese, like the case events)."""
    off, work = len(after["holidays"]), len(after["workdays"])
    if before is None:
        return f"录入{year}年节假日安排（{after['reference']}）：放假 {off} 天，调休上班 {work} 天"
    parts = []
    for key, label in (("holidays", "放假"), ("workdays", "调休上班")):
        old = {d["date"] for d in before[key]}
        new = {d["date"] for d in after[key]}
        if new - old:
            parts.append(f"新增{label} {len(new - old)} 天")
        if old - new:
            parts.append(f"取消{label} {len(old - new)} 天")
    if before["reference"] != after["reference"]:
        parts.append(f"文号由“{before['reference']}”改为“{after['reference']}”")
    if not parts:
        parts.append("修改节日名称")
    return f"修改{year}年节假日安排（{after['reference']}）：" + "，".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Checking the input: every problem named with its row, nothing saved when there is one


def _year(eng, value, error=NotFound) -> int:
    """The year asked for, if it is one we take: from the library's first year to ten years ahead."""
    today = eng.now().astimezone(LOCAL_TZ).date()
    low, high = LIBRARY_YEARS.start, today.year + YEARS_AHEAD
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        year = None
    if year is None or not low <= year <= high:
        message = _("年份应为 %(low)s 到 %(high)s 之间的整数", low=low, high=high)
        raise error(message) if error is NotFound else error(message, {"year": message})
    return year


def _reference_problem(value) -> str | None:
    reference = str(value or "").strip()
    if not reference:
        return _("请填写通知文号，如 国办发明电〔2026〕X号")
    if len(reference) > MAX_REFERENCE:
        return _("文号最多 %(n)s 个字", n=MAX_REFERENCE)
    return None


def _validate(eng, year, reference, rows: list[DayRow]) -> tuple[OfficialSchedule, dict]:
    """The schedule the input describes. :raises ValidationFailed: with every problem at once — the year, the
    reference, and each bad row's problems under its place (第 3 行, holidays[2], …)."""
    errors: dict[str, str] = {}
    try:
        year = _year(eng, year, ValidationFailed)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        year = None
    problem = _reference_problem(reference)
    if problem:
        errors["reference"] = problem
    if len(rows) > MAX_ROWS:
        errors["holidays"] = _("行数过多：最多 %(n)s 行（一年的节假日安排通常只有几十行）", n=MAX_ROWS)
        rows = []
    kinds, names = _check_rows(year, rows, errors)
    holidays = frozenset(d for d, (k, _w) in kinds.items() if k == OFF)
    if not holidays and not errors:
        errors["holidays"] = _("至少要有一个放假日")
    if errors:
        raise ValidationFailed(_("节假日安排有 %(n)s 处问题，没有保存", n=len(errors)), errors)
    workdays = frozenset(d for d, (k, _w) in kinds.items() if k == WORK)
    return OfficialSchedule(year, holidays, workdays, str(reference).strip()), names


def _check_rows(year: int | None, rows: list[DayRow], errors: dict[str, str]):
    """Each row's days, kind and name; every row's problems go into `errors` under its place. Without a valid
    year the dates are checked but not against the year."""
    kinds: dict[dt.date, tuple[str, str]] = {}  # day → (kind, where first given)
    names: dict[dt.date, str] = {}
    for row in rows:
        found: list[str] = []
        kind = _kind(row.kind)
        if kind is None:
            found.append(_("类型“%(kind)s”应为“放假”或“上班”", kind=_text(row.kind)))
        name = _text(row.name)
        if len(name) > MAX_NAME:
            found.append(_("名称最多 %(n)s 个字", n=MAX_NAME))
        for day in _days(row, year, found) if kind else ():
            if kind == WORK and day.weekday() < 5:
                found.append(
                    _(
                        "%(day)s 是%(weekday)s，本来就上班：调休上班日应为周六或周日",
                        day=day.isoformat(),
                        weekday=_weekday(day),
                    )
                )
                continue
            earlier = kinds.get(day)
            if earlier is not None and earlier[0] != kind:
                found.append(
                    _(
                        "%(day)s 既是放假日又是调休上班日（另见 %(other)s）",
                        day=day.isoformat(),
                        other=earlier[1],
                    )
                )
                continue
            kinds.setdefault(day, (kind, row.where))
            if name:
                names.setdefault(day, name)
        if found:
            errors[row.where] = "；".join(found)
    return kinds, names


def _kind(value) -> str | None:
    text = _text(value).lower()
    for kind, words in KIND_WORDS.items():
        if text in words or text == kind:
            return kind
    return None


def _days(row: DayRow, year: int | None, found: list[str]) -> list[dt.date]:
    first = _date(row.date, found)
    last = _date(row.end, found) if _text(row.end) else first
    if first is None or last is None:
        return []
    if last < first:
        found.append(
            _("结束日期 %(end)s 早于开始日期 %(start)s", end=last.isoformat(), start=first.isoformat())
        )
        return []
    if (last - first).days >= MAX_RANGE_DAYS:
        found.append(_("一段假期最长 %(n)s 天，请检查起止日期", n=MAX_RANGE_DAYS))
        return []
    outside = [d for d in (first, last) if year is not None and d.year != year]
    if outside:
        found.append(_("%(day)s 不在 %(year)s 年内", day=outside[0].isoformat(), year=year))
        return []
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _date(value, found: list[str]) -> dt.date | None:
    """A date given as a date, an Excel day number or text (YYYY-MM-DD, YYYY/M/D, YYYY年M月D日, YYYYMMDD)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        if float(value).is_integer() and value < 100000:
            return from_excel(value).date()
    text = _text(value)
    if not text:
        found.append(_("缺少日期"))
        return None
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    found.append(_("“%(value)s”不是有效的日期，请写成 YYYY-MM-DD（年-月-日）", value=text[:40]))
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


LINE = re.compile(
    r"^(?P<start>[^\s~～至到—]+)(?:\s*(?:~|～|至|到|—+|--)\s*(?P<end>[^\s]+))?(?:\s+(?P<name>.+))?$"
)


def _text_rows(text: str, kind: str, label: str) -> list[DayRow]:
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        where = _("%(field)s第 %(n)s 行", field=label, n=number)
        match = LINE.match(line)
        if match is None:
            rows.append(DayRow(where, line, kind))
            continue
        rows.append(DayRow(where, match["start"], kind, match["name"] or "", match["end"]))
    return rows


# ---------------------------------------------------------------------------------------------------------
# Files: .xlsx or .csv, one day or block per row


def read_file(filename: str, data: bytes) -> list[DayRow]:
    """The rows of an uploaded schedule. :raises ValidationFailed: not an .xlsx or .csv file, too big, no rows,
    missing columns or too many rows (under "file")."""
    suffix = (filename or "").lower().rsplit(".", 1)[-1] if "." in (filename or "") else ""
    if len(data) > MAX_BYTES:
        _file_error(_("文件过大：不能超过 %(n)s KB", n=MAX_BYTES // 1024))
    if suffix == "xlsx":
        table = _xlsx_table(data)
    elif suffix == "csv":
        table = _csv_table(data)
    else:
        _file_error(_("只能导入 .xlsx 或 .csv 文件（Excel 97-2003 的 .xls 请另存为 .xlsx）"))
    return _table_rows(table)


def _file_error(message: str):
    raise ValidationFailed(message, {"file": message})


def _xlsx_table(data: bytes):
    if not zipfile.is_zipfile(io.BytesIO(data)):
        _file_error(_("这不是 .xlsx 文件，请用 Excel 另存为 .xlsx 或 .csv"))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure to open is the user's file, reported as such
        _file_error(_("无法读取这个 .xlsx 文件，它可能已损坏，请用模板重新填写"))
    try:
        sheet = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
        table = []
        for row in sheet.iter_rows(values_only=True):
            if len(table) > MAX_ROWS + 1:
                break
            if any(_text(v) for v in row):
                table.append(list(row))
        return table
    finally:
        workbook.close()


def _csv_table(data: bytes):
    if b"\x00" in data:
        _file_error(_("这不是文本格式的 CSV 文件"))
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        _file_error(_("无法识别 CSV 文件的编码，请另存为 UTF-8 格式"))
    try:
        reader = csv.reader(io.StringIO(text))
        table = []
        for row in reader:
            if len(table) > MAX_ROWS + 1:
                break
            if any(cell.strip() for cell in row):
                table.append(row)
        return table
    except csv.Error:
        _file_error(_("CSV 文件格式有误，无法读取"))


def _table_rows(table) -> list[DayRow]:
    if not table:
        _file_error(_("文件中没有内容：第一行是列名（日期、类型、名称），其后每行一天或一段假期"))
    headings = [_text(v).split("（")[0].split("(")[0].strip().lower() for v in table[0]]
    positions = {}
    for key, words in HEADINGS.items():
        for index, heading in enumerate(headings):
            if heading in words:
                positions[key] = index
                break
    missing = [HEADINGS[key][0] for key in ("date", "kind") if key not in positions]
    if missing:
        _file_error(_("缺少列：%(columns)s（请使用模板，第一行为列名）", columns="、".join(missing)))
    if len(table) - 1 > MAX_ROWS:
        _file_error(_("行数过多：最多 %(n)s 行（一年的节假日安排通常只有几十行）", n=MAX_ROWS))
    if len(table) == 1:
        _file_error(_("文件中只有列名，没有日期"))

    def cell(row, key):
        index = positions.get(key)
        return row[index] if index is not None and index < len(row) else None

    return [
        DayRow(
            _("第 %(n)s 行", n=number),
            cell(row, "date"),
            cell(row, "kind"),
            cell(row, "name") or "",
            cell(row, "end"),
        )
        for number, row in enumerate(table[1:], start=2)
    ]


def template_xlsx() -> bytes:
    """The import template: the columns, a drop-down for the kind, and how to fill it in (no dates in it)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(list(TEMPLATE_HEADINGS))
    for index, heading in enumerate(TEMPLATE_HEADINGS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if heading in ("日期", "类型") else "000000")
        cell.fill = PatternFill("solid", fgColor="DDE6F2")
        sheet.column_dimensions[cell.column_letter].width = 16
    check = DataValidation(type="list", formula1='"放假,上班"', allow_blank=False)
    check.error, check.errorTitle = "类型只能是“放假”或“上班”", "取值不在列表中"
    sheet.add_data_validation(check)
    check.add(f"C2:C{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明", 1)
    for line in [
        "按国务院办公厅当年发布的节假日安排通知填写，每行一天或一段连续的日子；红色列名为必填。",
        "日期：年-月-日（YYYY-MM-DD）；一段假期可在“结束日期”中填最后一天，单独一天留空。",
        "类型：放假（含假期中的周六、周日）或上班（调休上班的周六、周日）。",
        "名称：元旦、春节、清明节、劳动节、端午节、中秋节、国庆节等（可选）。",
        "导入时在页面上填写年份和通知文号；文件中的日期都应在该年内。",
        f"一次最多 {MAX_ROWS} 行。也可以另存为 CSV（UTF-8 或 GBK 编码）导入。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    """The CSV template: the column headings only (UTF-8 with a byte-order mark, so Excel opens it right)."""
    return ("\ufeff" + ",".join(TEMPLATE_HEADINGS) + "\r\n").encode("utf-8")
