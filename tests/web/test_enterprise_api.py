"""The enterprise file's JSON API: enterprises with classes, contacts, pools and key figures; the list as .xlsx;
the areas, pools and tags managers edit; the enterprise filters on /cases and /figures. Every answer is checked
against the OpenAPI document's schema for it."""

from __future__ import annotations

import io

import pytest
from jsonschema import Draft202012Validator
from openpyxl import load_workbook

from tests.helpers import enterprise_workbook

NEW = "91350400KJHQ23BN88"


@pytest.fixture
def api(client):
    class Api:
        tokens: dict = {}

        def call(self, method: str, path: str, user: str = "dispatcher", **kwargs):
            if user not in self.tokens:
                response = client.post(
                    "/api/v1/auth/token", json={"username": user, "password": "jienan2026"}
                )
                self.tokens[user] = response.json["token"]
            headers = {"Authorization": f"Bearer {self.tokens[user]}"}
            return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return Api()


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json


def conforms(document: dict, response, path: str, method: str = "get") -> None:
    """The response body matches the schema the OpenAPI document gives for its path, method and status."""
    answer = document["paths"][path][method]["responses"][str(response.status_code)]
    schema = answer["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = sorted(validator.iter_errors(response.json), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def _id_of(api, name: str) -> int:
    return api.call("GET", f"/enterprises?q={name}").json["items"][0]["enterprise_id"]


def test_searching_with_filters_and_groups(api, document):
    found = api.call("GET", "/enterprises?pool=key&size=规上&group=area")
    assert found.status_code == 200
    conforms(document, found, "/enterprises")
    assert found.json["total"] == 5 and found.json["filters"] == {"pool": "key", "size": "规上"}
    assert {g["label"]: g["count"] for g in found.json["groups"] if g["count"]} == {
        "青山湖科技城": 4,
        "岩前镇": 1,
    }
    assert api.call("GET", "/enterprises?size=huge").status_code == 422
    assert api.call("GET", "/enterprises?group=colour").status_code == 422


def test_creating_reading_and_changing_an_enterprise(api, document):
    created = api.call(
        "POST",
        "/enterprises",
        json={"name": "接口企业", "credit_code": NEW, "area": "yuquan", "size_class": "规下", "sector": "F"},
    )
    assert created.status_code == 201, created.json
    conforms(document, created, "/enterprises", "post")
    enterprise_id = created.json["enterprise_id"]
    assert created.headers["Location"].endswith(f"/enterprises/{enterprise_id}")
    again = api.call("POST", "/enterprises", json={"name": "重复", "credit_code": NEW})
    assert again.status_code == 422 and "credit_code" in again.json["error"]["fields"]
    changed = api.call(
        "PATCH",
        f"/enterprises/{enterprise_id}",
        json={"area": "列东街道", "sector": None, "contacts": [{"name": "王会计", "position": "财务负责人"}]},
    )
    assert changed.status_code == 200, changed.json
    conforms(document, changed, "/enterprises/{enterprise_id}", "patch")
    assert changed.json["changed"] == ["area", "sector", "contacts"] and changed.json["sector"] is None
    file = api.call("GET", f"/enterprises/{enterprise_id}")
    conforms(document, file, "/enterprises/{enterprise_id}")
    assert file.json["contacts"][0]["name"] == "王会计" and file.json["changes"][0]["source"] == "api"
    cleared = api.call("PATCH", f"/enterprises/{enterprise_id}", json={"contacts": None})
    assert cleared.json["changed"] == ["contacts"]
    for body, field in [
        ({"colour": "red"}, "colour"),
        ({"size_class": "大"}, "size_class"),
        ({"contacts": "x"}, "contacts"),
    ]:
        bad = api.call("PATCH", f"/enterprises/{enterprise_id}", json=body)
        assert bad.status_code == 422 and field in bad.json["error"]["fields"], body
    assert api.call("PATCH", f"/enterprises/{enterprise_id}", json=["x"]).status_code == 422
    assert api.call("PATCH", "/enterprises/999999", json={}).status_code == 404
    assert (
        api.call("PATCH", f"/enterprises/{enterprise_id}", user="handler_power", json={}).status_code == 403
    )


def test_pools_and_key_figures(api, document):
    enterprise_id = _id_of(api, "森源电缆")
    joined = api.call(
        "POST", f"/enterprises/{enterprise_id}/memberships", json={"tag": "plaque", "batch": "第二批"}
    )
    assert joined.status_code == 200, joined.json
    conforms(document, joined, "/enterprises/{enterprise_id}/memberships", "post")
    assert any(t["code"] == "plaque" and t["since"] == "2026-03-10" for t in joined.json["tags"])
    for body in ({"tag": "plaque"}, {"tag": True}, {}, {"tag": "srdi", "colour": 1}, {"tag": "no-such"}):
        assert api.call("POST", f"/enterprises/{enterprise_id}/memberships", json=body).status_code == 422, (
            body
        )
    assert (
        api.call(
            "POST", f"/enterprises/{enterprise_id}/memberships", user="registrar", json={"tag": "srdi"}
        ).status_code
        == 403
    )
    left = api.call("DELETE", f"/enterprises/{enterprise_id}/memberships/挂牌服务")
    assert left.status_code == 200 and not any(t["code"] == "plaque" for t in left.json["tags"])
    assert api.call("DELETE", f"/enterprises/{enterprise_id}/memberships/plaque").status_code == 404
    year = api.call(
        "PUT", f"/enterprises/{enterprise_id}/years/2024", json={"output_value": 50100.25, "employees": 300}
    )
    assert year.status_code == 200, year.json
    conforms(document, year, "/enterprises/{enterprise_id}/years/{year}", "put")
    assert year.json["output_value"] == 50100.25
    assert (
        api.call("PUT", f"/enterprises/{enterprise_id}/years/2099", json={"employees": 1}).status_code == 422
    )
    assert (
        api.call("PUT", f"/enterprises/{enterprise_id}/years/2024", json={"employees": "many"}).status_code
        == 422
    )
    assert api.call("DELETE", f"/enterprises/{enterprise_id}/years/2024").status_code == 204
    assert api.call("DELETE", f"/enterprises/{enterprise_id}/years/2024").status_code == 404


def test_import_and_export_over_the_api(api, document):
    bad = enterprise_workbook(
        enterprises=[{"统一社会信用代码": NEW, "企业名称": "导入企业", "企业规模": "特大"}]
    )
    refused = api.call("POST", "/enterprises/import", data={"file": (io.BytesIO(bad), "x.xlsx")},
                       content_type="multipart/form-data")  # fmt: skip
    assert refused.status_code == 422 and refused.json["report"]["errors"][0]["column"] == "企业规模"
    good = enterprise_workbook(enterprises=[{"统一社会信用代码": NEW, "企业名称": "导入企业"}])
    checked = api.call("POST", "/enterprises/import", data={"file": (io.BytesIO(good), "x.xlsx"), "mode": "check"},
                       content_type="multipart/form-data")  # fmt: skip
    assert checked.status_code == 200 and not checked.json["saved"] and checked.json["created"] == 1
    conforms(document, checked, "/enterprises/import", "post")
    saved = api.call("POST", "/enterprises/import", data={"file": (io.BytesIO(good), "x.xlsx")},
                     content_type="multipart/form-data")  # fmt: skip
    assert saved.json["saved"] and api.call("GET", "/enterprises?q=导入企业").json["total"] == 1
    assert api.call("POST", "/enterprises/import", data={}).status_code == 422
    assert api.call("POST", "/enterprises/import", user="registrar", data={"file": (io.BytesIO(good), "x.xlsx")},
                    content_type="multipart/form-data").status_code == 403  # fmt: skip
    export = api.call("GET", "/enterprises/export.xlsx?pool=plaque")
    rows = list(load_workbook(io.BytesIO(export.data))["企业名录"].iter_rows(min_row=2, values_only=True))
    export.close()
    assert len(rows) == 4
    forbidden = api.call("GET", "/enterprises/export.xlsx", user="handler_power")
    assert forbidden.status_code == 403


def test_managers_keep_the_lists_over_the_api(api, document):
    areas = api.call("GET", "/areas")
    conforms(document, areas, "/areas")
    assert [a["code"] for a in areas.json["items"]][:2] == ["liedong", "yuquan"]
    assert api.call("POST", "/areas", json={"name": "东霞镇"}).status_code == 403  # the dispatcher
    created = api.call(
        "POST", "/areas", user="manager", json={"name": "东霞镇", "kind": "town", "code": "dongxia"}
    )
    assert created.status_code == 201
    conforms(document, created, "/areas", "post")
    patched = api.call(
        "PATCH", f"/areas/{created.json['area_id']}", user="manager", json={"is_active": False}
    )
    assert patched.status_code == 200 and patched.json["is_active"] is False
    conforms(document, patched, "/areas/{area_id}", "patch")
    assert (
        api.call(
            "PATCH", f"/areas/{created.json['area_id']}", user="manager", json={"kind": "city"}
        ).status_code
        == 422
    )
    assert api.call("DELETE", f"/areas/{created.json['area_id']}", user="manager").status_code == 204
    liedong = areas.json["items"][0]["area_id"]
    assert api.call("DELETE", f"/areas/{liedong}", user="manager").status_code == 409
    tags = api.call("GET", "/enterprise-tags?kind=pool")
    conforms(document, tags, "/enterprise-tags")
    assert [t["code"] for t in tags.json["items"]] == ["key", "potential", "plaque"]
    assert api.call("GET", "/enterprise-tags?kind=colour").status_code == 422
    pool = api.call("POST", "/enterprise-tags", user="manager",
                    json={"name": "亿元企业库", "kind": "pool", "with_date": True, "date_label": "入库日期"})  # fmt: skip
    assert pool.status_code == 201
    conforms(document, pool, "/enterprise-tags", "post")
    one = api.call("GET", f"/enterprise-tags/{pool.json['tag_id']}")
    conforms(document, one, "/enterprise-tags/{tag_id}")
    assert one.json["members"] == 0
    assert api.call("DELETE", f"/enterprise-tags/{pool.json['tag_id']}", user="manager").status_code == 204
    assert api.call("GET", f"/enterprise-tags/{pool.json['tag_id']}").status_code == 404


def test_cases_and_figures_filter_by_the_enterprise(api, document, journey):
    journey.register(title="叉车厂用电")
    cases = api.call("GET", "/cases?area=qingshanhu&group=size")
    assert cases.status_code == 200 and cases.json["total"] == 1
    assert {g["key"]: g["count"] for g in cases.json["groups"]}["规上"] == 1
    conforms(document, cases, "/cases")
    figures = api.call("GET", "/figures?period=2026-Q1&group=area&pool=key")
    assert figures.status_code == 200 and figures.json["total"]["collected"] == 1
    assert figures.json["rows"][0]["label"] == "青山湖科技城"
    assert api.call("GET", "/figures?period=2026-Q1&area=nowhere").status_code == 422


def test_the_document_describes_the_enterprise_file(document):
    paths = document["paths"]
    for path in (
        "/enterprises",
        "/enterprises/{enterprise_id}",
        "/enterprises/import",
        "/areas",
        "/enterprise-tags/{tag_id}",
    ):
        assert path in paths, path
    names = {p["name"] for p in paths["/cases"]["get"]["parameters"]}
    assert {"area", "size", "pool", "tag", "group"} <= names
    assert {"area", "pool"} <= {p["name"] for p in paths["/figures"]["get"]["parameters"]}
    assert "EnterpriseFile" in document["components"]["schemas"]
