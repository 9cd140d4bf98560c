"""Working days on China's official calendar (public holidays off, make-up workdays on): the schedule an admin
entered for a year first, else `chinesecalendar`'s data, else Monday to Friday — and then it says so.

The entered schedules live in the database; this module never reads it. The engine installs an overlay (anything
with `schedule(year)`) that keeps them cached in-process, so scripts and services call these functions without a
session. `WorkingCalendar` is the calendar as an object, for comparing the calendar before and after a change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Protocol

import chinese_calendar
from chinese_calendar import constants as library_data

from engine.domain.clock import LOCAL_TZ

# The end of a working day: deadlines fall at 18:00 local time on their last working day.
END_OF_DAY = dt.time(18, 0)
START_OF_DAY = dt.time(9, 0)

# Where a year's working days come from.
ENTERED = "entered"  # the official schedule an admin entered (takes precedence over the library)
LIBRARY = "library"  # chinesecalendar's data: the official notices up to its newest release
ESTIMATED = "estimated"  # no official data: Monday to Friday, holidays and make-up workdays unknown
SOURCES = (ENTERED, LIBRARY, ESTIMATED)

LIBRARY_YEARS = range(min(library_data.holidays).year, max(library_data.holidays).year + 1)


@dataclasses.dataclass(frozen=True)
class OfficialSchedule:
    """One year's official holiday schedule (the State Council's notice, e.g. 国办发明电〔2026〕X号)."""

    year: int
    holidays: frozenset[dt.date]  # days off (weekend days inside a holiday block included)
    workdays: frozenset[dt.date]  # make-up working days (调休上班), always a Saturday or Sunday
    reference: str = ""

    def is_working_day(self, day: dt.date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


class ScheduleSource(Protocol):
    """What the engine installs: the entered schedule of a year, if any (cached, refreshed from the database)."""

    def schedule(self, year: int) -> OfficialSchedule | None: ...


class _NoSchedules:
    def schedule(self, year: int) -> OfficialSchedule | None:
        return None


class FixedSchedules:
    """Schedules given up front (a calendar as it would be after a change, or a test's made-up year)."""

    def __init__(self, schedules: dict[int, OfficialSchedule]):
        self._schedules = dict(schedules)

    def schedule(self, year: int) -> OfficialSchedule | None:
        return self._schedules.get(year)


class WorkingCalendar:
    """Working days: an entered schedule for the year, else the library's data, else weekdays (estimated)."""

    def __init__(self, source: ScheduleSource | None = None):
        self.source = source or _NoSchedules()

    def year_source(self, year: int) -> str:
        """ENTERED, LIBRARY or ESTIMATED: where this year's working days come from."""
        if self.source.schedule(year) is not None:
            return ENTERED
        return LIBRARY if year in LIBRARY_YEARS else ESTIMATED

    def is_official(self, year: int) -> bool:
        return self.year_source(year) != ESTIMATED

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working day (make-up Saturdays included); a year without official data counts weekdays."""
        schedule = self.source.schedule(day.year)
        if schedule is not None:
            return schedule.is_working_day(day)
        if day.year in LIBRARY_YEARS:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """Deadline `days` working days after `start`: the end (18:00 Asia/Shanghai) of the Nth working day after
        it. A limit of 0 means the end of the start day's working day (or of the next working day if it is a
        holiday)."""
        day = self._step_forward(start.astimezone(LOCAL_TZ).date(), days)
        return dt.datetime.combine(day, END_OF_DAY, tzinfo=LOCAL_TZ).astimezone(dt.UTC)

    def subtract_working_days(self, end: dt.datetime, days: int) -> dt.datetime:
        """Start (09:00 Asia/Shanghai) of the working day `days` working days before `end`'s day. With 0 it is
        the start of `end`'s own day (or the last working day before it)."""
        day = self._step_back(end.astimezone(LOCAL_TZ).date(), days)
        return dt.datetime.combine(day, START_OF_DAY, tzinfo=LOCAL_TZ).astimezone(dt.UTC)

    def working_days_from(self, anchor: dt.date, day: dt.date) -> int:
        """How many working days `day` lies after `anchor` (working days in (anchor, day]); negative when it lies
        before (minus the working days in [day, anchor))."""
        count, step = 0, dt.timedelta(days=1)
        if day >= anchor:
            current = anchor
            while current < day:
                current += step
                count += self.is_working_day(current)
            return count
        current = day
        while current < anchor:
            count -= self.is_working_day(current)
            current += step
        return count

    def recount(self, moment: dt.datetime, anchor: dt.datetime, counted_on: WorkingCalendar) -> dt.datetime:
        """`moment` was counted in working days from `anchor` on `counted_on`: the same count on this calendar,
        at the same time of day. (A deadline signed for on Wednesday, 3 working days later: still 3 working days
        after that Wednesday, wherever a new holiday schedule puts them.)"""
        local, start = moment.astimezone(LOCAL_TZ), anchor.astimezone(LOCAL_TZ).date()
        count = counted_on.working_days_from(start, local.date())
        day = self._step_forward(start, count) if count >= 0 else self._step_back_strictly(start, -count)
        return dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ).astimezone(
            dt.UTC
        )

    def _step_forward(self, day: dt.date, days: int) -> dt.date:
        remaining = days
        if remaining == 0:
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def _step_back(self, day: dt.date, days: int) -> dt.date:
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return self._step_back_strictly(day, days)

    def _step_back_strictly(self, day: dt.date, days: int) -> dt.date:
        remaining = days
        while remaining > 0:
            day -= dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def differences(self, other: WorkingCalendar, year: int) -> list[dt.date]:
        """The days of `year` that are working days on one calendar and not on the other."""
        day, end, found = dt.date(year, 1, 1), dt.date(year, 12, 31), []
        while day <= end:
            if self.is_working_day(day) != other.is_working_day(day):
                found.append(day)
            day += dt.timedelta(days=1)
        return found


