"""Every path through case_handling.bpmn, driven in memory with the triage DMN and saved/restored mid-way.

Each step completes the one ready task with exactly what its form's `parse_submission` returns, as the service
would merge it, so these tests also prove that the diagram and the forms agree on variable names and values.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import SpiffBpmnTaskConverter

from engine.domain.clock import LOCAL_TZ
from engine.domain.clock import FixedClock
from engine.forms.schema import load_form
from engine.rules import parse_dmn
from engine.services.flow import CARRIED_KEYS
from engine.services.flow import case_start_data
from engine.workflow import runtime
from engine.workflow.script_api import ScriptApi
from engine.workflow.scripts import JienanScriptEngine
from engine.workflow.specs import PROCESSES_DIR
from engine.workflow.specs import RuleTask
from engine.workflow.specs import parse_bpmn
from engine.workflow.timers import using_clock

SPEC_KEY = "case_handling@unit-test"

# Every decision table shipped in processes/, parsed once for the module.
DECISIONS = {
    decision_id: decision.table
    for path in sorted(PROCESSES_DIR.glob("*.dmn"))
    for decision_id, decision in parse_dmn(path.read_bytes(), source=path.name).decisions.items()
}


@pytest.fixture(scope="module")
def parsed():
    path = PROCESSES_DIR / "case_handling.bpmn"
    return parse_bpmn(path.read_bytes(), filename=path.name)


CLOCK = FixedClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))


@pytest.fixture(autouse=True)
def _engine_clock():
    """The diagram's timers and its scripts read the same fixed clock (nothing becomes overdue mid-test)."""
    with using_clock(CLOCK):
        yield


def script_engine() -> JienanScriptEngine:
    """Like engine.services.flow.script_engine, but deciding with the DMN files instead of the rule store."""
    api = ScriptApi(CLOCK)
    engine = JienanScriptEngine(helpers=api.functions())
    engine.api = api

    def decide(decision_id: str, task) -> dict:
        result = DECISIONS[decision_id].evaluate(
            task.data, resolve=lambda expression, context: engine.environment.evaluate(expression, context)
        )
        assert isinstance(result.outputs, dict), f"{decision_id}: {result.outputs!r}"
        engine.decisions.append(result.to_audit())
        return dict(result.outputs)

    engine.decide = decide
    return engine


def start_data(round_no: int = 1, **case_fields) -> dict:
    """What the service starts a round with (engine.services.flow.case_start_data on a stand-in case row)."""
    case = SimpleNamespace(
        case_id=42,
        case_no="JN-2025-000042",
        field="工业",
        category="其他",
        channel="走访",
        urgency="一般",
        library="general",
        returns_count=0,
    )
    for name, value in case_fields.items():
        setattr(case, name, value)
    return case_start_data(case, round_no)


class CaseRun:
    """One workflow instance, driven like the service drives it (but in memory)."""

    def __init__(self, parsed, data: dict):
        self.parsed = parsed
        self.engine = script_engine()
        self.workflow = runtime.create(parsed, SPEC_KEY, self.engine, data)
        assert runtime.advance(self.workflow) == []
        self.restored = 0

    def ready(self) -> list[str]:
        return [task.task_spec.name for task in runtime.ready_human_tasks(self.workflow)]

    @property
    def data(self) -> dict:
        return runtime.current_data(self.workflow)

    def complete(self, name: str, **submission) -> list[str]:
        """Complete the ready task `name` with the form's parsed submission; returns the ready tasks after."""
        ready = runtime.ready_human_tasks(self.workflow)
        assert [task.task_spec.name for task in ready] == [name]
        task = runtime.find_ready_task(self.workflow, str(ready[0].id))
        form = load_form(self.parsed.human_tasks[name].form_key)
        values = form.parse_submission(submission)
        assert runtime.complete_task(self.workflow, task, values) == []
        return self.ready()

    def save_and_restore(self) -> str:
        """Round-trip through the stored JSON form with a fresh script engine, as every request does."""
        before_ready, before_data = self.ready(), dict(self.data)
        state = runtime.dumps(self.workflow)

        def resolve(spec_key: str):
            assert spec_key == SPEC_KEY
            return self.parsed

        self.engine = script_engine()
        self.workflow = runtime.loads(state, resolve, self.engine)
        assert runtime.advance(self.workflow) == []
        assert self.workflow.script_engine is self.engine
        assert self.ready() == before_ready
        assert self.data == before_data
        self.restored += 1
        return state

    def end_event(self) -> str | None:
        return runtime.completed_end_event(self.workflow, self.parsed.end_events)


