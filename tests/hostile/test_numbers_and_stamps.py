"""Official case numbers have no gaps (a number is taken only by a case that is saved, also when retries race),
and a public form's anti-bot stamp submits once."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.services import cases
from engine.services import flow
from engine.storage.models import Case
from web import public as public_view

BODY = {
    "channel": "12345热线",
    "field": "工业",
    "category": "用工/人才",
    "urgency": "一般",
    "title": "招工难",
    "description": "技术工人招不到。",
}


def _serial(case_no: str) -> int:
    return int(case_no[-6:])


def test_a_registration_that_fails_after_numbering_gives_its_number_back(eng, journey, monkeypatch):
    first = journey.register()["case_no"]

    def broken(*args, **kwargs):
        raise RuntimeError("the loop could not start")

    with monkeypatch.context() as patched:
        patched.setattr(flow, "start_round", broken)
        with pytest.raises(RuntimeError):
            journey.register()
    second = journey.register()["case_no"]
    assert _serial(second) == _serial(first) + 1


def test_racing_retries_with_one_key_leave_no_gap(eng, actors, journey):
    numbers = []
    for race in range(3):
        barrier, results, errors = threading.Barrier(3), [], []
        body = {**BODY, "enterprise_id": journey.enterprise_id(), "title": f"招工难 {race}"}

        def submit(body=body, race=race, barrier=barrier, results=results, errors=errors):
            barrier.wait()
            try:
                results.append(
                    cases.register_case(eng, actors("registrar"), dict(body), idempotency_key=f"k-{race}")
                )
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=submit) for _n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len({r["case_id"] for r in results}) == 1
        numbers.append(_serial(results[0]["case_no"]))
    numbers.append(_serial(journey.register()["case_no"]))
    assert numbers == list(range(numbers[0], numbers[0] + 4))  # three races and one more: no number lost
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 4


@pytest.fixture
def no_wait(monkeypatch):
    monkeypatch.setattr(public_view, "MIN_FILL_SECONDS", 0)


def test_a_public_form_stamp_submits_once(client, eng, no_wait):
    page = client.get("/public/submit")
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.text).group(1)
    data = {
        "name": "网上申报测试有限公司",
        "credit_code": "91350400G4EFFB420Q",
        "field": "工业",
        "category": "融资",
        "title": "贷款续贷困难",
        "description": "银行抽贷，续贷困难，请求协调。",
        "contact_name": "陈伟",
        "contact_phone": "13800000000",
        "stamp": stamp,
    }
    assert client.post("/public/submit", data=data).status_code == 302
    again = client.post("/public/submit", data=data)
    assert again.status_code == 422 and "已经提交过了" in again.text
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    fresh = re.search(r'name="stamp" value="([^"]+)"', again.text).group(1)
    assert fresh != stamp  # the page offers a new form to send another problem
