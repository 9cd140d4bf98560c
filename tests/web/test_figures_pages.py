"""The figures page, the dashboard data, drill-down to the case list, and the quarterly evaluation's pages."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from engine.storage.models import HumanTask
from engine.storage.models import Unit


def _unit_id(eng, code):
    with eng.db.read() as session:
        return session.scalar(select(Unit.unit_id).where(Unit.code == code))


def _close(journey, case_id, lead="power"):
    journey.dispatch(case_id, lead=lead)
    journey.handle_to_revisit(case_id, lead=lead)
    journey.revisit(case_id, "satisfied")
    journey.act("dispatcher", case_id, {"closing_summary": "已解决，销号。"})


def test_figures_page_shows_definitions_and_links_to_the_cases_behind_a_number(client, auth, journey, eng):
    closed = journey.register()["case_id"]
    _close(journey, closed)
    waiting = journey.register(category="用地")
    auth.login("manager")
    page = client.get("/figures?period=2026-Q1&group=unit")
    assert page.status_code == 200
    assert "统计口径" in page.text and "办结率 = 已办结 ÷ 收集问题" in page.text
    total = re.search(r'id="figure-total">(.*?)</tr>', page.text, re.S).group(1)
    assert "50.0%" in total  # 1 of 2 collected closed
    power = _unit_id(eng, "power")
    link = f"/cases?figure=closed&amp;period=2026-Q1&amp;role=lead&amp;unit={power}"
    assert link in page.text
    listed = client.get(link.replace("&amp;", "&"))
    assert listed.status_code == 200 and waiting["case_no"] not in listed.text
    assert re.search(r'id="case-total">1<', listed.text)
    by_category = client.get("/figures?period=2026-Q1&group=category&channel=走访")
    assert "用地" in by_category.text and by_category.status_code == 200
    assert client.get("/figures?period=2026-Q7").status_code == 422
    assert "应写作 2026、2026-Q3 或 2026-07" in client.get("/figures?period=2026-Q7").text
    assert client.get("/figures?period=2026-Q1&field=农业").status_code == 422


def test_dashboard_data_and_permissions(client, auth, journey, eng):
    case_id = journey.register()["case_id"]
    _close(journey, case_id)
    other = journey.register()["case_id"]
    journey.dispatch(other, lead="market")
    auth.login("manager")
    assert client.get("/dashboard?period=2026-Q1").status_code == 200
    data = client.get("/figures/data.json?period=2026-Q1").json
    assert data["total"]["collected"] == 2 and data["total"]["closure_rate"] == 50.0
    assert {row["label"] for row in data["units"]} == {"市电业局（供电公司）", "市场监督管理局"}
    assert all(row["drill"].startswith("/cases?figure=collected") for row in data["units"])
    assert [f["count"] for f in data["live"]["flags"]] == [1, 0, 0, 0]  # green, yellow, red, black
    bad = client.get("/figures/data.json?period=soon")
    assert bad.status_code == 422 and "统计期间" in bad.json["error"]["message"]
    auth.logout()
    auth.login("handler_power")  # a unit sees its own figures only, whatever it asks for
    mine = client.get(f"/figures/data.json?period=2026-Q1&unit={_unit_id(eng, 'market')}").json
    assert [row["label"] for row in mine["units"]] == ["市电业局（供电公司）"]
    assert mine["total"]["collected"] == 1
    auth.logout()
    auth.login("registrar")
    assert client.get("/figures/data.json").status_code == 403


def test_evaluation_pages_review_publish_and_interview(client, auth, journey, eng, clock):
    for _n in range(5):
        _close(journey, journey.register()["case_id"])
    for _n in range(4):
        journey.dispatch(journey.register()["case_id"], lead="market")
    for _n in range(5):  # nothing closed or revisited: no on-time or satisfaction rate (not 0 %)
        journey.dispatch(journey.register()["case_id"], lead="urban")
    journey.close_late(clock, "market", dt.datetime(2026, 3, 19, 10, 0))  # market: 38.0, black
    clock.set(dt.datetime(2026, 4, 2, 10, 0))
    auth.login("manager")
    page = client.get("/evaluation/")
    assert page.status_code == 200 and "2026-Q1" in page.text
    started = client.post("/evaluation/start", data={"quarter": "2026-Q1"})
    assert started.status_code == 302 and started.location.endswith("/evaluation/2026-Q1")
    board = client.get("/evaluation/2026-Q1")
    assert "尚未发布" in board.text and 'data-board="black"' in board.text
    assert 'data-unit="城市管理局" data-board="unranked"' in board.text and "无数据" in board.text
    assert "按时办结率（本季度没有办结的问题）、满意率（本季度没有回访）无数据" in board.text
    client.post("/lang", data={"lang": "en", "next": "/evaluation/2026-Q1"})
    english = client.get("/evaluation/2026-Q1").text
    assert (
        "No data for On-time rate (no case closed this quarter), Satisfaction rate (no revisit this quarter)"
        in english
    )
    client.post("/lang", data={"lang": "zh", "next": "/evaluation/2026-Q1"})
    assert (
        client.post("/evaluation/start", data={"quarter": "2026-Q2"}).status_code == 302
    )  # refused, flashed
    with eng.db.read() as session:
        review = session.scalar(
            select(HumanTask.task_id).where(HumanTask.role == "manager", HumanTask.case_id.is_(None))
        )
    inbox = client.get("/tasks")
    assert "2026年第1季度考评" in inbox.text
    assert client.get(f"/tasks/{review}").location.endswith(f"/evaluation/task/{review}")
    form = client.get(f"/evaluation/task/{review}")
    assert form.status_code == 200 and "审定意见" in form.text
    refused = client.post(f"/evaluation/task/{review}", data={"decision": "perhaps"})
    assert refused.status_code == 422
    done = client.post(f"/evaluation/task/{review}", data={"decision": "publish", "review_note": "同意"})
    assert done.status_code == 302
    published = client.get("/evaluation/2026-Q1")
    assert "发布时冻结的快照" in published.text and "同意" in published.text
    auth.logout()
    auth.login("handler_power")
    assert client.get("/evaluation/2026-Q1").status_code == 200  # published boards are public to staff
    auth.logout()
    auth.login("supervisor")
    with eng.db.read() as session:
        interview = session.scalar(
            select(HumanTask.task_id).where(HumanTask.role == "supervisor", HumanTask.case_id.is_(None))
        )
    page = client.get(f"/evaluation/task/{interview}")
    assert "约谈单位本季度数据" in page.text and "市场监督管理局" in page.text
    assert client.post(f"/evaluation/task/{interview}", data={"interviewee": "王"}).status_code == 422
    ok = client.post(
        f"/evaluation/task/{interview}",
        data={
            "interview_date": "2026-04-03",
            "interviewee": "王局长",
            "interview_record": "指出一季度牵头问题无一办结。",
            "rectification": "两周内办结并报整改报告。",
        },
    )
    assert ok.status_code == 302
    assert "两周内办结并报整改报告" in client.get("/evaluation/2026-Q1").text


def test_api_figures(client, journey, eng):
    case_id = journey.register()["case_id"]
    _close(journey, case_id)
    token = client.post("/api/v1/auth/token", json={"username": "leader", "password": "jienan2026"}).json[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.get("/api/v1/figures?period=2026-Q1&group=channel", headers=headers)
    assert answer.status_code == 200
    assert answer.json["total"]["closure_rate"] == 100.0 and answer.json["rows"][0]["key"] == "走访"
    bad = client.get("/api/v1/figures?period=2026-Q1&group=colour", headers=headers)
    assert bad.status_code == 422 and "group" in bad.json["error"]["fields"]
    assert client.get("/api/v1/figures").status_code == 401
