"""The JSON API: tokens, cases, tasks, enterprises, attachments, and the 4xx answers."""

from __future__ import annotations

import io

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def api(client):
    class Api:
        def token(self, username: str, password: str = "jienan2026") -> str:
            response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
            assert response.status_code == 200, response.json
            return response.json["token"]

        def call(self, method: str, path: str, user: str | None = None, token: str | None = None, **kwargs):
            headers = dict(kwargs.pop("headers", {}))
            if user or token:
                headers["Authorization"] = f"Bearer {token or self.token(user)}"
            return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return Api()


def test_token_required_and_wrong_password(api):
    assert api.call("GET", "/cases").status_code == 401
    assert api.call("GET", "/cases", token="nonsense").status_code == 401
    response = api.call("POST", "/auth/token", json={"username": "dispatcher", "password": "x"})
    assert response.status_code == 401 and response.json["error"]["message"]


def test_full_loop_over_the_api(api, journey):
    registrar, dispatcher = api.token("registrar"), api.token("dispatcher")
    handler = api.token("handler_power")
    created = api.call(
        "POST",
        "/cases",
        token=registrar,
        json={
            "enterprise_id": journey.enterprise_id(),
            "channel": "12345热线",
            "field": "工业",
            "category": "水电气",
            "urgency": "特急",
            "title": "厂区断电",
            "description": "施工挖断高压线路，厂区断电。",
        },
    )
    assert created.status_code == 201, created.json
    case_id = created.json["case_id"]
    assert created.json["tier"] == "department" and created.json["time_limit_days"] == 1

    def my_task(token, scope="mine"):
        items = api.call("GET", f"/tasks?scope={scope}", token=token).json["items"]
        return next(t for t in items if t["case_id"] == case_id)

    task = api.call("GET", f"/tasks/{my_task(dispatcher)['task_id']}", token=dispatcher).json
    assert task["form_schema"]["$id"] == "dispatch" and task["values"]["tier"] == "department"
    done = api.call(
        "POST",
        f"/tasks/{task['task_id']}/complete",
        token=dispatcher,
        json={
            "data": {"tier": "department", "lead_unit": "power", "time_limit_days": 1},
            "lock_version": task["lock_version"],
        },
    )
    assert done.status_code == 200 and done.json["status"] == "signing"
    again = api.call(
        "POST",
        f"/tasks/{task['task_id']}/complete",
        token=dispatcher,
        json={"data": {"tier": "department", "lead_unit": "power", "time_limit_days": 1}},
    )
    assert again.status_code == 409
    sign = my_task(handler, "unit")
    assert (
        api.call(
            "POST",
            f"/tasks/{sign['task_id']}/complete",
            token=handler,
            json={"data": {"sign_decision": "sign"}},
        ).status_code
        == 200
    )
    upload = api.call(
        "POST",
        "/attachments",
        token=handler,
        data={"file": (io.BytesIO(PNG), "photo.png")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    feedback = my_task(handler, "unit")
    response = api.call(
        "POST",
        f"/tasks/{feedback['task_id']}/complete",
        token=handler,
        json={
            "data": {
                "outcome": "resolved",
                "handling_actions": "一小时内恢复供电。",
                "attachments": [upload.json["attachment_id"]],
            }
        },
    )
    assert response.status_code == 200, response.json
    case = api.call("GET", f"/cases/{case_id}", token=dispatcher).json
    assert case["status"] == "verifying" and case["attachments"][0]["filename"] == "photo.png"
    assert case["deadline_at"].endswith("+00:00")


def test_complete_answers_422_403_404(api, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")
    task_id = journey.task("handler_power", case_id)["task_id"]
    bad = api.call(
        "POST", f"/tasks/{task_id}/complete", user="handler_power", json={"data": {"sign_decision": "return"}}
    )
    assert bad.status_code == 422 and "return_reason" in bad.json["error"]["fields"]
    undeclared = api.call(
        "POST",
        f"/tasks/{task_id}/complete",
        user="handler_power",
        json={"data": {"sign_decision": "sign", "is_admin": True}},
    )
    assert undeclared.status_code == 422 and "is_admin" in undeclared.json["error"]["fields"]
    wrong_type = api.call("POST", f"/tasks/{task_id}/complete", user="handler_power", json={"data": "sign"})
    assert wrong_type.status_code == 422
    other = api.call(
        "POST", f"/tasks/{task_id}/complete", user="handler_market", json={"data": {"sign_decision": "sign"}}
    )
    assert other.status_code == 403
    assert api.call("GET", f"/cases/{case_id}", user="handler_market").status_code == 403
    unknown = api.call(
        "POST",
        "/tasks/00000000-0000-0000-0000-000000000000/complete",
        user="handler_power",
        json={"data": {}},
    )
    assert unknown.status_code == 404
    garbage = api.call(
        "POST",
        f"/tasks/{task_id}/complete",
        user="handler_power",
        data="{not json",
        content_type="application/json",
    )
    assert garbage.status_code == 422


def test_enterprises_api_checks_credit_code(api):
    token = api.token("registrar")
    bad = api.call("POST", "/enterprises", token=token, json={"name": "某公司", "credit_code": "123"})
    assert bad.status_code == 422 and "credit_code" in bad.json["error"]["fields"]
    ok = api.call(
        "POST", "/enterprises", token=token, json={"name": "某公司", "credit_code": "91350100M000100Y43"}
    )
    assert ok.status_code == 201
    dup = api.call(
        "POST", "/enterprises", token=token, json={"name": "另一家", "credit_code": "91350100M000100Y43"}
    )
    assert dup.status_code == 422
    found = api.call("GET", "/enterprises?q=某公司", token=token).json
    assert found["total"] == 1
    file = api.call("GET", f"/enterprises/{ok.json['enterprise_id']}", token=token).json
    assert file["cases"] == []


def test_create_case_with_unknown_enterprise_or_bad_fields(api):
    token = api.token("registrar")
    response = api.call(
        "POST",
        "/cases",
        token=token,
        json={
            "enterprise_id": 999999,
            "channel": "飞鸽",
            "field": "工业",
            "category": "用地",
            "urgency": "一般",
            "title": "t",
            "description": "d",
        },
    )
    assert response.status_code == 422
    assert "channel" in response.json["error"]["fields"]
    handler = api.call("POST", "/cases", user="handler_power", json={})
    assert handler.status_code == 403


def test_attachment_type_and_size_are_checked(api):
    token = api.token("registrar")
    exe = api.call(
        "POST",
        "/attachments",
        token=token,
        data={"file": (io.BytesIO(b"MZ\x90\x00"), "virus.exe")},
        content_type="multipart/form-data",
    )
    assert exe.status_code == 422 and "不允许" in exe.json["error"]["fields"]["file"]
    fake = api.call(
        "POST",
        "/attachments",
        token=token,
        data={"file": (io.BytesIO(b"MZ\x90\x00"), "photo.png")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422
    big = api.call(
        "POST",
        "/attachments",
        token=token,
        data={"file": (io.BytesIO(PNG + b"\x00" * (300 * 1024)), "big.png")},
        content_type="multipart/form-data",
    )
    assert big.status_code == 422 and "太大" in big.json["error"]["fields"]["file"]


def test_admin_service_token_and_openapi(api):
    admin = api.token("admin")
    issued = api.call(
        "POST",
        "/auth/service-tokens",
        token=admin,
        json={"username": "registrar", "name": "热线系统", "days": 365},
    )
    assert issued.status_code == 201
    assert api.call("GET", "/cases", token=issued.json["token"]).status_code == 200
    refused = api.call(
        "POST", "/auth/service-tokens", user="registrar", json={"username": "registrar", "name": "x"}
    )
    assert refused.status_code == 403
    doc = api.call("GET", "/openapi.json").json
    assert doc["openapi"].startswith("3.") and "/tasks/{task_id}/complete" in doc["paths"]
    assert "channel" in doc["components"]["schemas"]["RegisterCase"]["properties"]


def test_tasks_filter_by_flag(api, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id)
    green = api.call("GET", "/tasks?scope=unit&flag=green", user="handler_power")
    assert green.status_code == 200 and [t["case_id"] for t in green.json["items"]] == [case_id]
    assert api.call("GET", "/tasks?scope=unit&flag=red", user="handler_power").json["items"] == []
    bad = api.call("GET", "/tasks?flag=purple", user="handler_power")
    assert bad.status_code == 422 and "flag" in bad.json["error"]["fields"]


def test_a_retried_submission_with_the_same_idempotency_key_makes_one_case(api, journey, eng):
    from sqlalchemy import func
    from sqlalchemy import select

    from engine.storage.models import Case

    body = {
        "enterprise_id": journey.enterprise_id(),
        "channel": "小程序",
        "field": "三产",
        "category": "融资",
        "urgency": "一般",
        "title": "申请贴息贷款",
        "description": "企业申请技改贴息贷款，材料已备齐。",
    }
    token = api.token("registrar")

    def submit(key, payload=body):
        return api.call("POST", "/cases", token=token, json=payload, headers={"Idempotency-Key": key})

    first = submit("mini-program-8f3a")
    again = submit("mini-program-8f3a")
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["case_id"] == first.json["case_id"] and again.json["replayed"]
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.get(Case, first.json["case_id"]).channel == "小程序"
    other = submit("mini-program-8f3a", {**body, "title": "另一件事"})
    assert other.status_code == 409 and "Idempotency-Key" in other.json["error"]["message"]
    assert submit("").status_code == 422
    assert submit("x" * 201).status_code == 422
    invalid = submit("bad-body-1", {**body, "channel": "信鸽"})
    assert invalid.status_code == 422
    fixed = submit("bad-body-1")  # a refused submission stored no key: the corrected retry goes through
    assert fixed.status_code == 201
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2