def dispatch(**changes) -> dict:
    values = {"tier": "department", "lead_unit": "gxj", "co_units": ["fgw"], "time_limit_days": 10}
    values.update(changes)
    return values


FEEDBACK = {"outcome": "resolved", "handling_actions": "已协调供电公司恢复双回路供电。"}
SATISFIED = {"solved": "yes", "satisfaction": "satisfied", "revisit_method": "phone"}
UNSATISFIED = {
    "solved": "no",
    "satisfaction": "unsatisfied",
    "revisit_method": "visit",
    "revisit_comment": "问题仍未解决。",
}
CLOSE = {"closing_summary": "企业确认已解决。"}


def finish_department_round(run: CaseRun) -> None:
    """sign_for → handle → verify → revisit (satisfied) → close_out, from a ready sign_for."""
    assert run.complete("sign_for", sign_decision="sign") == ["handle"]
    assert run.complete("handle", **FEEDBACK) == ["verify"]
    assert run.complete("verify", verdict="accept") == ["revisit"]
    assert run.complete("revisit", **SATISFIED) == ["close_out"]
    assert run.complete("close_out", **CLOSE) == []
    assert run.workflow.is_completed()
    assert run.end_event() == "end_closed"


# --- the diagram's shape ----------------------------------------------------------------------------------


def test_end_events_map_to_case_results(parsed):
    assert parsed.end_events == {"end_closed": "closed", "end_reopen": "reopen"}
    assert parsed.decision_refs == {
        "triage": "triage",
        "supervision_rules": "supervision",
        "escalation_rules": "escalation",
    }


# --- triage --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urgency", "category", "field", "tier", "days"),
    [
        ("重大", "其他", "工业", "city_leader", 20),
        ("重大", "政策咨询", "重点项目", "city_leader", 20),
        ("特急", "其他", "工业", "department", 1),
        ("特急", "用地", "重点项目", "department", 1),
        ("一般", "政策咨询", "三产", "on_site", 1),
        (
            "紧急",
            "政策咨询",
            "三产",
            "department",
            5,
        ),  # only a normal policy question is answered on the spot
        ("紧急", "其他", "重点项目", "city_leader", 10),
        (
            "紧急",
            "用地",
            "重点项目",
            "city_leader",
            10,
        ),  # the key-project rule comes before the category rule
        ("一般", "用地", "工业", "department", 15),
        ("一般", "融资", "重点项目", "department", 15),
        ("紧急", "政策兑现", "建筑业", "department", 15),
        ("紧急", "水电气", "工业", "department", 5),
        ("一般", "水电气", "工业", "department", 10),
        ("一般", "其他", "重点项目", "department", 10),
    ],
)
def test_triage_sets_tier_and_time_limit(parsed, urgency, category, field, tier, days):
    run = CaseRun(parsed, start_data(urgency=urgency, category=category, field=field))
    assert run.data["tier"] == tier
    assert run.data["time_limit_days"] == days
    assert type(run.data["time_limit_days"]) is int  # not a Decimal: the serializer and forms need plain ints
    assert run.ready() == (["resolve_on_site"] if tier == "on_site" else ["dispatch"])
    [audit] = run.engine.decisions
    assert audit["decision_id"] == "triage"
    assert audit["outputs"] == {"tier": tier, "time_limit_days": days}


def test_triage_reads_the_case_fields_from_task_data():
    # Unknown values fall through to the catch-all rule rather than failing the case.
    result = DECISIONS["triage"].evaluate({"urgency": "一般", "category": "其他", "field": "工业"})
    assert result.outputs == {"tier": "department", "time_limit_days": 10}
    assert result.matched_rule_ids == ["rule_general"]


# --- paths ---------------------------------------------------------------------------------------------------


def test_on_site_resolved_closes_without_dispatch(parsed):
    run = CaseRun(parsed, start_data(category="政策咨询", urgency="一般"))
    assert run.ready() == ["resolve_on_site"]
    assert (run.data["tier"], run.data["time_limit_days"]) == ("on_site", 1)
    assert run.complete(
        "resolve_on_site", on_site_result="resolved", on_site_actions="当场讲解申报条件。"
    ) == ["revisit"]
    run.save_and_restore()
    assert run.data["on_site_result"] == "resolved"
    assert run.complete("revisit", **SATISFIED) == ["close_out"]
    assert run.complete("close_out", **CLOSE) == []
    assert run.end_event() == "end_closed"
    assert parsed.end_events[run.end_event()] == "closed"
    assert run.data["tier"] == "on_site"
    assert run.restored == 1


