"""parse_dmn: DMN XML → DecisionTables, every cell parsed and type-checked once, all problems collected."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from engine.errors import RuleError
from engine.i18n import _
from engine.rules.match import compile_tests
from engine.rules.model import Decision
from engine.rules.model import DecisionTable
from engine.rules.model import DmnDocument
from engine.rules.model import Input
from engine.rules.model import Output
from engine.rules.model import Rule
from engine.rules.result import AGGREGATIONS
from engine.rules.result import HIT_POLICIES
from engine.rules.sfeel import COMPARISONS
from engine.rules.sfeel import Range
from engine.rules.sfeel import SfeelSyntaxError
from engine.rules.sfeel import UnaryTests
from engine.rules.sfeel import format_value
from engine.rules.sfeel import kind_of
from engine.rules.sfeel import parse_literal
from engine.rules.sfeel import parse_unary_tests
from engine.rules.typeref import coercer
from engine.rules.typeref import kind_name
from engine.rules.typeref import literal_fits
from engine.rules.typeref import plain
from engine.rules.typeref import resolve_type_ref
from engine.rules.xml import parse_xml

_PATH = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")


def parse_dmn(xml: bytes | str, *, source: str = "") -> DmnDocument:
    """Parse a DMN 1.1-1.5 file into decision tables ready to evaluate.

    :raises RuleError: the XML is unsafe, malformed or not DMN, or any table or cell is invalid; `problems`
        lists every problem found with element_id, decision_id, rule_id, rule_index, column and message.
    """
    root = parse_xml(xml, source)
    namespace = etree.QName(root).namespace
    builder = _Builder(namespace)
    elements = list(root.iterchildren(f"{{{namespace}}}decision"))
    decisions: dict[str, Decision] = {}
    for element in elements:
        decision = builder.decision(element)
        if decision is not None:
            decisions[decision.decision_id] = decision
    if not elements:
        builder.problem(root.get("id"), _("DMN 文件中没有任何决策（decision）"))
    if builder.problems:
        raise _error(builder.problems, source, several_decisions=len(elements) > 1)
    return DmnDocument(decisions, source, namespace, root.get("id") or "", root.get("name") or "")


def _error(problems: list[dict], source: str, several_decisions: bool) -> RuleError:
    first = problems[0]
    message = first["message"]
    if several_decisions and first["decision_name"]:
        message = _("决策“%(decision)s”：%(problem)s", decision=first["decision_name"], problem=message)
    if len(problems) > 1:
        where = _("（%(source)s）", source=source) if source else ""
        message = _(
            "DMN 文件%(where)s有 %(count)s 处问题，第一处：%(problem)s",
            where=where,
            count=len(problems),
            problem=message,
        )
    return RuleError(message, problems=problems)


class _Builder:
    """Walks one definitions element; collects problems instead of stopping at the first."""

    def __init__(self, namespace: str):
        self.ns = namespace
        self.problems: list[dict] = []
        self.decision_id: str | None = None
        self.decision_name = ""

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}"

    def problem(
        self, element_id: str | None, message: str, rule: Rule | None = None, column: str | None = None
    ):
        self.problems.append(
            {
                "element_id": element_id,
                "decision_id": self.decision_id,
                "decision_name": self.decision_name,
                "rule_id": rule.rule_id if rule else None,
                "rule_index": rule.index if rule else None,
                "column": column,
                "message": message,
            }
        )

    def decision(self, element: etree._Element) -> Decision | None:
        self.decision_id = element.get("id")
        self.decision_name = element.get("name") or self.decision_id or ""
        if not self.decision_id:
            self.problem(None, _("决策“%(decision)s”缺少 id", decision=self.decision_name))
            return None
        table_element = element.find(self.q("decisionTable"))
        if table_element is None:
            self.problem(
                self.decision_id,
                _("决策“%(decision)s”不是决策表：本系统只执行 decisionTable", decision=self.decision_name),
            )
            return None
        before = len(self.problems)
        table = self.table(table_element)
        if len(self.problems) > before:
            return None
        return Decision(self.decision_id, self.decision_name, table)

    def table(self, element: etree._Element) -> DecisionTable:
        table_id = element.get("id") or self.decision_id
        hit_policy = " ".join((element.get("hitPolicy") or "UNIQUE").upper().replace("_", " ").split())
        if hit_policy not in HIT_POLICIES:
            self.problem(
                table_id,
                _(
                    "命中策略“%(policy)s”无效，可用：%(policies)s",
                    policy=element.get("hitPolicy"),
                    policies="、".join(HIT_POLICIES),
                ),
            )
        aggregation = (element.get("aggregation") or "").strip().upper() or None
        if aggregation and (aggregation not in AGGREGATIONS or hit_policy != "COLLECT"):
            self.problem(
                table_id,
                _(
                    "汇总方式“%(aggregation)s”无效：只有 COLLECT 可以配 SUM、MIN、MAX 或 COUNT",
                    aggregation=aggregation,
                ),
            )
        inputs = [self.input(e, n) for n, e in enumerate(element.iterchildren(self.q("input")), 1)]
        outputs = [self.output(e, n) for n, e in enumerate(element.iterchildren(self.q("output")), 1)]
        self.check_outputs(table_id, outputs, hit_policy, aggregation)
        rules = [
            self.rule(e, n, inputs, outputs) for n, e in enumerate(element.iterchildren(self.q("rule")), 1)
        ]
        if aggregation in ("SUM", "MIN", "MAX") and len(outputs) == 1:
            self.check_aggregated_values(rules, outputs[0], aggregation)
        return DecisionTable(
            self.decision_id, self.decision_name, hit_policy, aggregation, inputs, outputs, rules, table_id
        )

    def input(self, element: etree._Element, position: int) -> Input:
        input_id = element.get("id") or f"input{position}"
        expression_element = element.find(self.q("inputExpression"))
        type_ref = expression_element.get("typeRef") if expression_element is not None else None
        expression = (element.findtext(f"{self.q('inputExpression')}/{self.q('text')}") or "").strip()
        column = Input(input_id, element.get("label") or "", expression, type_ref)
        column.kind, column.integral = self.type_ref(input_id, column.column, type_ref)
        column.coerce = coercer(column.kind, column.integral)
        if not expression:
            self.problem(
                input_id,
                _("输入列“%(column)s”没有输入表达式：请填写要判断的变量名", column=column.column),
                column=column.column,
            )
        elif _PATH.fullmatch(expression):
            column.path = tuple(expression.split("."))
        allowed = self.allowed(
            element.find(self.q("inputValues")), input_id, column.column, column.kind, column.integral
        )
        if allowed is not None:
            column.allowed_values = [_native(v, column.integral) for v in allowed]
            column.allowed_typed = tuple(allowed)
            column.allowed_keys = frozenset((type(v), v) for v in allowed)
        return column

    def output(self, element: etree._Element, position: int) -> Output:
        output_id = element.get("id") or f"output{position}"
        label, name = element.get("label") or "", element.get("name") or ""
        column = Output(output_id, label, name or label or output_id, element.get("typeRef"))
        column.kind, column.integral = self.type_ref(output_id, column.column, column.type_ref)
        allowed = self.allowed(
            element.find(self.q("outputValues")), output_id, column.column, column.kind, column.integral
        )
        if allowed is not None:
            column.allowed_values = [_native(v, column.integral) for v in allowed]
            column.priority = {(type(v), v): rank for rank, v in enumerate(allowed)}
        return column

    def type_ref(self, element_id: str, column: str, type_ref: str | None) -> tuple[str | None, bool]:
        try:
            return resolve_type_ref(type_ref)
        except ValueError as exc:
            self.problem(
                element_id, _("“%(column)s”列的%(problem)s", column=column, problem=exc), column=column
            )
            return None, False

    def allowed(self, element, element_id: str, column: str, kind: str | None, integral: bool) -> list | None:
        """The literal list of an inputValues/outputValues element, typed; None when absent or empty."""
        text = element.findtext(self.q("text")) if element is not None else None
        if not text or not text.strip():
            return None
        try:
            tests = parse_unary_tests(text)
        except SfeelSyntaxError as exc:
            self.problem(
                element_id,
                _("“%(column)s”列的允许值无法解析：%(problem)s", column=column, problem=exc),
                column=column,
            )
            return None
        values = [t.value for t in tests.tests if not isinstance(t, Range) and t.op == "="]
        if tests.negated or tests.is_any or len(values) != len(tests.tests) or None in values:
            self.problem(
                element_id,
                _('“%(column)s”列的允许值只能是逗号分隔的字面值，例如 "一般","紧急"', column=column),
                column=column,
            )
            return None
        for value in values:
            if message := _literal_problem(value, kind, integral):
                self.problem(
                    element_id,
                    _("“%(column)s”列的允许值有误：%(problem)s", column=column, problem=message),
                    column=column,
                )
                return None
        return values

    def check_outputs(self, table_id: str, outputs: list[Output], hit_policy: str, aggregation: str | None):
        if not outputs:
            self.problem(table_id, _("决策表没有输出列"))
        names = [o.name for o in outputs]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problem(
                table_id, _("输出列名“%(name)s”重复：每个输出列的名称必须不同", name=name), column=name
            )
        if hit_policy in ("PRIORITY", "OUTPUT ORDER") and not any(o.priority for o in outputs):
            self.problem(
                table_id,
                _(
                    "命中策略 %(policy)s 需要在输出列上设置允许值（outputValues），按先后顺序表示优先级",
                    policy=hit_policy,
                ),
            )
        if aggregation in ("SUM", "MIN", "MAX") and len(outputs) > 1:
            self.problem(
                table_id,
                _(
                    "COLLECT %(aggregation)s 只能用于只有一个输出列的表，此表有 %(count)s 个",
                    aggregation=aggregation,
                    count=len(outputs),
                ),
            )

    def rule(self, element: etree._Element, index: int, inputs: list[Input], outputs: list[Output]) -> Rule:
        input_cells = list(element.iterchildren(self.q("inputEntry")))
        output_cells = list(element.iterchildren(self.q("outputEntry")))
        texts = [(cell.findtext(self.q("text")) or "").strip() for cell in input_cells]
        output_texts = [(cell.findtext(self.q("text")) or "").strip() for cell in output_cells]
        notes = [element.findtext(self.q("description")) or ""]
        notes += [e.findtext(self.q("text")) or "" for e in element.iterchildren(self.q("annotationEntry"))]
        rule_id = element.get("id") or f"rule{index}"
        rule = Rule(rule_id, index, texts, output_texts, "\n".join(n.strip() for n in notes if n.strip()))
        if len(input_cells) != len(inputs) or len(output_cells) != len(outputs):
            self.problem(
                rule_id,
                _(
                    "%(rule)s 有 %(conditions)s 个条件、%(conclusions)s 个输出，"
                    "但表有 %(inputs)s 个输入列、%(outputs)s 个输出列",
                    rule=rule.label,
                    conditions=len(input_cells),
                    conclusions=len(output_cells),
                    inputs=len(inputs),
                    outputs=len(outputs),
                ),
                rule,
            )
            return rule
        matchers = []
        for position, (column, cell, text) in enumerate(zip(inputs, input_cells, texts, strict=True)):
            tests = self.condition(rule, column, cell.get("id") or rule_id, text)
            rule.conditions.append(tests)
            matcher = compile_tests(tests, typed=column.kind is not None)
            if matcher is not None:
                matchers.append((position, matcher))
        rule.matchers = tuple(matchers)
        for column, cell, text in zip(outputs, output_cells, output_texts, strict=True):
            rule.output_values.append(self.conclusion(rule, column, cell.get("id") or rule_id, text))
        pairs = list(zip(outputs, rule.output_values, strict=True))
        rule.outputs = {o.name: plain(v, o.integral) for o, v in pairs}
        rule.priority = tuple(o.priority.get((type(v), v), len(o.priority)) for o, v in pairs if o.priority)
        return rule

    def condition(self, rule: Rule, column: Input, cell_id: str, text: str) -> UnaryTests:
        try:
            tests = parse_unary_tests(text)
        except SfeelSyntaxError as exc:
            self.problem(cell_id, _cell_unreadable(rule, column.column, exc), rule, column.column)
            return UnaryTests(())
        if message := _condition_problem(tests, column):
            self.problem(cell_id, _cell_wrong(rule, column.column, message), rule, column.column)
        return tests

    def conclusion(self, rule: Rule, column: Output, cell_id: str, text: str) -> Any:
        if not text:
            return None
        try:
            value = parse_literal(text)
        except SfeelSyntaxError as exc:
            self.problem(cell_id, _cell_unreadable(rule, column.column, exc), rule, column.column)
            return None
        message = _literal_problem(value, column.kind, column.integral)
        if not message and column.priority is not None and value is not None:
            if (type(value), value) not in column.priority:
                message = _not_allowed(value, column.allowed_values)
        if message:
            self.problem(cell_id, _cell_wrong(rule, column.column, message), rule, column.column)
        return value

    def check_aggregated_values(self, rules: list[Rule], column: Output, aggregation: str):
        kinds = set()
        for rule in rules:
            if len(rule.output_values) != 1:
                continue
            value = rule.output_values[0]
            kind = kind_of(value)
            if value is None:
                message = _(
                    "COLLECT %(aggregation)s 表的每条规则都要给出输出值，不能留空", aggregation=aggregation
                )
            elif aggregation == "SUM" and kind != "number":
                message = _("COLLECT SUM 只能汇总数字，%(value)s 不是数字", value=format_value(value))
            elif kind not in ("number", "string", "date"):
                message = _("COLLECT %(aggregation)s 只能比较数字、文本或日期", aggregation=aggregation)
            else:
                kinds.add(kind)
                message = (
                    ""
                    if len(kinds) == 1
                    else _(
                        "COLLECT %(aggregation)s 的输出值类型不一致，无法比较大小", aggregation=aggregation
                    )
                )
            if message:
                self.problem(rule.rule_id, _cell_wrong(rule, column.column, message), rule, column.column)


def _cell_unreadable(rule: Rule, column: str, problem) -> str:
    return _(
        "%(rule)s 的“%(column)s”列无法解析：%(problem)s", rule=rule.label, column=column, problem=problem
    )


def _cell_wrong(rule: Rule, column: str, problem: str) -> str:
    return _("%(rule)s 的“%(column)s”列有误：%(problem)s", rule=rule.label, column=column, problem=problem)


def _condition_problem(tests: UnaryTests, column: Input) -> str:
    """Why this input entry cannot work on this column ("" when it can)."""
    for test in tests.tests:
        if isinstance(test, Range):
            message = _range_problem(test, column)
        elif test.op in COMPARISONS:
            message = _ordered_problem(test.value, column.kind)
        else:
            message = _literal_problem(test.value, column.kind, column.integral)
            if not message and column.allowed_keys is not None and test.value is not None:
                if (type(test.value), test.value) not in column.allowed_keys:
                    message = _not_allowed(test.value, column.allowed_values)
        if message:
            return message
    return ""


def _range_problem(test: Range, column: Input) -> str:
    low, high = test.low, test.high
    for endpoint in (low, high):
        if message := _ordered_problem(endpoint, column.kind):
            return message
    if kind_of(low) != kind_of(high):
        return _("区间两端的类型不同（%(low)s 与 %(high)s）", low=format_value(low), high=format_value(high))
    if low > high or (low == high and not (test.low_closed and test.high_closed)):
        return _(
            "区间 %(low)s..%(high)s 里没有任何值：下限应小于上限",
            low=format_value(low),
            high=format_value(high),
        )
    return ""


def _ordered_problem(value: Any, kind: str | None) -> str:
    """Why `value` cannot be used with < > or in an interval on a `kind` column."""
    value_kind = kind_of(value)
    if value_kind == "null":
        return _("null 不能比较大小，判断空值请直接写 null")
    if value_kind == "boolean":
        return _("true/false 不能比较大小")
    if kind is None and value_kind == "string":
        return _("文本只能在 string 类型的列中比较大小：请把该输入列的类型设为 string")
    return _mismatch(value, kind) if not literal_fits(value, kind) else ""


def _literal_problem(value: Any, kind: str | None, integral: bool) -> str:
    if not literal_fits(value, kind):
        return _mismatch(value, kind)
    if integral and kind_of(value) == "number" and value != value.to_integral_value():
        return _("该列是整数类型，不能写小数 %(value)s", value=format_value(value))
    return ""


def _mismatch(value: Any, kind: str | None) -> str:
    value_kind = kind_of(value)
    shown = format_value(value)
    if kind == "number" and value_kind == "string":
        return _("该列类型为 number（数字），不能写文本 %(value)s：数字不要加引号", value=shown)
    if kind == "string" and value_kind in ("number", "boolean"):
        return _('该列类型为 string（文本），文本要用英文双引号括起来，例如 "%(value)s"', value=shown)
    if kind == "date" and value_kind == "string":
        return _("该列类型为 date（日期），日期要写成 date(%(value)s)", value=shown)
    return _("该列类型为 %(kind)s，不能写 %(value)s", kind=kind_name(kind), value=shown)


def _not_allowed(value: Any, allowed: list | None) -> str:
    choices = "、".join(format_value(v) for v in allowed or [])
    return _("%(value)s 不在该列的允许值中（%(choices)s）", value=format_value(value), choices=choices)


def _native(value: Any, integral: bool) -> Any:
    """Allowed values as callers expect them: numbers as int/float, dates stay dates."""
    return plain(value, integral) if kind_of(value) == "number" else value
