"""Process definitions: every shipped diagram and table parses, agrees with the forms, roles and rules, and
uploaded XML is refused when unsafe, malformed, not executable or too large."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from engine.domain.vocabulary import LANE_TO_ROLE
from engine.domain.vocabulary import ROLES
from engine.errors import RuleError
from engine.errors import SpecError
from engine.forms.schema import load_form
from engine.rules import parse_dmn
from engine.workflow.scripts import check_source
from engine.workflow.specs import BPMN_NS
from engine.workflow.specs import PROCESSES_DIR
from engine.workflow.specs import SPIFF_NS
from engine.workflow.specs import default_process_files
from engine.workflow.specs import default_rule_files
from engine.workflow.specs import parse_bpmn
from engine.workflow.xmlsafe import MAX_XML_BYTES

BPMN_FILES = sorted(PROCESSES_DIR.glob("*.bpmn"))
DMN_FILES = sorted(PROCESSES_DIR.glob("*.dmn"))
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# Elements whose text is Python run by the script environment, and how it is compiled.
SCRIPT_ELEMENTS = {
    "bpmn:conditionExpression": "eval",
    "bpmn:script": "exec",
    "spiffworkflow:preScript": "exec",
    "spiffworkflow:postScript": "exec",
    "bpmn:timeDate": "eval",
    "bpmn:timeDuration": "eval",
    "bpmn:timeCycle": "eval",
    "bpmn:loopCardinality": "eval",
    "bpmn:completionCondition": "eval",
}


def xml_root(path: Path):
    return etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))


@pytest.fixture(scope="module")
def parsed_files():
    return {
        path.name: parse_bpmn(path.read_bytes(), filename=path.name, validate=True) for path in BPMN_FILES
    }


@pytest.fixture(scope="module")
def decisions():
    """decision id -> (file name, table) over every shipped DMN file."""
    found = {}
    for path in DMN_FILES:
        for decision_id, decision in parse_dmn(path.read_bytes(), source=path.name).decisions.items():
            assert decision_id not in found, (
                f"决策 {decision_id} 在 {found.get(decision_id)} 和 {path.name} 中重复"
            )
            found[decision_id] = (path.name, decision.table)
    return found


def by_name(paths):
    return pytest.mark.parametrize("path", paths, ids=[path.name for path in paths])


# --- shipped diagrams -----------------------------------------------------------------------------------------


def test_shipped_files_are_found():
    assert "case_handling.bpmn" in [path.name for path in BPMN_FILES]
    assert "triage.dmn" in [path.name for path in DMN_FILES]
    assert default_process_files() == BPMN_FILES
    assert default_rule_files() == DMN_FILES


@by_name(BPMN_FILES)
def test_every_diagram_parses_with_validation(path, parsed_files):
    parsed = parsed_files[path.name]
    root = xml_root(path)
    executable = root.xpath("//bpmn:process[@isExecutable='true']/@id", namespaces=NS)
    assert [parsed.process_id] == executable
    assert parsed.content_hash and len(parsed.content_hash) == 64
    assert root.xpath("//bpmn:endEvent", namespaces=NS), "一个可执行流程至少要有一个结束事件"
    if parsed.process_id == "case_handling":  # the end events that close or reopen a case
        assert parsed.end_events
    assert set(parsed.end_events.values()) <= {"closed", "reopen"}


def test_case_handling_human_tasks_forms_and_roles(parsed_files):
    parsed = parsed_files["case_handling.bpmn"]
    described = {name: (spec.role, spec.form_key) for name, spec in parsed.human_tasks.items()}
    assert described == {
        "resolve_on_site": ("registrar", "resolve_on_site"),
        "dispatch": ("dispatcher", "dispatch"),
        "leader_coordinate": ("leader", "leader_coordinate"),
        "sign_for": ("handler", "sign_for"),
        "handle": ("handler", "feedback"),
        "verify": ("dispatcher", "verify"),
        "revisit": ("registrar", "revisit"),
        "close_out": ("dispatcher", "close_out"),
        "supervise": ("supervisor", "supervise"),
        "approve_extension": ("dispatcher", "approve_extension"),
        "arbitrate": ("manager", "arbitrate"),
        "province_handoff": ("dispatcher", "province_handoff"),
        "province_answer": ("dispatcher", "province_answer"),
    }
    assert parsed.human_tasks["dispatch"].title == "派单"
    assert parsed.human_tasks["sign_for"].lane == "承办单位"
    assert parsed.end_events == {"end_closed": "closed", "end_reopen": "reopen"}


@by_name(BPMN_FILES)
def test_every_user_task_has_an_existing_form_and_a_known_role(path, parsed_files):
    parsed = parsed_files[path.name]
    root = xml_root(path)
    task_ids = root.xpath("//bpmn:userTask/@id | //bpmn:manualTask/@id", namespaces=NS)
    assert task_ids
    by_element = {spec.name: spec for spec in parsed.human_tasks.values()}  # multi-instance: "<id> [child]"
    assert sorted(by_element) == sorted(task_ids)
    for name in task_ids:
        spec = by_element[name]
        assert spec.form_key, f"任务 {name} 没有 formKey"
        assert load_form(spec.form_key).key == spec.form_key
        assert spec.lane, f"任务 {name} 不在任何泳道中"
        assert spec.role in ROLES, f"任务 {name} 的泳道“{spec.lane}”不对应任何角色"


@by_name(BPMN_FILES)
def test_every_lane_maps_to_a_role(path):
    lanes = xml_root(path).xpath("//bpmn:lane/@name", namespaces=NS)
    assert lanes
    for lane in lanes:
        assert LANE_TO_ROLE.get(lane) in ROLES, lane


@by_name(BPMN_FILES)
def test_every_business_rule_task_names_a_shipped_decision(path, parsed_files, decisions):
    parsed = parsed_files[path.name]
    rule_tasks = xml_root(path).xpath("//bpmn:businessRuleTask/@id", namespaces=NS)
    assert sorted(name.removesuffix(" [child]") for name in parsed.decision_refs) == sorted(rule_tasks)
    for task_name, decision_id in parsed.decision_refs.items():
        assert decision_id, f"业务规则任务 {task_name} 没有 calledDecisionId"
        assert decision_id in decisions, f"业务规则任务 {task_name} 引用的决策 {decision_id} 不存在"


def script_sources(path: Path) -> list[tuple[str, str, str]]:
    """(element id, source, mode) of every piece of Python in the diagram."""
    sources = []
    for tag, mode in SCRIPT_ELEMENTS.items():
        for element in xml_root(path).xpath(f"//{tag}", namespaces=NS):
            owner = element.getparent()
            while owner is not None and owner.get("id") is None:
                owner = owner.getparent()
            sources.append(
                (owner.get("id") if owner is not None else "?", (element.text or "").strip(), mode)
            )
    return sources


def test_script_sources_are_found_in_case_handling():
    found = {
        (element, source, mode)
        for element, source, mode in script_sources(PROCESSES_DIR / "case_handling.bpmn")
    }
    assert ("flow_tier_on_site", 'tier == "on_site"', "eval") in found
    assert ("flow_reopen_round", "round_no > 1", "eval") in found
    assert ("count_return", "returns_count = returns_count + 1", "exec") in found
    assert ("wait_escalate_definition", "working_days_after(deadline, escalate_after_days)", "eval") in found
    assert ("set_deadlines", "deadline", "exec") not in found  # scripts are whole texts, not fragments
    assert ("flow_red_repeat", 'case_flag() in ("red", "black")', "eval") in found


@by_name(BPMN_FILES)
def test_every_condition_and_script_compiles_in_the_restricted_environment(path):
    sources = script_sources(path)
    assert sources
    problems = {element: check_source(source, mode) for element, source, mode in sources}
    assert {element: problem for element, problem in problems.items() if problem} == {}
    assert all(source for _element, source, _mode in sources), "空的条件或脚本"


# --- shipped rule tables -------------------------------------------------------------------------------------


@by_name(DMN_FILES)
def test_every_rule_file_parses_and_its_tables_check_clean(path):
    document = parse_dmn(path.read_bytes(), source=path.name)
    assert document.decisions
    for decision_id, decision in document.decisions.items():
        problems = decision.table.check()
        if decision.table.hit_policy == "UNIQUE":
            assert [p for p in problems if p["kind"] == "overlap"] == [], decision_id
        # A gap in a single-hit table is a case that fails at triage with "no rule matched".
        assert [p["message"] for p in problems if p["kind"] == "gap"] == [], decision_id


def test_triage_table_shape(decisions):
    source, table = decisions["triage"]
    assert source == "triage.dmn"
    assert table.hit_policy == "FIRST"
    assert [column.expression for column in table.inputs] == ["urgency", "category", "field"]
    assert [column.name for column in table.outputs] == ["tier", "time_limit_days"]
    assert len(table.rules) == 7
    assert table.check() == []


# --- refusing bad XML ----------------------------------------------------------------------------------------

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
{doctype}<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="http://jienan.test">
  <bpmn:process id="{process_id}" name="{name}" isExecutable="{executable}">
    <bpmn:startEvent id="start"><bpmn:outgoing>flow</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:documentation>{documentation}</bpmn:documentation><bpmn:incoming>flow</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="flow" sourceRef="start" targetRef="end" />
  </bpmn:process>{extra}
</bpmn:definitions>
"""


