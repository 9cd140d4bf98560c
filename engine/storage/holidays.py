"""The official holiday schedules admins entered, read from the database and cached in-process for the calendar.

The calendar is asked about working days from scripts and services that hold no session, many times per request,
in several web and worker processes sharing one database. So the schedules are kept in memory and the newest
calendar_change id is re-read at most every few seconds: when another process changed a schedule, this one reloads
them all (a few dozen rows a year).
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.calendar import OfficialSchedule
from engine.storage.models import CalendarChange
from engine.storage.models import OfficialCalendar
from engine.storage.models import OfficialCalendarDay


def load_schedules(session: Session) -> dict[int, OfficialSchedule]:
    """Every entered schedule by year, as stored (in the caller's session)."""
    days: dict[int, tuple[set, set]] = {}
    for row in session.scalars(select(OfficialCalendarDay)):
        holidays, workdays = days.setdefault(row.year, (set(), set()))
        (workdays if row.kind == "work" else holidays).add(row.day)
    return {
        row.year: OfficialSchedule(
            year=row.year,
            holidays=frozenset(days.get(row.year, (set(), set()))[0]),
            workdays=frozenset(days.get(row.year, (set(), set()))[1]),
            reference=row.reference,
        )
        for row in session.scalars(select(OfficialCalendar))
    }


def last_change(session: Session) -> int | None:
    return session.scalar(select(func.max(CalendarChange.change_id)))


class OfficialCalendarStore:
    """The entered schedules as the calendar overlay sees them (engine.domain.calendar.ScheduleSource)."""

    REFRESH_SECONDS = 3.0

    def __init__(self, db):
        self.db = db
        self._schedules: dict[int, OfficialSchedule] = {}
        self._mark: int | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        db.add_refresher(self.schedules)  # re-read between units of work, not inside one (see Database)

    def schedule(self, year: int) -> OfficialSchedule | None:
        return self.schedules().get(year)

    def schedules(self) -> dict[int, OfficialSchedule]:
        due = time.monotonic() - self._read_at > self.REFRESH_SECONDS
        # Inside a unit of work, what was read before it began is used (read again when the next one begins);
        # only a cache never loaded yet (or just invalidated) reads there.
        if due and not (self.db.in_unit_of_work() and self._read_at > float("-inf")):
            self._refresh()
        return self._schedules

    def _refresh(self) -> None:
        with self.db.read() as session:
            mark = last_change(session)
            schedules = load_schedules(session) if mark != self._mark else self._schedules
        with self._lock:
            self._schedules, self._mark, self._read_at = schedules, mark, time.monotonic()

    def invalidate(self) -> None:
        """Re-read on the next lookup (after this process changed a schedule)."""
        self._read_at = float("-inf")
