"""Enterprises rate the departments (测评): a round gives each enterprise whose cases units handled in the period a
private link; ratings once per link, throttled, only for those units; figures per unit (a unit sees its own); the
quarterly evaluation takes the rating only when a manager gives it weight in the weights table."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import RateLimited
from engine.errors import ValidationFailed
from engine.services import evaluation
from engine.services import ratings
from engine.services import rules_admin
from engine.workflow.specs import PROCESSES_DIR

ROUND = {
    "name": "2026年一季度企业评部门",
    "period_start": "2026-01-01",
    "period_end": "2026-03-31",
    "closes_on": "2026-04-15",
}


@pytest.fixture
def served(journey):
    """杭叉集团: a case led by 市电业局 with 市场监督管理局 co-handling; 森源电缆: one led by 城市管理局."""
    first = journey.register()["case_id"]
    journey.dispatch(first, lead="power", co_units=["market"])
    second = journey.register(enterprise_id=journey.enterprise_id("森源电缆"))["case_id"]
    journey.dispatch(second, lead="urban")
    return first, second


def _invite(eng, name: str):
    from sqlalchemy import select

    from engine.storage.models import Enterprise
    from engine.storage.models import RatingInvite

    with eng.db.read() as session:
        invite = session.scalars(
            select(RatingInvite)
            .join(Enterprise, Enterprise.enterprise_id == RatingInvite.enterprise_id)
            .where(Enterprise.name == name)
        ).one()
        return SimpleNamespace(token=invite.token, units=list(invite.units))


def _unit_id(eng, code: str) -> int:
    from sqlalchemy import select

    from engine.storage.models import Unit

    with eng.db.read() as session:
        return session.scalar(select(Unit.unit_id).where(Unit.code == code))


def test_each_served_enterprise_rates_the_units_that_handled_its_cases_once(eng, actors, served):
    opened = ratings.open_round(eng, actors("manager"), ROUND)
    assert opened["invites"] == 2
    invite = _invite(eng, "杭叉集团")
    form = ratings.rating_form(eng, invite.token)
    assert {u["unit"] for u in form["units"]} == {"市电业局（供电公司）", "市场监督管理局"} and form["open"]
    power, market, urban = _unit_id(eng, "power"), _unit_id(eng, "market"), _unit_id(eng, "urban")
    with pytest.raises(ValidationFailed) as caught:
        ratings.submit_rating(eng, invite.token, {"scores": {str(power): 9, str(urban): 5}}, client="1.2.3.4")
    assert f"scores.{power}" in caught.value.errors and "scores" in caught.value.errors
    with pytest.raises(ValidationFailed):
        ratings.submit_rating(eng, invite.token, {"scores": {}}, client="1.2.3.4")
    ratings.submit_rating(
        eng,
        invite.token,
        {"scores": {str(power): 5, str(market): "2"}, "comments": {str(market): "跑了三次"}},
        client="1.2.3.4",
    )
    with pytest.raises(Conflict):
        ratings.submit_rating(eng, invite.token, {"scores": {str(power): 1}}, client="1.2.3.4")
    detail = ratings.get_round(eng, actors("manager"), opened["round_id"])
    rows = {u["unit"]: u for u in detail["units"]}
    assert (
        rows["市电业局（供电公司）"]["average"] == 5.0
        and rows["市电业局（供电公司）"]["rating_rate"] == 100.0
    )
    assert rows["市场监督管理局"]["satisfied_rate"] == 0.0 and rows["城市管理局"]["ratings"] == 0
    assert detail["answered"] == 1 and len(detail["links"]) == 2
    # A unit sees its own row and comments, and no links.
    own = ratings.get_round(eng, actors("handler_market"), opened["round_id"])
    assert [u["unit"] for u in own["units"]] == ["市场监督管理局"] and "links" not in own
    assert own["comments"][0]["comment"] == "跑了三次"
    with pytest.raises(NotFound):
        ratings.rating_form(eng, "not-a-token")
    with pytest.raises(PermissionDenied):
        ratings.open_round(eng, actors("handler_power"), ROUND | {"name": "另一次"})


def test_rounds_refuse_bad_input_and_throttle(eng, actors, served, clock, monkeypatch):
    with pytest.raises(ValidationFailed) as caught:
        ratings.open_round(eng, actors("manager"), ROUND | {"period_end": "2025-12-31"})
    assert "period_end" in caught.value.errors
    with pytest.raises(ValidationFailed):
        ratings.open_round(
            eng, actors("manager"), ROUND | {"period_start": "2025-01-01", "period_end": "2025-03-31"}
        )
    opened = ratings.open_round(eng, actors("manager"), ROUND)
    token = _invite(eng, "森源电缆").token
    monkeypatch.setattr(ratings, "PER_HOUR", 1)  # one address answering for many enterprises is suspicious
    first = _invite(eng, "杭叉集团")
    ratings.submit_rating(eng, first.token, {"scores": {str(first.units[0]): 4}}, client="9.9.9.9")
    with pytest.raises(RateLimited):
        ratings.submit_rating(eng, token, {"scores": {str(_unit_id(eng, "urban")): 4}}, client="9.9.9.9")
    ratings.close_round(eng, actors("manager"), opened["round_id"])
    with pytest.raises(Conflict):
        ratings.submit_rating(eng, token, {"scores": {str(_unit_id(eng, "urban")): 4}}, client="8.8.8.8")


def test_the_evaluation_takes_the_rating_only_when_a_manager_weights_it(eng, actors, served, clock):
    ratings.open_round(eng, actors("manager"), ROUND)
    ratings.submit_rating(
        eng, _invite(eng, "森源电缆").token, {"scores": {str(_unit_id(eng, "urban")): 3}}, client="x"
    )
    clock.set(dt.datetime(2026, 4, 1, 8, 0))
    evaluation.start_now(eng, actors("manager"), "2026-Q1")
    urban = next(
        r for r in evaluation.board(eng, actors("manager"), "2026-Q1")["units"] if r["unit"] == "城市管理局"
    )
    assert urban["rating_rate"] == 60.0
    assert "rating_rate" not in urban["applied_weights"] and urban["weights"]["rating_rate"] == 0.0
    unweighted = urban["score"]

    xml = (PROCESSES_DIR / "evaluation_weights.dmn").read_text("utf-8")
    # From 2026-Q1 the enterprises' rating counts: a rule before the default one (its example, 2026-Q3, still passes).
    rule = """<rule id="rule_q1"><inputEntry id="q1_in"><text>"2026-Q1"</text></inputEntry>
        <outputEntry id="q1_c"><text>40</text></outputEntry><outputEntry id="q1_o"><text>30</text></outputEntry>
        <outputEntry id="q1_s"><text>30</text></outputEntry><outputEntry id="q1_r"><text>50</text></outputEntry></rule>
      <rule id="rule_default">"""
    weighted = xml.replace('<rule id="rule_default">', rule)
    manager = actors("manager")
    rules_admin.publish(eng, manager, "evaluation_weights", weighted, comment="企业测评计入考评")
    from engine.services import tasks

    review = next(
        t for t in tasks.list_tasks(eng, manager, per_page=50)["items"] if t["kind"] == "evaluation"
    )
    tasks.complete_task(eng, manager, review["task_id"], {"decision": "recompute"}, kind="evaluation")
    urban = next(r for r in evaluation.board(eng, manager, "2026-Q1")["units"] if r["unit"] == "城市管理局")
    assert urban["applied_weights"].get("rating_rate", 0) > 0
    assert urban["score"] != unweighted or unweighted is None
