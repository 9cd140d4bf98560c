"""Timers on the engine's clock, and the worker that fires them (time travel, no sleeping)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.services import flow
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import Notification
from engine.storage.models import WorkflowInstance
from engine.worker import StopFlag
from engine.worker import run_pass
from engine.workflow.deploy import deploy_process
from tests.conftest import PG_URL

MAIN = Path(__file__).resolve().parents[2] / "processes" / "case_handling.bpmn"

# A reminder timer on the dispatch task: one working day after it arrives, flag red and remind the dispatcher.
TIMER = """
    <bpmn:boundaryEvent id="timer_dispatch" name="派单超时" cancelActivity="false" attachedToRef="dispatch">
      <bpmn:outgoing>flow_timer_1</bpmn:outgoing>
      <bpmn:timerEventDefinition id="timer_dispatch_def">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days_after(now_iso(), 1)</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="flow_timer_1" sourceRef="timer_dispatch" targetRef="remind_dispatch" />
    <bpmn:scriptTask id="remind_dispatch" name="派单催办">
      <bpmn:incoming>flow_timer_1</bpmn:incoming>
      <bpmn:outgoing>flow_timer_2</bpmn:outgoing>
      <bpmn:script>set_flag("red")
notify("dispatcher", "派单超时，请尽快派单")</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="flow_timer_2" sourceRef="remind_dispatch" targetRef="end_timer" />
    <bpmn:endEvent id="end_timer" name="已催办">
      <bpmn:incoming>flow_timer_2</bpmn:incoming>
    </bpmn:endEvent>
    """


@pytest.fixture
def timed(eng):
    xml = MAIN.read_text("utf-8").replace("<bpmn:startEvent", TIMER + "<bpmn:startEvent", 1)
    with eng.db.transaction() as session:
        deploy_process(session, eng, xml, comment="dispatch reminder timer")
    return eng


def _next_timer(eng, case_id):
    with eng.db.read() as session:
        return session.scalars(
            select(WorkflowInstance.next_timer_at).where(
                WorkflowInstance.case_id == case_id, WorkflowInstance.status == "running"
            )
        ).one()


def _local(*args):
    return dt.datetime(*args, tzinfo=LOCAL_TZ)


def test_timer_fires_on_the_engine_clock_only_when_due(timed, journey, clock):
    clock.set(_local(2026, 3, 10, 9, 0))  # Tuesday
    case_id = journey.register()["case_id"]
    assert _next_timer(timed, case_id) == _local(2026, 3, 11, 18, 0)
    clock.set(_local(2026, 3, 11, 17, 59))
    assert run_pass(timed) == 0
    clock.set(_local(2026, 3, 11, 18, 1))
    assert run_pass(timed) == 1
    page = journey.case(case_id)
    assert page["flag"] == "red" and page["status"] == "dispatching"
    assert any(e["kind"] == "flag_changed" for e in page["timeline"])
    with timed.db.read() as session:
        reminders = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "reminder", Notification.case_id == case_id)
        )
    assert reminders >= 1
    assert run_pass(timed) == 0 and _next_timer(timed, case_id) is None
    journey.dispatch(case_id)  # the boundary branch ended; the main path carries on
    assert journey.case(case_id)["status"] == "signing"


def test_deadline_over_the_national_day_holiday(timed, journey, clock):
    """Friday 2025-09-26: the next working day is the make-up Sunday 2025-09-28, not Monday."""
    clock.set(_local(2025, 9, 26, 10, 0))
    case_id = journey.register()["case_id"]
    assert _next_timer(timed, case_id) == _local(2025, 9, 28, 18, 0)
    clock.set(_local(2025, 9, 30, 10, 0))
    second = journey.register()["case_id"]  # Tuesday before the holiday: next working day is 10-09
    assert _next_timer(timed, second) == _local(2025, 10, 9, 18, 0)


def test_a_worker_killed_mid_batch_loses_nothing(timed, journey, clock, monkeypatch):
    clock.set(_local(2026, 3, 10, 9, 0))
    ids = [journey.register()["case_id"] for _ in range(6)]
    clock.set(_local(2026, 3, 12, 9, 0))
    real_settle, calls = flow.settle, []

    class Killed(BaseException):
        """Stands for the process dying: not an Exception, so nothing in the worker catches it."""

    def dying_settle(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Killed
        return real_settle(*args, **kwargs)

    monkeypatch.setattr(flow, "settle", dying_settle)
    with pytest.raises(Killed):
        run_pass(timed)
    monkeypatch.setattr(flow, "settle", real_settle)
    assert run_pass(timed) == 4  # the 2 done before the kill stay done; the killed one runs again
    with timed.db.read() as session:
        flags = session.execute(select(Case.flag).where(Case.case_id.in_(ids))).scalars().all()
        changes = session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.kind == "flag_changed", CaseEvent.case_id.in_(ids))
        )
    assert flags == ["red"] * 6 and changes == 6


@pytest.mark.slow
def test_two_workers_fire_each_of_1000_due_timers_exactly_once(timed, journey, clock):
    clock.set(_local(2026, 3, 10, 9, 0))
    ids = [journey.register()["case_id"] for _ in range(1000)]
    clock.set(_local(2026, 3, 12, 9, 0))
    counts = []
    threads = [threading.Thread(target=lambda: counts.append(run_pass(timed))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 1000
    if PG_URL:  # SKIP LOCKED lets both claim work at once; SQLite serialises writers, so the split is uneven
        assert min(counts) > 0
    with timed.db.read() as session:
        per_case = session.execute(
            select(CaseEvent.case_id, func.count())
            .where(CaseEvent.kind == "flag_changed", CaseEvent.case_id.in_(ids))
            .group_by(CaseEvent.case_id)
        ).all()
    assert len(per_case) == 1000 and {n for _case, n in per_case} == {1}


def test_a_stop_request_finishes_the_running_timer_and_ends_the_pass(timed, journey, clock, monkeypatch):
    """SIGTERM sets the stop flag while a timer runs: that instance commits, no further one starts."""
    clock.set(_local(2026, 3, 10, 9, 0))
    ids = [journey.register()["case_id"] for _ in range(3)]
    clock.set(_local(2026, 3, 12, 9, 0))
    stop = StopFlag()
    real_settle = flow.settle

    def settle_then_signal(*args, **kwargs):
        stop.set()  # the signal arrives in the middle of the first timer
        return real_settle(*args, **kwargs)

    monkeypatch.setattr(flow, "settle", settle_then_signal)
    assert run_pass(timed, should_stop=stop) == 1
    monkeypatch.setattr(flow, "settle", real_settle)
    with timed.db.read() as session:
        flags = session.execute(
            select(Case.flag).where(Case.case_id.in_(ids)).order_by(Case.case_id)
        ).scalars()
        assert list(flags).count("red") == 1  # the first one finished and committed
    assert run_pass(timed) == 2
