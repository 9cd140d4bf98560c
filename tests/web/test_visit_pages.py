"""Visit campaign pages and API (走访): the office creates a campaign (filters or an imported list), the visitor
records a visit on the recording page (questionnaire, problems), coverage and permissions, bad input answered 4xx
with nothing changed, OpenAPI."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.demo.seed import demo_credit_code
from engine.services import tasks as task_service
from engine.services import visits as visit_service
from engine.storage.models import Case
from engine.storage.models import Visit
from engine.storage.models import VisitCampaign


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


def _text(response) -> str:
    return response.get_data(as_text=True)


def _count(eng, model) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


FORM = {
    "name": "春季走访",
    "form_key": "visit_survey",
    "wave-0-name": "第一批",
    "wave-0-start": "2026-03-09",
    "wave-0-end": "2026-03-20",
    "scope_mode": "filter",
    "mode": "pairing",
    "level": "cadre",
    "unit": "econ",
    "launch": "1",
}


def _campaign(client, auth, **extra):
    auth.login("manager")
    response = client.post("/campaigns/new", data={**FORM, **extra})
    assert response.status_code == 302, _text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_office_creates_a_campaign_and_reads_its_coverage(client, auth):
    campaign_id = _campaign(client, auth)
    page = _text(client.get(f"/campaigns/{campaign_id}"))
    assert "春季走访" in page and "范围内企业" in page and "覆盖率" in page
    assert "王芳" in page and "经济和信息化局" in page
    for group in ("cadre", "area", "wave"):
        assert client.get(f"/campaigns/{campaign_id}?group={group}").status_code == 200
    assert "春季走访" in _text(client.get("/campaigns"))
    assert client.get(f"/campaigns/{campaign_id}?status=overdue").status_code == 200
    assert client.get(f"/campaigns/{campaign_id}?status=nonsense").status_code == 422
    figures = _text(client.get("/figures"))  # 统计报表: coverage of the running campaigns by unit
    assert 'id="visit-coverage-table"' in figures and "经济和信息化局" in figures
    auth.login("handler_econ")
    assert 'id="visit-coverage-table"' in _text(client.get("/figures"))


def test_the_visitor_records_a_visit_with_answers_and_a_problem(eng, client, auth, actors):
    campaign_id = _campaign(client, auth)
    auth.login("registrar")
    inbox = _text(client.get("/tasks"))
    assert "走访企业并记录" in inbox
    task = next(
        t
        for t in task_service.list_tasks(eng, actors("registrar"), per_page=200)["items"]
        if t["kind"] == "visit"
    )
    assert (
        client.get(f"/tasks/{task['task_id']}")
        .headers["Location"]
        .endswith(f"/visits/task/{task['task_id']}")
    )
    page = _text(client.get(f"/visits/task/{task['task_id']}"))
    assert "活动走访调查表" in page and "问题 1" in page and task["enterprise_name"] in page
    cases_before = _count(eng, Case)
    bad = client.post(
        f"/visits/task/{task['task_id']}", data={"visited_on": "2026-03-10", "findings": "problems"}
    )
    assert bad.status_code == 422 and "请至少登记一个问题" in _text(bad)
    assert _count(eng, Visit) == 0 and _count(eng, Case) == cases_before
    response = client.post(
        f"/visits/task/{task['task_id']}",
        data={
            "visited_on": "2026-03-10",
            "visitors": "王芳、李明",
            "met_with": "赵建华 董事长",
            "findings": "problems",
            "answers-operation": "difficult",
            "answers-orders_trend": "down",
            "answers-main_need": "land",
            "answers-policy_known": "yes",
            "problems-0-title": "扩建用地指标",
            "problems-0-description": "二期扩建需要 30 亩用地指标，希望纳入年度计划。",
            "problems-0-category": "用地",
            "problems-0-field": "工业",
            "problems-0-urgency": "一般",
        },
    )
    assert response.status_code == 302, _text(response)
    assert _count(eng, Case) == cases_before + 1
    with eng.db.read() as session:
        visit_id = session.scalar(select(Visit.visit_id))
    assert "扩建用地指标" in _text(client.get(f"/visits/{visit_id}"))
    auth.login("manager")
    page = _text(client.get(f"/campaigns/{campaign_id}"))
    assert 'data-total="visited">1<' in page.replace(" ", "")
    assert "答案统计" in page


def test_a_list_import_names_unknown_enterprises_and_saves_nothing(eng, client, auth):
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "企业名称", "批次", "走访人账号"])
    sheet.append([demo_credit_code("杭叉集团"), "杭叉集团", "1", "registrar"])
    sheet.append(["91330100MA2XXXXXX0", "不存在的企业", "", ""])
    out = io.BytesIO()
    book.save(out)
    auth.login("manager")
    before = _count(eng, VisitCampaign)
    response = client.post(
        "/campaigns/new",
        data={**FORM, "scope_mode": "list", "list": (io.BytesIO(out.getvalue()), "名单.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "第 3 行" in _text(response)
    assert _count(eng, VisitCampaign) == before
    assert client.get("/campaigns/template.xlsx").status_code == 200


def test_units_and_cadres_see_only_their_own_rows(client, auth):
    campaign_id = _campaign(client, auth)
    auth.login("handler_power")
    assert client.get(f"/campaigns/{campaign_id}").status_code == 404
    assert client.get("/campaigns/new").status_code == 403
    auth.login("handler_econ")
    page = _text(client.get(f"/campaigns/{campaign_id}"))
    assert "森源电缆" in page and "方兴管业" not in page


def test_the_api_creates_records_and_counts(eng, api, actors):
    created = api.call(
        "POST",
        "/campaigns",
        "manager",
        json={
            "name": "接口走访",
            "start_date": "2026-03-09",
            "end_date": "2026-03-31",
            "form_key": "visit_survey",
            "scope": {"list": [{"credit_code": demo_credit_code("杭叉集团")}]},
            "assignment": {"mode": "hand", "user": "registrar"},
            "launch": True,
        },
    )
    assert created.status_code == 201, created.json
    mine = api.call("GET", "/tasks", "registrar").json["items"]
    task = next(t for t in mine if t["kind"] == "visit")
    record = {
        "visited_on": "2026-03-10",
        "visitors": "王芳",
        "met_with": "赵建华",
        "findings": "none",
        "answers": {"operation": "good", "orders_trend": "up", "main_need": "none", "policy_known": "yes"},
    }
    assert (
        api.call("POST", f"/visit-tasks/{task['task_id']}", "handler_power", json=record).status_code == 403
    )
    done = api.call("POST", f"/visit-tasks/{task['task_id']}", "registrar", json=record)
    assert done.status_code == 201, done.json
    assert api.call("POST", f"/visit-tasks/{task['task_id']}", "registrar", json=record).status_code in (
        404,
        409,
    )
    coverage = api.call("GET", "/visits/coverage?group=cadre", "manager").json
    assert coverage["total"]["visited"] == 1
    assert api.call("GET", f"/visits/{done.json['visit_id']}", "registrar").status_code == 200
    assert api.call("GET", f"/visits/{done.json['visit_id']}", "handler_power").status_code == 403
    assert api.call("GET", "/visits/coverage?group=everyone", "manager").status_code == 422
    assert api.call("POST", "/campaigns", "handler_power", json={"name": "x"}).status_code == 403
    assert api.call("POST", "/campaigns", "manager", json={"name": "接口走访"}).status_code == 422


def test_openapi_documents_every_visit_route(app, api):
    doc = api.call("GET", "/openapi.json").json
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    ours = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_visits."):  # visit campaigns and rating rounds
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            ours |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert ours and ours <= documented, ours - documented
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(doc)))
    assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])


def test_questionnaires_are_the_visit_forms(eng):
    assert [f["key"] for f in visit_service.questionnaire_choices(eng)] == ["visit_survey"]


# --- Ratings (测评) ---------------------------------------------------------------------------------------------


@pytest.fixture
def rated_round(eng, actors, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")
    from engine.services import ratings

    return ratings.open_round(
        eng,
        actors("manager"),
        {
            "name": "一季度企业评部门",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "closes_on": "2026-04-15",
        },
    )


def _link(client, auth, round_id) -> str:
    auth.login("manager")
    page = _text(client.get(f"/ratings/{round_id}"))
    auth.logout()
    return re.search(r'href="https?://[^/]+(/rate/[^"]+)"', page).group(1)


def test_an_enterprise_rates_through_its_link_once(client, auth, rated_round, monkeypatch):
    from web import public as public_view

    monkeypatch.setattr(public_view, "MIN_FILL_SECONDS", 0)
    link = _link(client, auth, rated_round["round_id"])
    page = _text(client.get(link))
    assert "市电业局（供电公司）" in page and "很满意" in page
    stamp = re.search(r'name="stamp" value="([^"]+)"', page).group(1)
    unit = re.search(r'name="score-(\d+)"', page).group(1)
    assert client.post(link, data={"stamp": stamp}).status_code == 422  # nothing rated
    stamp = re.search(r'name="stamp" value="([^"]+)"', _text(client.get(link))).group(1)
    done = client.post(link, data={"stamp": stamp, f"score-{unit}": "4", f"comment-{unit}": "上门服务"})
    assert done.status_code == 302
    assert "感谢您的评价" in _text(client.get(done.headers["Location"]))
    assert client.post(link, data={"stamp": stamp, f"score-{unit}": "1"}).status_code in (409, 422)
    assert client.get("/rate/nonsense").status_code == 404
    auth.login("handler_power")
    own = _text(client.get(f"/ratings/{rated_round['round_id']}"))
    assert "上门服务" in own and "/rate/" not in own
    auth.login("manager")
    assert "4.0" in _text(client.get(f"/ratings/{rated_round['round_id']}"))


def test_the_office_opens_a_round_on_its_page_and_the_api_reads_it(client, auth, api, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="market")
    auth.login("manager")
    bad = client.post(
        "/ratings/new", data={"name": "x", "period_start": "2026-03-31", "period_end": "2026-01-01"}
    )
    assert bad.status_code == 422
    made = client.post(
        "/ratings/new",
        data={
            "name": "三月企业评部门",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
            "closes_on": "2026-04-10",
        },
    )
    assert made.status_code == 302
    assert "三月企业评部门" in _text(client.get("/ratings"))
    listed = api.call("GET", "/rating-rounds", "manager").json["items"]
    round_id = listed[0]["round_id"]
    detail = api.call("GET", f"/rating-rounds/{round_id}", "manager").json
    token = detail["links"][0]["token"]
    form = api.call("GET", f"/ratings/{token}").json
    unit_id = form["units"][0]["unit_id"]
    assert api.call("POST", f"/ratings/{token}", json={"scores": {str(unit_id): 7}}).status_code == 422
    assert api.call("POST", f"/ratings/{token}", json={"scores": {str(unit_id): 5}}).status_code == 201
    assert api.call("POST", f"/ratings/{token}", json={"scores": {str(unit_id): 5}}).status_code == 409
    assert api.call("POST", "/rating-rounds", "handler_market", json={}).status_code == 403
    assert api.call("POST", f"/rating-rounds/{round_id}/close", "manager").status_code == 200


def test_the_office_changes_a_visitor_on_the_campaign_page(client, auth, eng, actors):
    campaign_id = _campaign(client, auth)
    page = _text(client.get(f"/campaigns/{campaign_id}"))
    link = re.search(r'href="(/campaigns/\d+/targets/\d+/visitor)"', page).group(1)
    assert "更换走访人" in _text(client.get(link))
    assert client.post(link, data={}).status_code == 422
    assert client.post(link, data={"unit": "land"}).status_code == 302
    assert "自然资源和规划局" in _text(client.get(f"/campaigns/{campaign_id}"))
    auth.login("handler_econ")
    assert client.get(link).status_code == 403


def test_a_supervisor_supervises_an_overdue_visit_from_the_inbox(client, auth, eng, actors, clock):
    import datetime as dt

    from engine.domain.clock import LOCAL_TZ
    from engine.worker import run_pass

    campaign_id = _campaign(client, auth)
    clock.set(dt.datetime(2026, 3, 21, 9, 0, tzinfo=LOCAL_TZ))
    run_pass(eng)
    auth.login("supervisor")
    inbox = _text(client.get("/tasks"))
    task_id = re.search(r'href="/tasks/([0-9a-f-]{36})" data-task="supervise"', inbox).group(1)
    opened = client.get(f"/tasks/{task_id}", follow_redirects=True)
    assert "督办" in _text(opened) and "春季走访" in _text(opened)
    assert client.post(f"/visits/supervise/{task_id}", data={"supervision_step": "urge"}).status_code == 422
    done = client.post(
        f"/visits/supervise/{task_id}",
        data={"supervision_step": "urge", "supervision_order": "请三日内完成走访并记录"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/campaigns/{campaign_id}")


def test_the_campaign_exports_its_enterprises_with_visits_and_answers(eng, client, auth, api, actors):
    from openpyxl import load_workbook

    campaign_id = _campaign(client, auth)
    task = next(
        t
        for t in task_service.list_tasks(eng, actors("registrar"), per_page=200)["items"]
        if t["kind"] == "visit"
    )
    task_service.complete_task(
        eng,
        actors("registrar"),
        task["task_id"],
        {
            "visited_on": "2026-03-10",
            "visitors": "王芳",
            "met_with": "=HYPERLINK(1)",
            "findings": "none",
            "answers": {
                "operation": "difficult",
                "orders_trend": "down",
                "main_need": "land",
                "policy_known": "yes",
            },
        },
    )
    response = client.get(f"/campaigns/{campaign_id}/export.xlsx?status=visited")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    response.close()
    assert len(rows) == 2 and rows[0][0] == "企业名称" and "企业生产经营状况" in rows[0]
    assert rows[1][0] == task["enterprise_name"] and "困难" in rows[1] and rows[1][10].startswith("'")
    by_api = api.call("GET", f"/campaigns/{campaign_id}/export.xlsx", "handler_power")
    assert by_api.status_code == 200
    assert len(list(load_workbook(io.BytesIO(by_api.data)).active.iter_rows())) == 1  # none of its rows
    by_api.close()


BIG = "99999999999999999999"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        (
            "POST",
            "/campaigns",
            {"name": "奇怪", "waves": [1, "x", None], "scope": {"list": [3, None, {"credit_code": 5}]}},
        ),
        (
            "POST",
            "/campaigns",
            {"name": ["列表"], "start_date": "2026-02-30", "end_date": 5, "assignment": "everyone"},
        ),
        (
            "POST",
            "/campaigns",
            {
                "name": "范围",
                "start_date": "2026-03-01",
                "end_date": "2026-03-31",
                "scope": {"filters": {"size": "巨型"}},
            },
        ),
        (
            "POST",
            "/campaigns",
            {"name": "名单", "start_date": "2026-03-01", "end_date": "2026-03-31", "scope": {"list": "abc"}},
        ),
        (
            "POST",
            "/campaigns",
            {
                "name": "层级",
                "start_date": "2026-03-01",
                "end_date": "2026-03-31",
                "assignment": {"mode": "pairing", "level": ["x"]},
            },
        ),
        ("GET", "/visit-targets?campaign=abc", None),
        ("GET", f"/visit-targets?campaign={BIG}", None),
        ("GET", "/visit-targets?answer=nothing", None),
        ("GET", "/visit-targets?cadre=zz", None),
        ("GET", f"/visit-targets?cadre=u{BIG}", None),
        ("GET", "/visits/coverage?group=cadre&status=late", None),
        ("GET", f"/campaigns/{BIG}", None),
        ("GET", f"/visits/{BIG}", None),
        ("PATCH", "/visit-targets/1", {"user": ["x"]}),
        ("POST", "/visit-tasks/not-a-task", {"visited_on": "2026-03-10"}),
        (
            "POST",
            "/rating-rounds",
            {"name": "x", "period_start": [], "period_end": None, "closes_on": "2026-13-01"},
        ),
        ("GET", "/figures/ratings?period=2026-Q9", None),
        ("POST", "/ratings/nonsense", {"scores": []}),
        ("GET", f"/rating-rounds/{BIG}", None),
    ],
)
def test_odd_api_input_is_a_clear_4xx(api, method, path, payload):
    response = (
        api.call(method, path, "manager", json=payload)
        if payload is not None
        else api.call(method, path, "manager")
    )
    assert 400 <= response.status_code < 500, (
        path,
        response.status_code,
        response.get_data(as_text=True)[:300],
    )


def test_a_page_number_beyond_any_list_is_a_422_like_every_list(api):
    response = api.call("GET", f"/visit-targets?page={BIG}", "manager")
    assert response.status_code == 422 and "page" in response.json["error"]["fields"]


def test_odd_visit_records_are_refused_with_every_field_named(eng, api, actors):
    api.call(
        "POST",
        "/campaigns",
        "manager",
        json={
            "name": "怪记录",
            "start_date": "2026-03-09",
            "end_date": "2026-03-31",
            "form_key": "visit_survey",
            "scope": {"list": [{"credit_code": demo_credit_code("杭叉集团")}]},
            "assignment": {"mode": "hand", "user": "registrar"},
            "launch": True,
        },
    )
    task = next(t for t in api.call("GET", "/tasks", "registrar").json["items"] if t["kind"] == "visit")
    for record in (
        {"visited_on": "2026-03-10", "answers": [], "problems": "x"},
        {
            "visited_on": 20260310,
            "visitors": ["x"],
            "met_with": None,
            "findings": "maybe",
            "problems": [1, None],
        },
        {
            "visited_on": "2026-03-10",
            "visitors": "王芳",
            "met_with": "赵总",
            "findings": "problems",
            "problems": [{"title": "x" * 5000}] * 11,
        },
        {"unknown": 1},
    ):
        response = api.call("POST", f"/visit-tasks/{task['task_id']}", "registrar", json=record)
        assert response.status_code == 422, (record, response.json)
    assert _count(eng, Visit) == 0
