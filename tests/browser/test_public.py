"""An enterprise on a phone reports a problem without an account and lands on its private tracking page."""

from __future__ import annotations

from web import public as public_view


def test_enterprise_reports_online_and_follows_its_case(new_page, shot, monkeypatch):
    monkeypatch.setattr(public_view, "MIN_FILL_SECONDS", 0)
    page = new_page(phone=True)
    page.goto("/login")
    page.click("text=网上申报")
    page.fill("#p-name", "网上申报测试有限公司")
    page.fill("#p-credit_code", "91350400G4EFFB420Q")
    page.select_option("#p-field", "工业")
    page.select_option("#p-category", "融资")
    page.fill("#p-title", "贷款续贷困难")
    page.fill("#p-description", "银行抽贷，续贷困难，请求协调。<b>加急</b>")
    page.fill("#p-contact_name", "陈伟")
    page.fill("#p-contact_phone", "13800000000")
    shot(page, "01-form")
    page.click("#public-form button[type=submit]")
    page.wait_for_url("**/public/track/**")
    assert "已受理" in page.locator("main").inner_text()
    assert "<b>加急</b>" in page.locator("main").inner_text()  # markup shown as text
    assert page.locator("#milestones li").count() == 1
    shot(page, "02-tracking")
