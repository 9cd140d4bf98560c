"""The timer worker: wakes exactly the instances whose next timer is due and runs them on.

Finding due work reads the indexed `workflow_instance.next_timer_at`; on PostgreSQL rows are claimed with
`FOR UPDATE SKIP LOCKED`, so several workers never fire one timer twice (on SQLite writers are serialised by
BEGIN IMMEDIATE, with the same effect). Each instance is its own transaction: a worker that dies mid-batch loses
nothing — the instance it was running rolls back and is still due on the next pass.

SIGTERM (systemd stop, a deploy) or SIGINT asks the worker to stop: it finishes the timer it is running (its
transaction commits), gives back the e-mails it claimed but did not send, records that it stopped and exits 0.
Every pass it writes a heartbeat (services/health.py) that /healthz reports.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time

from sqlalchemy import bindparam
from sqlalchemy import select

from engine.services import evaluation
from engine.services import health
from engine.services import notifications
from engine.services import subjects
from engine.storage.models import WorkflowInstance

log = logging.getLogger(__name__)
RETRY_AFTER = dt.timedelta(minutes=5)  # a failing instance is retried later instead of blocking the queue
OPTIMIZE_EVERY = 3600  # seconds between planner-statistics refreshes
# SQLite has one writer at a time and a waiting writer sleeps between retries, so a long burst of timers would
# keep web requests waiting: every so many instances the worker steps aside briefly.
SQLITE_BREATHE_EVERY = 50
SQLITE_BREATHE_SECONDS = 0.03


def _due_statement(claim: bool):
    query = (
        select(WorkflowInstance)
        .where(WorkflowInstance.next_timer_at <= bindparam("now"), WorkflowInstance.status == "running")
        .order_by(WorkflowInstance.next_timer_at)
        .limit(bindparam("limit"))
    )
    return query.with_for_update(skip_locked=True) if claim else query


# Built once: with FOR UPDATE SKIP LOCKED (PostgreSQL, so several workers never claim one instance) and without.
_DUE = {claim: _due_statement(claim) for claim in (False, True)}


def due_instances(session, now, limit: int = 1):
    claim = session.bind.dialect.name == "postgresql"
    return session.scalars(_DUE[claim], {"now": now, "limit": limit}).all()


def fire_next(eng) -> bool:
    """Run the earliest due instance (one transaction). Returns False when nothing is due."""
    failed = None
    try:
        with eng.db.transaction() as session:
            batch = due_instances(session, eng.now())
            if not batch:
                return False
            instance = batch[0]
            failed = instance.instance_id
            subjects.runner(instance).fire(eng, session, instance)
            if instance.next_timer_at is not None and instance.next_timer_at <= eng.now():
                # Nothing fired although due (e.g. a timer the engine cannot parse): look again later.
                instance.next_timer_at = eng.now() + RETRY_AFTER
        return True
    except Exception:
        if failed is None:
            raise
        log.exception("instance %s failed on its timer; retrying in %s", failed, RETRY_AFTER)
        with eng.db.transaction() as session:
            instance = session.get(WorkflowInstance, failed)
            instance.next_timer_at = eng.now() + RETRY_AFTER
        return True


class StopFlag:
    """Set by SIGTERM / SIGINT (or a test): the worker ends after the timer it is running."""

    def __init__(self):
        self.event = threading.Event()

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        log.info("%s received: stopping after the current timer", signal.Signals(signum).name)
        self.event.set()

    def set(self) -> None:
        self.event.set()

    def __call__(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        return self.event.wait(seconds)


def run_pass(eng, limit: int | None = None, should_stop=None, beater=None) -> int:
    """Fire due timers until none is due, `limit` instances ran or `should_stop()` says so. Returns how many
    instances ran."""
    fired = 0
    while (limit is None or fired < limit) and not (should_stop and should_stop()) and fire_next(eng):
        fired += 1
        if beater is not None:
            beater.add(fired=1)
        if eng.db.is_sqlite and fired % SQLITE_BREATHE_EVERY == 0:
            time.sleep(SQLITE_BREATHE_SECONDS)
    return fired


def run_worker(
    eng, interval: float = 5.0, once: bool = False, sender=None, stop: StopFlag | None = None
) -> int:
    """Run passes every `interval` seconds until `stop` is set (by SIGTERM when the caller installed it)."""
    stop = stop or StopFlag()
    beater = health.Beater(eng, health.register_worker(eng))
    log.info(
        "worker %s started (interval %.1fs, e-mail %s)", beater.worker_id, interval, "on" if sender else "off"
    )
    optimized_at = 0.0
    while not stop():
        if time.monotonic() - optimized_at > OPTIMIZE_EVERY:
            eng.db.optimize()
            optimized_at = time.monotonic()
        try:
            evaluation.ensure_scheduled(eng)
            fired = run_pass(eng, should_stop=stop, beater=beater)
            if fired:
                log.info("fired %d timer(s)", fired)
            mailed = notifications.send_pending(eng, sender, should_stop=stop)
            beater.add(mailed=mailed)
            beater.flush()
        except Exception:
            log.exception("worker pass failed; retrying next pass")
        if once:
            break
        stop.wait(interval)
    try:
        beater.flush(stopped=True)
    except Exception:
        log.exception("could not record that the worker stopped")
    log.info("worker %s stopped", beater.worker_id)
    return 0
