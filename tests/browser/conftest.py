"""Browser fixtures: the app served on a real port (CSRF on), Debian's Chromium through Playwright, and
pages already logged in as a demo user. Screenshots go to test-artifacts/browser/<test>-<step>.png."""

from __future__ import annotations

import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from engine.demo.seed import DEMO_PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def app(eng):
    """The app as a browser gets it: CSRF protection on (the shared fixture turns it off)."""
    from web import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=eng)


@pytest.fixture
def live_server(app):
    """Serves `app` on 127.0.0.1 and a free port from a background thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Debian's chromium is not installed (no `chromium` on PATH)")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(phone=False): a fresh, logged-out browser context and page on the live server."""
    contexts = []
    refused = []  # what the Content-Security-Policy blocked: a page that needs it is a defect

    def watch(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(message.text)

    def make(phone: bool = False):
        options = dict(PHONE if phone else DESKTOP)
        context = browser.new_context(base_url=live_server, locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        return page

    yield make
    for context in contexts:
        context.close()
    assert refused == [], refused


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("#login-form #username", username)
    page.fill("#login-form #password", password)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    assert "/login" not in page.url, f"login as {username} failed"


@pytest.fixture
def page_as(new_page):
    """page_as(username, phone=False): a new context and page, logged in as that demo user."""

    def make(username: str, phone: bool = False):
        page = new_page(phone=phone)
        login(page, username)
        return page

    return make


@pytest.fixture
def shot(request, artifacts_dir):
    """shot(page, step): a full-page screenshot at test-artifacts/browser/<test>-<step>.png."""
    folder = artifacts_dir / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^\w.-]+", "_", request.node.name)

    def take(page, step: str):
        path = folder / f"{test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return take
