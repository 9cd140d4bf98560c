"""Accounts under attack: wrong passwords are throttled per account and address (429 with Retry-After) without
locking a real user out for long, and sessions and tokens end on the server — logout, a password change, an
admin's or the user's own revoke."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.demo.seed import DEMO_PASSWORD
from engine.services import auth as auth_service
from engine.services import sessions
from web import create_app


def _login(client, username="dispatcher", password=DEMO_PASSWORD, address="198.51.100.1"):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_thirty_wrong_passwords_then_the_right_one_is_held_back(client, clock):
    answers = [_login(client, password=f"guess-{n}").status_code for n in range(30)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    held = _login(client)
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert "密码错误次数过多" in held.text
    clock.set(clock.now() + dt.timedelta(minutes=16))  # the wait ends by itself
    assert _login(client).status_code == 302


def test_the_api_token_endpoint_is_throttled_too(client):
    for n in range(5):
        response = client.post("/api/v1/auth/token", json={"username": "registrar", "password": f"x{n}"})
        assert response.status_code == 401
    held = client.post("/api/v1/auth/token", json={"username": "registrar", "password": DEMO_PASSWORD})
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert held.json["error"]["status"] == 429


def test_a_guesser_elsewhere_does_not_lock_the_real_user_out(client):
    for n in range(6):
        _login(client, password=f"guess-{n}", address="203.0.113.66")
    assert _login(client, address="203.0.113.66").status_code == 429
    assert _login(client, address="198.51.100.1").status_code == 302  # the user at their own desk


def test_the_wait_grows_with_more_guesses_but_stays_short(eng, clock):
    for n in range(12):
        try:
            sessions.log_in(eng, "manager", f"g{n}", "203.0.113.9")
        except Exception:  # noqa: BLE001 - throttled attempts count no further
            clock.set(clock.now() + dt.timedelta(minutes=1))
    with pytest.raises(sessions.RateLimited) as held:
        sessions.log_in(eng, "manager", DEMO_PASSWORD, "203.0.113.9")
    assert 0 < held.value.retry_after <= sessions.PAIR_MAX_WAIT + 1


def test_a_cookie_copied_before_logout_opens_nothing_after(app, client):
    assert _login(client).status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get("/tasks").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/tasks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_ends_the_other_sessions_and_login_tokens(app, client, eng, actors):
    other_device = app.test_client()
    assert _login(client, username="registrar").status_code == 302
    assert _login(other_device, username="registrar", address="198.51.100.2").status_code == 302
    login_token = client.post("/api/v1/auth/token", json={"username": "registrar", "password": DEMO_PASSWORD})
    login_token = login_token.json["token"]
    service = auth_service.issue_service_token(eng, actors("admin"), "registrar", "12345 热线", 30)["token"]
    weak = client.post("/account/password", data={"current_password": DEMO_PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and "至少 10 位" in weak.text
    wrong = client.post(
        "/account/password", data={"current_password": "nope", "new_password": "a-new-secret-1"}
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    changed = client.post(
        "/account/password", data={"current_password": DEMO_PASSWORD, "new_password": "a-new-secret-1"}
    )
    assert changed.status_code == 302
    assert client.get("/tasks").status_code == 200  # this device stays
    assert other_device.get("/tasks").status_code == 302  # the other one is out
    bearer = {"Authorization": f"Bearer {login_token}"}
    assert client.get("/api/v1/tasks", headers=bearer).status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {service}"}).status_code == 200
    assert auth_service.authenticate(eng, "registrar", "a-new-secret-1") is not None


def test_an_admin_ends_a_users_sessions(app, client):
    assert _login(client, username="handler_power").status_code == 302
    admin = app.test_client()
    assert _login(admin, username="admin", address="198.51.100.3").status_code == 302
    page = admin.get("/admin/tokens")
    assert page.status_code == 200 and "handler_power" in page.text
    assert admin.post("/admin/users/handler_power/sessions/revoke").status_code == 302
    assert client.get("/tasks").status_code == 302


def test_users_see_and_end_their_own_tokens_only(client, eng, actors):
    token = client.post("/api/v1/auth/token", json={"username": "registrar", "password": DEMO_PASSWORD}).json[
        "token"
    ]
    bearer = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/auth/tokens", headers=bearer).json["items"]
    assert [t["kind"] for t in mine if t["current"]] == ["login"]
    others = sessions.my_tokens(eng, actors("dispatcher"))
    other_id = (
        sessions.start_session(eng, actors("dispatcher")) and sessions.my_tokens(eng, actors("dispatcher"))[0]
    )
    assert client.delete(f"/api/v1/auth/tokens/{other_id['token_id']}", headers=bearer).status_code == 403
    assert len(sessions.my_tokens(eng, actors("dispatcher"))) == len(others) + 1
    assert client.post("/api/v1/auth/logout", headers=bearer).status_code == 204
    assert client.get("/api/v1/tasks", headers=bearer).status_code == 401


def test_the_account_page_lists_this_login(client):
    assert _login(client, username="supervisor").status_code == 302
    page = client.get("/account/")
    assert page.status_code == 200 and "本机" in page.text and "修改密码" in page.text


def test_throttling_counts_through_a_trusted_proxy(eng):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False, "TRUSTED_PROXIES": 1}, engine=eng
    )
    client = app.test_client()
    for n in range(5):
        client.post(
            "/login",
            data={"username": "leader", "password": f"g{n}"},
            headers={"X-Forwarded-For": "203.0.113.5"},
        )
    held = client.post(
        "/login",
        data={"username": "leader", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.5"},
    )
    assert held.status_code == 429
    other = client.post(
        "/login",
        data={"username": "leader", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.8"},
    )
    assert other.status_code == 302
