"""Visit campaigns (走访) in a real browser: the office creates a campaign and reads its coverage; a cadre records a
visit on a 390 px phone — questionnaire, one problem found — from the inbox. Screenshots in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from engine.services import tasks as task_service

pytestmark = pytest.mark.browser


def _fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide on a phone"


def test_the_office_creates_a_campaign_and_reads_coverage(page_as, shot):
    page = page_as("manager")
    page.goto("/campaigns")
    with page.expect_navigation():
        page.click("#new-campaign")
    page.fill("#c-name", "2026年春季万人助万企走访")
    page.select_option("#c-form", "visit_survey")
    page.fill('input[name="wave-0-start"]', "2026-03-09")
    page.fill('input[name="wave-0-end"]', "2026-03-20")
    page.fill('input[name="wave-1-start"]', "2026-03-23")
    page.fill('input[name="wave-1-end"]', "2026-04-10")
    page.select_option('select[name="size"]', "规上")
    page.select_option("#c-level", label="助企干部")
    page.select_option("#c-unit", "econ")
    page.check("#c-launch")
    shot(page, "01-new-campaign")
    with page.expect_navigation():
        page.click("#campaign-form button[type=submit]")
    assert "2026年春季万人助万企走访" in page.locator("h1").inner_text()
    assert page.locator("#campaign-status").inner_text() == "进行中"
    in_scope = int(page.locator('[data-total="in_scope"]').inner_text())
    assert in_scope > 0
    assert page.locator('[data-total="visited"]').inner_text() == "0"
    assert page.locator("#coverage tbody tr").count() >= 1
    with page.expect_navigation():
        page.click('#coverage-tabs [data-group="cadre"]')
    assert (
        "王芳" in page.locator("#coverage").inner_text()
        or "经济和信息化局" in page.locator("#coverage").inner_text()
    )
    assert page.locator("#target-list [data-target]").count() == min(in_scope, 50)
    shot(page, "02-campaign-coverage")


def test_a_cadre_records_a_visit_on_a_phone(eng, actors, page_as, shot):
    from engine.services import visits

    visits.create_campaign(
        eng,
        actors("manager"),
        {
            "name": "春季走访",
            "form_key": "visit_survey",
            "start_date": "2026-03-09",
            "end_date": "2026-03-20",
            "scope": {"filters": {}},
            "assignment": {"mode": "pairing", "level": "cadre", "unit": "econ"},
            "launch": True,
        },
    )
    page = page_as("registrar", phone=True)
    page.goto("/tasks")
    task = page.locator('.jn-task-list [data-task="record_visit"]').first
    enterprise = task.inner_text()
    with page.expect_navigation():
        task.click()
    assert "/visits/task/" in page.url
    name = page.locator("#visit-enterprise h1").inner_text()
    assert name in enterprise
    _fits_the_screen(page)
    shot(page, "01-record-visit-phone")
    page.fill("#f-visitors", "王芳、李明")
    page.fill("#f-met_with", "赵建华 董事长")
    page.click('label[for="f-answers-operation-3"]')
    page.click('label[for="f-answers-orders_trend-3"]')
    page.select_option("#f-answers-main_need", "land")
    page.click('label[for="f-answers-policy_known-2"]')
    # Submitting "problems found" without a problem is refused, and nothing is lost from the form.
    page.click('label[for="f-findings-2"]')
    with page.expect_navigation():
        page.click("#submit-visit")
    assert "请至少登记一个问题" in page.locator("#findings").inner_text()
    assert page.locator("#f-visitors").input_value() == "王芳、李明"
    page.fill("#p0-title", "扩建用地指标")
    page.fill("#p0-description", "二期扩建需要 30 亩用地指标，希望纳入年度用地计划。")
    page.select_option("#p0-category", "用地")
    _fits_the_screen(page)
    shot(page, "02-record-visit-problem-phone")
    with page.expect_navigation():
        page.click("#submit-visit")
    assert "走访已记录，登记了 1 个问题" in page.locator(".alert-success").inner_text()
    left = [
        t
        for t in task_service.list_tasks(eng, actors("registrar"), per_page=200)["items"]
        if t["kind"] == "visit"
    ]
    assert name not in {t["enterprise_name"] for t in left}
    page.goto("/campaigns")
    with page.expect_navigation():
        page.click("#campaign-list [data-campaign]")
    assert page.locator('[data-total="visited"]').inner_text() == "1"
    assert page.locator('[data-total="problems"]').inner_text() == "1"
    _fits_the_screen(page)
    shot(page, "03-campaign-phone")


def test_an_enterprise_rates_the_departments_on_a_phone(eng, actors, journey, new_page, shot, monkeypatch):
    from engine.services import ratings
    from web import public as public_view

    monkeypatch.setattr(public_view, "MIN_FILL_SECONDS", 0)
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power", co_units=["market"])
    opened = ratings.open_round(
        eng,
        actors("manager"),
        {
            "name": "一季度企业评部门",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "closes_on": "2026-04-15",
        },
    )
    token = ratings.get_round(eng, actors("manager"), opened["round_id"])["links"][0]["token"]
    page = new_page(phone=True)
    page.goto(f"/rate/{token}")
    assert page.locator("#rating-form [data-unit]").count() == 2
    _fits_the_screen(page)
    shot(page, "01-rate-phone")
    first = page.locator("#rating-form [data-unit]").first
    first.locator("label").filter(has_text="5 · 很满意").click()
    first.locator("textarea").fill("上门服务，办理很快")
    with page.expect_navigation():
        page.click("#rating-form button[type=submit]")
    assert "感谢您的评价" in page.locator("#rating-done").inner_text()
    shot(page, "02-rated-phone")
