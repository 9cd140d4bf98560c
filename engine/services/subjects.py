"""What a workflow instance or task belongs to — a case's round of the loop, or a programme process such as the
quarterly evaluation or a campaign's visit — and the service module that loads, completes and wakes it. The one place that tells them
apart: tasks, the worker and the pages ask here instead of checking for a missing case."""

from __future__ import annotations

from engine.services import evaluation
from engine.services import loop
from engine.services import visits
from engine.storage.models import HumanTask
from engine.storage.models import WorkflowInstance

# Each runner module has KIND, load(eng, session, instance), fire(eng, session, instance) and
# complete(eng, session, stager, actor, task, instance, raw, uploads, lock_version) (the instance locked by the caller).
RUNNERS = {loop.KIND: loop, evaluation.KIND: evaluation, visits.KIND: visits}


def kind_of(row: WorkflowInstance | HumanTask) -> str:
    """ "case" for a case's instance or task; a programme process (no case) says what it is (kind), and one
    stored before processes said so is the quarterly evaluation."""
    if row.case_id is not None:
        return loop.KIND
    return row.kind or evaluation.KIND


def runner(row: WorkflowInstance | HumanTask):
    """The service module that runs this instance or task."""
    return RUNNERS[kind_of(row)]