def test_on_site_cannot_goes_to_department_dispatch(parsed):
    run = CaseRun(parsed, start_data(category="政策咨询", urgency="一般"))
    assert run.complete("resolve_on_site", on_site_result="cannot", on_site_actions="需税务部门答复。") == [
        "dispatch"
    ]
    assert run.data["tier"] == "department"  # set by the to_department script task
    run.save_and_restore()
    assert run.complete("dispatch", **dispatch()) == ["sign_for"]
    finish_department_round(run)


def test_department_path(parsed):
    run = CaseRun(parsed, start_data(category="水电气", urgency="一般"))
    assert run.ready() == ["dispatch"]
    assert (run.data["tier"], run.data["time_limit_days"]) == ("department", 10)
    assert run.complete("dispatch", **dispatch(time_limit_days=7)) == ["sign_for"]
    assert run.data["lead_unit"] == "gxj"
    assert run.data["co_units"] == ["fgw"]
    assert run.data["time_limit_days"] == 7  # the dispatcher's choice replaces the table's
    assert run.complete("sign_for", sign_decision="sign") == ["handle"]
    run.save_and_restore()
    assert run.complete("handle", **FEEDBACK) == ["verify"]
    assert run.complete("verify", verdict="accept") == ["revisit"]
    assert run.complete("revisit", **SATISFIED) == ["close_out"]
    assert run.complete("close_out", **CLOSE) == []
    assert run.end_event() == "end_closed"
    assert run.data["outcome"] == "resolved"
    assert run.data["returns_count"] == 0


def test_city_leader_path_goes_through_leader_coordination(parsed):
    run = CaseRun(parsed, start_data(urgency="重大", category="用地", field="重点项目"))
    assert (run.data["tier"], run.data["time_limit_days"]) == ("city_leader", 20)
    assert run.ready() == ["dispatch"]
    after = run.complete(
        "dispatch",
        **dispatch(tier="city_leader", lead_unit="zrzy", responsible_leader="li_fsz", time_limit_days=20),
    )
    assert after == ["leader_coordinate"]
    assert run.data["responsible_leader"] == "li_fsz"
    run.save_and_restore()
    after = run.complete(
        "leader_coordinate",
        meeting_held=True,
        meeting_date="2025-09-29",
        leader_instructions="请自然资源局统筹调剂指标。",
        lead_unit="zrzy",
    )
    assert after == ["sign_for"]
    finish_department_round(run)
    assert run.data["tier"] == "city_leader"


def test_dispatcher_can_lower_a_city_leader_case_to_department(parsed):
    run = CaseRun(parsed, start_data(urgency="重大"))
    assert run.complete("dispatch", **dispatch(tier="department")) == ["sign_for"]


def test_return_counts_and_goes_back_to_dispatch_until_the_limit_sends_it_to_arbitration(parsed):
    run = CaseRun(parsed, start_data(category="审批/证照", urgency="紧急"))
    assert run.complete("dispatch", **dispatch(lead_unit="zwfw")) == ["sign_for"]
    after = run.complete("sign_for", sign_decision="return", return_reason="不属于本单位职责。")
    assert after == ["dispatch"]
    assert run.data["returns_count"] == 1
    assert run.data["return_reason"] == "不属于本单位职责。"
    run.save_and_restore()
    assert run.complete("dispatch", **dispatch(lead_unit="scjg")) == ["sign_for"]
    after = run.complete("sign_for", sign_decision="return", return_reason="应由住建部门办理。")
    assert after == ["arbitrate"]  # max_returns (supervision.dmn) is 2
    assert run.data["returns_count"] == 2
    assert run.complete("arbitrate", lead_unit="zjj", arbitration_note="由住建局牵头办理。") == ["sign_for"]
    finish_department_round(run)
    assert run.data["returns_count"] == 2
    assert run.data["lead_unit"] == "zjj"


