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
def q1(journey, clock):
    """Q1 2026, lead cases per unit:
    power 5, all closed on time and satisfied → 40 + 30 + 30 = 100, red;
    market 5, one closed late (satisfied) → closure 20 %, on time 0 %, satisfaction 100 %:
        0.4 × 20 + 0.3 × 0 + 0.3 × 100 = 38.0, black;
    urban 5, none closed or revisited → on-time and satisfaction rates have no data (not 0 %): only closure
        (weight 40 %) is left, under the table's 50 % → unranked, reason missing_parts (it used to score 0 and
        land on the black board);
    econ 1 → unranked, too few cases."""
    closed = [_closed_case(journey) for _ in range(5)]
    market = [_open_case(journey, "market") for _ in range(4)]
    urban = [_open_case(journey, "urban") for _ in range(5)]
    econ = [_open_case(journey, "econ")]
    # dispatched Tue 03-10 with 5 working days → deadline Tue 03-17; reported Thu 03-19
    market.append(journey.close_late(clock, "market", dt.datetime(2026, 3, 19, 10, 0)))
    return {"power": closed, "market": market, "urban": urban, "econ": econ}


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
    worker.run_pass(eng)  # the late cases' supervision timers fire; the evaluation is not due yet
    assert _board(eng).status == "scheduled"

    clock.set(dt.datetime(2026, 4, 1, 9, 5))
    assert worker.run_pass(eng) >= 1  # with the cases' own supervision timers
    board = _board(eng)
    assert board.status == "review"
    by_unit = {row["unit"]: row for row in board.draft}
    power, market = by_unit["市电业局（供电公司）"], by_unit["市场监督管理局"]
    urban, econ = by_unit["城市管理局"], by_unit["经济和信息化局"]
    assert (power["collected"], power["closure_rate"], power["score"], power["board"]) == (
        5,
        100.0,
        100.0,
        "red",
    )
    assert power["missing"] == [] and power["scored_weight"] == 100.0 and power["reason"] is None
    assert (
        market["closed"],
        market["closure_rate"],
        market["on_time_rate"],
        market["satisfaction_rate"],
    ) == (
        1,
        20.0,
        0.0,
        100.0,
    )
    assert (market["score"], market["board"]) == (38.0, "black")
    # No case closed or revisited: the rates are "no data", not 0 %, and the unit is not put on the black board.
    assert (urban["collected"], urban["closure_rate"], urban["on_time_rate"], urban["satisfaction_rate"]) == (
        5,
        0.0,
        None,
        None,
    )
    assert urban["missing"] == ["on_time_rate", "satisfaction_rate"] and urban["scored_weight"] == 40.0
    assert (urban["score"], urban["board"], urban["reason"]) == (0.0, "unranked", "missing_parts")
    assert (econ["board"], econ["reason"]) == ("unranked", "too_few_cases")

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
    assert interview.title == "约谈：市场监督管理局（督查部门约谈）"  # first black board: the lowest level
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
            "interview_record": "一季度牵头的 5 件问题只办结 1 件且超期，指出签收和办理严重滞后。",
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
    cases = [
        ((4, 100, 99), {"board": "unranked", "reason": "too_few_cases"}),
        ((5, 40, 0), {"board": "unranked", "reason": "missing_parts"}),  # only the closure rate has data
        ((5, 100, 85), {"board": "red", "reason": None}),
        ((12, 70, 84.9), {"board": "yellow", "reason": None}),  # re-weighted over two parts
        ((5, 100, 59.9), {"board": "black", "reason": None}),
    ]
    for (collected, weight, score), outputs in cases:
        tried = rules_admin.try_table(
            eng,
            manager,
            "evaluation",
            xml,
            {"unit.collected": collected, "unit.scored_weight": weight, "unit.score": score},
        )
        assert tried["ok"] and tried["outputs"] == outputs, (collected, weight, score)
    shipped = rules_admin.source(eng, manager, "evaluation")["examples"]
    assert len(shipped) == 5 and rules_admin.check(eng, manager, "evaluation", xml)["ok"]
    broken = xml.replace('<text>"black"</text>', '<text>"purple"</text>')
    with pytest.raises(RuleError) as refused:
        rules_admin.publish(eng, manager, "evaluation", broken)
    assert "purple" in str(refused.value.message)


def _reopened(journey, lead):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead=lead)
    journey.handle_to_revisit(case_id, lead=lead)
    journey.revisit(case_id, "unsatisfied")  # the round ends unsatisfied; the case is handled again
    return case_id


