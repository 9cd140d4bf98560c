"""The timer worker: wakes exactly the instances whose next timer is due and runs them on.

Finding due work reads the indexed `workflow_instance.next_timer_at`; on PostgreSQL rows are claimed with
`FOR UPDATE SKIP LOCKED`, so several workers never fire one timer twice. A worker that dies mid-batch loses
nothing: its transaction rolls back and the instance is still due on the next pass.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from engine.models import Case
from engine.models import WorkflowInstance
from engine.services import flow

log = logging.getLogger(__name__)
BATCH = 50


def due_instances(session, now, limit: int = BATCH):
    query = (
        select(WorkflowInstance)
        .where(
            WorkflowInstance.next_timer_at.is_not(None),
            WorkflowInstance.next_timer_at <= now,
            WorkflowInstance.status == "running",
        )
        .order_by(WorkflowInstance.next_timer_at)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).all()


def run_pass(eng) -> int:
    """Fire every due timer once; returns how many instances were run. Each instance is its own transaction."""
    fired = 0
    while True:
        with eng.db.transaction() as session:
            batch = due_instances(session, eng.now(), limit=1)
            if not batch:
                return fired
            instance = batch[0]
            case = session.get(Case, instance.case_id)
            workflow, parsed, engine = flow.load(eng, session, instance)
            bpmn_events = flow.run_engine(workflow)
            flow.settle(eng, session, case, instance, workflow, parsed, engine, SYSTEM, bpmn_events)
            fired += 1


SYSTEM = None  # timer firings are recorded without a person


OPTIMIZE_EVERY = 3600  # seconds between planner-statistics refreshes


def run_worker(eng, interval: float = 5.0, once: bool = False) -> int:
    log.info("worker started (interval %.1fs)", interval)
    optimized_at = 0.0
    while True:
        if time.monotonic() - optimized_at > OPTIMIZE_EVERY:
            eng.db.optimize()
            optimized_at = time.monotonic()
        try:
            fired = run_pass(eng)
            if fired:
                log.info("fired %d timer(s)", fired)
        except Exception:
            log.exception("worker pass failed; retrying next pass")
        if once:
            return 0
        time.sleep(interval)
