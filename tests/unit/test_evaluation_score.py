"""A unit's quarterly score is formed from the parts that have data (a rate with nothing to divide by is "no
data", never 0 %), and the example cases shipped with the rule tables pass against the shipped tables."""

from __future__ import annotations

import pytest

from engine.errors import ScriptError
from engine.rules import parse_dmn
from engine.services.evaluation import unit_score
from engine.services.rules_admin import run_examples
from engine.workflow.specs import PROCESSES_DIR
from engine.workflow.specs import default_rule_examples

WEIGHTS = {"closure_rate": 40, "on_time_rate": 30, "satisfaction_rate": 30}


def _row(closure, on_time, satisfaction):
    return {
        "unit": "某局",
        "closure_rate": closure,
        "on_time_rate": on_time,
        "satisfaction_rate": satisfaction,
    }


def test_every_part_present_is_the_plain_weighted_sum():
    scored = unit_score(_row(80.0, 50.0, 90.0), WEIGHTS)
    assert scored["score"] == 74.0  # 0.4 × 80 + 0.3 × 50 + 0.3 × 90 = 32 + 15 + 27
    assert scored["missing"] == [] and scored["scored_weight"] == 100.0
    assert (
        scored["applied_weights"]
        == scored["weights"]
        == {"closure_rate": 40.0, "on_time_rate": 30.0, "satisfaction_rate": 30.0}
    )


def test_a_missing_part_is_left_out_and_the_others_reweighted():
    scored = unit_score(_row(80.0, None, 90.0), WEIGHTS)
    # (40 × 80 + 30 × 90) ÷ 70 = 5900 ÷ 70 = 84.285… (counting the missing part as 0 % would give 59.0)
    assert scored["score"] == 84.3
    assert scored["missing"] == ["on_time_rate"] and scored["scored_weight"] == 70.0
    assert scored["applied_weights"] == {"closure_rate": 57.1, "satisfaction_rate": 42.9}


def test_no_case_closed_or_revisited_leaves_only_the_closure_rate():
    scored = unit_score(_row(0.0, None, None), WEIGHTS)
    assert scored["score"] == 0.0 and scored["scored_weight"] == 40.0
    assert scored["missing"] == ["on_time_rate", "satisfaction_rate"]
    assert unit_score(_row(None, None, None), WEIGHTS)["score"] is None


@pytest.mark.parametrize(
    "weights",
    [
        {},
        {"closure_rate": -1},
        {"closure_rate": "40"},
        {"unit": 1},
        {"nonexistent_rate": 1},
        {"closure_rate": 0},
    ],
)
def test_weights_a_script_cannot_use_are_refused(weights):
    with pytest.raises(ScriptError):
        unit_score(_row(80.0, 50.0, 90.0), weights)


def test_the_shipped_examples_pass_against_the_shipped_tables():
    shipped = default_rule_examples()
    assert {"evaluation", "interview", "supervision"} <= set(shipped)
    for decision_id, examples in shipped.items():
        table = (
            parse_dmn((PROCESSES_DIR / f"{decision_id}.dmn").read_text("utf-8")).decisions[decision_id].table
        )
        results = run_examples(table, examples)
        assert [r["label"] for r in results if not r["passed"]] == [], decision_id
