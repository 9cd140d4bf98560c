"""The quarterly evaluation process: timer-started, scores and boards from the rule table, the manager's review,
publication freezing a snapshot, an accountability interview per black-listed unit."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engine import worker
from engine.errors import Conflict
from engine.errors import PermissionDenied
from engine.errors import RuleError
from engine.errors import ValidationFailed
from engine.services import evaluation
from engine.services import figures
from engine.services import tasks
from engine.storage.models import EvaluationBoard
from engine.storage.models import HumanTask


def _closed_case(journey, lead="power"):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead=lead)
    journey.handle_to_revisit(case_id, lead=lead)
    journey.revisit(case_id, "satisfied")
    journey.act("dispatcher", case_id, {"closing_summary": "已解决，销号。"})
    return case_id


def _open_case(journey, lead):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead=lead)
    return case_id


@pytest.fixture
def q1(journey):
    """Q1 2026: power closes 5 of 5 on time (score 100), market closes none of 5 (score 0), econ has 1 case."""
    closed = [_closed_case(journey) for _ in range(5)]
    market = [_open_case(journey, "market") for _ in range(5)]
    econ = [_open_case(journey, "econ")]
    return {"power": closed, "market": market, "econ": econ}


def _tasks(eng, role):
    with eng.db.read() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.case_id.is_(None), HumanTask.role == role))
        return [
            SimpleNamespace(task_id=t.task_id, title=t.title, case_no=t.case_no, case_title=t.case_title)
            for t in rows
        ]


def _board(eng, quarter="2026-Q1"):
    with eng.db.read() as session:
        row = session.get(EvaluationBoard, quarter)
        return SimpleNamespace(**{c.key: getattr(row, c.key) for c in EvaluationBoard.__table__.columns})


def test_a_quarter_is_evaluated_reviewed_published_and_frozen(eng, clock, journey, actors, q1):
    assert evaluation.ensure_scheduled(eng) == "2026-Q1"
    assert evaluation.ensure_scheduled(eng) is None  # one per quarter
    board = _board(eng)
    assert board.status == "scheduled"
    assert board.due_at == dt.datetime(
        2026, 4, 1, 9, 0, tzinfo=figures.LOCAL_TZ
    )  # first working day after Q1
    assert worker.run_pass(eng) == 0  # not due yet

    clock.set(dt.datetime(2026, 4, 1, 9, 5))
    assert worker.run_pass(eng) >= 1  # with the cases' own supervision timers
    board = _board(eng)
    assert board.status == "review"
    by_unit = {row["unit"]: row for row in board.draft}
    power, market = by_unit["市电业局（供电公司）"], by_unit["市场监督管理局"]
    assert (power["collected"], power["closure_rate"], power["score"], power["board"]) == (
        5,
        100.0,
        100.0,
        "red",
    )
    assert (market["collected"], market["closure_rate"], market["score"], market["board"]) == (
        5,
        0.0,
        0.0,
        "black",
    )
    assert [row["board"] for row in board.draft if row["collected"] < 5] == ["unranked"]

    [review] = _tasks(eng, "manager")
    assert review.case_no == "2026-Q1" and review.case_title == "2026年第1季度考评"
    with pytest.raises(PermissionDenied):
        tasks.complete_task(eng, actors("supervisor"), review.task_id, {"decision": "publish"})
    with pytest.raises(ValidationFailed):
        tasks.complete_task(eng, actors("manager"), review.task_id, {"decision": "maybe"})
    assert _board(eng).status == "review"

    # A correction before publication: the manager recomputes and sees it.
    journey.act("handler_market", q1["market"][0], {"sign_decision": "sign"})
    tasks.complete_task(eng, actors("manager"), review.task_id, {"decision": "recompute"})
    [review] = _tasks(eng, "manager")
    tasks.complete_task(
        eng, actors("manager"), review.task_id, {"decision": "publish", "review_note": "一季度考评"}
    )

    board = _board(eng)
    assert board.status == "published" and board.snapshot["note"] == "一季度考评"
    assert board.published_by == actors("manager").user_id
    frozen = board.snapshot
    [interview] = _tasks(eng, "supervisor")
    assert interview.title == "约谈：市场监督管理局"
    from engine.services import notifications

    told = notifications.list_notifications(eng, actors("supervisor"))["items"]
    assert any(n["title"].startswith("新任务：约谈：市场监督管理局") for n in told)

    # Later work on a Q1 case changes the live figures, never the published board.
    before = figures.figures
    with eng.db.read() as session:
        live_before = before(session, figures.parse_period("2026-Q1"), "unit")["rows"]
    journey.act("handler_market", q1["market"][0], {"outcome": "resolved", "handling_actions": "补办完成。"})
    journey.act("dispatcher", q1["market"][0], {"verdict": "accept"})
    journey.revisit(q1["market"][0], "satisfied")
    journey.act("dispatcher", q1["market"][0], {"closing_summary": "销号。"})
    with eng.db.read() as session:
        assert before(session, figures.parse_period("2026-Q1"), "unit")["rows"] != live_before
    assert _board(eng).snapshot == frozen
    page = evaluation.board(eng, actors("handler_power"), "2026-Q1")
    assert page["published"] and page["units"] == frozen["units"]

    with pytest.raises(ValidationFailed):
        tasks.complete_task(eng, actors("supervisor"), interview.task_id, {"interviewee": "王局长"})
    tasks.complete_task(
        eng,
        actors("supervisor"),
        interview.task_id,
        {
            "interview_date": "2026-04-03",
            "interviewee": "王局长（市场监督管理局局长）",
            "interview_record": "一季度牵头的 5 件问题无一办结，指出签收和办理严重滞后。",
            "rectification": "两周内全部办结并报送整改报告。",
        },
    )
    page = evaluation.board(eng, actors("manager"), "2026-Q1")
    assert page["status"] == "completed"
    interviews = [e for e in page["events"] if e["kind"] == "interview"]
    assert interviews[0]["unit"] == "市场监督管理局" and interviews[0]["form"]["interviewee"].startswith(
        "王局长"
    )

    # The next quarter is scheduled by the worker's pass.
    assert evaluation.ensure_scheduled(eng) == "2026-Q2"


def test_drafts_are_not_public_and_early_starts_are_refused(eng, clock, actors, q1):
    with pytest.raises(ValidationFailed):
        evaluation.start_now(eng, actors("manager"), "2026-Q1")  # the quarter has not ended
    clock.set(dt.datetime(2026, 4, 1, 8, 0))
    with pytest.raises(PermissionDenied):
        evaluation.start_now(eng, actors("supervisor"), "2026-Q1")
    assert evaluation.start_now(eng, actors("manager"), "2026-Q1")["status"] == "review"
    with pytest.raises(Conflict):
        evaluation.start_now(eng, actors("manager"), "2026-Q1")
    with pytest.raises(PermissionDenied):
        evaluation.board(eng, actors("handler_power"), "2026-Q1")
    assert evaluation.board(eng, actors("leader"), "2026-Q1")["status"] == "review"
    with pytest.raises(ValidationFailed):
        evaluation.board(eng, actors("manager"), "2026-07")


def test_the_manager_tries_the_evaluation_table(eng, actors):
    from engine.services import rules_admin
    from engine.workflow.specs import PROCESSES_DIR

    xml = (PROCESSES_DIR / "evaluation.dmn").read_text("utf-8")
    manager = actors("manager")
    cases = [((4, 99), "unranked"), ((5, 85), "red"), ((12, 84.9), "yellow"), ((5, 59.9), "black")]
    for (collected, score), board in cases:
        tried = rules_admin.try_table(
            eng, manager, "evaluation", xml, {"unit.collected": collected, "unit.score": score}
        )
        assert tried["ok"] and tried["outputs"] == {"board": board}, (collected, score)
    broken = xml.replace('<text>"black"</text>', '<text>"purple"</text>')
    with pytest.raises(RuleError) as refused:
        rules_admin.publish(eng, manager, "evaluation", broken)
    assert "purple" in str(refused.value.message)
