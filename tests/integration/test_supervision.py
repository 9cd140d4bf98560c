"""Deadlines, flags and supervision running on the clock (time travel through an injectable clock)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.storage.models import CaseEvent
from engine.storage.models import HumanTask
from engine.storage.models import Notification
from engine.worker import run_pass


def _local(*args):
    return dt.datetime(*args, tzinfo=LOCAL_TZ)


def _count(eng, model, *where):
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _signed_case(journey, clock, **fields):
    clock.set(_local(2026, 3, 10, 9, 0))  # Tuesday
    case_id = journey.register(**fields)["case_id"]
    journey.dispatch(case_id, lead="power", time_limit_days=5)
    clock.set(_local(2026, 3, 10, 10, 0))
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    return case_id


def test_deadline_is_counted_in_working_days_from_sign_for(journey, clock):
    case_id = _signed_case(journey, clock)
    page = journey.case(case_id)
    assert page["signed_at"] == _local(2026, 3, 10, 10, 0)
    assert page["deadline_at"] == _local(2026, 3, 17, 18, 0)  # 5 working days: Wed..Tue
    handle = journey.task("handler_power", case_id)
    assert handle["due_at"] == _local(2026, 3, 17, 18, 0)


def test_deadline_over_the_national_day_holiday(journey, clock):
    clock.set(_local(2025, 9, 26, 9, 0))  # the Friday before National Day
    case_id = journey.register(urgency="一般", category="其他")["case_id"]  # department, 10 working days
    journey.dispatch(case_id, lead="power", time_limit_days=10)
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    # 9-28 (make-up Sunday), 9-29, 9-30, [10-1..10-8 off], 10-9, 10-10, 10-11 (make-up Saturday), 10-13..10-16
    assert journey.case(case_id)["deadline_at"] == _local(2025, 10, 16, 18, 0)


def test_yellow_then_red_then_notice_at_the_working_day_moments(eng, journey, clock, actors):
    case_id = _signed_case(
        journey, clock
    )  # 紧急: warn 1 working day before, notice 2 after (supervision.dmn)
    clock.set(_local(2026, 3, 16, 8, 59))
    run_pass(eng)
    assert journey.case(case_id)["flag"] is None
    clock.set(_local(2026, 3, 16, 9, 1))  # Monday 09:00: one working day before Tuesday's deadline
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "yellow"
    assert _count(eng, Notification, Notification.case_id == case_id, Notification.kind == "flag") > 0
    clock.set(_local(2026, 3, 17, 18, 1))
    run_pass(eng)
    page = journey.case(case_id)
    assert page["flag"] == "red" and page["status"] == "handling"
    supervise = journey.task("supervisor", case_id)
    assert supervise["task_name"] == "supervise"
    clock.set(_local(2026, 3, 19, 17, 59))
    run_pass(eng)
    assert journey.case(case_id)["notice_count"] == 0
    clock.set(_local(2026, 3, 19, 18, 1))  # two working days after the deadline
    run_pass(eng)
    assert journey.case(case_id)["notice_count"] == 1
    journey.act(
        "supervisor", case_id, {"supervision_step": "order", "supervision_order": "请于明日前反馈办理进展。"}
    )
    # Late feedback, sent back once: the timers of the re-entered task must not flag, supervise or notice again.
    journey.act("handler_power", case_id, {"outcome": "resolved", "handling_actions": "已协调解决。"})
    journey.act("dispatcher", case_id, {"verdict": "reject", "verify_comment": "请补充照片。"})
    run_pass(eng)
    assert _count(eng, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "flag_changed") == 2
    assert _count(eng, HumanTask, HumanTask.case_id == case_id, HumanTask.task_name == "supervise") == 0
    assert journey.case(case_id)["notice_count"] == 1


def test_sign_for_limit_reminds_the_unit(eng, journey, clock):
    clock.set(_local(2026, 3, 10, 9, 0))
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")
    assert journey.task("handler_power", case_id)["due_at"] == _local(2026, 3, 11, 18, 0)
    clock.set(_local(2026, 3, 11, 18, 1))
    assert run_pass(eng) == 1
    assert _count(eng, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "reminder") == 1
    assert _count(eng, Notification, Notification.case_id == case_id, Notification.kind == "reminder") >= 2
    journey.act("handler_power", case_id, {"sign_decision": "sign"})  # signing still works afterwards
    assert journey.case(case_id)["status"] == "handling"


def _request_extension(journey, case_id, days=3, reason="需协调第三方施工单位，申请顺延办理期限。"):
    return journey.act(
        "handler_power",
        case_id,
        {"handling_step": "extension", "extension_days": days, "extension_reason": reason},
    )


def test_an_approved_extension_moves_the_deadline_and_the_red_flag(eng, journey, clock):
    case_id = _signed_case(journey, clock)  # deadline Tuesday 2026-03-17 18:00
    clock.set(_local(2026, 3, 13, 10, 0))
    assert _request_extension(journey, case_id)["status"] == "extension_review"
    journey.act("dispatcher", case_id, {"extension_decision": "approve"})
    page = journey.case(case_id)
    assert page["deadline_at"] == _local(2026, 3, 20, 18, 0)  # three more working days
    assert page["original_deadline_at"] == _local(2026, 3, 17, 18, 0) and page["extensions_count"] == 1
    assert journey.task("handler_power", case_id)["due_at"] == _local(2026, 3, 20, 18, 0)
    clock.set(_local(2026, 3, 17, 18, 1))  # the old deadline passes quietly
    run_pass(eng)
    assert journey.case(case_id)["flag"] is None
    clock.set(_local(2026, 3, 19, 9, 1))
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "yellow"
    clock.set(_local(2026, 3, 20, 18, 1))
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "red"
    assert _count(eng, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "extension") == 1


def test_a_refused_extension_keeps_the_deadline(journey, clock):
    case_id = _signed_case(journey, clock)
    _request_extension(journey, case_id)
    journey.act(
        "dispatcher", case_id, {"extension_decision": "refuse", "extension_comment": "请按原期限办结。"}
    )
    page = journey.case(case_id)
    assert page["deadline_at"] == _local(2026, 3, 17, 18, 0) and page["original_deadline_at"] is None
    assert page["status"] == "handling"


def test_extension_after_the_deadline_or_for_absurd_days_is_refused(eng, journey, clock):
    import pytest

    from engine.errors import ValidationFailed

    case_id = _signed_case(journey, clock)
    for days in (0, 365):
        with pytest.raises(ValidationFailed) as info:
            _request_extension(journey, case_id, days=days)
        assert "extension_days" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        _request_extension(journey, case_id, reason="")
    assert "extension_reason" in info.value.errors
    clock.set(_local(2026, 3, 17, 18, 1))
    with pytest.raises(ValidationFailed) as info:
        _request_extension(journey, case_id)
    assert "已超过办理期限" in info.value.errors["handling_step"]
    page = journey.case(case_id)
    assert page["status"] == "handling" and page["extensions_count"] == 0


def test_the_return_limit_sends_the_case_to_arbitration(journey, clock):
    clock.set(_local(2026, 3, 10, 9, 0))
    case_id = journey.register()["case_id"]
    for unit in ("market", "urban"):
        journey.dispatch(case_id, lead=unit)
        journey.act(
            f"handler_{unit}", case_id, {"sign_decision": "return", "return_reason": "不属于本单位职责"}
        )
    page = journey.case(case_id)
    assert page["returns_count"] == 2 and page["status"] == "arbitrating"
    journey.act(
        "manager", case_id, {"lead_unit": "power", "arbitration_note": "供电问题由市电业局牵头办理。"}
    )
    page = journey.case(case_id)
    assert page["status"] == "signing" and page["lead_unit"] == "市电业局（供电公司）"
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    assert journey.case(case_id)["status"] == "handling"


def test_the_ladder_department_to_city_leader_to_province(eng, journey, clock):
    import pytest

    from engine.errors import ValidationFailed

    case_id = _signed_case(journey, clock)
    with pytest.raises(ValidationFailed) as info:  # climbing needs a reason
        journey.act("handler_power", case_id, {"handling_step": "escalate"})
    assert "escalation_reason" in info.value.errors
    reason = "涉及多个部门权限，需市领导统筹协调。"
    journey.act("handler_power", case_id, {"handling_step": "escalate", "escalation_reason": reason})
    page = journey.case(case_id)
    assert page["tier"] == "city_leader" and page["status"] == "coordinating"
    climb = next(e for e in page["timeline"] if e["kind"] == "escalation")
    assert "部门办 → 市领导办" in climb["title"] and reason in climb["title"]
    journey.act(
        "leader",
        case_id,
        {"meeting_held": False, "leader_instructions": "电业局牵头，三日内拿出方案。", "lead_unit": "power"},
    )
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    journey.act(
        "handler_power",
        case_id,
        {"handling_step": "escalate", "escalation_reason": "电网改造需省级电力公司审批，市级无权决定。"},
    )
    page = journey.case(case_id)
    assert page["tier"] == "province" and page["status"] == "province"
    journey.act(
        "dispatcher",
        case_id,
        {"handed_to": "省电力公司", "handed_at": "2026-03-12", "reference_no": "省协〔2026〕12号"},
    )
    journey.act(
        "dispatcher",
        case_id,
        {"province_reply": "同意纳入年度电网改造计划。", "reply_date": "2026-03-20", "outcome": "resolved"},
    )
    page = journey.case(case_id)
    assert page["status"] == "revisiting" and page["outcome"] == "resolved"
    assert [e["title"] for e in page["timeline"] if e["kind"] == "escalation"][1].startswith(
        "问题升级：市领导办 → 省级协调"
    )


def test_black_flag_when_seriously_overdue_per_the_supervision_table(eng, journey, clock, actors):
    """紧急, department: deadline Tue 03-17 18:00; the supervision table's black_days = 4 working days after it →
    Mon 03-23 18:00 (before the escalation table's 5). The flag counts for the unit's quarterly interview level."""
    from engine.services import evaluation

    case_id = _signed_case(journey, clock)
    clock.set(_local(2026, 3, 23, 17, 59))
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "red"
    clock.set(_local(2026, 3, 23, 18, 1))
    run_pass(eng)
    page = journey.case(case_id)
    assert page["flag"] == "black" and page["status"] == "handling" and page["tier"] == "department"
    changed = _count(eng, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "flag_changed")
    assert changed == 3  # yellow, red, then black
    told = _count(eng, Notification, Notification.case_id == case_id, Notification.title.contains("黑旗"))
    assert told >= 2  # the unit and the supervisors
    run_pass(eng)  # a later pass does not flag it again
    assert _count(eng, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "flag_changed") == 3
    with eng.db.read() as session:
        [power] = [
            r for r in evaluation.quarter_figures(session, "2026-Q1") if r["unit"].startswith("市电业局")
        ]
    assert power["black_flags"] == 1


def test_feedback_before_the_black_moment_keeps_the_flag_red(eng, journey, clock):
    case_id = _signed_case(journey, clock)
    clock.set(_local(2026, 3, 20, 10, 0))  # late, but not yet seriously
    run_pass(eng)
    journey.act("handler_power", case_id, {"outcome": "resolved", "handling_actions": "已办结。"})
    clock.set(_local(2026, 3, 30, 9, 0))
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "red"
