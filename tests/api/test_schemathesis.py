"""Schemathesis against /api/v1/openapi.json, through the app's WSGI interface (no network), once per role.

Every operation gets examples generated from the document, valid ones and invalid ones, and answers must be no
server error, a documented status code and content type, and a body matching the documented schema. Operations
on one record also run against the records the seeded database has (random ids mostly miss them). Bounded and
deterministic: a fixed number of examples per operation and mode, derandomised, no example database.

Run alone: ./test.sh -m schemathesis  (add TEST_DATABASE_URL=… for PostgreSQL).
"""

from __future__ import annotations

import io
import os

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from engine.demo.seed import DEMO_PASSWORD
from engine.services import evaluation

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Who calls: a token of each kind of user the API serves, and nobody (every operation but the login is 401).
ROLES = ("registrar", "dispatcher", "handler_power", "manager", "admin", None)
# Per operation, mode and role: about 2,000 requests in all, a minute or two on two cores. A deeper run for
# hunting: JIENAN_SCHEMATHESIS_EXAMPLES=100 ./test.sh -m schemathesis
EXAMPLES = int(os.environ.get("JIENAN_SCHEMATHESIS_EXAMPLES", "8"))
CREDIT_CODE = "91350100M000100Y43"
HOLIDAYS_2031 = {
    "reference": "测试用·非官方",
    "holidays": [{"date": "2031-01-01", "end": "2031-01-03", "name": "元旦（测试）"}],
    "workdays": ["2031-01-04"],
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

pytestmark = pytest.mark.schemathesis


@pytest.fixture
def seeded(journey, actors, eng):
    """Cases at several steps of the loop (so lists, case pages and inboxes have something in them) and last
    quarter's evaluation waiting for the manager's review."""
    waiting = journey.register()
    dispatched = journey.register(title="招工难", category="用工/人才")
    journey.dispatch(dispatched["case_id"])
    revisiting = journey.register(title="融资难", category="融资")
    journey.dispatch(revisiting["case_id"])
    journey.handle_to_revisit(revisiting["case_id"])
    evaluation.start_now(eng, actors("manager"), "2025-Q4")
    return {"case_id": [waiting["case_id"], dispatched["case_id"], revisiting["case_id"]]}


def _ends_tokens(operation) -> bool:
    """Logging out and revoking tokens (a random id may be the caller's own) come last: after them the caller's
    token may be gone, and every answer a documented 401."""
    return operation.path in ("/auth/logout", "/auth/tokens/{token_id}")


def _strategies(operation, known: dict):
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]
    for name, values in known.items():
        if any(p.name == name for p in operation.path_parameters):
            strategies += [operation.as_strategy(path_parameters={name: value}) for value in values]
    return strategies