def test_verify_reject_sends_it_back_to_handling(parsed):
    run = CaseRun(parsed, start_data())
    assert run.complete("dispatch", **dispatch()) == ["sign_for"]
    assert run.complete("sign_for", sign_decision="sign") == ["handle"]
    assert run.complete("handle", outcome="partly", handling_actions="已部分解决。") == ["verify"]
    run.save_and_restore()
    assert run.complete("verify", verdict="reject", verify_comment="佐证材料不全。") == ["handle"]
    assert run.data["verdict"] == "reject"
    assert run.complete("handle", **FEEDBACK) == ["verify"]
    assert run.complete("verify", verdict="accept") == ["revisit"]
    assert run.complete("revisit", **SATISFIED) == ["close_out"]
    assert run.complete("close_out", **CLOSE) == []
    assert run.end_event() == "end_closed"


def test_not_solvable_is_closed_even_when_unsatisfied(parsed):
    run = CaseRun(parsed, start_data(category="用地"))
    assert run.complete("dispatch", **dispatch(time_limit_days=15)) == ["sign_for"]
    assert run.complete("sign_for", sign_decision="sign") == ["handle"]
    after = run.complete(
        "handle",
        outcome="not_solvable",
        handling_actions="经研究，现行规划不允许调整。",
        explanation="该地块属于永久基本农田，依法不得占用。",
    )
    assert after == ["verify"]
    run.save_and_restore()
    assert run.complete("verify", verdict="accept") == ["revisit"]
    assert run.complete("revisit", **UNSATISFIED) == ["close_out"]
    assert run.complete("close_out", closing_summary="暂无法解决，已书面说明。") == []
    assert run.end_event() == "end_closed"
    assert run.data["outcome"] == "not_solvable"
    assert run.data["satisfaction"] == "unsatisfied"


def test_unsatisfied_reopens_as_a_new_instance_that_skips_triage(parsed):
    first = CaseRun(parsed, start_data(category="融资", urgency="紧急"))
    assert (first.data["tier"], first.data["time_limit_days"]) == ("department", 15)
    assert first.complete("dispatch", **dispatch(lead_unit="jrb", co_units=["rmyh"], time_limit_days=15)) == [
        "sign_for"
    ]
    assert first.complete("sign_for", sign_decision="sign") == ["handle"]
    assert first.complete("handle", **FEEDBACK) == ["verify"]
    first.save_and_restore()
    assert first.complete("verify", verdict="accept") == ["revisit"]
    assert first.complete("revisit", **UNSATISFIED) == []
    assert first.workflow.is_completed()
    assert first.end_event() == "end_reopen"
    assert parsed.end_events[first.end_event()] == "reopen"

    # The service starts round 2 as a new instance, carrying these variables over (see flow._finish_round).
    carried = {key: first.data.get(key) for key in CARRIED_KEYS}
    assert carried == {
        "tier": "department",
        "time_limit_days": 15,
        "lead_unit": "jrb",
        "co_units": ["rmyh"],
        "responsible_leader": None,
        "returns_count": 0,
    }
    data = start_data(round_no=2, category="融资", urgency="紧急")
    data.update(carried)
    second = CaseRun(parsed, data)
    assert second.ready() == ["dispatch"]
    assert second.engine.decisions == []  # gw_round skipped triage
    assert second.data["round_no"] == 2
    assert second.data["lead_unit"] == "jrb"
    assert second.complete("dispatch", **dispatch(lead_unit="jrb", co_units=[], time_limit_days=5)) == [
        "sign_for"
    ]
    second.save_and_restore()
    finish_department_round(second)
    assert second.data["round_no"] == 2


def test_on_site_case_reopened_is_dispatched_in_round_two(parsed):
    first = CaseRun(parsed, start_data(category="政策咨询", urgency="一般"))
    first.complete("resolve_on_site", on_site_result="resolved", on_site_actions="当场答复。")
    first.save_and_restore()
    assert first.complete("revisit", **UNSATISFIED) == []
    assert first.end_event() == "end_reopen"
    carried = {key: first.data.get(key) for key in CARRIED_KEYS}
    assert carried["tier"] == "on_site"
    carried["tier"] = "department"  # as flow._finish_round does for a reopened on-site case
    data = start_data(round_no=2, category="政策咨询", urgency="一般")
    data.update(carried)
    second = CaseRun(parsed, data)
    assert second.ready() == ["dispatch"]
    assert second.complete("dispatch", **dispatch()) == ["sign_for"]
    finish_department_round(second)


def test_completed_end_event_is_none_while_running(parsed):
    run = CaseRun(parsed, start_data())
    assert run.end_event() is None
    run.save_and_restore()
    assert run.end_event() is None


