"""The timer worker: wakes exactly the instances whose next timer is due and runs them on.

Finding due work reads the indexed `workflow_instance.next_timer_at`; on PostgreSQL rows are claimed with
`FOR UPDATE SKIP LOCKED`, so several workers never fire one timer twice (on SQLite writers are serialised by
BEGIN IMMEDIATE, with the same effect). Each instance is its own transaction: a worker that dies mid-batch loses
nothing — the instance it was running rolls back and is still due on the next pass.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from sqlalchemy import bindparam
from sqlalchemy import select

from engine.services import evaluation
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


def run_pass(eng, limit: int | None = None) -> int:
    """Fire due timers until none is due (or `limit` instances ran). Returns how many instances ran."""
    fired = 0
    while (limit is None or fired < limit) and fire_next(eng):
        fired += 1
        if eng.db.is_sqlite and fired % SQLITE_BREATHE_EVERY == 0:
            time.sleep(SQLITE_BREATHE_SECONDS)
    return fired


def run_worker(eng, interval: float = 5.0, once: bool = False, sender=None) -> int:
    log.info("worker started (interval %.1fs, e-mail %s)", interval, "on" if sender else "off")
    optimized_at = 0.0
    while True:
        if time.monotonic() - optimized_at > OPTIMIZE_EVERY:
            eng.db.optimize()
            optimized_at = time.monotonic()
        try:
            evaluation.ensure_scheduled(eng)
            fired = run_pass(eng)
            if fired:
                log.info("fired %d timer(s)", fired)
            notifications.send_pending(eng, sender)
        except Exception:
            log.exception("worker pass failed; retrying next pass")
        if once:
            return 0
        time.sleep(interval)
