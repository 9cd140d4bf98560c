"""Validation of a diagram before it may be deployed: every problem found, each pinned to its element.

`parse_bpmn` stops at what makes a diagram unusable; a designer needs the whole list, with element ids the
modeler can mark. On top of the engine's own parser (BPMN schema, SpiffWorkflow, restricted scripts) this checks
what our service relies on: user tasks with a form that exists and a lane that maps to a role, business rule tasks
calling a published rule table, a known case status, an end event that closes the case, and no element our engine
cannot execute (messages, service tasks, Camunda-only extensions of diagrams made elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import LANE_TO_ROLE
from engine.domain.vocabulary import ROLES
from engine.errors import SpecError
from engine.i18n import _
from engine.workflow.specs import BPMN_NS
from engine.workflow.specs import ParsedProcess
from engine.workflow.specs import check_expressions
from engine.workflow.specs import parse_bpmn
from engine.workflow.xmlsafe import parse_xml

CAMUNDA_NAMESPACES = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn")
ZEEBE_NAMESPACE = "http://camunda.org/schema/zeebe/1.0"


def unsupported_elements() -> dict[str, str]:
    """BPMN elements the engine cannot run here, with what to do instead."""
    return {
        "sendTask": _(
            "发送任务（sendTask）需要外部消息系统，本系统不支持；请改用用户任务或脚本任务（notify 通知）"
        ),
        "receiveTask": _("接收任务（receiveTask）需要外部消息，本系统不支持；请改用用户任务"),
        "serviceTask": _("服务任务（serviceTask）需要调用外部服务，本系统不支持；请改用脚本任务"),
        "manualTask": _("手工任务（manualTask）不会出现在待办中；请改用用户任务并选择表单"),
        "complexGateway": _("复杂网关（complexGateway）不被支持；请改用排他、并行或包容网关"),
        "transaction": _("事务子流程（transaction）不被支持"),
        "adHocSubProcess": _("自由子流程（adHocSubProcess）不被支持"),
        "messageEventDefinition": _("消息事件需要外部消息关联，本系统不支持；请改用信号事件或定时事件"),
        "conditionalEventDefinition": _("条件事件不被支持；请改用定时事件加排他网关"),
        "compensateEventDefinition": _("补偿事件不被支持"),
        "linkEventDefinition": _("链接事件不被支持；请直接连线"),
        "callActivity": _("调用活动（callActivity）不被支持：每个流程文件只能包含一个可执行流程"),
        "messageFlow": _("消息流连接多个参与者，本系统只执行一个流程；请删除其他参与者"),
    }


@dataclass
class CheckResult:
    parsed: ParsedProcess | None
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.parsed is not None and not self.problems

    def error(self) -> SpecError:
        first = self.problems[0]["message"] if self.problems else _("流程图无法校验")
        count = len(self.problems)
        message = (
            _("流程图有 %(count)s 处问题，第一处：%(problem)s", count=count, problem=first)
            if count > 1
            else first
        )
        return SpecError(message, problems=self.problems)


CASE_PROCESS = "case_handling"  # the one whose end events close or reopen a case


def check_process(xml: str | bytes, *, forms: set[str], decisions: set[str]) -> CheckResult:
    """Every problem that stops this diagram from being deployed (empty list: it can be deployed).

    `forms` and `decisions` are the form keys and published decision ids a diagram may refer to.
    """
    try:
        root = parse_xml(xml, what="BPMN")
    except SpecError as exc:
        return CheckResult(None, exc.problems or [{"element_id": None, "message": exc.message}])
    problems = _unsupported(root) + check_expressions(root)
    if problems:
        return CheckResult(None, problems)
    try:
        parsed = parse_bpmn(xml, validate=True)
    except SpecError as exc:
        return CheckResult(None, exc.problems or [{"element_id": None, "message": exc.message}])
    problems += _human_tasks(parsed, forms)
    problems += _rule_tasks(parsed, decisions)
    if parsed.process_id == CASE_PROCESS and "closed" not in parsed.end_events.values():
        problems.append(
            {
                "element_id": parsed.process_id,
                "message": _(
                    "流程没有销号结束事件：至少一个结束事件的 id 以 end_closed 开头，"
                    "或设置属性 caseResult=closed，否则诉求永远不会办结"
                ),
            }
        )
    return CheckResult(parsed, problems)


def _unsupported(root) -> list[dict]:
    problems = []
    for tag, message in unsupported_elements().items():
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            owner = node if node.get("id") else node.getparent()
            element_id = owner.get("id") if owner is not None else None
            name = owner.get("name") if owner is not None else None
            where = f"“{name}”" if name else (element_id or "")
            problems.append(
                {
                    "element_id": element_id,
                    "message": _("%(where)s：%(problem)s", where=where, problem=message),
                }
            )
    participants = [p for p in root.iter(f"{{{BPMN_NS}}}participant") if p.get("processRef")]
    if len(participants) > 1:
        names = "、".join(p.get("name") or p.get("id") for p in participants)
        problems.append(
            {
                "element_id": participants[1].get("id"),
                "message": _(
                    "图中有 %(count)s 个参与者（%(names)s），本系统一个文件只执行一个流程",
                    count=len(participants),
                    names=names,
                ),
            }
        )
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in node.attrib:
            namespace = attribute[1:].split("}")[0] if attribute.startswith("{") else ""
            if namespace in CAMUNDA_NAMESPACES and attribute.endswith(("}formKey", "}decisionRef")):
                if attribute.endswith("formKey"):
                    message = _(
                        "“%(element)s”使用了 Camunda 的 %(attribute)s，本系统不读取；请在属性面板的“解难”分组中选择表单",
                        element=node.get("name") or node.get("id"),
                        attribute=attribute.split("}")[1],
                    )
                else:
                    message = _(
                        "“%(element)s”使用了 Camunda 的 %(attribute)s，本系统不读取；请在属性面板的“解难”分组中选择规则表",
                        element=node.get("name") or node.get("id"),
                        attribute=attribute.split("}")[1],
                    )
                problems.append({"element_id": node.get("id"), "message": message})
            elif namespace in CAMUNDA_NAMESPACES and attribute.endswith(
                ("}class", "}expression", "}delegateExpression", "}type", "}topic")
            ):
                problems.append(
                    {
                        "element_id": node.get("id"),
                        "message": _(
                            "“%(element)s”要调用 Java/外部实现（camunda:%(attribute)s），本系统不支持",
                            element=node.get("name") or node.get("id"),
                            attribute=attribute.split("}")[1],
                        ),
                    }
                )
        if isinstance(node.tag, str) and node.tag.startswith(f"{{{ZEEBE_NAMESPACE}}}"):
            owner = node.getparent().getparent() if node.getparent() is not None else None
            element_id = owner.get("id") if owner is not None else None
            problems.append(
                {
                    "element_id": element_id,
                    "message": _(
                        "“%(element)s”使用了 Camunda 8（Zeebe）扩展 %(extension)s，本系统不支持；请改用属性面板的“解难”分组",
                        element=element_id,
                        extension=node.tag.split("}")[1],
                    ),
                }
            )
    return problems


def _human_tasks(parsed: ParsedProcess, forms: set[str]) -> list[dict]:
    roles = "、".join(zh for zh, _en in ROLES.values())
    problems = []
    for task in parsed.human_tasks.values():
        where = _("用户任务“%(task)s”", task=task.title)
        if not task.lane:
            problems.append(
                {
                    "element_id": task.name,
                    "message": _(
                        "%(where)s不在任何泳道中：请放进一个角色泳道（%(roles)s）", where=where, roles=roles
                    ),
                }
            )
        elif task.lane not in LANE_TO_ROLE:
            problems.append(
                {
                    "element_id": task.name,
                    "message": _(
                        "%(where)s所在的泳道“%(lane)s”不对应任何角色：泳道名称应为 %(roles)s 之一",
                        where=where,
                        lane=task.lane,
                        roles=roles,
                    ),
                }
            )
        if not task.form_key:
            problems.append({"element_id": task.name, "message": _("%(where)s没有选择表单", where=where)})
        elif task.form_key not in forms:
            problems.append(
                {
                    "element_id": task.name,
                    "message": _("%(where)s的表单“%(form)s”不存在", where=where, form=task.form_key),
                }
            )
        if task.case_status and task.case_status not in CASE_STATUSES:
            known = "、".join(CASE_STATUSES)
            problems.append(
                {
                    "element_id": task.name,
                    "message": _(
                        "%(where)s的案件状态“%(status)s”不是已知状态（%(known)s）",
                        where=where,
                        status=task.case_status,
                        known=known,
                    ),
                }
            )
    return problems


def _rule_tasks(parsed: ParsedProcess, decisions: set[str]) -> list[dict]:
    problems = []
    for element_id, decision_id in parsed.decision_refs.items():
        if not decision_id:
            problems.append(
                {
                    "element_id": element_id,
                    "message": _("业务规则任务 %(task)s 没有选择规则表", task=element_id),
                }
            )
        elif decision_id not in decisions:
            problems.append(
                {
                    "element_id": element_id,
                    "message": _(
                        "业务规则任务 %(task)s 调用的规则表“%(table)s”尚未发布",
                        task=element_id,
                        table=decision_id,
                    ),
                }
            )
    return problems