# --- the stored form -----------------------------------------------------------------------------------------


class _RuleTaskConverter(SpiffBpmnTaskConverter):
    """Lets the stock serializer write our RuleTask (it only knows SpiffWorkflow's own task specs)."""

    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct["decision_ref"] = spec.decision_ref
        return dct


def stock_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[RuleTask] = _RuleTaskConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def test_stored_state_has_no_embedded_spec_and_is_smaller_than_stock(parsed):
    run = CaseRun(parsed, start_data(urgency="重大"))
    run.complete("dispatch", **dispatch(tier="city_leader", responsible_leader="li_fsz"))
    state = run.save_and_restore()
    stored = json.loads(state)
    assert stored["spec"] == SPEC_KEY
    assert "subprocess_specs" not in stored
    assert stored["format"] == runtime.STATE_FORMAT
    assert "task_specs" not in state

    stock = stock_serializer().serialize_json(run.workflow)
    stock_dict = json.loads(stock)
    assert isinstance(stock_dict["spec"], dict) and "task_specs" in stock_dict["spec"]
    ours = len(runtime.dumps(run.workflow).encode("utf-8"))
    theirs = len(stock.encode("utf-8"))
    assert ours * 3 < theirs, (ours, theirs)  # DESIGN.md: measured about 3x smaller


def test_loads_refuses_an_unknown_format(parsed):
    run = CaseRun(parsed, start_data())
    stored = json.loads(runtime.dumps(run.workflow))
    stored["format"] = "jienan-0"
    with pytest.raises(ValueError, match="jienan-0"):
        runtime.loads(json.dumps(stored), lambda _key: parsed, script_engine())


def test_restored_instance_keeps_task_ids(parsed):
    run = CaseRun(parsed, start_data())
    [task] = runtime.ready_human_tasks(run.workflow)
    task_id = str(task.id)
    run.save_and_restore()
    assert runtime.find_ready_task(run.workflow, task_id).task_spec.name == "dispatch"


def test_processes_dir_is_where_the_specs_module_looks():
    assert PROCESSES_DIR == Path(__file__).resolve().parents[2] / "processes"


class _SpiffWorkflowConverter(runtime.LeanWorkflowConverter):
    """The lean converter as it was written on SpiffWorkflow's own WorkflowConverter (the reference)."""

    def to_dict(self, workflow):
        from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter

        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = workflow.jienan_spec_key
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _with_spiffs_task_converter() -> BpmnWorkflowSerializer:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
    from SpiffWorkflow.task import Task

    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpiffWorkflowConverter
    config[Task] = TaskConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def test_the_lean_task_converter_writes_and_reads_exactly_what_spiffworkflows_own_does(parsed):
    """runtime's faster task conversion (kept id conversions, plain copy of the parent's data) stores the very
    same JSON as SpiffWorkflow's TaskConverter, and what it restores stores the same again, at every step."""
    reference = _with_spiffs_task_converter()

    def spiff_dumps(workflow) -> str:
        dct = reference.to_dict(workflow)
        dct["format"] = runtime.STATE_FORMAT
        dct[reference.VERSION_KEY] = reference.VERSION
        return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))

    def spiff_loads(state: str):
        dct = json.loads(state)
        dct.pop("format")
        token = runtime._resolver.set(lambda _key: parsed)
        try:
            return reference.from_dict(dct)
        finally:
            runtime._resolver.reset(token)

    run = CaseRun(parsed, start_data(urgency="紧急"))
    steps = [
        ("dispatch", dispatch()),
        ("sign_for", {"sign_decision": "sign"}),
        ("handle", FEEDBACK),
        ("verify", {"verdict": "accept"}),
        ("revisit", UNSATISFIED),
    ]
    for name, values in steps:
        state = runtime.dumps(run.workflow)
        assert state == spiff_dumps(run.workflow), name
        ours, theirs = runtime.loads(state, lambda _key: parsed, script_engine()), spiff_loads(state)
        assert runtime.dumps(ours) == spiff_dumps(theirs) == state, name
        for task_id, task in theirs.tasks.items():
            assert ours.tasks[task_id].data == task.data, (name, task.task_spec.name)
        run.save_and_restore()
        run.complete(name, **values)
    assert run.end_event() == "end_reopen"
    assert runtime.dumps(run.workflow) == spiff_dumps(run.workflow)
