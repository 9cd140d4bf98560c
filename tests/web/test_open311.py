"""An Open311 GeoReport v2 client: list services, post a request, follow it; errors in the GeoReport format."""

from __future__ import annotations

import pytest


@pytest.fixture
def key(client):
    response = client.post("/api/v1/auth/token", json={"username": "registrar", "password": "jienan2026"})
    return response.json["token"]


def test_an_open311_client_lists_services_posts_a_request_and_gets_it(client, key, eng):
    services = client.get(f"/open311/v2/services.json?api_key={key}")
    assert services.status_code == 200
    codes = {s["service_code"]: s["service_name"] for s in services.json}
    assert codes["land"] == "用地" and len(codes) == 13
    definition = client.get(f"/open311/v2/services/land.json?api_key={key}").json
    assert {a["code"] for a in definition["attributes"]} >= {"enterprise_name", "credit_code", "field"}
    posted = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "land",
            "description": "扩建厂房缺少建设用地指标，希望协调解决。",
            "attribute[enterprise_name]": "开放接口测试有限公司",
            "attribute[credit_code]": "91350400G4EFFB420Q",
            "attribute[field]": "工业",
            "first_name": "伟",
            "last_name": "陈",
            "phone": "13800000000",
        },
    )
    assert posted.status_code == 201, posted.json
    request_id = posted.json[0]["service_request_id"]
    got = client.get(f"/open311/v2/requests/{request_id}.json?api_key={key}")
    assert got.status_code == 200
    item = got.json[0]
    assert (
        item["service_code"] == "land"
        and item["status"] == "open"
        and item["description"].startswith("扩建厂房")
    )
    listed = client.get(f"/open311/v2/requests.json?api_key={key}&status=open&service_code=land").json
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert client.get(f"/open311/v2/requests.json?api_key={key}&status=closed").json == []
    from sqlalchemy import select

    from engine.storage.models import Case

    with eng.db.read() as session:
        case = session.scalars(select(Case).where(Case.case_no == request_id)).one()
        assert case.channel == "Open311" and case.contact_name == "陈 伟"
    again = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "finance",
            "description": "贷款到期续贷困难。",
            "attribute[enterprise_name]": "开放接口测试有限公司",
            "attribute[credit_code]": "91350400G4EFFB420Q",
            "attribute[field]": "工业",
        },
    )
    assert again.status_code == 201  # the enterprise is found by its credit code, not created twice


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "text"),
    [
        ("get", "/open311/v2/services.json", None, 401, "api_key"),
        ("get", "/open311/v2/services.xml?api_key={key}", None, 400, "JSON"),
        ("get", "/open311/v2/services/potholes.json?api_key={key}", None, 404, "未知的 service_code"),
        (
            "post",
            "/open311/v2/requests.json",
            {"service_code": "potholes", "description": "x"},
            404,
            "service_code",
        ),
        (
            "post",
            "/open311/v2/requests.json",
            {"service_code": "land", "description": " "},
            400,
            "description",
        ),
        (
            "post",
            "/open311/v2/requests.json",
            {"service_code": "land", "description": "缺地"},
            400,
            "attribute[credit_code]",
        ),
        ("get", "/open311/v2/requests/JN000.json?api_key={key}", None, 404, "JN000"),
        ("get", "/open311/v2/requests.json?api_key={key}&status=maybe", None, 400, "status"),
    ],
)
def test_open311_errors_use_the_georeport_format(client, key, method, path, data, status, text):
    if data is not None:
        data = {"api_key": key, **data}
    response = getattr(client, method)(path.format(key=key), data=data)
    assert response.status_code == status
    error = response.json[0]
    assert error["code"] == status and text in error["description"]


def test_open311_bad_enterprise_data_is_refused_and_nothing_is_saved(client, key, eng):
    from sqlalchemy import func
    from sqlalchemy import select

    from engine.storage.models import Case
    from engine.storage.models import Enterprise

    with eng.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Enterprise))
    response = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "land",
            "description": "缺地",
            "attribute[enterprise_name]": "某公司",
            "attribute[credit_code]": "123",
            "attribute[field]": "工业",
        },
    )
    assert response.status_code == 400 and "信用代码" in response.json[0]["description"]
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Enterprise)) == before
        assert session.scalar(select(func.count()).select_from(Case)) == 0
