"""The figures page and the quarterly evaluation in Chromium: the manager reads the figures table and its
definitions, follows a number to its cases, starts last quarter's evaluation, reviews and publishes it; the
supervisor records the interview of the black-listed unit from a phone; a handler reads the published board. A
unit with nothing closed or revisited is unranked and the board says why (no on-time or satisfaction data).

Screenshots: test-artifacts/browser/test_*-NN-<step>.png."""

from __future__ import annotations

import datetime as dt


def _close(journey, case_id, lead="power"):
    journey.dispatch(case_id, lead=lead)
    journey.handle_to_revisit(case_id, lead=lead)
    journey.revisit(case_id, "satisfied")
    journey.act("dispatcher", case_id, {"closing_summary": "已解决，销号。"})


def test_figures_table_and_drill_down(page_as, shot, journey):
    closed = journey.register()
    _close(journey, closed["case_id"])
    waiting = journey.register(category="用地")
    page = page_as("manager")
    page.goto("/figures?period=2026-Q1")
    assert "2026年第1季度" in page.inner_text("#period-label")
    assert "50.0%" in page.inner_text("#figure-total")
    assert "办结率 = 已办结 ÷ 收集问题" in page.inner_text("#definitions")
    shot(page, "01-figures")
    page.click("#figure-total td:nth-child(3) a")  # 已办结 of the total row
    page.wait_for_url("**/cases?figure=closed*")
    assert page.inner_text("#case-total") == "1"
    assert closed["case_no"] in page.content() and waiting["case_no"] not in page.content()
    phone = page_as("manager", phone=True)
    phone.goto("/figures?period=2026-Q1&group=category")
    assert "水电气" in phone.inner_text("#figure-table")
    shot(phone, "02-figures-phone")


def test_manager_publishes_and_supervisor_interviews(page_as, shot, journey, clock):
    for _n in range(5):
        _close(journey, journey.register()["case_id"])
    for _n in range(4):
        journey.dispatch(journey.register()["case_id"], lead="market")
    for _n in range(
        5
    ):  # nothing closed or revisited: unranked with the reason, not 0 points on the black board
        journey.dispatch(journey.register()["case_id"], lead="urban")
    journey.close_late(clock, "market", dt.datetime(2026, 3, 19, 10, 0))  # closure 20 %, on time 0 %: 38.0
    clock.set(dt.datetime(2026, 4, 2, 10, 0))

    manager = page_as("manager")
    manager.goto("/evaluation/")
    manager.select_option("#start-evaluation select", "2026-Q1")
    manager.click("#start-evaluation button")
    manager.wait_for_url("**/evaluation/2026-Q1")
    assert "尚未发布" in manager.inner_text("#draft-note")
    assert "市场监督管理局" in manager.inner_text("#board-black")
    assert "市电业局（供电公司）" in manager.inner_text("#board-red")
    unranked = manager.inner_text("#board-unranked")
    assert "城市管理局" in unranked and "城市管理局" not in manager.inner_text("#board-black")
    assert "按时办结率（本季度没有办结的问题）、满意率（本季度没有回访）无数据" in unranked
    assert manager.inner_text("tr[data-unit='城市管理局'] td:nth-child(7)") == "无数据"  # 按时办结率
    shot(manager, "01-draft")
    manager.click("[data-task-link]")
    manager.click("label[for=f-decision-1]")  # 同意发布 (a button-style radio)
    manager.fill("textarea[name=review_note]", "一季度考评结果经活动办审定发布。")
    shot(manager, "02-review")
    manager.click("#task-form button[type=submit]")
    manager.wait_for_url("**/evaluation/2026-Q1")
    assert "发布时冻结的快照" in manager.inner_text("#published-note")

    supervisor = page_as("supervisor", phone=True)
    supervisor.goto("/tasks")
    supervisor.click("text=约谈：市场监督管理局（督查部门约谈）")
    supervisor.fill("input[name=interview_date]", "2026-04-03")
    supervisor.fill("input[name=interviewee]", "王局长（市场监督管理局局长）")
    supervisor.fill("textarea[name=interview_record]", "一季度牵头的 5 件问题只办结 1 件，且超过办理期限。")
    supervisor.fill("textarea[name=rectification]", "两周内全部办结，并报送整改报告。")
    shot(supervisor, "03-interview-phone")
    supervisor.click("#task-form button[type=submit]")
    supervisor.wait_for_url("**/evaluation/2026-Q1")
    assert "两周内全部办结" in supervisor.inner_text("#evaluation-events")

    handler = page_as("handler_power")
    handler.goto("/evaluation/2026-Q1")
    assert "市电业局（供电公司）" in handler.inner_text("#board-red")
    shot(handler, "04-published")
    manager.goto("/figures?period=2026")
    placements = manager.locator("#placements")
    placements.scroll_into_view_if_needed()
    row = manager.inner_text("#placement-table tr[data-unit='市场监督管理局']")
    assert row.split() == [
        "市场监督管理局",
        "0",
        "0",
        "1",
        "1",
        "1",
        "0",
        "0",
    ]  # black 1, interviewed by the office
    assert "家次" in manager.inner_text("#placements")
    shot(manager, "05-placements")
