"""Designers change the process: drafts, validation pinned to elements, deploy, versions, diff, import/export,
rollback, moving a running case; every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import Conflict
from engine.errors import PermissionDenied
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.services import design
from engine.storage import versions
from engine.storage.models import DesignDraft
from engine.storage.models import ProcessVersion
from engine.storage.models import WorkflowInstance
from engine.workflow.importing import BPMNDI_NS
from engine.workflow.specs import BPMN_NS
from engine.workflow.specs import PROCESSES_DIR
from engine.workflow.xmlsafe import parse_xml
from tests.helpers import add_review_step
from tests.helpers import make_modeler_export

BPMN = (PROCESSES_DIR / "case_handling.bpmn").read_text("utf-8")


def _versions(eng):
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(ProcessVersion))


def _instance_version(eng, case_id):
    with eng.db.read() as session:
        return session.scalars(
            select(WorkflowInstance.version_id).where(WorkflowInstance.case_id == case_id)
        ).first()


def test_deploying_a_new_step_runs_new_cases_on_it_and_leaves_running_cases_alone(eng, journey, actors):
    designer = actors("designer")
    running = journey.register()["case_id"]
    old_version = _instance_version(eng, running)
    result = design.deploy(eng, designer, add_review_step(BPMN), comment="审核后增加复核")
    assert result["changed"] and result["version_id"] != old_version
    fresh = journey.register()["case_id"]
    assert _instance_version(eng, fresh) == result["version_id"]
    assert _instance_version(eng, running) == old_version

    journey.dispatch(running)
    journey.handle_to_revisit(running)  # the old version: verify → revisit directly
    assert journey.case(running)["status"] == "revisiting"
    journey.dispatch(fresh)
    journey.act("handler_power", fresh, {"sign_decision": "sign"})
    journey.act("handler_power", fresh, {"outcome": "resolved", "handling_actions": "已解决。"})
    journey.act("dispatcher", fresh, {"verdict": "accept"})
    assert journey.task("dispatcher", fresh)["task_name"] == "review"

    library = design.library(eng, designer)
    process = next(p for p in library["processes"] if p["process_id"] == "case_handling")
    newest, previous = process["versions"][0], process["versions"][1]
    assert (
        newest["live"] and newest["comment"] == "审核后增加复核" and newest["created_by"] == "流程设计 赵磊"
    )
    assert newest["running_cases"] == 1 and previous["running_cases"] == 1
    diff = design.diff_versions(eng, designer, old_version, result["version_id"])
    assert [a["element_id"] for a in diff["added"]] == ["flow_review_to_revisit", "review"]
    assert diff["removed"] == []
    changed = {c["element_id"]: c["fields"] for c in diff["changed"]}
    assert {"field": "targetRef", "before": "gw_merge_revisit", "after": "review"} in changed[
        "flow_verify_pass"
    ]
    history = design.history(eng, designer, "process", "case_handling")
    assert history[0]["action"] == "deploy" and history[0]["actor"] == "流程设计 赵磊"
    assert (history[0]["before"], history[0]["after"]) == (old_version, result["version_id"])


def test_an_invalid_diagram_shows_every_problem_on_its_element_and_does_not_deploy(eng, actors):
    designer = actors("designer")
    broken = (
        BPMN.replace('value="feedback"', 'value="no_such_form"')
        .replace("<spiffworkflow:calledDecisionId>escalation<", "<spiffworkflow:calledDecisionId>nope<")
        .replace("returns_count = returns_count + 1", "import os")
    )
    checked = design.validate(eng, designer, broken)
    assert not checked["ok"]
    assert [p["element_id"] for p in checked["problems"]] == ["count_return"]  # scripts are checked first
    broken = broken.replace("import os", "returns_count = returns_count + 1")
    checked = design.validate(eng, designer, broken)
    pinned = {p["element_id"]: p["message"] for p in checked["problems"]}
    assert "表单“no_such_form”不存在" in pinned["handle"]
    assert "“nope”尚未发布" in pinned["escalation_rules"]
    before = _versions(eng)
    with pytest.raises(SpecError) as refused:
        design.deploy(eng, designer, broken)
    assert "2 处问题" in refused.value.message and len(refused.value.problems) == 2
    assert _versions(eng) == before


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("<bpmn:definitions", "格式错误"),
        (
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
            "DOCTYPE",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>',
            "DOCTYPE",
        ),
        ("<a>" + "x" * (3 * 1024 * 1024) + "</a>", "过大"),
        (
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
            'targetNamespace="t"><bpmn:process id="p" isExecutable="false" /></bpmn:definitions>',
            "可执行",
        ),
    ],
)
def test_bad_files_are_refused_and_nothing_is_deployed(eng, actors, payload, expected):
    before = _versions(eng)
    with pytest.raises(SpecError) as refused:
        design.import_file(eng, actors("designer"), "upload.bpmn", payload.encode())
    assert expected in refused.value.message or any(expected in p["message"] for p in refused.value.problems)
    assert _versions(eng) == before and _drafts(eng) == {}


def test_camunda_export_is_refused_naming_the_unsupported_elements(eng, actors):
    camunda = BPMN.replace(
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"',
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"',
    ).replace(
        '<bpmn:userTask id="verify" name="审核反馈">',
        '<bpmn:serviceTask id="verify" name="审核反馈" camunda:class="a.B">',
    )
    camunda = camunda.replace(
        '</bpmn:userTask>\n    <bpmn:exclusiveGateway id="gw_verify"',
        '</bpmn:serviceTask>\n    <bpmn:exclusiveGateway id="gw_verify"',
    )
    checked = design.validate(eng, actors("designer"), camunda)
    messages = " ".join(p["message"] for p in checked["problems"])
    assert not checked["ok"] and "服务任务（serviceTask）" in messages and "camunda:class" in messages
    assert {p["element_id"] for p in checked["problems"]} == {"verify"}


def test_import_and_export_round_trip(eng, actors, journey):
    designer = actors("designer")
    exported = design.process_version(eng, designer, _live_version(eng, "case_handling"))["xml"]
    result = design.import_file(eng, designer, "复核.bpmn", add_review_step(exported).encode("utf-8"))
    source = design.editor_source(eng, designer, result["process_id"])
    assert source["from_draft"] and 'id="review"' in source["xml"]
    with pytest.raises(ValidationFailed):
        design.import_file(eng, designer, "notes.txt", b"hello")
    with pytest.raises(ValidationFailed):
        design.import_file(eng, designer, "gbk.bpmn", "<中文>".encode("gbk"))


def _live_version(eng, process_id):
    with eng.db.read() as session:
        return versions.active_version_id(session, "process", process_id)


def _drafts(eng):
    with eng.db.read() as session:
        return {
            d.key: d.content
            for d in session.scalars(select(DesignDraft).where(DesignDraft.kind == "process"))
        }


def test_a_modeler_export_imported_twice_makes_two_new_processes_and_nothing_live(eng, actors, journey):
    designer = actors("designer")
    running = journey.register()["case_id"]
    live, count = _live_version(eng, "case_handling"), _versions(eng)

    first = design.import_file(eng, designer, "diagram.bpmn", make_modeler_export().encode())
    second = design.import_file(eng, designer, "diagram.bpmn", make_modeler_export("走访").encode())
    assert first["process_id"] == "Process_1" and first["renamed_from"] is None  # the id was free: kept
    assert second["process_id"] == "diagram" and second["renamed_from"] == "Process_1"
    drafts = _drafts(eng)
    assert 'name="企业走访登记"' in drafts["Process_1"] and 'name="走访"' in drafts["diagram"]
    assert _versions(eng) == count and _live_version(eng, "Process_1") is None  # nothing deployed
    # The third time the file's own name is taken too: a number follows.
    third = design.import_file(eng, designer, "diagram.bpmn", make_modeler_export().encode())
    assert third["process_id"] == "diagram_2"

    # The library lists them as processes not deployed yet; the modeler opens their drafts.
    listed = {p["process_id"]: p for p in design.library(eng, designer)["processes"]}
    assert listed["diagram"]["versions"] == [] and listed["diagram"]["name"] == "走访"
    assert listed["diagram"]["live_version_id"] is None and listed["diagram"]["draft_at"]
    assert design.editor_source(eng, designer, "diagram")["live_version_id"] is None
    # The designer deploys one through the normal path; then it is a process of its own.
    deployed = design.deploy(eng, designer, drafts["diagram"], expected_process="diagram")
    assert deployed["process_id"] == "diagram" and _live_version(eng, "diagram") == deployed["version_id"]
    assert "diagram" not in _drafts(eng)
    history = design.history(eng, designer, "process", "diagram")
    assert [h["action"] for h in history] == ["deploy", "import"]

    assert _live_version(eng, "case_handling") == live
    assert _instance_version(eng, running) == live
    journey.dispatch(running)  # the running case carries on as before
    assert journey.task("handler_power", running)["task_name"] == "sign_for"


@pytest.mark.parametrize("pool", [False, True])
def test_a_new_id_is_written_everywhere_the_diagram_names_its_process(eng, actors, pool):
    designer = actors("designer")
    design.import_file(eng, designer, "first.bpmn", make_modeler_export(pool=pool).encode())
    result = design.import_file(
        eng, designer, "Visit plan (v2).bpmn", make_modeler_export(pool=pool).encode()
    )
    assert result["process_id"] == "Visit_plan_v2" and result["renamed_from"] == "Process_1"
    xml = _drafts(eng)["Visit_plan_v2"]
    root = parse_xml(xml)
    assert [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")] == ["Visit_plan_v2"]
    plane = next(root.iter(f"{{{BPMNDI_NS}}}BPMNPlane")).get("bpmnElement")
    refs = [p.get("processRef") for p in root.iter(f"{{{BPMN_NS}}}participant")]
    assert (plane, refs) == (("Collaboration_1", ["Visit_plan_v2"]) if pool else ("Visit_plan_v2", []))
    assert "Process_1" not in xml
    checked = design.validate(eng, designer, xml)  # the designer's 校验 in the modeler
    assert checked["ok"] and checked["process_id"] == "Visit_plan_v2"


def test_an_exported_live_process_reimported_becomes_a_new_process_by_default(eng, actors, journey):
    designer = actors("designer")
    running = journey.register()["case_id"]
    live, count = _live_version(eng, "case_handling"), _versions(eng)
    exported = design.process_version(eng, designer, live)["xml"]

    found = design.inspect_import(eng, designer, f"case_handling-v{live}.bpmn", exported.encode())
    assert found["process_id"] == "case_handling" and found["new_process_id"] == f"case_handling_v{live}"
    match = found["match"]
    assert (match["name"], match["live_version_id"], match["running_cases"]) == ("企业诉求办理", live, 1)
    assert match["draft_at"] is None

    result = design.import_file(eng, designer, f"case_handling-v{live}.bpmn", exported.encode())
    assert result["process_id"] == f"case_handling_v{live}" and result["target"] == "new"
    xml = _drafts(eng)[result["process_id"]]
    assert 'processRef="case_handling"' not in xml and f'processRef="case_handling_v{live}"' in xml
    assert design.validate(eng, designer, xml)["ok"]
    assert "case_handling" not in _drafts(eng)  # the live process has no draft, its name is its own
    assert _live_version(eng, "case_handling") == live and _versions(eng) == count
    assert _instance_version(eng, journey.register()["case_id"]) == live  # new cases: still the live version
    assert _instance_version(eng, running) == live


def test_import_as_a_draft_of_the_matching_process_changes_nothing_live_until_deployed(eng, actors, journey):
    designer = actors("designer")
    running = journey.register()["case_id"]
    live = _live_version(eng, "case_handling")
    changed = add_review_step(design.process_version(eng, designer, live)["xml"])

    result = design.import_file(eng, designer, "case_handling.bpmn", changed.encode(), target="draft")
    assert (result["process_id"], result["target"], result["renamed_from"]) == (
        "case_handling",
        "draft",
        None,
    )
    source = design.editor_source(eng, designer, "case_handling")
    assert source["from_draft"] and 'id="review"' in source["xml"] and source["base_version_id"] == live
    assert _live_version(eng, "case_handling") == live
    assert _instance_version(eng, journey.register()["case_id"]) == live
    assert design.inspect_import(eng, designer, "x.bpmn", changed.encode())["match"]["draft_at"] is not None

    deployed = design.deploy(eng, designer, source["xml"], expected_process="case_handling")
    assert deployed["changed"] and _live_version(eng, "case_handling") == deployed["version_id"]
    assert _instance_version(eng, running) == live
    assert [h["action"] for h in design.history(eng, designer, "process", "case_handling")][:2] == [
        "deploy",
        "import",
    ]


def test_import_as_a_draft_needs_a_process_to_match_and_a_known_choice(eng, actors):
    designer = actors("designer")
    with pytest.raises(ValidationFailed) as refused:
        design.import_file(eng, designer, "diagram.bpmn", make_modeler_export().encode(), target="draft")
    assert "Process_1" in refused.value.message and "target" in refused.value.errors
    with pytest.raises(ValidationFailed):
        design.import_file(eng, designer, "diagram.bpmn", make_modeler_export().encode(), target="live")
    assert _drafts(eng) == {}


def test_an_imported_diagram_that_cannot_run_is_refused_and_nothing_is_kept(eng, actors):
    designer = actors("designer")
    broken = BPMN.replace('value="feedback"', 'value="nope"')
    for target in ("new", "draft"):
        with pytest.raises(SpecError) as refused:
            design.import_file(eng, designer, "case_handling.bpmn", broken.encode(), target=target)
        assert refused.value.problems[0]["element_id"] == "handle"
    assert _drafts(eng) == {}


def test_only_designers_import(eng, actors):
    for user in ("dispatcher", "manager"):
        with pytest.raises(PermissionDenied):
            design.inspect_import(eng, actors(user), "diagram.bpmn", make_modeler_export().encode())
        with pytest.raises(PermissionDenied):
            design.import_file(eng, actors(user), "diagram.bpmn", make_modeler_export().encode())


def test_rollback_makes_an_earlier_version_live_again(eng, actors, journey):
    designer = actors("designer")
    original = _instance_version(eng, journey.register()["case_id"])
    new = design.deploy(eng, designer, add_review_step(BPMN))["version_id"]
    count = _versions(eng)
    design.rollback(eng, designer, original, comment="复核步骤暂停")
    assert _versions(eng) == count  # a pointer move, no copy
    assert _instance_version(eng, journey.register()["case_id"]) == original
    history = design.history(eng, designer, "process", "case_handling")
    assert history[0]["action"] == "rollback" and (history[0]["before"], history[0]["after"]) == (
        new,
        original,
    )
    # a restart (jienan init) does not undo the designer's choice
    from engine.workflow.deploy import deploy_defaults

    deploy_defaults(eng)
    assert _instance_version(eng, journey.register()["case_id"]) == original


def test_drafts_are_kept_apart_from_the_live_version(eng, actors):
    designer = actors("designer")
    assert not design.editor_source(eng, designer, "case_handling")["from_draft"]
    design.save_draft(eng, designer, "case_handling", add_review_step(BPMN))
    source = design.editor_source(eng, designer, "case_handling")
    assert source["from_draft"] and 'id="review"' in source["xml"]
    with pytest.raises(SpecError):
        design.save_draft(eng, designer, "case_handling", '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')
    design.deploy(eng, designer, source["xml"], expected_process="case_handling")
    assert not design.editor_source(eng, designer, "case_handling")["from_draft"]


def test_only_designers_change_processes(eng, actors):
    for user in ("dispatcher", "handler_power", "manager"):
        with pytest.raises(PermissionDenied):
            design.deploy(eng, actors(user), BPMN)
        with pytest.raises(PermissionDenied):
            design.save_draft(eng, actors(user), "case_handling", BPMN)


def test_moving_a_running_case_to_a_newer_version_when_safe(eng, actors, journey):
    designer = actors("designer")
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id)
    old_version = _instance_version(eng, case_id)
    new = design.deploy(eng, designer, add_review_step(BPMN))["version_id"]
    check = design.migration_check(eng, designer, case_id, new)
    assert check["safe"] and check["reasons"] == []
    design.migrate_case(eng, designer, case_id, new)
    assert _instance_version(eng, case_id) == new
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    journey.act("handler_power", case_id, {"outcome": "resolved", "handling_actions": "已解决。"})
    journey.act("dispatcher", case_id, {"verdict": "accept"})
    assert journey.task("dispatcher", case_id)["task_name"] == "review"  # it now runs the new step
    page = journey.case(case_id)
    assert any(e["kind"] == "migrated" and f"#{old_version} → #{new}" in e["title"] for e in page["timeline"])


def test_moving_is_refused_with_the_reason_when_the_current_step_is_gone(eng, actors, journey):
    designer = actors("designer")
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id)  # now waiting at sign_for
    without_sign = (
        BPMN.replace('id="sign_for"', 'id="sign_for_v2"')
        .replace('"sign_for"', '"sign_for_v2"')
        .replace(">sign_for<", ">sign_for_v2<")
        .replace('value="sign_for_v2"', 'value="sign_for"')
    )
    new = design.deploy(eng, designer, without_sign)["version_id"]
    check = design.migration_check(eng, designer, case_id, new)
    assert not check["safe"] and any("当前环节“签收”" in r for r in check["reasons"])
    with pytest.raises(Conflict) as refused:
        design.migrate_case(eng, designer, case_id, new)
    assert "当前环节“签收”" in refused.value.message
    assert _instance_version(eng, case_id) != new


def test_case_diagram_highlights_completed_path_and_current_tasks(eng, actors, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id)
    diagram = design.case_diagram(eng, actors("dispatcher"), case_id)
    assert "sign_for" in diagram["current"]
    assert {"start", "triage", "dispatch", "flow_merge_to_dispatch"} <= set(diagram["completed"])
    assert "handle" not in diagram["completed"]
    assert diagram["events"]["dispatch"][0]["title"].startswith("任务“派单”")
    with pytest.raises(PermissionDenied):
        design.case_diagram(eng, actors("handler_market"), case_id)
