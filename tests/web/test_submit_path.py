"""A task submitted from its page takes the API's path: the workflow is loaded once, and the request runs no more
SQL statements than the same submission through the JSON API."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from engine.storage import versions
from engine.storage.models import RuleVersion
from engine.workflow import runtime

DISPATCH = {
    "tier": "department",
    "lead_unit": "power",
    "time_limit_days": "5",
    "dispatch_note": "请按时办理",
}


@contextlib.contextmanager
def counting(eng, monkeypatch):
    """Counts SQL statements and workflow deserialisations while the block runs."""
    seen = {"statements": 0, "loads": 0}

    def statement(*_args):
        seen["statements"] += 1

    real_loads = runtime.loads

    def loads(*args, **kwargs):
        seen["loads"] += 1
        return real_loads(*args, **kwargs)

    monkeypatch.setattr(runtime, "loads", loads)
    event.listen(eng.db.engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(eng.db.engine, "before_cursor_execute", statement)
        monkeypatch.setattr(runtime, "loads", real_loads)


def warm_rule_tables(eng) -> None:
    """Parse the live rule tables as a running process has already (a dispatch runs the supervision table)."""
    with eng.db.read() as session:
        for decision_id in ("triage", "supervision", "escalation"):
            version_id = versions.active_version_id(session, "rules", decision_id)
            eng.rules.table_of(version_id, lambda v=version_id: session.get(RuleVersion, v))


@pytest.fixture
def two_dispatch_tasks(journey):
    cases = [journey.register()["case_id"] for _n in range(2)]
    return [(case_id, journey.task("dispatcher", case_id)["task_id"]) for case_id in cases]


def test_a_page_submit_loads_the_workflow_once_and_costs_no_more_than_the_api(
    eng, client, auth, two_dispatch_tasks, monkeypatch
):
    (web_case, web_task), (api_case, api_task) = two_dispatch_tasks
    token = client.post("/api/v1/auth/token", json={"username": "dispatcher", "password": "jienan2026"})
    token = token.json["token"]
    auth.login("dispatcher")
    client.get("/tasks")  # the session is warm, as it is for someone working through their inbox
    eng.calendar.schedules()  # and so is the process's cache of the entered holiday schedules
    monkeypatch.setattr(eng.forms, "REFRESH_SECONDS", 3600)  # and of the live forms (re-read every 2 s)
    warm_rule_tables(eng)

    with counting(eng, monkeypatch) as web:
        response = client.post(f"/tasks/{web_task}", data=DISPATCH)
    assert response.status_code == 302, response.data
    with counting(eng, monkeypatch) as api:
        response = client.post(
            f"/api/v1/tasks/{api_task}/complete",
            json={"data": {**DISPATCH, "time_limit_days": 5}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.json

    assert web["loads"] == api["loads"] == 1
    assert web["statements"] <= api["statements"], (web, api)
    assert response.json["case_id"] == api_case
    assert client.get(f"/cases/{web_case}").status_code == 200
