"""Every response carries the browser-side protections, and the client address behind a reverse proxy is taken
only through the configured number of trusted proxies."""

from __future__ import annotations

import re

import pytest

from web import create_app
from web import public as public_view

GOOD = {
    "name": "网上申报测试有限公司",
    "credit_code": "91350400G4EFFB420Q",
    "field": "工业",
    "category": "融资",
    "title": "贷款续贷困难",
    "description": "银行抽贷，续贷困难，请求协调。",
    "contact_name": "陈伟",
    "contact_phone": "13800000000",
}


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr(public_view, "MIN_FILL_SECONDS", 0)


@pytest.mark.parametrize("path", ["/login", "/public/submit", "/api/v1/openapi.json", "/no-such-page"])
def test_every_response_has_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    )
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_inline_page_scripts_carry_this_responses_nonce(client, auth, journey):
    case_id = journey.register()["case_id"]
    auth.login("dispatcher")
    nonces = set()
    for path in (f"/cases/{case_id}", "/cases/new"):
        response = client.get(path)
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", response.text)
        assert scripts, path
        assert all(f'nonce="{nonce}"' in attrs for attrs in scripts), (path, scripts)
        assert not re.search(r"\son(click|submit|change|load)=", response.text)
        nonces.add(nonce)
    assert len(nonces) == 2  # a new nonce per response


def test_over_https_the_session_cookie_is_secure_and_hsts_is_sent(client, auth):
    response = client.post(
        "/login", data={"username": "dispatcher", "password": "jienan2026"}, base_url="https://localhost"
    )
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = client.post("/login", data={"username": "dispatcher", "password": "jienan2026"})
    assert "Secure" not in plain.headers.get("Set-Cookie", "")


def _submit(client, address: str):
    page = client.get("/public/submit", headers={"X-Forwarded-For": address})
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.text).group(1)
    return client.post("/public/submit", data={**GOOD, "stamp": stamp}, headers={"X-Forwarded-For": address})


def test_behind_one_trusted_proxy_each_visitor_has_their_own_limit(eng):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False, "TRUSTED_PROXIES": 1}, engine=eng
    )
    client = app.test_client()
    for _n in range(5):
        assert _submit(client, "203.0.113.7").status_code == 302
    assert _submit(client, "203.0.113.7").status_code == 429
    assert _submit(client, "198.51.100.9").status_code == 302  # another visitor behind the same proxy


def test_without_trusted_proxies_a_forwarded_address_is_ignored(client):
    for n in range(5):
        assert _submit(client, f"203.0.113.{n}").status_code == 302
    assert _submit(client, "198.51.100.9").status_code == 429  # the header cannot buy a fresh limit


def test_every_inline_script_in_the_templates_carries_the_nonce():
    """A page script without the nonce would be blocked by the CSP: catch it before a browser does."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "web" / "templates"
    offenders = [
        f"{path.relative_to(templates)}: {tag}"
        for path in templates.rglob("*.html")
        for tag in re.findall(r"<script\b[^>]*>", path.read_text(encoding="utf-8"))
        if "src=" not in tag and "application/json" not in tag and 'nonce="{{ csp_nonce() }}"' not in tag
    ]
    assert offenders == []
    handlers = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if re.search(r"\son[a-z]+=\"", path.read_text(encoding="utf-8"))
    ]
    assert handlers == []  # inline event handlers cannot run under the CSP: use data-* and app.js
