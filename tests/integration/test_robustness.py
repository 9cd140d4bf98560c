"""Rollback on error, concurrent submits, and a case reopened 100 times."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import Conflict
from engine.errors import JienanError
from engine.services import tasks
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import WorkflowInstance
from engine.workflow.deploy import publish_rules

TRIAGE = Path(__file__).resolve().parents[2] / "processes" / "triage.dmn"


def _counts(eng):
    with eng.db.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m)) for m in (Case, CaseEvent, WorkflowInstance)
        )


def test_a_failing_rule_rolls_back_the_whole_registration(eng, journey):
    """A triage table without a catch-all rule: an unmatched case is refused and nothing is half-saved."""
    xml = TRIAGE.read_text("utf-8")
    start = xml.index('<rule id="rule_general"')
    end = xml.index("</rule>", start) + len("</rule>")
    with eng.db.transaction() as session:
        publish_rules(session, eng, xml[:start] + xml[end:], comment="no catch-all")
    before = _counts(eng)
    with pytest.raises(JienanError) as info:
        journey.register(urgency="一般", category="其他")
    assert "没有规则匹配" in info.value.message
    assert _counts(eng) == before
    assert journey.register(urgency="重大")["tier"] == "city_leader"  # matched rules still work


def test_two_simultaneous_submits_of_one_task_give_one_409(eng, journey, actors):
    case_id = journey.register()["case_id"]
    task_id = journey.task("dispatcher", case_id)["task_id"]
    data = {"tier": "department", "lead_unit": "power", "time_limit_days": 5}
    results, barrier = [], threading.Barrier(2)

    def submit():
        barrier.wait()
        try:
            tasks.complete_task(eng, actors("dispatcher"), task_id, data)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict", "ok"]
    assert journey.case(case_id)["status"] == "signing"


@pytest.mark.slow
def test_case_reopened_100_times_still_answers_at_flat_cost(eng, journey):
    case_id = journey.register()["case_id"]
    for _round in range(100):
        journey.dispatch(case_id)
        journey.handle_to_revisit(case_id)
        journey.revisit(case_id, "unsatisfied")
    page = journey.case(case_id)
    assert page["round_no"] == 101 and page["status"] == "dispatching" and len(page["rounds"]) == 101
    with eng.db.read() as session:
        sizes = session.execute(
            select(WorkflowInstance.round_no, func.length(WorkflowInstance.state))
            .where(WorkflowInstance.case_id == case_id)
            .order_by(WorkflowInstance.round_no)
        ).all()
    # Each round is its own instance: the state of round 100 is no bigger than that of round 1.
    assert sizes[99][1] <= sizes[0][1] * 1.1
    journey.dispatch(case_id)
    journey.handle_to_revisit(case_id)
    journey.revisit(case_id, "satisfied")
    assert journey.act("dispatcher", case_id, {"closing_summary": "终于解决"})["status"] == "closed"


def test_two_simultaneous_retries_with_one_idempotency_key_make_one_case(eng, actors, journey):
    import threading

    from sqlalchemy import func
    from sqlalchemy import select

    from engine.services import cases
    from engine.storage.models import Case

    body = {
        "enterprise_id": journey.enterprise_id(),
        "channel": "12345热线",
        "field": "工业",
        "category": "用工/人才",
        "urgency": "一般",
        "title": "招工难",
        "description": "技术工人招不到。",
    }
    barrier, results, errors = threading.Barrier(2), [], []

    def submit():
        barrier.wait()
        try:
            results.append(
                cases.register_case(eng, actors("registrar"), dict(body), idempotency_key="hotline-77")
            )
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({r["case_id"] for r in results}) == 1 and sorted(r["replayed"] for r in results) == [
        False,
        True,
    ]
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
