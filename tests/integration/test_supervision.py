"""Deadlines, flags and supervision running on the clock (time travel through an injectable clock)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlalchemy import select

from engine.clock import LOCAL_TZ
from engine.models import CaseEvent
from engine.models import HumanTask
from engine.models import Notification
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
