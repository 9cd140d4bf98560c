"""Notifications: a new task notifies whoever can act on it; the bell counts; reading them; the API."""

from __future__ import annotations


def test_new_task_notifies_the_unit_and_the_bell_counts(client, auth, journey):
    case = journey.register()
    journey.dispatch(case["case_id"], lead="power")
    auth.login("handler_power")
    page = client.get("/tasks")
    assert 'id="bell-count"' in page.text
    listing = client.get("/notifications").text
    assert "新任务：签收" in listing and case["case_no"] in listing
    auth.logout()
    auth.login("handler_market")
    assert "新任务：签收" not in client.get("/notifications").text


def test_mark_read_clears_the_bell(client, auth, journey):
    journey.dispatch(journey.register()["case_id"], lead="power")
    auth.login("handler_power")
    assert client.post("/notifications/read", data={}).status_code == 302
    assert 'id="bell-count"' not in client.get("/tasks").text


def test_notifications_api(client, journey):
    journey.dispatch(journey.register()["case_id"], lead="power")
    token = client.post(
        "/api/v1/auth/token", json={"username": "handler_power", "password": "jienan2026"}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    unread = client.get("/api/v1/notifications?unread=1", headers=headers).json
    assert unread["total"] >= 1 and unread["items"][0]["kind"] == "task"
    bad = client.post("/api/v1/notifications/read", headers=headers, json={"notification_ids": "all"})
    assert bad.status_code == 422
    first = unread["items"][0]["notification_id"]
    assert client.post(
        "/api/v1/notifications/read", headers=headers, json={"notification_ids": [first]}
    ).json == {"marked": 1}
    assert client.get("/api/v1/notifications?unread=1", headers=headers).json["total"] == unread["total"] - 1
