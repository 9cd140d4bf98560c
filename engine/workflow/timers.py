"""SpiffWorkflow's timer events read the wall clock; here they read the engine's clock instead.

SpiffWorkflow 3.2 calls `datetime.now(timezone.utc)` inside its timer event definitions. We point that module's
`datetime` at a subclass whose `now()` asks the clock of the unit of work in progress (a context variable set by
`using_clock`), so tests travel in time and a worker fires exactly what is due by the engine's clock.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_current_clock: contextvars.ContextVar = contextvars.ContextVar("jienan_clock", default=None)


class _ClockedDatetime(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        clock = _current_clock.get()
        if clock is None:
            return dt.datetime.now(tz)
        moment = clock.now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime


@contextlib.contextmanager
def using_clock(clock):
    """Run engine steps with `clock` as the time SpiffWorkflow's timers see."""
    token = _current_clock.set(clock)
    try:
        yield
    finally:
        _current_clock.reset(token)


def current_clock():
    return _current_clock.get()
