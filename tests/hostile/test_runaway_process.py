"""A designer deploys a diagram whose script runs away: the step fails with a message naming the element, the
transaction rolls back, and the service (web request or timer worker) carries on with other work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.errors import ScriptError
from engine.services.flow import WorkflowFailed
from engine.storage.models import CaseEvent
from engine.storage.models import WorkflowInstance
from engine.worker import RETRY_AFTER
from engine.worker import run_pass
from engine.workflow.deploy import deploy_process

MAIN = Path(__file__).resolve().parents[2] / "processes" / "case_handling.bpmn"
SIGN_LIMIT_SCRIPT = """<bpmn:script>dispatched_at = now_iso()
sign_by = working_days_after(dispatched_at, sign_limit_days)</bpmn:script>"""
# Cannot be seen statically (the loop condition is not a constant), so it deploys.
RUNAWAY = """<bpmn:script>dispatched_at = now_iso()
sign_by = working_days_after(dispatched_at, sign_limit_days)
n = 0
while n &gt;= 0:
    n = n + 1</bpmn:script>"""
HUGE = """<bpmn:script>dispatched_at = now_iso()
sign_by = working_days_after(dispatched_at, sign_limit_days)
k = 5
blob = 'a' * (10 ** k) + 'a' * (10 ** k)</bpmn:script>"""
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
      <bpmn:script>n = 0
while n &gt;= 0:
    n = n + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="flow_timer_2" sourceRef="remind_dispatch" targetRef="end_timer" />
    <bpmn:endEvent id="end_timer" name="已催办">
      <bpmn:incoming>flow_timer_2</bpmn:incoming>
    </bpmn:endEvent>
    """


def _deploy(eng, xml: str) -> None:
    with eng.db.transaction() as session:
        deploy_process(session, eng, xml, comment="a designer's runaway script")


def _events(eng, case_id: int) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))


@pytest.mark.parametrize("script", [RUNAWAY, HUGE], ids=["endless loop", "huge value"])
def test_a_runaway_script_fails_the_step_names_it_and_saves_nothing(eng, journey, script):
    xml = MAIN.read_text("utf-8")
    assert SIGN_LIMIT_SCRIPT in xml
    _deploy(eng, xml.replace(SIGN_LIMIT_SCRIPT, script))
    case_id = journey.register()["case_id"]
    before = _events(eng, case_id)
    with pytest.raises(WorkflowFailed) as raised:
        journey.dispatch(case_id)
    assert "计算签收时限" in raised.value.message and "已中止" in raised.value.message
    assert _events(eng, case_id) == before  # rolled back: no half-saved dispatch
    assert journey.case(case_id)["status"] == "dispatching"
    # The process is healthy: another case registers and its dispatcher's task is there.
    other = journey.register()["case_id"]
    assert journey.task("dispatcher", other)


def test_a_runaway_timer_script_is_retried_later_and_the_worker_goes_on(eng, journey, clock):
    xml = MAIN.read_text("utf-8").replace("<bpmn:startEvent", TIMER + "<bpmn:startEvent", 1)
    _deploy(eng, xml)
    clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    stuck = journey.register()["case_id"]
    clock.set(dt.datetime(2026, 3, 12, 9, 0, tzinfo=LOCAL_TZ))  # past the one-working-day reminder
    assert run_pass(eng, limit=5) >= 1
    with eng.db.read() as session:
        due = session.scalars(
            select(WorkflowInstance.next_timer_at).where(WorkflowInstance.case_id == stuck)
        ).one()
    assert due >= clock.now() + RETRY_AFTER - dt.timedelta(seconds=1)  # looked at again later, not in a loop
    assert journey.case(stuck)["status"] == "dispatching"
    assert journey.register()["case_id"]  # web work carries on


PILE = """<bpmn:script>dispatched_at = now_iso()
sign_by = working_days_after(dispatched_at, sign_limit_days)
blob = ['a' * 90000 + str(i) for i in range(30)]</bpmn:script>"""


def test_task_data_past_the_size_limit_is_not_stored(eng, journey):
    """Each value is within the script bounds, but together they would bloat the stored case: refused."""
    _deploy(eng, MAIN.read_text("utf-8").replace(SIGN_LIMIT_SCRIPT, PILE))
    case_id = journey.register()["case_id"]
    before = _events(eng, case_id)
    with pytest.raises(ScriptError) as raised:
        journey.dispatch(case_id)
    assert "流程数据过大" in raised.value.message
    assert _events(eng, case_id) == before
    assert journey.case(case_id)["status"] == "dispatching"
