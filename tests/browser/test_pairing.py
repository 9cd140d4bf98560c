"""Pairing (包联) and plans (一企一策) in a real browser, as people use them: a leader following their enterprises on
a phone, the office importing the roster, the dispatcher getting the paired leader by default, a unit updating its
plan item on a phone. Screenshots in test-artifacts/browser/."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from engine.services import plans as plan_service
from engine.storage.models import Case
from tests.browser.test_journey import open_task
from tests.browser.test_journey import submit
from tests.roster import roster_row
from tests.roster import roster_xlsx

pytestmark = pytest.mark.browser
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide on a phone"


def _menu(page, item: str, phone: bool = False) -> None:
    """Open the 包联 menu of the navigation bar and follow one of its items."""
    if phone:
        page.click(".navbar-toggler")
    page.click("#nav-pairing")
    with page.expect_navigation():
        page.get_by_role("link", name=item, exact=True).click()


def test_a_leader_follows_their_enterprises_on_a_phone(eng, page_as, shot, journey, actors):
    journey.register(channel="走访", title="新厂区用电增容")
    journey.visit("杭叉集团", "2026-03-10")
    late = journey.register(
        enterprise_id=journey.enterprise_id("森源电缆"), channel="电话", title="出口退税慢"
    )
    with eng.db.transaction() as session:
        session.execute(update(Case).where(Case.case_id == late["case_id"]).values(flag="red"))
    plan_service.create_plan(
        eng,
        actors("manager"),
        {
            "enterprise_id": journey.enterprise_id(),
            "title": "杭叉集团2026年度一企一策",
            "items": [{"title": "用电增容", "owner_unit": "power", "status": "in_progress"}],
        },
    )

    page = page_as("leader", phone=True)
    _menu(page, "我包联的企业", phone=True)
    assert page.locator("h1").inner_text().startswith("我包联的企业")
    cards = page.locator("#mine-list [data-enterprise]")
    assert [cards.nth(i).get_attribute("data-enterprise") for i in range(cards.count())] == [
        "森源电缆",
        "杭叉集团",
    ]
    first = cards.nth(0)
    assert first.locator("[data-red]").inner_text().strip() == "红旗 1"
    assert "出口退税慢" in first.inner_text()
    assert "最近走访：2026-03-10" in cards.nth(1).inner_text()
    _fits_the_screen(page)
    shot(page, "01-my-enterprises-phone")

    with page.expect_navigation():
        cards.nth(1).get_by_role("link", name="杭叉集团").click()
    pairing = page.locator("#pairing")
    assert "市级领导结对" in pairing.inner_text() and "张明" in pairing.inner_text()
    assert "赵建华（董事长）" in pairing.inner_text()
    assert "2026-03-10" in page.locator("#last-visit").inner_text()
    assert "杭叉集团2026年度一企一策" in page.locator("#enterprise-plans").inner_text()
    assert page.locator("#pairing-add").count() == 0  # a leader does not edit the roster
    _fits_the_screen(page)
    shot(page, "02-enterprise-file-phone")

    page.goto("/pairings/mine")
    page.click(".navbar-toggler")
    page.click('button[name="lang"][value="en"]')
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("h1").inner_text().startswith("My enterprises")
    assert "City leader pairing" in page.locator("#mine-list").inner_text()
    shot(page, "03-my-enterprises-english")


def test_the_office_imports_the_roster_and_reads_the_figures(page_as, shot, tmp_path):
    page = page_as("manager")
    _menu(page, "包联名册")
    page.click("text=导入名册")
    page.wait_for_url("**/pairings/import")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        roster_xlsx(
            [
                roster_row("美临塑业", "县级领导包保", name="张明", account="leader"),
                roster_row("美临塑业", "企业负责人", name="美总", unit="列东街道"),
            ]
        )
    )
    page.set_input_files("#file", str(bad))
    submit(page, "#roster-form", expect=422)
    assert "没有导入任何包联" in page.locator("#import-result").inner_text()
    errors = page.locator("#row-errors").inner_text()
    assert "3" in errors and "单位一栏请留空" in errors
    shot(page, "01-roster-bad-row")

    good = tmp_path / "good.xlsx"
    good.write_bytes(
        roster_xlsx(
            [
                roster_row("美临塑业", "县级领导包保", name="张明", title="副市长", account="leader"),
                roster_row(
                    "美临塑业", "帮扶单位挂钩", unit="人力资源和社会保障局", name="冯局", title="局长"
                ),
                roster_row("美临塑业", "企业负责人", name="美总", phone="13800000001"),
            ]
        )
    )
    page.set_input_files("#file", str(good))
    submit(page, "#roster-form", expect=200)
    assert "已导入 3 条包联，涉及 1 家企业" in page.locator("#import-result").inner_text()
    shot(page, "02-roster-imported")

    page.goto("/pairings")
    page.fill('#roster-filter input[name="q"]', "美临")
    with page.expect_navigation():
        page.click("#roster-filter button[type=submit]")
    assert page.locator("#roster-list [data-pairing]").count() == 3
    assert "冯局（局长）" in page.locator("#roster-list").inner_text()
    shot(page, "03-roster")

    page.goto("/pairings/figures")
    assert page.locator("#fig-paired").inner_text() == "6"
    assert page.locator('#level-table tr[data-level="county_leader"] td').first.inner_text() == "1"
    page.click("text=按领导、干部")
    page.wait_for_url(re.compile(r"by=person"))
    assert "王芳" in page.locator("#figure-rows").inner_text()
    shot(page, "04-figures-by-person")

    page.goto("/pairings/levels")
    page.fill("#level-new-name", "园区服务专员")
    page.fill("#level-new-code", "park")
    page.select_option("#level-new-kind", "person")
    submit(page, "#level-new-form")
    assert "已保存包联层级“园区服务专员”" in page.locator("main").inner_text()
    assert page.locator('[data-level="park"]').count() == 1
    shot(page, "05-levels")


def test_the_dispatcher_gets_the_paired_leader_by_default(page_as, shot, journey):
    case = journey.register(title="新厂区用电增容")  # 杭叉集团, paired with 张明 (account `leader`)
    page = page_as("dispatcher")
    open_task(page, case["case_no"], "dispatch")
    assert page.locator("#task-form #f-responsible_leader").input_value() == "leader"
    card = page.locator("#case-pairing")
    assert "市级领导结对" in card.inner_text() and "包联领导" in card.inner_text()
    page.select_option("#task-form #f-lead_unit", "power")
    if page.locator("#task-form #f-time_limit_days").input_value() == "":
        page.fill("#task-form #f-time_limit_days", "10")
    shot(page, "01-dispatch-leader-preset")
    submit(page)
    page.goto(f"/cases/{case['case_id']}")
    facts = page.locator("dl").first.inner_text()
    assert "市领导 张明" in facts
    assert "张明" in page.locator("#case-pairing").inner_text()
    shot(page, "02-case-shows-pairing")


def test_a_unit_updates_its_plan_item_on_a_phone(eng, page_as, shot, journey, actors):
    case = journey.register(title="技改补贴申报")
    made = plan_service.create_plan(
        eng,
        actors("manager"),
        {
            "enterprise_id": journey.enterprise_id(),
            "title": "杭叉集团2026年度一企一策",
            "goal": "新厂区按期投产",
            "items": [
                {"title": "协调新厂区用电增容", "owner_unit": "power", "due_date": "2026-04-30"},
                {
                    "title": "指导申报智能化技改补贴",
                    "owner_unit": "econ",
                    "due_date": "2026-03-05",
                    "case_ids": [case["case_id"]],
                },
            ],
        },
    )
    page = page_as("handler_econ", phone=True)
    _menu(page, "一企一策", phone=True)
    row = page.locator(f'#plan-list [data-plan="{made["plan_id"]}"]')
    assert "逾期 1 项" in row.inner_text() and "0%" in row.inner_text()
    with page.expect_navigation():
        row.click()
    items = page.locator("#item-list [data-item]")
    assert items.count() == 1 and "指导申报智能化技改补贴" in items.first.inner_text()
    assert "协调新厂区用电增容" not in page.locator("main").inner_text()  # another unit's item
    assert items.first.locator("[data-overdue]").count() == 1
    _fits_the_screen(page)
    shot(page, "01-plan-unit-view-phone")

    items.first.get_by_role("button", name="更新进展").click()
    form = items.first.locator("form").first
    form.locator("select[name=status]").select_option("done")
    form.locator("textarea[name=progress_note]").fill("补贴材料已报送，经信局已受理。")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "已更新措施" in page.locator("main").inner_text()
    assert page.locator("#plan-progress .jn-progress").inner_text() == "100%"
    assert page.locator("#item-list [data-item]").first.get_attribute("data-status") == "done"
    assert "未开始 → 已完成" in page.locator("#plan-history").inner_text()
    _fits_the_screen(page)
    shot(page, "02-plan-item-done-phone")

    office = page_as("manager")
    office.goto(f"/plans/{made['plan_id']}")
    assert office.locator("#plan-progress .jn-progress").inner_text() == "50%"
    assert "补贴材料已报送" in office.locator("#item-list").inner_text()
    shot(office, "03-plan-office-view")