def _draft_row(eng, unit, quarter="2026-Q1"):
    return next(row for row in _board(eng, quarter).draft if row["unit"] == unit)


def test_a_missing_part_is_reweighted_and_the_table_decides_whether_it_ranks(eng, clock, actors, journey):
    """自然资源和规划局: 5 lead cases, none closed, one revisited and found unsatisfied (reopened). Closure 0 %,
    on time: no data (nothing closed), satisfaction 0 % (1 revisit). The parts with data (weights 40 and 30)
    are re-weighted to 57.1 % and 42.9 %: (40 × 0 + 30 × 0) ÷ 70 = 0.0; they carry 70 % of the weight, so the
    shipped table (at least 50 %) ranks it: black. A manager who wants all three parts before ranking raises
    the table's threshold: the unit is then unranked, with the reason."""
    _reopened(journey, "land")
    for _n in range(4):
        _open_case(journey, "land")
    clock.set(dt.datetime(2026, 4, 1, 8, 0))
    evaluation.start_now(eng, actors("manager"), "2026-Q1")
    land = _draft_row(eng, "自然资源和规划局")
    assert (land["closure_rate"], land["on_time_rate"], land["satisfaction_rate"]) == (0.0, None, 0.0)
    assert land["missing"] == ["on_time_rate"] and land["scored_weight"] == 70.0
    assert land["applied_weights"] == {"closure_rate": 57.1, "satisfaction_rate": 42.9}
    assert (land["score"], land["board"], land["reason"]) == (0.0, "black", None)

    from engine.services import rules_admin
    from engine.workflow.specs import PROCESSES_DIR

    manager = actors("manager")
    strict = (
        (PROCESSES_DIR / "evaluation.dmn")
        .read_text("utf-8")
        .replace("<text>&lt; 50</text>", "<text>&lt; 100</text>")
    )
    with pytest.raises(RuleError):  # the shipped example "re-weighted 84.9 → yellow" guards the old policy
        rules_admin.publish(eng, manager, "evaluation", strict)
    [example] = [
        e for e in rules_admin.source(eng, manager, "evaluation")["examples"] if "84.9" in e["label"]
    ]
    rules_admin.delete_example(eng, manager, "evaluation", example["example_id"])
    rules_admin.publish(eng, manager, "evaluation", strict, comment="三项齐全才排名")

    [review] = _tasks(eng, "manager")
    tasks.complete_task(eng, manager, review.task_id, {"decision": "recompute"})
    land = _draft_row(eng, "自然资源和规划局")
    assert (land["score"], land["board"], land["reason"]) == (0.0, "unranked", "missing_parts")


def _publish(eng, actors, note="发布"):
    [review] = _tasks(eng, "manager")
    tasks.complete_task(eng, actors("manager"), review.task_id, {"decision": "publish", "review_note": note})


def test_a_repeat_black_board_climbs_to_a_higher_interview_level(eng, clock, actors, journey, q1):
    """Q1: 市场监督管理局 on the black board for the first time → interviewed by the supervision office. Q2: black
    again (one black board in the three quarters before) → interviewed by the city leader in charge."""
    clock.set(dt.datetime(2026, 4, 1, 9, 5))
    evaluation.start_now(eng, actors("manager"), "2026-Q1")
    q1_market = _draft_row(eng, "市场监督管理局")
    assert (q1_market["board"], q1_market["black_before"], q1_market["interview_level"]) == (
        "black",
        0,
        "office",
    )
    assert _draft_row(eng, "市电业局（供电公司）")["interview_level"] == "none"
    assert _draft_row(eng, "城市管理局")["interview_level"] == "none"  # unranked: no interview
    _publish(eng, actors)
    [q1_interview] = _tasks(eng, "supervisor")
    assert q1_interview.title == "约谈：市场监督管理局（督查部门约谈）"

    clock.set(dt.datetime(2026, 4, 7, 9, 0))  # Q2: the same picture for 市场监督管理局
    for _n in range(4):
        _open_case(journey, "market")
    journey.close_late(clock, "market", dt.datetime(2026, 4, 16, 10, 0))  # deadline Tue 04-14
    clock.set(dt.datetime(2026, 7, 1, 9, 5))
    evaluation.start_now(eng, actors("manager"), "2026-Q2")
    q2_market = _draft_row(eng, "市场监督管理局", "2026-Q2")
    assert (q2_market["score"], q2_market["board"]) == (38.0, "black")
    assert (q2_market["black_before"], q2_market["interview_level"]) == (1, "leader")
    _publish(eng, actors)
    titles = sorted(t.title for t in _tasks(eng, "supervisor"))
    assert titles == ["约谈：市场监督管理局（分管市领导约谈）", "约谈：市场监督管理局（督查部门约谈）"]
    page = evaluation.board(eng, actors("manager"), "2026-Q2")
    assert page["units"][0]["interview_level"] == "leader"


