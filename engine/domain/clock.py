"""The clock every service reads: injectable so tests travel in time instead of sleeping."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.UTC
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """Wall clock. `now()` is always timezone-aware UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FixedClock(Clock):
    """A clock tests set and move by hand."""

    def __init__(self, at: dt.datetime):
        self._at = at if at.tzinfo else at.replace(tzinfo=LOCAL_TZ)

    def now(self) -> dt.datetime:
        return self._at.astimezone(UTC)

    def set(self, at: dt.datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=LOCAL_TZ)

    def advance(self, **delta) -> None:
        self._at = self._at + dt.timedelta(**delta)


def to_local(value: dt.datetime | None) -> dt.datetime | None:
    """Show a stored UTC time in the programme's time zone (Asia/Shanghai)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)
