"""Pages: login, inbox, task forms, registration, case and enterprise pages, permissions and error answers."""

from __future__ import annotations

import io

import pytest

from web import create_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_login_required_and_bad_password(client, auth):
    assert client.get("/tasks").status_code == 302
    response = auth.login("dispatcher", "wrong")
    assert response.status_code == 401 and "用户名或密码不正确" in response.text
    assert auth.login("dispatcher").status_code == 302
    assert client.get("/tasks").status_code == 200


@pytest.mark.parametrize(
    "user", ["registrar", "dispatcher", "leader", "supervisor", "manager", "handler_power"]
)
def test_main_pages_render_for_every_role(client, auth, journey, user):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id)
    auth.login(user)
    for path in (
        "/tasks",
        "/tasks?scope=unit",
        "/cases",
        "/enterprises",
        f"/cases/{case_id}",
        f"/enterprises/{journey.enterprise_id()}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "解难" in response.text


def test_register_problem_through_the_form(client, auth, journey):
    auth.login("registrar")
    assert "登记企业诉求" in client.get("/cases/new").text
    response = client.post(
        "/cases/new",
        data={
            "enterprise_mode": "existing",
            "enterprise_id": str(journey.enterprise_id()),
            "channel": "走访",
            "field": "工业",
            "category": "用地",
            "urgency": "一般",
            "library": "general",
            "title": "急需仓储用房",
            "description": "急需1000平方米仓储用房。",
            "attachments": (io.BytesIO(PNG), "site.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "急需仓储用房" in page.text and "部门办" in page.text and "site.png" in page.text


def test_register_with_new_enterprise_and_bad_credit_code_saves_nothing(client, auth, eng):
    auth.login("registrar")
    data = {
        "enterprise_mode": "new",
        "enterprise.name": "新建测试企业",
        "enterprise.credit_code": "91350100M000100Y44",
        "channel": "电话",
        "field": "三产",
        "category": "其他",
        "urgency": "一般",
        "title": "测试",
        "description": "测试描述",
    }
    response = client.post("/cases/new", data=data)
    assert response.status_code == 422 and "校验不通过" in response.text
    assert "新建测试企业" not in client.get("/enterprises?q=新建测试企业").text.split("</form>")[-1]
    data["enterprise.credit_code"] = "91350100M000100Y43"
    assert client.post("/cases/new", data=data).status_code == 302
    assert "新建测试企业" in client.get("/enterprises?q=新建测试企业").text


def test_register_form_errors_are_inline(client, auth, journey):
    auth.login("registrar")
    response = client.post(
        "/cases/new",
        data={
            "enterprise_mode": "existing",
            "enterprise_id": str(journey.enterprise_id()),
            "title": "x" * 101,
        },
    )
    assert response.status_code == 422
    assert "invalid-feedback" in response.text and "最多 100 个字" in response.text


def test_task_page_submit_and_errors(client, auth, journey):
    case_id = journey.register()["case_id"]
    task = journey.task("dispatcher", case_id)
    auth.login("dispatcher")
    page = client.get(f"/tasks/{task['task_id']}")
    assert page.status_code == 200 and "派单" in page.text
    bad = client.post(f"/tasks/{task['task_id']}", data={"tier": "department", "time_limit_days": "abc"})
    assert bad.status_code == 422 and "牵头单位" in bad.text
    ok = client.post(
        f"/tasks/{task['task_id']}", data={"tier": "department", "lead_unit": "power", "time_limit_days": "5"}
    )
    assert ok.status_code == 302
    again = client.post(
        f"/tasks/{task['task_id']}", data={"tier": "department", "lead_unit": "power", "time_limit_days": "5"}
    )
    assert again.status_code == 409 and "刷新" in again.text


def test_handler_of_another_unit_gets_403(client, auth, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")
    task = journey.task("handler_power", case_id)
    auth.login("handler_market")
    assert client.get(f"/cases/{case_id}").status_code == 403
    assert client.get(f"/tasks/{task['task_id']}").status_code == 403
    assert client.post(f"/tasks/{task['task_id']}", data={"sign_decision": "sign"}).status_code == 403
    assert "JN" not in client.get("/tasks?scope=unit").text.split("</nav>")[-1]
    auth.logout()
    auth.login("handler_power")
    assert journey.case(case_id)["case_no"] in client.get("/tasks?scope=unit").text


def test_unknown_things_are_404_not_500(client, auth):
    auth.login("dispatcher")
    assert client.get("/cases/999999").status_code == 404
    assert client.get("/tasks/not-a-task").status_code == 404
    assert client.get("/enterprises/999999").status_code == 404
    assert client.get("/attachments/999999").status_code == 404
    assert client.get("/nowhere").status_code == 404


def test_case_list_filters_and_bad_dates(client, auth, journey):
    journey.register(category="融资", title="融资难题")
    journey.register(category="用地", title="用地难题")
    auth.login("dispatcher")
    text = client.get("/cases?category=融资").text
    assert "融资难题" in text and "用地难题" not in text
    assert "用地难题" in client.get("/cases?q=用地").text
    response = client.get("/cases?date_from=2026-13-01")
    assert response.status_code == 422 and "YYYY-MM-DD" in response.text


def test_language_switch_to_english(client, auth):
    auth.login("dispatcher")
    client.post("/lang", data={"lang": "en", "next": "/tasks"})
    assert 'lang="en"' in client.get("/tasks").text


def test_csrf_is_enforced(eng):
    app = create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=eng)
    client = app.test_client()
    response = client.post("/login", data={"username": "dispatcher", "password": "jienan2026"})
    assert response.status_code == 400 and "CSRF" in response.text


def test_admin_issues_and_revokes_tokens(client, auth):
    auth.login("admin")
    response = client.post("/admin/tokens", data={"username": "registrar", "name": "12345 热线", "days": ""})
    assert response.status_code == 200 and "issued-token" in response.text
    auth.logout()
    auth.login("dispatcher")
    assert client.get("/admin/tokens").status_code == 403


def test_inbox_filters_by_flag(client, auth, journey, eng, clock):
    import datetime as dt

    from engine.domain.clock import LOCAL_TZ
    from engine.worker import run_pass

    clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    late, fine = (journey.register(title=t)["case_id"] for t in ("用电迟迟未解决", "道路施工影响出行"))
    journey.dispatch(late, lead="power", time_limit_days=1)
    journey.dispatch(fine, lead="power", time_limit_days=20)
    for case_id in (late, fine):
        journey.act("handler_power", case_id, {"sign_decision": "sign"})
    clock.set(dt.datetime(2026, 3, 11, 18, 1, tzinfo=LOCAL_TZ))
    run_pass(eng)
    auth.login("handler_power")
    red = client.get("/tasks?flag=red")
    assert red.status_code == 200 and "用电迟迟未解决" in red.text and "道路施工影响出行" not in red.text
    green = client.get("/tasks?flag=green")
    assert "道路施工影响出行" in green.text and "用电迟迟未解决" not in green.text
    assert "没有这种旗帜的待办任务" in client.get("/tasks?flag=yellow").text
    assert client.get("/tasks?flag=purple").status_code == 200  # an unknown colour shows everything


def test_late_submission_after_an_interrupting_deadline_is_refused_on_the_page(client, auth, journey, clock):
    import datetime as dt

    from engine.domain.clock import LOCAL_TZ

    clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))
    case_id = journey.register(urgency="一般", category="政策咨询")["case_id"]
    task = journey.task("registrar", case_id)
    auth.login("registrar")
    assert client.get(f"/tasks/{task['task_id']}").status_code == 200
    clock.set(dt.datetime(2026, 3, 11, 18, 1, tzinfo=LOCAL_TZ))
    response = client.post(
        f"/tasks/{task['task_id']}", data={"on_site_result": "resolved", "on_site_actions": "已当场答复。"}
    )
    assert response.status_code == 409
    assert "已超过时限" in response.text and "没有保存" in response.text
    assert journey.case(case_id)["status"] == "dispatching"