def bpmn(*, doctype="", process_id="tiny", name="测试", executable="true", documentation="", extra="") -> str:
    return MINIMAL.format(
        doctype=doctype,
        process_id=process_id,
        name=name,
        executable=executable,
        documentation=documentation,
        extra=extra,
    )


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol;" if n == 1 else f"&lol{n - 1};") * 10}">' for n in range(1, 10))
    + "]>\n"
)


def refused(xml, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_bpmn(xml, **kwargs)
    return caught.value


def test_minimal_diagram_parses():
    parsed = parse_bpmn(bpmn())
    assert parsed.process_id == "tiny"
    assert parsed.name == "测试"
    assert parsed.end_events == {}  # an end event named neither end_closed… nor end_reopen… decides nothing
    assert parsed.human_tasks == {}


def test_billion_laughs_is_refused_quickly():
    started = time.perf_counter()
    error = refused(bpmn(doctype=BILLION_LAUGHS, name="&lol9;", documentation="&lol9;"))
    assert time.perf_counter() - started < 1
    assert "DOCTYPE" in error.message
    assert "lol" not in error.message


def test_external_entity_to_etc_passwd_is_refused():
    doctype = '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    error = refused(bpmn(doctype=doctype, documentation="&xxe;"))
    assert "DOCTYPE" in error.message
    assert "root:" not in error.message and "root:" not in str(error.problems)


@pytest.mark.parametrize("where", ["name", "documentation"])
def test_external_entity_file_is_never_read(tmp_path, where):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a", encoding="utf-8")
    doctype = f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
    for validate in (True, False):
        error = refused(bpmn(doctype=doctype, **{where: "&xxe;"}), validate=validate)
        assert "DOCTYPE" in error.message
        assert "TOP-SECRET" not in error.message and "TOP-SECRET" not in str(error.problems)


@pytest.mark.parametrize(
    "doctype",
    [
        "<!doctype definitions>\n",
        '<!DOCTYPE definitions SYSTEM "http://127.0.0.1:9/evil.dtd">\n',
        '<!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>\n',
    ],
    ids=["lowercase", "external-dtd", "parameter-entity"],
)
def test_any_doctype_is_refused(doctype):
    assert "DOCTYPE" in refused(bpmn(doctype=doctype)).message


def test_doctype_in_utf16_document_is_refused():
    xml = bpmn(doctype='<!DOCTYPE d [<!ENTITY inner "expanded">]>\n', name="&inner;")
    xml = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert "DOCTYPE" in refused(xml, validate=False).message


@pytest.mark.parametrize("validate", [True, False])
def test_utf16_external_entity_is_still_never_read(tmp_path, validate):
    # Even where the DOCTYPE check is bypassed (see above), the parser must not load external entities.
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-9c1e", encoding="utf-8")
    xml = bpmn(doctype=f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n', documentation="&xxe;")
    xml = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    try:
        parsed = parse_bpmn(xml, validate=validate)
    except SpecError as error:
        assert "TOP-SECRET" not in error.message and "TOP-SECRET" not in str(error.problems)
    else:
        seen = [(spec.bpmn_name, spec.documentation) for spec in parsed.spec.task_specs.values()]
        assert "TOP-SECRET" not in repr(seen)


def test_rule_file_with_doctype_is_refused():
    dmn = (DMN_FILES[0]).read_text(encoding="utf-8")
    dmn = dmn.replace("?>", "?>\n" + BILLION_LAUGHS, 1)
    with pytest.raises(RuleError, match="DOCTYPE"):
        parse_dmn(dmn)


def test_malformed_xml_names_the_line():
    xml = bpmn().replace("</bpmn:process>", "</bpmn:proces>")
    error = refused(xml)
    assert error.message.startswith("BPMN 文件格式错误（第 7 行）")


def test_empty_document_is_refused():
    assert "BPMN 文件格式错误" in refused("").message


def test_non_executable_process_is_refused():
    error = refused(bpmn(executable="false"))
    assert error.message == '图中没有可执行的流程（process 需设置 isExecutable="true"）'


def test_two_executable_processes_are_refused():
    second = '\n  <bpmn:process id="other" isExecutable="true" />'
    error = refused(bpmn(extra=second))
    assert error.message == "一个文件只能包含一个可执行流程，当前有：tiny, other"


def test_schema_violation_is_refused_only_with_validation():
    xml = bpmn().replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" color="red">')
    error = refused(xml)
    assert error.message.startswith("流程图无法解析：")
    assert "color" in error.message
    assert error.problems and "color" in error.problems[0]["message"]
    assert parse_bpmn(xml, validate=False).process_id == "tiny"


def padded(size: int) -> bytes:
    """A valid diagram of exactly `size` bytes (padded with a comment)."""
    base = bpmn().encode("utf-8")
    filler = size - len(base) - len(b"<!---->")
    assert filler > 0
    return base + b"<!--" + b"x" * filler + b"-->"


def test_oversized_xml_is_refused_before_parsing():
    xml = padded(MAX_XML_BYTES + 1)
    assert len(xml) == 2 * 1024 * 1024 + 1
    error = refused(xml)
    assert error.message == "BPMN 文件过大（2048 KB），上限为 2 MB"


def test_xml_at_the_size_limit_is_accepted():
    assert parse_bpmn(padded(MAX_XML_BYTES)).process_id == "tiny"


def test_content_hash_identifies_the_exact_bytes():
    first = parse_bpmn(bpmn())
    again = parse_bpmn(bpmn())
    changed = parse_bpmn(bpmn(name="另一个名字"))
    assert first.content_hash == again.content_hash
    assert first.content_hash != changed.content_hash
