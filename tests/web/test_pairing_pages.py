"""Pairing (包联) and plan (一企一策) pages and API: who reaches what, the roster import through the page and the API
(hostile files included), bad input answered 4xx with nothing changed, the dispatch form's default leader, OpenAPI."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.services import plans as plan_service
from engine.storage.models import Pairing
from engine.storage.models import PairingLevel
from engine.storage.models import Plan
from engine.storage.models import PlanItem
from tests.roster import roster_row
from tests.roster import roster_xlsx
from tests.roster import with_entity_declaration
from tests.roster import zip_bomb

PAGES = [
    "/pairings/mine",
    "/pairings/mine?scope=unit",
    "/pairings",
    "/pairings/figures",
    "/pairings/figures?by=person",
    "/pairings/levels",
    "/pairings/people",
    "/plans",
]


@pytest.fixture
def api(client):
    tokens = {}

    class Api:
        def call(self, method: str, path: str, user: str | None = None, **kwargs):
            headers = dict(kwargs.pop("headers", {}))
            if user:
                if user not in tokens:
                    answer = client.post(
                        "/api/v1/auth/token", json={"username": user, "password": "jienan2026"}
                    )
                    tokens[user] = answer.json["token"]
                headers["Authorization"] = f"Bearer {tokens[user]}"
            return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return Api()


def _count(eng, model) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def plan(eng, actors, journey):
    case = journey.register(title="用电增容")
    made = plan_service.create_plan(
        eng,
        actors("manager"),
        {
            "enterprise_id": journey.enterprise_id(),
            "title": "杭叉集团一企一策",
            "items": [
                {
                    "title": "用电增容",
                    "owner_unit": "power",
                    "due_date": "2026-03-01",
                    "case_ids": [case["case_id"]],
                },
                {"title": "技改补贴", "owner_unit": "econ", "status": "done"},
            ],
        },
    )
    items = {
        i["title"]: i["item_id"]
        for i in plan_service.get_plan(eng, actors("manager"), made["plan_id"])["items"]
    }
    return {**made, "items": items, "case_id": case["case_id"]}


# --- pages --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["manager", "leader", "registrar", "handler_econ", "supervisor"])
def test_every_pairing_page_opens_for_every_role(client, auth, user, plan):
    auth.login(user)
    for page in [*PAGES, f"/plans/{plan['plan_id']}" if user != "handler_market" else "/plans"]:
        response = client.get(page)
        assert response.status_code == 200, (user, page)
        assert "包联" in response.get_data(as_text=True)


def test_a_leader_sees_my_enterprises_and_the_menu(client, auth):
    auth.login("leader")
    body = _text(client.get("/tasks"))
    assert "我包联的企业" in body and "一企一策" in body
    page = _text(client.get("/pairings/mine"))
    assert "杭叉集团" in page and "森源电缆" in page and "市级领导结对" in page
    assert "西子联合电梯部件产业园" not in page  # 王建国's, not 张明's
    assert "最近走访" in page


def test_pages_speak_english_when_asked(client, auth):
    auth.login("leader")
    client.post("/lang", data={"lang": "en", "next": "/pairings/mine"})
    page = _text(client.get("/pairings/mine"))
    assert "My enterprises" in page and "City leader pairing" in page and "Last visit" in page
    assert "包联" not in page.replace("包联领导", "")  # the level names and labels come in English


def test_a_handler_sees_its_units_roster_only(client, auth):
    auth.login("handler_econ")
    page = _text(client.get("/pairings"))
    assert "周伟" in page and "张明" not in page and "导入名册" not in page
    assert client.get("/pairings/import").status_code == 403
    assert client.get("/pairings/import/template.xlsx").status_code == 403
    assert client.get("/plans/new").status_code == 403


def test_the_enterprise_file_shows_pairing_last_visit_and_plans(client, auth, journey, plan):
    journey.visit("杭叉集团", "2026-03-10")
    auth.login("registrar")
    page = _text(client.get(f"/enterprises/{journey.enterprise_id()}"))
    assert "包联情况" in page and "张明" in page and "赵建华" in page and "经济和信息化局" in page
    assert "最近走访" in page and "2026-03-10" in page
    assert "杭叉集团一企一策" in page and "添加包联" not in page
    auth.login("dispatcher")
    assert "添加包联" in _text(client.get(f"/enterprises/{journey.enterprise_id()}"))


def test_a_data_manager_adds_and_removes_a_pairing_on_the_enterprise_file(eng, client, auth, journey):
    auth.login("dispatcher")
    enterprise_id = journey.enterprise_id("药益宝公司")
    before = _count(eng, Pairing)
    response = client.post(
        f"/enterprises/{enterprise_id}/pairings",
        data={"level": "cadre", "unit": "power", "name": "吴工", "phone": "13900000001"},
        follow_redirects=True,
    )
    assert "已添加包联：助企干部 · 市电业局（供电公司） · 吴工" in _text(response)
    assert _count(eng, Pairing) == before + 1
    response = client.post(
        f"/enterprises/{enterprise_id}/pairings", data={"level": "cadre"}, follow_redirects=True
    )
    assert "没有保存" in _text(response) and _count(eng, Pairing) == before + 1
    pairing_id = int(re.search(r"/pairings/(\d+)/delete", response.get_data(as_text=True)).group(1))
    auth.login("handler_power")
    assert client.post(f"/pairings/{pairing_id}/delete").status_code == 403
    auth.login("dispatcher")
    response = client.post(f"/pairings/{pairing_id}/delete", data={"back": "enterprise"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/enterprises/{enterprise_id}#pairing"
    )
    assert _count(eng, Pairing) == before
    assert client.post(f"/pairings/{pairing_id}/delete").status_code == 404
    assert client.post("/enterprises/99999/pairings", data={"level": "cadre", "name": "x"}).status_code == 404


def test_levels_are_edited_on_their_page(eng, client, auth):
    auth.login("manager")
    response = client.post("/pairings/levels", data={"code": "Bad!", "name": "", "kind": "person"})
    assert response.status_code == 422
    assert "代码为 2–30 位小写字母" in _text(response) and "请填写层级名称" in _text(response)
    before = _count(eng, PairingLevel)
    response = client.post(
        "/pairings/levels",
        data={"code": "park", "name": "园区专员", "kind": "person", "sort_order": "70", "is_active": "1"},
        follow_redirects=True,
    )
    assert "已保存包联层级“园区专员”" in _text(response) and _count(eng, PairingLevel) == before + 1
    assert client.post("/pairings/levels/9999", data={"name": "x", "kind": "person"}).status_code == 404
    auth.login("handler_econ")
    assert (
        client.post("/pairings/levels", data={"code": "x_y", "name": "x", "kind": "person"}).status_code
        == 403
    )
    assert "修改层级" not in _text(client.get("/pairings/levels"))


def test_the_dispatch_page_preselects_the_paired_leader(client, auth, journey):
    case = journey.register()
    auth.login("dispatcher")
    task_id = journey.task("dispatcher", case["case_id"])["task_id"]
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert re.search(r'<option value="leader"\s+selected>', html)
    assert "包联情况" in html and "包联领导" in html
    page = _text(client.get(f"/cases/{case['case_id']}"))
    assert "包联情况" in page and "张明" in page


# --- the roster import page ---------------------------------------------------------------------------------------


def _upload(client, data: bytes, name: str = "名册.xlsx"):
    return client.post(
        "/pairings/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_the_roster_is_imported_through_the_page(eng, client, auth):
    auth.login("manager")
    template = client.get("/pairings/import/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    response = _upload(client, roster_xlsx([roster_row("美临塑业", "企业负责人", name="美总")]))
    assert response.status_code == 200
    assert "已导入 1 条包联，涉及 1 家企业" in _text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (roster_xlsx([roster_row("美临塑业", "不存在的层级", name="x")]), "没有名为“不存在的层级”的包联层级"),
        (b"%PDF-1.4 not a workbook", "请上传 .xlsx 格式的文件"),
        (with_entity_declaration(roster_xlsx([roster_row(name="王芳")])), "DTD"),
        (zip_bomb(), "解压后约"),
    ],
    ids=["bad-row", "not-xlsx", "entity", "zip-bomb"],
)
def test_a_bad_or_hostile_roster_file_is_a_422_and_changes_nothing(eng, client, auth, data, message):
    auth.login("manager")
    before = _count(eng, Pairing)
    response = _upload(client, data)
    assert response.status_code == 422 and message in _text(response)
    assert _count(eng, Pairing) == before


def test_posting_no_file_is_a_422(client, auth):
    auth.login("manager")
    response = client.post("/pairings/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要导入的包联名册" in _text(response)


# --- plan pages ---------------------------------------------------------------------------------------------------


def test_a_plan_is_made_on_its_pages(eng, client, auth, journey):
    auth.login("manager")
    response = client.post("/plans/new", data={"enterprise_id": "", "title": ""})
    assert response.status_code == 422 and "请选择企业" in _text(response)
    response = client.post("/plans/new", data={"enterprise_id": journey.enterprise_id(), "title": "新方案"})
    assert response.status_code == 302
    plan_url = response.headers["Location"].split("#")[0]
    plan_id = int(plan_url.rsplit("/", 1)[1])
    response = client.post(
        f"/plans/{plan_id}/items", data={"title": "甲", "owner_unit": "", "due_date": "明天"}
    )
    assert (
        response.status_code == 422
        and "请选择责任单位" in _text(response)
        and "日期格式应为" in _text(response)
    )
    assert _count(eng, PlanItem) == 0
    response = client.post(
        f"/plans/{plan_id}/items",
        data={
            "title": "用地指标",
            "owner_unit": "land",
            "due_date": "2026-04-30",
            "status": "pending",
            "has_cases": "1",
        },
    )
    assert response.status_code == 302
    page = _text(client.get(f"/plans/{plan_id}"))
    assert "用地指标" in page and "自然资源和规划局" in page and "2026-04-30" in page


def test_the_owner_unit_updates_its_item_on_the_page_and_cannot_touch_others(eng, client, auth, plan):
    auth.login("handler_power")
    page = _text(client.get(f"/plans/{plan['plan_id']}"))
    assert "用电增容" in page and "技改补贴" not in page and "已逾期" in page
    item = plan["items"]["用电增容"]
    response = client.post(
        f"/plan-items/{item}",
        data={"plan_id": plan["plan_id"], "status": "done", "progress_note": "已送电", "title": "改名"},
        follow_redirects=True,
    )
    assert "已更新措施" in _text(response)
    shown = plan_service.get_plan(eng, plan_service_actor(eng), plan["plan_id"])
    power = next(i for i in shown["items"] if i["item_id"] == item)
    assert (power["status"], power["progress_note"], power["title"]) == ("done", "已送电", "用电增容")
    response = client.post(f"/plan-items/{item}", data={"plan_id": plan["plan_id"], "status": "won"})
    assert response.status_code == 422 and "状态应为" in _text(response)
    other = plan["items"]["技改补贴"]
    assert client.post(f"/plan-items/{other}", data={"status": "pending"}).status_code == 403
    assert client.post(f"/plan-items/{item}/delete").status_code == 403
    auth.login("handler_market")
    assert client.get(f"/plans/{plan['plan_id']}").status_code == 403
    assert client.get("/plans/99999").status_code == 404


def plan_service_actor(eng):
    from engine.services import auth as auth_service

    return auth_service.authenticate(eng, "manager", "jienan2026")


# --- API ----------------------------------------------------------------------------------------------------------


def test_the_api_needs_a_token(api):
    for path in ("/pairings", "/pairings/mine", "/plans", "/pairing-levels"):
        assert api.call("GET", path).status_code == 401


def test_the_api_reads_pairings_mine_and_figures(api, journey):
    levels = api.call("GET", "/pairing-levels", "handler_econ").json["items"]
    assert levels[0]["code"] == "city_leader"
    mine = api.call("GET", "/pairings/mine", "leader").json
    assert mine["scope"] == "mine" and {i["name"] for i in mine["items"]} == {"杭叉集团", "森源电缆"}
    assert api.call("GET", "/pairings/mine?scope=all", "leader").status_code == 422
    econ = api.call("GET", "/pairings?per_page=100", "handler_econ").json
    assert {r["unit_name"] for r in econ["items"]} == {"经济和信息化局"}
    assert api.call("GET", "/pairings?level=abc", "manager").status_code == 422
    figures = api.call("GET", "/pairings/figures?by=person", "manager").json
    assert figures["paired"] == 6 and figures["rows"][0]["name"] == "王芳"
    assert api.call("GET", "/pairings/figures?by=colour", "manager").status_code == 422
    one = api.call("GET", f"/enterprises/{journey.enterprise_id()}/pairings", "registrar").json["items"]
    assert [r["level_code"] for r in one][0] == "city_leader"
    assert api.call("GET", "/enterprises/99999/pairings", "registrar").status_code == 404
    people = api.call("GET", "/roster-people?account=no", "manager").json
    assert "王建国" in {p["name"] for p in people["items"]} and "张明" not in {
        p["name"] for p in people["items"]
    }


def test_the_api_writes_pairings_and_levels(eng, api, journey):
    enterprise_id = journey.enterprise_id("美临塑业")
    made = api.call(
        "POST",
        "/pairings",
        "manager",
        json={"enterprise_id": enterprise_id, "level": "企业负责人", "name": "美总"},
    )
    assert made.status_code == 201 and made.json["contact"]["name"] == "美总"
    before = _count(eng, Pairing)
    for data, status in [
        ({"level": "企业负责人", "name": "x"}, 422),  # no enterprise_id
        ({"enterprise_id": "abc", "level": "企业负责人"}, 422),
        ({"enterprise_id": enterprise_id, "level": "企业负责人", "name": ["x"]}, 422),
        ({"enterprise_id": enterprise_id, "level": "企业负责人", "name": "x", "secret": "y"}, 422),
        ({"enterprise_id": 99999, "level": "企业负责人", "name": "x"}, 404),
    ]:
        assert api.call("POST", "/pairings", "manager", json=data).status_code == status, data
    assert api.call("POST", "/pairings", "manager", data="not json").status_code == 422
    assert (
        api.call(
            "POST",
            "/pairings",
            "handler_hr",
            json={"enterprise_id": enterprise_id, "level": "企业负责人", "name": "x"},
        ).status_code
        == 403
    )
    assert _count(eng, Pairing) == before
    assert api.call("DELETE", f"/pairings/{made.json['pairing_id']}", "handler_hr").status_code == 403
    assert api.call("DELETE", f"/pairings/{made.json['pairing_id']}", "manager").status_code == 204
    assert api.call("DELETE", f"/pairings/{made.json['pairing_id']}", "manager").status_code == 404
    level = api.call(
        "POST", "/pairing-levels", "admin", json={"code": "park", "name": "园区专员", "kind": "person"}
    )
    assert level.status_code == 201
    changed = api.call(
        "PUT",
        f"/pairing-levels/{level.json['level_id']}",
        "admin",
        json={"name": "园区服务专员", "kind": "person"},
    )
    assert changed.status_code == 200 and changed.json["name"] == "园区服务专员"
    assert (
        api.call("PUT", "/pairing-levels/9999", "admin", json={"name": "x", "kind": "person"}).status_code
        == 404
    )
    assert (
        api.call(
            "POST", "/pairing-levels", "leader", json={"code": "x_y", "name": "x", "kind": "person"}
        ).status_code
        == 403
    )
    person = api.call("GET", "/roster-people?q=王建国", "manager").json["items"][0]
    linked = api.call(
        "PUT", f"/roster-people/{person['person_id']}/account", "manager", json={"username": "supervisor"}
    )
    assert linked.status_code == 200 and linked.json["username"] == "supervisor"
    assert (
        api.call(
            "PUT", f"/roster-people/{person['person_id']}/account", "manager", json={"username": 5}
        ).status_code
        == 422
    )
    assert (
        api.call("PUT", "/roster-people/99999/account", "manager", json={"username": None}).status_code == 404
    )
    assert {i["name"] for i in api.call("GET", "/pairings/mine", "supervisor").json["items"]} == {
        "西子联合电梯部件产业园"
    }


def test_the_api_imports_a_roster_and_reports_bad_rows(eng, api):
    def upload(data, user="manager"):
        return api.call(
            "POST",
            "/pairings/import",
            user,
            data={"file": (io.BytesIO(data), "r.xlsx")},
            content_type="multipart/form-data",
        )

    good = upload(roster_xlsx([roster_row("美临塑业", "企业负责人", name="美总")]))
    assert good.status_code == 200 and good.json["imported"] == 1
    before = _count(eng, Pairing)
    bad = upload(roster_xlsx([roster_row("美临塑业", "企业负责人", name="美总", unit="列东街道")]))
    assert bad.status_code == 422
    assert bad.json["error"]["rows"] == [
        {"row": 2, "column": "单位", "message": "“企业负责人”是企业自己的负责人，单位一栏请留空"}
    ]
    hostile = upload(with_entity_declaration(roster_xlsx([roster_row(name="王芳")])))
    assert hostile.status_code == 422 and "DTD" in hostile.json["error"]["fields"]["file"]
    assert upload(roster_xlsx([roster_row(name="王芳")]), "handler_econ").status_code == 403
    missing = api.call("POST", "/pairings/import", "manager", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert _count(eng, Pairing) == before


def test_the_api_runs_a_plan(eng, api, journey):
    case = journey.register(title="用地")
    made = api.call(
        "POST",
        "/plans",
        "dispatcher",
        json={
            "enterprise_id": journey.enterprise_id(),
            "title": "API方案",
            "items": [
                {
                    "title": "用地指标",
                    "owner_unit": "land",
                    "due_date": "2026-04-01",
                    "case_ids": [case["case_id"]],
                }
            ],
        },
    )
    assert made.status_code == 201 and made.headers["Location"].endswith(f"/plans/{made.json['plan_id']}")
    plan_id = made.json["plan_id"]
    item_id = made.json["items"][0]["item_id"]
    assert made.json["items"][0]["cases"][0]["case_id"] == case["case_id"]
    before = (_count(eng, Plan), _count(eng, PlanItem))
    assert (
        api.call("POST", "/plans", "dispatcher", json={"enterprise_id": journey.enterprise_id()}).status_code
        == 422
    )
    assert api.call("POST", "/plans", "dispatcher", json=[1, 2]).status_code == 422
    assert (
        api.call("POST", "/plans", "handler_land", json={"enterprise_id": 1, "title": "x"}).status_code == 403
    )
    assert (
        api.call(
            "POST", f"/plans/{plan_id}/items", "dispatcher", json={"title": "x", "owner_unit": "moon"}
        ).status_code
        == 422
    )
    assert (_count(eng, Plan), _count(eng, PlanItem)) == before
    added = api.call(
        "POST", f"/plans/{plan_id}/items", "dispatcher", json={"title": "人才公寓", "owner_unit": "housing"}
    )
    assert added.status_code == 201
    done = api.call(
        "PATCH", f"/plan-items/{item_id}", "handler_land", json={"status": "done", "progress_note": "已批"}
    )
    assert done.status_code == 200 and done.json["changed"] == ["progress_note", "status"]
    assert api.call("PATCH", f"/plan-items/{item_id}", "handler_land", json={"title": "x"}).status_code == 403
    assert (
        api.call("PATCH", f"/plan-items/{item_id}", "handler_power", json={"status": "done"}).status_code
        == 403
    )
    assert (
        api.call("PATCH", f"/plan-items/{item_id}", "dispatcher", json={"due_date": "soon"}).status_code
        == 422
    )
    assert api.call("PATCH", "/plan-items/99999", "dispatcher", json={"status": "done"}).status_code == 404
    land = api.call("GET", f"/plans/{plan_id}", "handler_land").json
    assert [i["title"] for i in land["items"]] == ["用地指标"] and land["progress"] == 100 and land["partial"]
    assert api.call("GET", f"/plans/{plan_id}", "handler_market").status_code == 403
    whole = api.call("PATCH", f"/plans/{plan_id}", "dispatcher", json={"status": "closed"}).json
    assert whole["status"] == "closed" and whole["progress"] == 50
    listed = api.call("GET", "/plans?status=closed", "leader").json
    assert [p["title"] for p in listed["items"]] == ["API方案"]
    assert api.call("GET", "/plans?status=maybe", "leader").status_code == 422
    assert api.call("DELETE", f"/plan-items/{added.json['item_id']}", "dispatcher").status_code == 204
    assert api.call("DELETE", f"/plan-items/{added.json['item_id']}", "dispatcher").status_code == 404


def test_openapi_documents_every_pairing_and_plan_route(app, api):
    doc = api.call("GET", "/openapi.json").json
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    ours = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_pairing."):
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            ours |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(ours) == 19
    assert ours <= documented, ours - documented
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(doc)))
    assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])


BIG = "99999999999999999999"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/plans/{BIG}", 404),
        (f"/pairings?level={BIG}", 422),
        (f"/pairings?unit={BIG}", 422),
        (f"/plans?unit={BIG}", 422),
        (f"/plans?enterprise_id={BIG}", 422),
        (f"/plans?page={BIG}", 422),
        (f"/pairings?page={BIG}", 422),
        (f"/pairings/mine?page={BIG}", 422),
        (f"/pairings/figures?level={BIG}", 302),
        ("/pairings/figures?by=everything", 200),
        ("/plans?status=maybe", 422),
    ],
)
def test_numbers_too_large_for_an_id_are_a_4xx_never_a_500(client, auth, url, status):
    auth.login("manager")
    assert client.get(url).status_code == status


def test_the_api_refuses_ids_too_large(eng, api):
    assert (
        api.call(
            "POST",
            "/pairings",
            "manager",
            json={"enterprise_id": int(BIG), "level": "企业负责人", "name": "x"},
        ).status_code
        == 404
    )
    made = api.call("POST", "/plans", "manager", json={"enterprise_id": int(BIG), "title": "x"})
    assert made.status_code == 422 and "enterprise_id" in made.json["error"]["fields"]
    assert api.call("GET", f"/plans/{BIG}", "manager").status_code == 404
    assert api.call("PATCH", f"/plan-items/{BIG}", "manager", json={"status": "done"}).status_code == 404
