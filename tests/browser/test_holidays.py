"""An admin enters next year's holiday schedule in the browser: the warning goes away and an open deadline that
crossed into that year is counted again, with the change on the case's record.

The 2027 schedule here is made up for the test (two ordinary January weekdays off, a Saturday worked, reference
marked 测试用·非官方): it is not the official 2027 schedule, which had not been published when this was written.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engine.domain.clock import LOCAL_TZ
from tests.browser.test_journey import submit

pytestmark = pytest.mark.browser

REFERENCE = "测试用·非官方（浏览器测试）"
FAKE_DAYS_OFF = "2027-01-04~2027-01-05 测试假日（非官方）"
FAKE_WORKDAY = "2027-01-09 测试假日（非官方）"


def test_admin_enters_next_year_and_the_warning_goes(eng, page_as, shot, journey, clock):
    clock.set(dt.datetime(2026, 12, 7, 9, 0, tzinfo=LOCAL_TZ))  # a Monday in December: 2027 not yet known
    case = journey.register(title="年底厂房扩建用电增容")
    journey.dispatch(case["case_id"], lead="power", time_limit_days=20)
    journey.act("handler_power", case["case_id"], {"sign_decision": "sign"})

    admin = page_as("admin")
    warning = admin.locator("#calendar-warning")
    assert "2027 年的法定节假日安排尚未录入" in warning.inner_text()
    shot(admin, "01-inbox-warns")

    admin.goto(f"/cases/{case['case_id']}")
    # 20 working days from Monday 7 December, Friday 1 January counted like any weekday: Monday 4 January.
    assert admin.locator("#case-deadline").inner_text() == "2027-01-04 18:00"
    assert admin.locator("dd:has(#case-deadline) [data-estimated]").count() == 1
    assert admin.locator("#current-tasks [data-estimated]").count() == 1  # the handling task's due time
    shot(admin, "02-case-deadline-estimated")

    admin.goto("/tasks")
    admin.click("#calendar-warning a")
    assert admin.url.endswith("/admin/calendar/2027")
    assert admin.locator("#year-source").get_attribute("data-source") == "estimated"
    admin.fill("#c-reference", REFERENCE)
    admin.fill("#c-holidays", FAKE_DAYS_OFF + "\n2027-02-30 测试")
    admin.fill("#c-workdays", FAKE_WORKDAY)
    submit(admin, "#calendar-form", expect=422)
    errors = admin.locator("#row-errors").inner_text()
    assert "放假日期第 2 行" in errors and "“2027-02-30”不是有效的日期" in errors
    assert admin.locator("#year-source").get_attribute("data-source") == "estimated"
    shot(admin, "03-bad-line-named")

    admin.fill("#c-holidays", FAKE_DAYS_OFF)
    submit(admin, "#calendar-form")
    body = admin.locator("main").inner_text()
    assert "已保存 2027 年节假日安排：放假 2 天，调休上班 1 天；重算了 1 件诉求的期限" in body
    assert admin.locator("#calendar-warning").count() == 0
    assert admin.locator("#year-source").get_attribute("data-source") == "entered"
    assert admin.locator("#year-reference").inner_text() == REFERENCE
    assert "录入2027年节假日安排" in admin.locator("#calendar-history").inner_text()
    shot(admin, "04-year-entered")

    admin.goto("/admin/calendar")
    assert admin.locator("#calendar-warning").count() == 0
    assert admin.locator('tr[data-year="2027"]').get_attribute("data-source") == "entered"
    shot(admin, "05-years")
    admin.goto("/dashboard")
    assert admin.locator("#calendar-warning").count() == 0

    admin.goto(f"/cases/{case['case_id']}")
    # Monday 4 and Tuesday 5 January are off now: the 20th working day is Wednesday 6 January.
    assert admin.locator("#case-deadline").inner_text() == "2027-01-06 18:00"
    assert admin.locator("main [data-estimated]").count() == 0
    timeline = admin.locator("#timeline").inner_text()
    assert f"按2027年节假日安排（{REFERENCE}）重算办理期限：2027-01-04 18:00 → 2027-01-06 18:00" in timeline
    shot(admin, "06-case-deadline-recounted")

    handler = page_as("handler_power", phone=True)
    handler.goto("/notifications")
    assert "重算办理期限" in handler.locator("main").inner_text()
    shot(handler, "07-handler-told")
