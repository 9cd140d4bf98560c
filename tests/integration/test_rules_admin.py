"""Managers change rule tables: try it, example cases guarding publication, preview of affected open cases,
re-evaluation, versions, rollback and audit."""

from __future__ import annotations

import pytest

from engine.errors import PermissionDenied
from engine.errors import RuleError
from engine.services import design
from engine.services import rules_admin
from engine.workflow.specs import PROCESSES_DIR

TRIAGE = (PROCESSES_DIR / "triage.dmn").read_text("utf-8")
# Rule 5 (any urgency, 用地/融资/政策兑现 → department 15 days) becomes city_leader 20 days.
LAND_TO_LEADER = TRIAGE.replace(
    '<text>"用地","融资","政策兑现"</text>', '<text>"融资","政策兑现"</text>', 1
).replace(
    '<rule id="rule_',
    '<rule id="rule_land"><description>用地问题一律市领导协调</description>'
    '<inputEntry id="rl_u"><text>-</text></inputEntry><inputEntry id="rl_c"><text>"用地"</text></inputEntry>'
    '<inputEntry id="rl_f"><text>-</text></inputEntry><outputEntry id="rl_t"><text>"city_leader"</text>'
    '</outputEntry><outputEntry id="rl_d"><text>20</text></outputEntry></rule>\n      <rule id="rule_',
    1,
)


def test_try_it_shows_the_matching_rule_and_outputs(eng, actors):
    manager = actors("manager")
    tried = rules_admin.try_table(
        eng, manager, "triage", TRIAGE, {"urgency": "一般", "category": "用地", "field": "工业"}
    )
    assert tried["ok"] and tried["outputs"] == {"tier": "department", "time_limit_days": 15}
    assert tried["matched"][0]["index"] == 5
    new = rules_admin.try_table(
        eng, manager, "triage", LAND_TO_LEADER, {"urgency": "一般", "category": "用地", "field": "工业"}
    )
    assert (
        new["outputs"] == {"tier": "city_leader", "time_limit_days": 20} and new["matched"][0]["index"] == 1
    )


def test_manager_changes_a_categorys_tier_examples_pass_and_the_next_case_gets_it(eng, actors, journey):
    manager = actors("manager")
    rules_admin.add_example(
        eng,
        manager,
        "triage",
        "重大问题市领导办",
        {"urgency": "重大", "category": "其他", "field": "工业"},
        {"tier": "city_leader", "time_limit_days": "20"},
    )
    waiting = journey.register(category="用地", urgency="一般")["case_id"]  # awaiting dispatch, department
    preview = rules_admin.preview(eng, manager, "triage", LAND_TO_LEADER)
    assert preview["total"] == 1 and preview["cases"][0]["case_id"] == waiting
    assert {"output": "tier", "before": "department", "after": "city_leader"} in preview["cases"][0][
        "changes"
    ]
    result = rules_admin.publish(
        eng, manager, "triage", LAND_TO_LEADER, comment="用地改市领导办", reevaluate=True
    )
    assert result["changed"] and result["reevaluated"] == 1
    fresh = journey.register(category="用地", urgency="一般")["case_id"]
    assert journey.case(fresh)["tier"] == "city_leader"
    assert (
        journey.case(waiting)["tier"] == "city_leader"
    )  # re-evaluated: the dispatcher's form now proposes it
    assert journey.task("dispatcher", waiting)["task_name"] == "dispatch"
    timeline = journey.case(waiting)["timeline"]
    assert any(
        e["kind"] == "rules_reevaluated" and "department → city_leader" in e["title"] for e in timeline
    )
    history = design.history(eng, manager, "rules", "triage")
    assert history[0]["action"] == "publish" and history[0]["actor"] == "活动办 刘洋"
    assert history[0]["before"] != history[0]["after"]


def test_a_failing_example_refuses_publication_and_names_it(eng, actors, journey):
    manager = actors("manager")
    rules_admin.add_example(
        eng,
        manager,
        "triage",
        "用地问题部门办",
        {"urgency": "一般", "category": "用地", "field": "工业"},
        {"tier": "department"},
    )
    checked = rules_admin.check(eng, manager, "triage", LAND_TO_LEADER)
    assert not checked["ok"] and checked["examples"][0]["actual"]["tier"] == "city_leader"
    with pytest.raises(RuleError) as refused:
        rules_admin.publish(eng, manager, "triage", LAND_TO_LEADER)
    assert "用地问题部门办" in refused.value.message
    assert journey.case(journey.register(category="用地", urgency="一般")["case_id"])["tier"] == "department"


def test_unparsable_cell_is_refused_with_rule_and_column(eng, actors):
    broken = TRIAGE.replace('<text>"政策咨询"</text>', "<text>&gt;= &gt;= 3</text>", 1)
    checked = rules_admin.check(eng, actors("manager"), "triage", broken)
    assert not checked["ok"] and "规则 3" in checked["message"] and checked["problems"][0]["column"]
    with pytest.raises(RuleError):
        rules_admin.publish(eng, actors("manager"), "triage", broken)


def test_rollback_and_version_rows(eng, actors, journey):
    manager = actors("manager")
    original = rules_admin.source(eng, manager, "triage")["live_version_id"]
    new = rules_admin.publish(eng, manager, "triage", LAND_TO_LEADER)["version_id"]
    rows = rules_admin.version_rows(eng, manager, "triage", new)
    assert rows["previous_id"] == original and rows["rows"][0]["new"] and rows["removed"]
    rules_admin.rollback(eng, manager, "triage", original, comment="撤回")
    assert journey.case(journey.register(category="用地", urgency="一般")["case_id"])["tier"] == "department"
    assert design.history(eng, manager, "rules", "triage")[0]["action"] == "rollback"


def test_drafts_and_permissions(eng, actors):
    manager = actors("manager")
    rules_admin.save_draft(eng, manager, "triage", LAND_TO_LEADER)
    assert rules_admin.source(eng, manager, "triage")["from_draft"]
    rules_admin.discard_draft(eng, manager, "triage")
    assert not rules_admin.source(eng, manager, "triage")["from_draft"]
    for user in ("dispatcher", "handler_power", "designer"):
        with pytest.raises(PermissionDenied):
            rules_admin.publish(eng, actors(user), "triage", TRIAGE)


def test_an_overlap_under_unique_is_refused_naming_the_rules(eng, actors):
    unique = TRIAGE.replace('hitPolicy="FIRST"', 'hitPolicy="UNIQUE"', 1)
    checked = rules_admin.check(eng, actors("manager"), "triage", unique)
    assert not checked["ok"] and "重叠" in checked["message"] and "规则 1" in checked["message"]
    with pytest.raises(RuleError):
        rules_admin.publish(eng, actors("manager"), "triage", unique)
