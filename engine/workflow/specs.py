"""Process definitions: parse BPMN once per version (keyed by content hash), describe its human tasks, cache it."""

from __future__ import annotations

import dataclasses
import decimal
import hashlib
import json
import threading
from pathlib import Path

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine.domain.vocabulary import LANE_TO_ROLE
from engine.errors import SpecError
from engine.i18n import _
from engine.workflow.scripts import check_source
from engine.workflow.xmlsafe import parse_xml

PROCESSES_DIR = Path(__file__).resolve().parents[2] / "processes"


class RuleTask(SpiffBpmnTask, BpmnSpecMixin):
    """A business rule task whose decision is evaluated by our DMN engine (engine.rules), not SpiffWorkflow's.

    The table is looked up when the task runs (the newest published version), so publishing a rule applies to
    new decisions without redeploying the diagram. The script engine's `decide` does the lookup and audit.
    """

    def __init__(self, wf_spec, bpmn_id, decision_ref=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref

    def _run_hook(self, my_task):
        engine = my_task.workflow.script_engine
        if getattr(engine, "decide", None) is None:
            raise SpecError(_("规则引擎未配置，无法执行业务规则任务"))
        decided = engine.decide(self.decision_ref, my_task) or {}
        outputs = {key: _json_safe(value) for key, value in decided.items()}
        my_task.data.update(outputs)
        item = _loop_output_item(my_task)
        if item is not None and item not in outputs:
            # In a loop whose output item is not one of the table's outputs, each decision is collected whole
            # ({output: value}), so a table with several outputs can feed one list.
            my_task.data[item] = outputs
        return super()._run_hook(my_task)


def _loop_output_item(my_task) -> str | None:
    """The output data item's name when this task is one instance of a multi-instance loop."""
    loop = my_task.parent.task_spec if my_task.parent is not None else None
    if getattr(loop, "task_spec", None) != my_task.task_spec.name:
        return None
    output_item = getattr(loop, "output_item", None)
    return output_item.bpmn_id if output_item is not None else None


def _json_safe(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class RuleTaskParser(BusinessRuleTaskParser):
    def create_task(self):
        extensions = self.parse_extensions()
        return RuleTask(
            self.spec,
            self.bpmn_id,
            decision_ref=extensions.get("calledDecisionId"),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class JienanBpmnParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = dict(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)
    OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")] = (RuleTaskParser, RuleTask)


@dataclasses.dataclass(frozen=True)
class HumanTaskSpec:
    """What the engine needs to know about one user/manual task of a diagram."""

    name: str  # BPMN element id
    title: str
    role: str | None
    lane: str | None
    form_key: str | None
    case_status: str | None
    documentation: str | None


@dataclasses.dataclass
class ParsedProcess:
    """One parsed process version: the Spiff spec, its subprocess specs and a description of its human tasks."""

    process_id: str
    name: str
    content_hash: str
    spec: object
    subprocess_specs: dict
    human_tasks: dict[str, HumanTaskSpec]
    decision_refs: dict[str, str]  # task id -> decision id
    end_events: dict[str, str]  # end event id -> case result: "reopen" or "closed"


def content_hash(xml: str | bytes) -> str:
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    return hashlib.sha256(raw).hexdigest()


def parse_bpmn(xml: str | bytes, *, filename: str = "diagram.bpmn", validate: bool = True) -> ParsedProcess:
    """Parse a BPMN document holding exactly one executable process.

    :raises SpecError: when the XML is unsafe or malformed, fails the BPMN schema, or is not executable.
    """
    root = parse_xml(xml, what="BPMN")
    if validate:
        problems = check_expressions(root)
        if problems:
            raise SpecError(
                _(
                    "流程图中有 %(count)s 处脚本或条件不被允许，第一处：%(problem)s",
                    count=len(problems),
                    problem=problems[0]["message"],
                ),
                problems=problems,
            )
    parser = JienanBpmnParser(validator=VALIDATOR if validate else None)
    try:
        parser.add_bpmn_xml(root, filename=filename)
        process_ids = parser.get_process_ids()
        if not process_ids:
            raise SpecError(_('图中没有可执行的流程（process 需设置 isExecutable="true"）'))
        if len(process_ids) > 1:
            raise SpecError(
                _("一个文件只能包含一个可执行流程，当前有：%(processes)s", processes=", ".join(process_ids))
            )
        process_id = process_ids[0]
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except SpecError:
        raise
    except ValidationException as exc:
        element = getattr(exc, "id", None) or ""
        raise SpecError(
            _("流程图无法解析：%(error)s", error=exc), problems=[{"element_id": element, "message": str(exc)}]
        ) from None
    except (SpiffWorkflowException, ValueError, KeyError) as exc:
        raise SpecError(_("流程图无法解析：%(error)s", error=exc)) from None
    return _describe(process_id, spec, subprocess_specs, content_hash(xml), _end_results(root))


SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def check_expressions(root) -> list[dict]:
    """Every script, condition and timer expression must compile in the restricted environment."""
    checks = []  # (element id, text, mode, what)
    for node in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        script = node.find(f"{{{BPMN_NS}}}script")
        if script is not None and (script.text or "").strip():
            checks.append((node.get("id"), script.text, "exec", _("脚本")))
    for tag, what in (("preScript", _("前置脚本")), ("postScript", _("后置脚本"))):
        for node in root.iter(f"{{{SPIFF_NS}}}{tag}"):
            owner = node.getparent().getparent()
            if (node.text or "").strip():
                checks.append((owner.get("id"), node.text, "exec", what))
    for node in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        condition = node.find(f"{{{BPMN_NS}}}conditionExpression")
        if condition is not None and (condition.text or "").strip():
            checks.append((node.get("id"), condition.text.strip(), "eval", _("条件")))
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            owner = node.getparent().getparent()
            if (node.text or "").strip():
                checks.append((owner.get("id"), node.text.strip(), "eval", _("定时表达式")))
    problems = []
    for element_id, source, mode, what in checks:
        message = check_source(source, mode)
        if message:
            problems.append(
                {
                    "element_id": element_id,
                    "message": _(
                        "%(what)s（%(element)s）：%(problem)s", what=what, element=element_id, problem=message
                    ),
                }
            )
    return problems


def _end_results(root) -> dict[str, str]:
    """End events that decide the case's round: id -> "reopen" or "closed".

    Taken from an end event's `caseResult` property, else from its id (end_reopen…, end_closed…). Other end
    events (the ends of reminder or supervision branches) say nothing about the case and are left out.
    """
    results = {}
    for node in root.iter(f"{{{BPMN_NS}}}endEvent"):
        element_id = node.get("id", "")
        result = (
            "reopen"
            if element_id.startswith("end_reopen")
            else "closed"
            if element_id.startswith("end_closed")
            else None
        )
        for prop in node.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name") == "caseResult" and prop.get("value") in ("reopen", "closed"):
                result = prop.get("value")
        if result:
            results[element_id] = result
    return results


def _describe(process_id, spec, subprocess_specs, digest, end_results) -> ParsedProcess:
    human, decisions, ends = {}, {}, {}
    all_specs = [spec, *subprocess_specs.values()]
    for process_spec in all_specs:
        for task_spec in process_spec.task_specs.values():
            if getattr(task_spec, "manual", False):
                properties = getattr(task_spec, "extensions", {}).get("properties", {})
                # The element id: a multi-instance task's spec is named "<id> [child]".
                human[task_spec.name] = HumanTaskSpec(
                    name=getattr(task_spec, "bpmn_id", None) or task_spec.name,
                    title=task_spec.bpmn_name or task_spec.name,
                    role=LANE_TO_ROLE.get(task_spec.lane) if task_spec.lane else None,
                    lane=task_spec.lane,
                    form_key=properties.get("formKey"),
                    case_status=properties.get("caseStatus"),
                    documentation=task_spec.documentation,
                )
            elif isinstance(task_spec, RuleTask):
                decisions[task_spec.name] = task_spec.decision_ref
            elif task_spec.name in end_results and process_spec is spec:
                ends[task_spec.name] = end_results[task_spec.name]
    return ParsedProcess(
        process_id=process_id,
        name=spec.description or process_id,
        content_hash=digest,
        spec=spec,
        subprocess_specs=subprocess_specs,
        human_tasks=human,
        decision_refs=decisions,
        end_events=ends,
    )


class SpecCache:
    """Parsed process versions by version id. Parsing happens once per version per process."""

    def __init__(self):
        self._by_version: dict[int, ParsedProcess] = {}
        self._lock = threading.Lock()

    def get(self, version_id: int, load_xml) -> ParsedProcess:
        """Return the parsed version, calling `load_xml(version_id)` and parsing only on a cache miss."""
        parsed = self._by_version.get(version_id)
        if parsed is None:
            with self._lock:
                parsed = self._by_version.get(version_id)
                if parsed is None:
                    parsed = parse_bpmn(load_xml(version_id), validate=False)
                    self._by_version[version_id] = parsed
        return parsed

    def put(self, version_id: int, parsed: ParsedProcess) -> None:
        self._by_version[version_id] = parsed


def default_process_files() -> list[Path]:
    """The diagrams shipped in processes/ (the source of the default deployment)."""
    return sorted(PROCESSES_DIR.glob("*.bpmn"))


def default_rule_files() -> list[Path]:
    return sorted(PROCESSES_DIR.glob("*.dmn"))


def default_rule_examples() -> dict[str, list[dict]]:
    """The example cases shipped with the default tables: processes/examples/<decision id>.json."""
    return {
        path.stem: json.loads(path.read_text("utf-8"))
        for path in sorted((PROCESSES_DIR / "examples").glob("*.json"))
    }