def library_days(year: int) -> list[tuple[dt.date, bool, str]]:
    """The library's days off and make-up working days of a year it knows, as (day, is a working day, the
    holiday's Chinese name); nothing for a year it does not know."""
    names = {holiday.value: holiday.chinese for holiday in library_data.Holiday}
    days = [(day, False, names.get(v, v)) for day, v in library_data.holidays.items() if day.year == year]
    days += [(day, True, names.get(v, v)) for day, v in library_data.workdays.items() if day.year == year]
    return sorted(days)


_installed = WorkingCalendar()


def install_overlay(source: ScheduleSource) -> None:
    """Make `source`'s entered schedules take precedence from now on (the engine does this at start-up)."""
    global _installed
    _installed = WorkingCalendar(source)


def uninstall_overlay(source: ScheduleSource) -> None:
    """Forget `source` if it is the one installed (an engine being disposed): library and weekdays only."""
    global _installed
    if _installed.source is source:
        _installed = WorkingCalendar()


def current() -> WorkingCalendar:
    """The calendar in force in this process: entered schedules, then the library, then weekdays."""
    return _installed


def is_working_day(day: dt.date) -> bool:
    """True on a working day (make-up Saturdays included). Years without official data count weekdays."""
    return _installed.is_working_day(day)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Deadline `days` working days after `start`: the end (18:00 Asia/Shanghai) of the Nth working day after it.

    A limit of 0 means the end of the start day's working day (or of the next working day if it is a holiday).
    """
    return _installed.add_working_days(start, days)


def subtract_working_days(end: dt.datetime, days: int) -> dt.datetime:
    """Start (09:00 Asia/Shanghai) of the working day `days` working days before `end`'s day.

    Used for warnings: "2 working days before the deadline" of a deadline on Thursday is Tuesday 09:00.
    With 0 it is the start of `end`'s own day (or the last working day before it).
    """
    return _installed.subtract_working_days(end, days)


def year_source(year: int) -> str:
    return _installed.year_source(year)


def is_estimated(moment: dt.datetime | dt.date | None) -> bool:
    """Whether a deadline falls in a year without official data (counted on weekdays, so it may be wrong)."""
    if moment is None:
        return False
    day = moment.astimezone(LOCAL_TZ).date() if isinstance(moment, dt.datetime) else moment
    return not _installed.is_official(day.year)
