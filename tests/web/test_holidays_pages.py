"""The holiday-schedule pages and API: admins only, the warnings while a year lacks official data, entering and
importing a year with per-row errors (422, nothing saved), and the estimated-deadline flag on pages and payloads.

Schedules here are made up (marked 测试 / test) for test years; none is an official schedule.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest

from engine.domain.clock import LOCAL_TZ

FAKE_2031 = {
    "reference": "测试用·非官方",
    "holidays": [{"date": "2031-01-01", "end": "2031-01-03", "name": "元旦（测试）"}],
    "workdays": ["2031-01-04"],
}


@pytest.fixture
def api(client):
    class Api:
        def call(self, method: str, path: str, user: str, **kwargs):
            token = client.post("/api/v1/auth/token", json={"username": user, "password": "jienan2026"})
            headers = {"Authorization": f"Bearer {token.json['token']}"}
            return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return Api()


def _local(*args):
    return dt.datetime(*args, tzinfo=LOCAL_TZ)


def test_only_admins_reach_the_calendar_pages(client, auth):
    auth.login("manager")
    for path in ("/admin/calendar", "/admin/calendar/2027", "/admin/calendar/template.xlsx"):
        assert client.get(path).status_code == 403, path
    assert client.post("/admin/calendar/2027", data={"reference": "x"}).status_code == 403
    assert b"/admin/calendar" not in client.get("/tasks").data  # not in the navigation either
    auth.logout()
    auth.login("admin")
    assert client.get("/admin/calendar").status_code == 200
    assert client.get("/admin/calendar/2099").status_code == 404


def test_admin_pages_and_the_dashboard_warn_about_next_year(client, auth):
    # The clock is in 2026: chinesecalendar knows 2026, nothing knows 2027 yet.
    auth.login("admin")
    for path in ("/admin/calendar", "/admin/tokens", "/tasks", "/dashboard"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="calendar-warning"' in page and "2027 年的法定节假日安排尚未录入" in page, path
    listing = client.get("/admin/calendar").get_data(as_text=True)
    assert 'data-year="2026" data-source="library"' in listing
    assert 'data-year="2027" data-source="estimated"' in listing
    auth.logout()
    auth.login("supervisor")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "2027 年的法定节假日安排尚未录入" in dashboard and "请联系系统管理员录入" in dashboard
    assert 'id="calendar-warning"' not in client.get("/tasks").get_data(as_text=True)


def test_the_library_year_is_shown_with_its_holidays(client, auth):
    auth.login("admin")
    page = client.get("/admin/calendar/2026").get_data(as_text=True)
    assert 'data-source="library"' in page
    assert 'data-day="2026-02-17"' in page and "春节" in page  # from chinesecalendar
    assert 'data-day="2026-02-14"' in page  # a make-up Saturday


def test_entering_a_year_on_the_page(client, auth, eng):
    auth.login("admin")
    response = client.post(
        "/admin/calendar/2031",
        data={
            "reference": "测试用·非官方",
            "holidays_text": "2031-01-01~2031-01-03 元旦（测试）\n\n2031-05-01 劳动节（测试）",
            "workdays_text": "2031-01-04",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已保存 2031 年节假日安排：放假 4 天，调休上班 1 天；重算了 0 件诉求的期限" in page
    assert 'data-source="entered"' in page and 'id="year-reference">测试用·非官方<' in page
    assert 'data-day="2031-01-04"' in page and "录入2031年节假日安排" in page  # the history
    assert "2031-01-01~2031-01-03 元旦（测试）" in page  # the form shows what is entered


def test_bad_lines_are_listed_with_where_they_are_and_nothing_is_saved(client, auth):
    auth.login("admin")
    response = client.post(
        "/admin/calendar/2031",
        data={
            "reference": "",
            "holidays_text": "2031-01-01\n2031-02-30 测试",
            "workdays_text": "2031-01-01",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写通知文号" in page
    response = client.post(
        "/admin/calendar/2031",
        data={
            "reference": "测试",
            "holidays_text": "2031-01-01\n2031-02-30 测试",
            "workdays_text": "2031-01-01",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="row-errors"' in page
    assert "放假日期第 2 行" in page and "“2031-02-30”不是有效的日期" in page
    assert "调休上班日期第 1 行" in page and "星期三" in page
    assert "2031-02-30 测试" in page  # what was typed is kept
    assert 'data-source="estimated"' in page


def test_importing_a_file_on_the_page(client, auth):
    auth.login("admin")
    csv = "日期,结束日期,类型,名称\n2031-01-01,2031-01-03,放假,元旦（测试）\n2031-01-04,,上班,\n".encode()
    response = client.post(
        "/admin/calendar/2031/import",
        data={"reference": "测试用·非官方", "file": (io.BytesIO(csv), "2031.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "放假 3 天，调休上班 1 天" in response.get_data(as_text=True)
    bad = client.post(
        "/admin/calendar/2031/import",
        data={"reference": "测试", "file": (io.BytesIO(b"%PDF"), "2031.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "只能导入 .xlsx 或 .csv" in bad.get_data(as_text=True)
    missing = client.post("/admin/calendar/2031/import", data={"reference": "测试"})
    assert missing.status_code == 422 and "请选择要导入的" in missing.get_data(as_text=True)


def test_templates_download(client, auth):
    auth.login("admin")
    xlsx = client.get("/admin/calendar/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    csv = client.get("/admin/calendar/template.csv")
    assert csv.status_code == 200 and csv.data.decode("utf-8-sig").startswith("日期,结束日期,类型,名称")


def test_a_deadline_in_a_year_without_data_says_it_is_estimated(client, auth, journey, clock):
    clock.set(_local(2026, 12, 21, 9, 0))
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power", time_limit_days=10)
    journey.act("handler_power", case_id, {"sign_decision": "sign"})  # deadline in January 2027
    auth.login("handler_power")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-estimated="1"' in page and "按周一至周五估算" in page
    task = journey.task("handler_power", case_id)
    assert 'data-estimated="1"' in client.get(f"/tasks/{task['task_id']}").get_data(as_text=True)
    assert 'data-estimated="1"' in client.get("/tasks?scope=unit").get_data(as_text=True)


def test_a_deadline_in_a_known_year_is_not_marked(client, auth, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power", time_limit_days=5)
    journey.act("handler_power", case_id, {"sign_decision": "sign"})  # March 2026
    auth.login("handler_power")
    assert 'data-estimated="1"' not in client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_the_api_flags_estimated_deadlines(api, journey, clock):
    clock.set(_local(2030, 12, 24, 9, 0))
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power", time_limit_days=8)
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    case = api.call("GET", f"/cases/{case_id}", "dispatcher").json
    assert case["deadline_estimated"] is True and case["deadline_at"].startswith("2031-01-03T10:00")
    tasks = api.call("GET", "/tasks?scope=unit", "handler_power").json["items"]
    task = next(t for t in tasks if t["case_id"] == case_id)
    assert task["due_estimated"] is True
    assert api.call("GET", f"/tasks/{task['task_id']}", "handler_power").json["due_estimated"] is True

    saved = api.call("PUT", "/calendar/2031", "admin", json=FAKE_2031)
    assert saved.status_code == 200, saved.json
    assert saved.json["action"] == "entered" and saved.json["recomputed"] == 1
    assert saved.json["moved"][0]["to"].startswith("2031-01-07T10:00")
    case = api.call("GET", f"/cases/{case_id}", "dispatcher").json
    assert case["deadline_estimated"] is False and case["deadline_at"].startswith("2031-01-07T10:00")
    assert any(e["kind"] == "deadline_recounted" for e in case["timeline"])


def test_the_calendar_api(api):
    assert api.call("GET", "/calendar", "dispatcher").status_code == 403
    assert api.call("PUT", "/calendar/2031", "manager", json=FAKE_2031).status_code == 403
    years = api.call("GET", "/calendar", "admin").json
    assert years["missing"] == [2027]
    assert {y["year"]: y["source"] for y in years["years"]}[2027] == "estimated"

    bad = api.call(
        "PUT",
        "/calendar/2031",
        "admin",
        json={
            "reference": "测试",
            "holidays": ["2031-01-01", "2031-1-32"],
            "workdays": [{"date": "2031-01-07"}],
        },
    )
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"holidays[1]", "workdays[0]"}
    assert api.call("PUT", "/calendar/2031", "admin", data="[]").status_code == 422
    wrong_type = api.call("PUT", "/calendar/2031", "admin", json={"reference": "x", "holidays": "2031-01-01"})
    assert wrong_type.status_code == 422 and "holidays" in wrong_type.json["error"]["fields"]

    assert api.call("PUT", "/calendar/2031", "admin", json=FAKE_2031).json["changed"] is True
    assert api.call("PUT", "/calendar/2031", "admin", json=FAKE_2031).json["changed"] is False
    year = api.call("GET", "/calendar/2031", "admin").json
    assert year["source"] == "entered" and year["reference"] == "测试用·非官方"
    assert [d["date"] for d in year["workdays"]] == ["2031-01-04"]
    assert [h["action"] for h in year["history"]] == ["entered"]

    csv = "日期,类型\n2031-01-01,放假\n".encode()
    imported = api.call(
        "POST",
        "/calendar/2031/import",
        "admin",
        data={"reference": "测试2", "file": (io.BytesIO(csv), "a.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 200 and imported.json["action"] == "updated"
    removed = api.call("DELETE", "/calendar/2031", "admin")
    assert removed.status_code == 200 and removed.json["action"] == "removed"
    assert api.call("DELETE", "/calendar/2031", "admin").status_code == 404
    assert api.call("GET", "/calendar/1999", "admin").status_code == 404

    doc = api.call("GET", "/openapi.json", "admin").json
    assert {"get", "put", "delete"} <= set(doc["paths"]["/calendar/{year}"])
    assert "CalendarInput" in doc["components"]["schemas"]
    assert "deadline_estimated" in doc["components"]["schemas"]["CaseSummary"]["properties"]
    assert "due_estimated" in doc["components"]["schemas"]["Task"]["properties"]
