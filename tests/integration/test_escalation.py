"""The ladder climbs by itself: interrupting deadlines and overdue escalation decided by the rule table."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.errors import Conflict
from engine.errors import RuleError
from engine.services import tasks
from engine.storage.models import CaseEvent
from engine.storage.models import HumanTask
from engine.storage.models import RuleVersion
from engine.worker import run_pass
from engine.workflow.deploy import publish_rules
from engine.workflow.specs import PROCESSES_DIR


def _local(*args):
    return dt.datetime(*args, tzinfo=LOCAL_TZ)


def _signed_case(journey, clock, **fields):
    clock.set(_local(2026, 3, 10, 9, 0))  # Tuesday
    case_id = journey.register(**fields)["case_id"]
    journey.dispatch(case_id, lead="power", time_limit_days=5)  # deadline Tuesday 2026-03-17 18:00
    clock.set(_local(2026, 3, 10, 10, 0))
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    return case_id


def _escalations(page):
    return [e["title"] for e in page["timeline"] if e["kind"] == "escalation"]


def _open_tasks(eng, case_id):
    with eng.db.read() as session:
        return sorted(session.scalars(select(HumanTask.task_name).where(HumanTask.case_id == case_id)))


def test_overdue_escalation_climbs_the_ladder_per_the_rule_table(eng, journey, clock, actors):
    # 紧急 at department tier: escalation.dmn says climb 5 working days after the deadline (Tue 03-17 → Tue 03-24).
    case_id = _signed_case(journey, clock, urgency="紧急")
    handle = journey.task("handler_power", case_id)
    clock.set(_local(2026, 3, 17, 18, 1))
    run_pass(eng)
    page = journey.case(case_id)
    assert page["flag"] == "red" and page["tier"] == "department"
    decision = [e for e in page["timeline"] if e["kind"] == "rule_decision"][-1]
    assert decision["data"]["decision_id"] == "escalation"
    assert decision["data"]["outputs"] == {"escalate_after_days": 5}
    clock.set(_local(2026, 3, 24, 17, 59))
    run_pass(eng)
    assert journey.case(case_id)["tier"] == "department"
    clock.set(_local(2026, 3, 24, 18, 1))
    run_pass(eng)
    page = journey.case(case_id)
    assert page["tier"] == "city_leader" and page["status"] == "coordinating"
    assert _escalations(page)[-1] == (
        "问题升级：部门办 → 市领导办。理由：超过办理期限仍未办结，按超期升级规则自动升级"
    )
    assert "handle" not in _open_tasks(eng, case_id)  # the handler's task was interrupted
    assert {"leader_coordinate", "supervise"} <= set(_open_tasks(eng, case_id))

    # The handler's page was still open: a late submission is refused and changes nothing.
    events_before = len(page["timeline"])
    with pytest.raises(Conflict) as refused:
        tasks.complete_task(
            eng,
            actors("handler_power"),
            handle["task_id"],
            {"outcome": "resolved", "handling_actions": "已解决。"},
        )
    assert "已超过时限" in refused.value.message and "没有保存" in refused.value.message
    assert len(journey.case(case_id)["timeline"]) == events_before

    # Coordinated by the leader, signed again: a fresh deadline, a green flag, and the next rung at city_leader.
    journey.act(
        "leader",
        case_id,
        {"meeting_held": False, "leader_instructions": "电业局牵头，五日内拿出方案。", "lead_unit": "power"},
    )
    clock.set(_local(2026, 3, 25, 9, 0))
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    page = journey.case(case_id)
    assert page["flag"] == "green" and page["deadline_at"] == _local(2026, 4, 1, 18, 0)
    clock.set(_local(2026, 4, 1, 18, 1))
    run_pass(eng)
    # city_leader: 10 working days after 04-01 (Qingming 04-04..06 off) → 2026-04-16
    clock.set(_local(2026, 4, 16, 17, 59))
    run_pass(eng)
    assert journey.case(case_id)["tier"] == "city_leader"
    clock.set(_local(2026, 4, 16, 18, 1))
    run_pass(eng)
    page = journey.case(case_id)
    assert page["tier"] == "province" and page["status"] == "province"
    assert _escalations(page)[-1].startswith("问题升级：市领导办 → 省级协调")
    assert "province_handoff" in _open_tasks(eng, case_id)


def test_a_managers_new_escalation_table_decides_the_next_overdue_case(eng, journey, clock):
    xml = (Path(PROCESSES_DIR) / "escalation.dmn").read_text("utf-8")
    # The manager makes department cases climb at the deadline itself (0 working days after).
    changed = xml.replace("<text>5</text>", "<text>0</text>").replace("<text>1</text>", "<text>0</text>")
    with eng.db.transaction() as session:
        publish_rules(session, eng, changed, comment="超期即升级")
    case_id = _signed_case(journey, clock, urgency="一般")
    clock.set(_local(2026, 3, 17, 18, 1))
    run_pass(eng)
    run_pass(eng)
    page = journey.case(case_id)
    assert page["tier"] == "city_leader"
    assert "按超期升级规则自动升级" in _escalations(page)[-1]


def test_no_escalation_when_the_rule_table_leaves_it_empty(eng, journey, clock):
    xml = (Path(PROCESSES_DIR) / "escalation.dmn").read_text("utf-8")
    changed = xml.replace("<text>5</text>", "<text></text>")
    with eng.db.transaction() as session:
        publish_rules(session, eng, changed, comment="部门办不自动升级")
    case_id = _signed_case(journey, clock, urgency="一般")
    clock.set(_local(2026, 3, 17, 18, 1))
    run_pass(eng)
    clock.set(_local(2026, 6, 1, 9, 0))
    run_pass(eng)
    page = journey.case(case_id)
    # months past the deadline: seriously overdue, so the supervision table's black flag is up
    assert page["tier"] == "department" and page["flag"] == "black" and page["status"] == "handling"
    assert _escalations(page) == []


def test_feedback_before_the_escalation_moment_stops_the_climb(eng, journey, clock):
    case_id = _signed_case(journey, clock, urgency="紧急")
    clock.set(_local(2026, 3, 17, 18, 1))
    run_pass(eng)
    clock.set(_local(2026, 3, 20, 10, 0))
    journey.act("handler_power", case_id, {"outcome": "resolved", "handling_actions": "已协调解决。"})
    clock.set(_local(2026, 3, 25, 9, 0))
    run_pass(eng)
    page = journey.case(case_id)
    assert page["tier"] == "department" and page["status"] == "verifying"
    assert _escalations(page) == []


def test_on_site_time_limit_interrupts_and_a_late_submission_is_refused(eng, journey, clock, actors):
    clock.set(_local(2026, 3, 10, 9, 0))  # Tuesday; 一般 政策咨询 → on_site, 1 working day (triage.dmn)
    case_id = journey.register(urgency="一般", category="政策咨询")["case_id"]
    assert journey.case(case_id)["tier"] == "on_site"
    on_site = journey.task("registrar", case_id)
    assert on_site["task_name"] == "resolve_on_site"
    clock.set(_local(2026, 3, 11, 18, 1))  # past Wednesday 18:00; no worker pass yet
    late = {"on_site_result": "resolved", "on_site_actions": "已当场答复。"}
    with pytest.raises(Conflict) as refused:
        tasks.complete_task(eng, actors("registrar"), on_site["task_id"], late)
    assert "“当场办理”任务已超过时限" in refused.value.message
    # What the clock did is kept (the case moved on); the submission is not.
    page = journey.case(case_id)
    assert page["tier"] == "department" and page["status"] == "dispatching"
    assert _escalations(page) == ["问题升级：当场办 → 部门办。理由：超过当场办理时限仍未办结"]
    assert not any(
        e["kind"] == "task_completed" and e["task_name"] == "resolve_on_site" for e in page["timeline"]
    )
    withdrawn = [e for e in page["timeline"] if e["kind"] == "task_withdrawn"]
    assert [e["task_name"] for e in withdrawn] == ["resolve_on_site"]
    # Asking again gives the same answer, from the record.
    with pytest.raises(Conflict) as again:
        tasks.complete_task(eng, actors("registrar"), on_site["task_id"], late)
    assert "已超过时限" in again.value.message
    journey.dispatch(case_id, lead="power")
    assert journey.case(case_id)["status"] == "signing"


def test_on_site_in_time_is_not_interrupted(eng, journey, clock):
    clock.set(_local(2026, 3, 10, 9, 0))
    case_id = journey.register(urgency="一般", category="政策咨询")["case_id"]
    clock.set(_local(2026, 3, 11, 17, 0))
    run_pass(eng)
    journey.act("registrar", case_id, {"on_site_result": "resolved", "on_site_actions": "已当场答复。"})
    clock.set(_local(2026, 3, 20, 9, 0))
    run_pass(eng)
    page = journey.case(case_id)
    assert page["status"] == "revisiting" and page["tier"] == "on_site"
    assert _escalations(page) == []


@pytest.mark.parametrize(
    ("decision_file", "old", "new", "expected"),
    [
        # without outputValues on the column only the contract knows the ladder
        (
            "triage.dmn",
            '<text>"city_leader"</text>',
            '<text>"provincee"</text>',
            "“provincee”不是可用的办理层级",
        ),
        # with them, the table's own allowed values already refuse it
        ("triage.dmn", '<text>"city_leader"</text>', '<text>"provincee"</text>', "不在该列的允许值中"),
        ("triage.dmn", "<text>20</text>", "<text>-3</text>", "不能为负数"),
        ("supervision.dmn", "<text>3</text>", "<text>-1</text>", "不能为负数"),
        ("escalation.dmn", "<text>10</text>", "<text>2.5</text>", "应为整数"),
    ],
)
def test_a_rule_table_with_an_unknown_tier_or_negative_limit_is_refused(
    eng, decision_file, old, new, expected
):
    xml = (Path(PROCESSES_DIR) / decision_file).read_text("utf-8")
    assert old in xml
    if "可用的办理层级" in expected:
        xml = re.sub(r"<outputValues .*?</outputValues>", "", xml, flags=re.S)
    with eng.db.read() as session:
        before = session.scalar(select(func.count()).select_from(RuleVersion))
    with pytest.raises(RuleError) as refused, eng.db.transaction() as session:
        publish_rules(session, eng, xml.replace(old, new, 1), comment="bad")
    assert expected in refused.value.message
    problem = refused.value.problems[0]
    assert problem["rule_index"] >= 1 and problem["column"]
    assert problem["message"].startswith(f"规则 {problem['rule_index']} 的“")
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(RuleVersion)) == before
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == 0


def test_a_rule_table_missing_an_output_the_process_reads_is_refused(eng):
    xml = (Path(PROCESSES_DIR) / "supervision.dmn").read_text("utf-8")
    renamed = xml.replace('name="max_returns"', 'name="returns_allowed"')
    with pytest.raises(RuleError) as refused, eng.db.transaction() as session:
        publish_rules(session, eng, renamed)
    assert "缺少流程要用的输出列“max_returns”" in refused.value.message
