"""Working days on China's official calendar (public holidays off, make-up workdays on), via `chinesecalendar`."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from engine.domain.clock import LOCAL_TZ

# The end of a working day: deadlines fall at 18:00 local time on their last working day.
END_OF_DAY = dt.time(18, 0)


def is_working_day(day: dt.date) -> bool:
    """True on a working day (make-up Saturdays included). Years the library has no data for count weekdays."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Deadline `days` working days after `start`: the end (18:00 Asia/Shanghai) of the Nth working day after it.

    A limit of 0 means the end of the start day's working day (or of the next working day if it is a holiday).
    """
    local = start.astimezone(LOCAL_TZ)
    day = local.date()
    remaining = days
    if remaining == 0:
        while not is_working_day(day):
            day += dt.timedelta(days=1)
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


START_OF_DAY = dt.time(9, 0)


def subtract_working_days(end: dt.datetime, days: int) -> dt.datetime:
    """Start (09:00 Asia/Shanghai) of the working day `days` working days before `end`'s day.

    Used for warnings: "2 working days before the deadline" of a deadline on Thursday is Tuesday 09:00.
    With 0 it is the start of `end`'s own day (or the last working day before it).
    """
    day = end.astimezone(LOCAL_TZ).date()
    remaining = days
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    while remaining > 0:
        day -= dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return dt.datetime.combine(day, START_OF_DAY, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