# Schemathesis's WSGI transport reads a streamed download (an .xlsx export spooled to a temporary file) without
# closing the response, as a WSGI server would: the spool is then closed by the garbage collector.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__:pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
def test_every_answer_matches_the_document(app, client, seeded, journey, role):
    headers = {}
    known = dict(seeded, enterprise_id=[journey.enterprise_id()])
    if role:
        login = client.post("/api/v1/auth/token", json={"username": role, "password": DEMO_PASSWORD})
        headers["Authorization"] = f"Bearer {login.json['token']}"
        inbox = client.get("/api/v1/tasks?per_page=5", headers=headers).json["items"]
        known["task_id"] = [task["task_id"] for task in inbox[:2]]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    for operation in sorted((r.ok() for r in schema.get_all_operations()), key=_ends_tokens):
        for strategy in _strategies(operation, known):

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                check()
            except (AssertionError, BaseExceptionGroup) as exc:  # every operation's failures, not the first
                failures.append(f"{operation.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)


def test_successful_answers_match_the_document(app, client, seeded, journey):
    """Generated requests rarely succeed (a valid credit code, a task's form, a holiday schedule), so the answers
    of a real run through the API are checked against the document too: login, tokens, an enterprise, an upload,
    a case registered, retried and dispatched, tasks, figures, notifications, a year's holidays, logout."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tokens = {}

    def token(user):
        if user not in tokens:
            login = schema["/auth/token"]["POST"].Case(body={"username": user, "password": DEMO_PASSWORD})
            tokens[user] = login.call_and_validate(checks=CHECKS).json()["token"]
        return tokens[user]

    def call(user, method, path, expect, **parts):
        headers = {"Authorization": f"Bearer {token(user)}", **parts.pop("headers", {})}
        response = schema[path][method].Case(headers=headers, **parts).call_and_validate(checks=CHECKS)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def send_file(user, template, expect, data, **path_parameters):
        """Schemathesis names a file part after its field ("file", no extension: refused), so the test client
        sends files, and its answer is checked the same way."""
        sent = client.post(
            "/api/v1" + template.format(**path_parameters),
            headers={"Authorization": f"Bearer {token(user)}"},
            data=data,
        )
        case = schema[template]["POST"].Case(
            path_parameters=path_parameters, media_type="multipart/form-data"
        )
        case.validate_response(sent, checks=CHECKS)
        assert sent.status_code == expect, sent.json
        return sent.json

    call(
        "admin",
        "POST",
        "/auth/service-tokens",
        201,
        body={"username": "registrar", "name": "热线", "days": 30},
    )
    call("admin", "POST", "/auth/service-tokens", 201, body={"username": "registrar", "name": "小程序"})
    enterprise = call(
        "registrar", "POST", "/enterprises", 201, body={"name": "某公司", "credit_code": CREDIT_CODE}
    )
    call("registrar", "GET", "/enterprises/{enterprise_id}", 200, path_parameters=enterprise)
    upload = send_file("registrar", "/attachments", 201, {"file": (io.BytesIO(PNG), "现场.png")})
    problem = {
        "enterprise_id": enterprise["enterprise_id"],
        "channel": "12345热线",
        "field": "工业",
        "category": "水电气",
        "urgency": "特急",
        "title": "厂区断电",
        "description": "施工挖断高压线路，厂区断电。",
        "attachments": [upload["attachment_id"]],
    }
    key = {"Idempotency-Key": "hotline-1"}
    case = call("registrar", "POST", "/cases", 201, body=problem, headers=key)
    assert call("registrar", "POST", "/cases", 200, body=problem, headers=key)["replayed"] is True
    call("registrar", "POST", "/cases", 409, body={**problem, "title": "另一件事"}, headers=key)
    call("handler_power", "GET", "/cases/{case_id}", 403, path_parameters={"case_id": case["case_id"]})
    dispatch = next(
        t for t in call("dispatcher", "GET", "/tasks", 200)["items"] if t["case_id"] == case["case_id"]
    )
    task = call(
        "dispatcher", "GET", "/tasks/{task_id}", 200, path_parameters={"task_id": dispatch["task_id"]}
    )
    form = {"tier": "department", "lead_unit": "power", "time_limit_days": 1}
    done = {"data": form, "lock_version": task["lock_version"]}
    call("dispatcher", "POST", "/tasks/{task_id}/complete", 200, path_parameters=task, body=done)
    call("dispatcher", "POST", "/tasks/{task_id}/complete", 409, path_parameters=task, body=done)
    call("dispatcher", "GET", "/tasks/{task_id}", 409, path_parameters={"task_id": task["task_id"]})
    detail = call(
        "handler_power", "GET", "/cases/{case_id}", 200, path_parameters={"case_id": case["case_id"]}
    )
    assert detail["attachments"] and detail["current_tasks"]
    review = call("manager", "GET", "/tasks", 200, query={"scope": "mine"})["items"][0]
    assert review["kind"] == "evaluation"
    call("manager", "GET", "/tasks/{task_id}", 200, path_parameters={"task_id": review["task_id"]})
    call("dispatcher", "GET", "/cases", 200, query={"q": "断电", "figure": "collected", "period": "2026-Q1"})
    call("dispatcher", "GET", "/figures", 200, query={"group": "unit", "period": "2026-Q1"})
    call("handler_power", "GET", "/figures", 200, query={"group": "tier", "role": "co"})
    unread = call("handler_power", "GET", "/notifications", 200, query={"unread": "1"})["items"]
    ids = [n["notification_id"] for n in unread]
    assert call("handler_power", "POST", "/notifications/read", 200, body={"notification_ids": ids})["marked"]

    year = {"year": 2031}
    call("admin", "GET", "/calendar", 200)
    assert call("admin", "PUT", "/calendar/{year}", 200, path_parameters=year, body=HOLIDAYS_2031)["changed"]
    assert not call("admin", "PUT", "/calendar/{year}", 200, path_parameters=year, body=HOLIDAYS_2031)[
        "changed"
    ]
    assert call("admin", "GET", "/calendar/{year}", 200, path_parameters=year)["history"]
    csv = "日期,类型\n2031-01-01,放假\n".encode()
    data = {"reference": "测试2", "file": (io.BytesIO(csv), "a.csv")}
    assert send_file("admin", "/calendar/{year}/import", 200, data, **year)["action"] == "updated"
    assert call("admin", "DELETE", "/calendar/{year}", 200, path_parameters=year)["action"] == "removed"
    call("admin", "DELETE", "/calendar/{year}", 404, path_parameters=year)

    mine = call("dispatcher", "GET", "/auth/tokens", 200)["items"]
    assert [t["current"] for t in mine] == [True]
    call("registrar", "DELETE", "/auth/tokens/{token_id}", 403, path_parameters=mine[0])
    call("admin", "DELETE", "/auth/tokens/{token_id}", 204, path_parameters=mine[0])
    call("dispatcher", "GET", "/auth/tokens", 401)
    call("registrar", "POST", "/auth/logout", 204)
    call("registrar", "GET", "/cases", 401)
