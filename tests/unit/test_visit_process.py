"""processes/visit.bpmn in memory: the recording task with its deadline, the yellow and red flag timers and the
supervision they raise, recording ending the instance; and the launch's cloned states (fresh task ids, same run)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engine.domain.clock import LOCAL_TZ
from engine.domain.clock import FixedClock
from engine.forms.schema import load_form
from engine.services.visits import VisitApi
from engine.services.visits import _clone_state
from engine.workflow import runtime
from engine.workflow.scripts import JienanScriptEngine
from engine.workflow.specs import PROCESSES_DIR
from engine.workflow.specs import parse_bpmn
from engine.workflow.timers import using_clock

DUE = "2026-03-20T18:00:00+08:00"  # a Friday


@pytest.fixture(scope="module")
def parsed():
    path = PROCESSES_DIR / "visit.bpmn"
    return parse_bpmn(path.read_bytes(), filename=path.name)


class Run:
    def __init__(self, parsed, clock: FixedClock, state: str | None = None):
        self.parsed, self.clock = parsed, clock
        self.api = VisitApi(clock, {"flag": None})
        self.engine = JienanScriptEngine(helpers=self.api.functions())
        if state is None:
            self.workflow = runtime.create(
                parsed, "visit@unit-test", self.engine, {"campaign_id": 1, "due": DUE}
            )
        else:
            self.workflow = runtime.loads(state, lambda _key: parsed, self.engine)
        self.advance()

    def advance(self):
        with using_clock(self.clock):
            return runtime.advance(self.workflow)

    def ready(self) -> list[str]:
        return sorted(t.task_spec.name for t in runtime.ready_human_tasks(self.workflow))

    def complete(self, name: str, submission: dict) -> None:
        task = next(t for t in runtime.ready_human_tasks(self.workflow) if t.task_spec.name == name)
        form = load_form(self.parsed.human_tasks[name].form_key)
        with using_clock(self.clock):
            runtime.complete_task(self.workflow, task, form.parse_submission(submission))

    def flags(self) -> list[str]:
        return [e.args["flag"] for e in self.api.effects if e.kind == "flag"]

    def audiences(self) -> list[str]:
        return [e.args["audience"] for e in self.api.effects if e.kind == "notify"]


def test_the_visit_task_waits_for_the_visitor_with_both_timers_armed(parsed):
    run = Run(parsed, FixedClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ)))
    assert run.ready() == ["record_visit"]
    assert parsed.human_tasks["record_visit"].role == "registrar"
    assert parsed.human_tasks["supervise"].role == "supervisor"
    # The yellow flag two working days before the deadline: Wednesday 09:00.
    assert run.workflow.last_task.data["yellow_at"].startswith("2026-03-18T09:00")
    assert runtime.next_timer(run.workflow) == dt.datetime(2026, 3, 18, 1, 0, tzinfo=dt.UTC)
    run.complete(
        "record_visit",
        {"visited_on": "2026-03-10", "visitors": "王芳", "met_with": "赵总", "findings": "none"},
    )
    run.advance()
    assert run.workflow.is_completed() and run.flags() == []


def test_late_visits_turn_yellow_then_red_and_are_supervised_until_recorded(parsed):
    clock = FixedClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    run = Run(parsed, clock)
    state = runtime.dumps(run.workflow)
    clock.set(dt.datetime(2026, 3, 18, 10, 0, tzinfo=LOCAL_TZ))
    run = Run(parsed, clock, state)  # restored from JSON, as every request does
    assert run.flags() == ["yellow"] and run.audiences() == ["registrar"]
    assert run.ready() == ["record_visit"]
    clock.set(dt.datetime(2026, 3, 20, 18, 1, tzinfo=LOCAL_TZ))
    run = Run(parsed, clock, runtime.dumps(run.workflow))
    assert run.flags() == ["red"] and run.audiences() == ["registrar", "supervisor"]
    assert run.ready() == ["record_visit", "supervise"]
    run.complete("supervise", {"supervision_step": "urge", "supervision_order": "请三日内走访并记录"})
    run.advance()
    assert run.ready() == ["record_visit"]
    run.complete(
        "record_visit",
        {"visited_on": "2026-03-21", "visitors": "王芳", "met_with": "赵总", "findings": "none"},
    )
    run.advance()
    assert run.workflow.is_completed()


def test_recording_withdraws_an_open_supervision(parsed):
    clock = FixedClock(dt.datetime(2026, 3, 23, 9, 0, tzinfo=LOCAL_TZ))
    run = Run(parsed, clock)
    assert run.ready() == ["record_visit", "supervise"]
    run.complete(
        "record_visit",
        {"visited_on": "2026-03-23", "visitors": "王芳", "met_with": "赵总", "findings": "none"},
    )
    run.advance()
    assert run.workflow.is_completed() and run.ready() == []


def test_a_cloned_state_is_the_same_run_with_fresh_task_ids(parsed):
    clock = FixedClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    template = Run(parsed, clock)
    state = runtime.dumps(template.workflow)
    ids = [str(task_id) for task_id in template.workflow.tasks]
    first, first_ids = _clone_state(state, ids)
    second, second_ids = _clone_state(state, ids)
    assert set(first_ids.values()).isdisjoint(second_ids.values()) and not set(ids) & set(first_ids.values())
    assert not any(old in first for old in ids)
    one, two = Run(parsed, clock, first), Run(parsed, clock, second)
    record = str(next(t.id for t in runtime.ready_human_tasks(template.workflow)))
    assert [str(t.id) for t in runtime.ready_human_tasks(one.workflow)] == [first_ids[record]]
    assert [str(t.id) for t in runtime.ready_human_tasks(two.workflow)] == [second_ids[record]]
    assert json.loads(first)["tasks"].keys() == {first_ids[i] for i in ids}
    one.complete(
        "record_visit",
        {"visited_on": "2026-03-10", "visitors": "王芳", "met_with": "赵总", "findings": "none"},
    )
    one.advance()
    assert one.workflow.is_completed() and two.ready() == ["record_visit"]