def test_board_placements_and_interviews_are_totalled_per_unit_over_a_period(eng, clock, actors, journey, q1):
    """家次 over 2026: Q1 (power red, market black, interviewed by the office) and Q2 (market black again,
    interviewed by the city leader in charge). A draft board does not count; a period that ends before Q2's end
    does not see Q2."""
    clock.set(dt.datetime(2026, 4, 1, 9, 5))
    evaluation.start_now(eng, actors("manager"), "2026-Q1")
    _publish(eng, actors)
    [q1_interview] = _tasks(eng, "supervisor")
    record = {
        "interview_date": "2026-04-03",
        "interviewee": "王局长",
        "interview_record": "指出办结率低、反馈超期的问题。",
        "rectification": "一个月内办结全部超期问题。",
    }
    tasks.complete_task(eng, actors("supervisor"), q1_interview.task_id, record)
    clock.set(dt.datetime(2026, 4, 7, 9, 0))
    for _n in range(4):
        _open_case(journey, "market")
    journey.close_late(clock, "market", dt.datetime(2026, 4, 16, 10, 0))
    clock.set(dt.datetime(2026, 7, 1, 9, 5))
    evaluation.start_now(eng, actors("manager"), "2026-Q2")
    with eng.db.read() as session:
        draft_only = figures.placements(session, figures.parse_period("2026"))
    assert draft_only["quarters"] == ["2026-Q1"]  # Q2 is still a draft
    _publish(eng, actors)
    [q2_interview] = _tasks(eng, "supervisor")
    tasks.complete_task(eng, actors("supervisor"), q2_interview.task_id, record)

    year = figures.placements_view(eng, actors("handler_power"), "2026")
    assert year["quarters"] == ["2026-Q1", "2026-Q2"]
    by_unit = {row["unit"]: row for row in year["rows"]}
    market, power = by_unit["市场监督管理局"], by_unit["市电业局（供电公司）"]
    assert (market["black"], market["red"], market["interviews"], market["office"], market["leader"]) == (
        2,
        0,
        2,
        1,
        1,
    )
    assert (power["red"], power["black"], power["interviews"]) == (1, 0, 0)
    assert "城市管理局" not in by_unit  # unranked is no placement
    assert year["total"] == {
        "red": 1,
        "yellow": 0,
        "black": 2,
        "interviews": 2,
        "office": 1,
        "leader": 1,
        "principal": 0,
    }
    first_half_to_may = figures.placements_view(eng, actors("manager"), None, "2026-01-01", "2026-05-31")
    assert first_half_to_may["quarters"] == ["2026-Q1"] and first_half_to_may["total"]["black"] == 1
    with pytest.raises(PermissionDenied):
        figures.placements_view(eng, actors("registrar"), "2026")
    with pytest.raises(ValidationFailed):
        figures.placements_view(eng, actors("manager"), "soon")


def test_a_waiting_quarter_starts_on_the_live_diagram(eng, clock, actors, q1):
    """A quarter scheduled before a new diagram was deployed (e.g. the score script that predates "no data")
    starts on the live diagram when its timer fires: nothing of it has run yet."""
    from engine.storage.models import WorkflowInstance
    from engine.workflow.deploy import deploy_process
    from engine.workflow.specs import PROCESSES_DIR

    assert evaluation.ensure_scheduled(eng) == "2026-Q1"
    waiting = _board(eng).instance_id
    xml = (
        (PROCESSES_DIR / "quarterly_evaluation.bpmn").read_text("utf-8").replace("汇总榜单", "汇总本季度榜单")
    )
    with eng.db.transaction() as session:
        live = deploy_process(session, eng, xml, comment="改名").version_id
    clock.set(dt.datetime(2026, 4, 1, 9, 5))
    worker.run_pass(eng)
    board = _board(eng)
    assert board.status == "review" and board.instance_id != waiting
    assert _draft_row(eng, "城市管理局")["reason"] == "missing_parts"
    with eng.db.read() as session:
        assert session.get(WorkflowInstance, board.instance_id).version_id == live
        assert session.get(WorkflowInstance, waiting).status == "completed"
