"""The public channel: submit without an account, follow by a private link, answer the revisit; abuse stopped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.storage.models import Case
from web import public as public_view

GOOD = {
    "name": "网上申报测试有限公司",
    "credit_code": "91350400G4EFFB420Q",
    "field": "工业",
    "category": "融资",
    "title": "贷款续贷困难",
    "description": "<script>alert('x')</script> 银行抽贷，续贷困难，请求协调。",
    "contact_name": "陈伟",
    "contact_phone": "13800000000",
}


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr(public_view, "MIN_FILL_SECONDS", 0)


def _submit(client, **changes):
    page = client.get("/public/submit")
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.text).group(1)
    return client.post("/public/submit", data={**GOOD, "stamp": stamp, **changes})


def _cases(eng):
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_an_enterprise_submits_follows_and_answers_the_revisit(client, eng, journey):
    response = _submit(client)
    assert response.status_code == 302
    link = response.headers["Location"]
    token = link.split("/track/")[1].split("?")[0]
    page = client.get(link)
    assert page.status_code == 200 and "已受理" in page.text and "贷款续贷困难" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text  # shown as text, never run
    with eng.db.read() as session:
        case = session.scalars(select(Case)).one()
        assert case.channel == "网上申报" and case.registrar_id is None and case.tracking_token == token
        case_id = case.case_id
    # Staff handle it to the revisit; the enterprise answers online.
    journey.dispatch(case_id)
    journey.handle_to_revisit(case_id)
    page = client.get(f"/public/track/{token}")
    assert "请对办理结果进行评价" in page.text
    bad = client.post(f"/public/track/{token}/revisit", data={"solved": "yes", "satisfaction": "unsatisfied"})
    assert bad.status_code == 422  # unsatisfied needs a comment
    ok = client.post(f"/public/track/{token}/revisit", data={"solved": "yes", "satisfaction": "satisfied"})
    assert ok.status_code == 302
    detail = journey.case(case_id)
    assert detail["satisfaction"] == "satisfied" and detail["status"] == "closing"
    assert any(e["kind"] == "task_completed" and "企业自评" in (e["actor"] or "") for e in detail["timeline"])
    assert client.get("/public/track/not-a-token").status_code == 404


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"title": ""}, "请用一句话概括"),
        ({"description": "x" * 2001}, "最多 2000"),
        ({"credit_code": "123"}, "信用代码"),
        ({"contact_phone": ""}, "联系电话"),
        ({"field": "农业"}, "所属领域"),
    ],
)
def test_bad_public_submissions_are_refused_and_nothing_saved(client, eng, changes, text):
    response = _submit(client, **changes)
    assert response.status_code == 422 and text in response.text
    assert _cases(eng) == 0


def test_bots_and_floods_are_stopped(client, eng, monkeypatch):
    assert _submit(client, website="http://spam.example").status_code == 422
    assert client.post("/public/submit", data={**GOOD, "stamp": "forged"}).status_code == 422
    assert _cases(eng) == 0
    for _ in range(5):
        assert _submit(client).status_code == 302
    flooded = _submit(client)
    assert flooded.status_code == 429 and "提交太频繁" in flooded.text
    assert _cases(eng) == 5


def test_the_public_pages_need_no_login(client):
    assert client.get("/public/submit").status_code == 200
