"""The black flag (严重超期) on the pages and in the API: inbox filter, case list filter and badge, live figures,
and the OpenAPI document's flag filter."""

from __future__ import annotations

import datetime as dt

from engine.domain.clock import LOCAL_TZ
from engine.worker import run_pass


def _black_case(journey, clock, eng):
    clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    case_id = journey.register()["case_id"]  # 紧急: black 4 working days after the deadline (Tue 03-17)
    journey.dispatch(case_id, lead="power", time_limit_days=5)
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    clock.set(dt.datetime(2026, 3, 23, 18, 1, tzinfo=LOCAL_TZ))
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "black"
    return journey.case(case_id)


def test_black_flag_shows_and_filters(client, auth, journey, clock, eng):
    case = _black_case(journey, clock, eng)
    auth.login("handler_power")
    inbox = client.get("/tasks?scope=unit&flag=black")
    assert inbox.status_code == 200 and case["case_no"] in inbox.text and 'data-flag="black"' in inbox.text
    assert case["case_no"] not in client.get("/tasks?scope=unit&flag=red").text
    auth.logout()
    auth.login("manager")
    listed = client.get("/cases?flag=black")
    assert listed.status_code == 200 and case["case_no"] in listed.text and "黑旗" in listed.text
    data = client.get("/figures/data.json?period=2026-Q1").json
    assert {f["key"]: f["count"] for f in data["live"]["flags"]} == {
        "green": 0,
        "yellow": 0,
        "red": 0,
        "black": 1,
    }
    assert client.get("/tasks?flag=purple").status_code == 200  # an unknown flag is ignored, never a 500


def test_openapi_lists_the_black_flag(client):
    doc = client.get("/api/v1/openapi.json").json
    [flag] = [p for p in doc["paths"]["/tasks"]["get"]["parameters"] if p["name"] == "flag"]
    assert flag["schema"]["enum"] == ["green", "yellow", "red", "black"]
