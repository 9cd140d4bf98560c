"""Numbers no column can hold and text no driver can encode are a clear 4xx that changes nothing, on the pages and
in the API: ids beyond 2^31 (PostgreSQL's integer) and 2^63 (SQLite's) are 404 in a path and 422 in a query or a
form, page numbers beyond 2^31 - 1 are 422, dates at the calendar's edge are 422, and a JSON body with an unpaired
surrogate or nested deeper than any request of ours is refused before any view. (NUL: tests/hostile/test_exports.py.)"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.storage.models import Enterprise
from engine.storage.models import Notification

# Just past PostgreSQL's integer, just past SQLite's, and far past both.
HUGE = [2**31, 2**63, 10**30]


@pytest.fixture
def api(client):
    tokens = {}

    def call(method: str, path: str, user: str = "dispatcher", **kwargs):
        if user not in tokens:
            login = client.post("/api/v1/auth/token", json={"username": user, "password": "jienan2026"})
            tokens[user] = login.json["token"]
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def _count(eng, model) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/cases/{n}"),
        ("GET", "/enterprises/{n}"),
        ("DELETE", "/auth/tokens/{n}"),
        ("GET", "/calendar/{n}"),
        ("PUT", "/calendar/{n}"),  # PUT and DELETE share the path with GET: 404 all the same
        ("DELETE", "/calendar/{n}"),
    ],
)
def test_an_api_id_beyond_any_column_is_404(api, method, path, number):
    response = api(method, path.format(n=number), user="admin", json={})
    assert response.status_code == 404, response.json
    assert response.json["error"]["status"] == 404


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    "path",
    ["/cases/{n}", "/cases/{n}/diagram.json", "/enterprises/{n}", "/attachments/{n}", "/design/versions/{n}"],
)
def test_a_page_id_beyond_any_column_is_404(client, auth, path, number):
    auth.login("designer" if path.startswith("/design") else "dispatcher")
    assert client.get(path.format(n=number)).status_code == 404


@pytest.mark.parametrize("number", HUGE)
def test_posting_to_an_id_beyond_any_column_is_404(client, auth, number):
    auth.login("dispatcher")
    assert client.post(f"/cases/{number}/link-report", data={"description": "又来反映"}).status_code == 404
    auth.login("admin")
    assert client.post(f"/admin/tokens/{number}/revoke").status_code == 404


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize("path", ["/cases", "/tasks", "/enterprises", "/notifications"])
def test_a_page_number_beyond_any_list_is_422(api, client, auth, path, number):
    answer = api("GET", f"{path}?page={number}")
    assert answer.status_code == 422 and "page" in answer.json["error"]["fields"]
    auth.login("dispatcher")
    assert client.get(f"{path}?page={number}").status_code == 422


@pytest.mark.parametrize("path", ["/cases", "/tasks", "/enterprises", "/notifications"])
def test_the_last_page_number_there_can_be_is_an_empty_page(api, path):
    answer = api("GET", f"{path}?page={2**31 - 1}&per_page=200")
    assert answer.status_code == 200 and answer.json["items"] == []


@pytest.mark.parametrize("number", HUGE)
def test_ids_beyond_any_column_in_queries_and_bodies_are_refused_or_name_nothing(api, eng, journey, number):
    assert api("GET", f"/cases?enterprise_id={number}").status_code == 422
    assert api("GET", f"/cases?unit={number}").status_code == 422
    assert api("GET", f"/figures?unit={number}").status_code == 422
    before = _count(eng, Notification)
    marked = api("POST", "/notifications/read", json={"notification_ids": [number]})
    assert marked.status_code == 200 and marked.json["marked"] == 0
    problem = {
        "enterprise_id": number,
        "channel": "走访",
        "field": "工业",
        "category": "水电气",
        "urgency": "一般",
        "title": "用电",
        "description": "用电问题。",
    }
    refused = api("POST", "/cases", user="registrar", json=problem)
    assert refused.status_code == 422 and "enterprise_id" in refused.json["error"]["fields"]
    with_file = {**problem, "enterprise_id": journey.enterprise_id(), "attachments": [number]}
    refused = api("POST", "/cases", user="registrar", json=with_file)
    assert refused.status_code == 422 and "attachments" in refused.json["error"]["fields"]
    assert api("GET", "/cases").json["total"] == 0 and _count(eng, Notification) == before


def test_dates_and_periods_at_the_calendars_edge_are_422(api, client, auth):
    for query in ("date_to=9999-12-31", "date_from=0001-01-01"):
        assert api("GET", f"/cases?{query}").status_code == 422
    for period in ("0000", "9999-Q4", "9999-12", "0000-01"):
        assert api("GET", f"/figures?period={period}").status_code == 422
    auth.login("manager")
    assert client.get("/dashboard?period=9999").status_code == 200  # the calendar's last day ends the trend


@pytest.mark.parametrize("number", HUGE)
def test_design_version_numbers_beyond_any_column_are_422(client, auth, number):
    auth.login("designer")
    assert client.get(f"/design/diff?old={number}&new=1").status_code == 422


def test_unicode_digits_are_not_numbers(client, auth, api):
    """str.isdigit() takes "²", which int() refuses: no such check is left to turn it into a 500."""
    auth.login("dispatcher")
    assert client.get("/cases?unit=²").status_code == 200  # a unit code that matches nothing
    assert client.get("/cases?figure=closed&unit=²").status_code == 422
    assert (
        client.post("/notifications/read", data={"notification_id": "²", "case_id": "²"}).status_code == 302
    )
    auth.login("admin")
    assert client.get("/admin/calendar/open?year=²").status_code == 302


def test_an_unpaired_surrogate_in_json_is_refused_before_any_query(api, client, eng):
    before = _count(eng, Enterprise)
    # json.dumps writes it as the escape \ud800, as a JSON client sends it; no driver can encode it
    body = json.dumps({"name": "某公司\ud800", "credit_code": "91350100M000100Y43"})
    created = api("POST", "/enterprises", user="registrar", data=body, content_type="application/json")
    assert created.status_code == 422 and "name" in created.json["error"]["fields"]
    login = json.dumps({"username": "dispatcher\ud800", "password": "x"})
    assert client.post("/api/v1/auth/token", data=login, content_type="application/json").status_code == 422
    listed = json.dumps({"notification_ids": [1], "\udfff": ["\ud800"]})
    assert api("POST", "/notifications/read", data=listed, content_type="application/json").status_code == 422
    assert _count(eng, Enterprise) == before
    assert api("GET", "/cases?q=%ED%A0%80").status_code == 200  # a query string is decoded with replacement


@pytest.mark.parametrize("depth", [40, 900, 100_000])  # past our bound, near Python's, past the parser's
def test_json_nested_deeper_than_any_request_of_ours_is_refused(api, client, depth):
    nested = "[" * depth + "]" * depth
    answer = client.post("/api/v1/auth/token", data=nested, content_type="application/json")
    assert answer.status_code == 422
    done = api(
        "POST", "/tasks/x/complete", data='{"data": {"a": ' + nested + "}}", content_type="application/json"
    )
    # the field is named when the parser could read the body; past its own depth the whole body ("") is
    assert done.status_code == 422 and set(done.json["error"]["fields"]) == {"data" if depth < 1000 else ""}
