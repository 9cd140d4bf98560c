"""A supervisor sees the red (overdue) case, opens it and issues the supervision order."""

from __future__ import annotations

import datetime as dt

from engine.domain.clock import LOCAL_TZ
from engine.worker import run_pass
from tests.browser.test_journey import choose
from tests.browser.test_journey import open_task
from tests.browser.test_journey import submit


def test_supervisor_issues_the_order_on_a_red_case(eng, page_as, shot, journey, clock):
    clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    case = journey.register(title="厂区断电急需恢复")
    journey.dispatch(case["case_id"], lead="power", time_limit_days=5)
    journey.act("handler_power", case["case_id"], {"sign_decision": "sign"})
    clock.set(dt.datetime(2026, 3, 18, 9, 0, tzinfo=LOCAL_TZ))  # past Tuesday 17th's deadline
    run_pass(eng)

    supervisor = page_as("supervisor")
    supervisor.goto("/tasks")
    row = supervisor.locator(f'[data-case="{case["case_no"]}"][data-task="supervise"]')
    assert row.count() == 1 and row.locator('[data-flag="red"]').count() == 1
    assert supervisor.locator("#bell-count").count() == 1
    shot(supervisor, "01-inbox-red")
    open_task(supervisor, case["case_no"], "supervise", scopes=("mine",))
    choose(supervisor, "supervision_step", "order")
    supervisor.fill("#task-form #f-supervision_order", "请市电业局于3月19日前反馈恢复供电方案。")
    shot(supervisor, "02-supervision-order")
    submit(supervisor)

    supervisor.goto(f"/cases/{case['case_id']}")
    timeline = supervisor.locator("#timeline").inner_text()
    assert "完成“督办”" in timeline and "亮红旗" in timeline and "3月19日前反馈" in timeline
    supervisor.goto("/cases?flag=red")
    assert case["case_no"] in supervisor.locator("table").inner_text()
    shot(supervisor, "03-case-list-red")


def test_overdue_case_climbs_to_the_leader_and_the_late_feedback_is_refused(
    eng, page_as, shot, journey, clock
):
    clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    case = journey.register(title="园区道路断头路影响货车通行", urgency="紧急")
    journey.dispatch(case["case_id"], lead="power", time_limit_days=5)  # deadline Tue 03-17 18:00
    journey.act("handler_power", case["case_id"], {"sign_decision": "sign"})
    clock.set(dt.datetime(2026, 3, 18, 9, 0, tzinfo=LOCAL_TZ))
    run_pass(eng)

    handler = page_as("handler_power", phone=True)
    handler.goto("/tasks?scope=unit&flag=red")
    assert handler.locator(f'[data-case="{case["case_no"]}"][data-task="handle"]').count() == 1
    shot(handler, "01-handler-red-filter")
    open_task(handler, case["case_no"], "handle")
    choose(handler, "handling_step", "feedback")
    choose(handler, "outcome", "resolved")
    handler.fill("#task-form #f-handling_actions", "已协调施工单位打通道路。")
    # While the page is open the case passes the escalation moment (escalation.dmn: 紧急 → 5 working days).
    clock.set(dt.datetime(2026, 3, 25, 9, 0, tzinfo=LOCAL_TZ))
    run_pass(eng)
    submit(handler, expect=409)
    message = handler.locator("main").inner_text()
    assert "已超过时限" in message and "没有保存" in message
    shot(handler, "02-late-feedback-refused")

    leader = page_as("leader")
    open_task(leader, case["case_no"], "leader_coordinate", scopes=("mine",))
    leader.goto(f"/cases/{case['case_id']}")
    timeline = leader.locator("#timeline").inner_text()
    assert "问题升级：部门办 → 市领导办" in timeline and "按超期升级规则自动升级" in timeline
    assert "任务“办理反馈”已由流程中止" in timeline
    assert "市领导办" in leader.locator("main").inner_text()
    shot(leader, "03-leader-sees-the-climb")
