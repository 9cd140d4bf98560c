"""The top bar fits every role's screen: on a 1024–1920 px desktop, in Chinese and in English, nothing (the bell,
the language switch, the account menu) is pushed off the right edge; what does not fit wraps onto a second row."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

ROLES = ("admin", "manager", "dispatcher", "supervisor", "registrar", "handler_power", "designer", "leader")


@pytest.mark.parametrize("width", [1024, 1280, 1440, 1920])
def test_the_bar_fits_every_role_in_both_languages(browser, live_server, shot, width):
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": width, "height": 700}
    )
    try:
        page = context.new_page()
        for role in ROLES:
            login(page, role)
            for language in ("zh", "en"):
                switch = page.locator(f"nav button[name=lang][value={language}]")
                if switch.count():
                    with page.expect_navigation():
                        switch.click()
                overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                account = page.locator("nav .dropdown-toggle.d-flex").bounding_box()
                bell = page.locator("#bell").bounding_box()
                assert overflow <= 0, (role, language, width, overflow)
                assert account["x"] + account["width"] <= width and bell["x"] + bell["width"] <= width, (
                    role, language, width,
                )  # fmt: skip
                if role == "admin":
                    shot(page, f"{language}-{width}")
            with page.expect_navigation():
                page.locator("nav button[name=lang][value=zh]").click()
            page.context.clear_cookies()
    finally:
        context.close()
