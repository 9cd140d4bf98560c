"""Evaluating a decision table: coerce inputs, find matching rules, apply the hit policy (DMN 1.3 §8.2.11)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from engine.errors import RuleError
from engine.i18n import _
from engine.rules.result import DecisionResult
from engine.rules.result import Resolver
from engine.rules.sfeel import format_value
from engine.rules.typeref import kind_name
from engine.rules.typeref import plain

if TYPE_CHECKING:  # annotations only: the model imports this module
    from engine.rules.model import DecisionTable
    from engine.rules.model import Input
    from engine.rules.model import Rule


def evaluate_table(table: DecisionTable, context: dict, resolve: Resolver | None) -> DecisionResult:
    values = [read_input(table, column, context, resolve) for column in table.inputs]
    if table.hit_policy == "FIRST":
        matched = _first_match(table.rules, values)
    else:
        matched = [rule for rule in table.rules if _matches(rule, values)]
    chosen, outputs = _apply_hit_policy(table, matched)
    return DecisionResult(
        decision_id=table.decision_id,
        hit_policy=table.hit_policy,
        matched=[rule.index for rule in chosen],
        matched_rule_ids=[rule.rule_id for rule in chosen],
        outputs=outputs,
        inputs={c.column: plain(value, c.integral) for c, value in zip(table.inputs, values, strict=True)},
        aggregation=table.aggregation,
    )


def _matches(rule: Rule, values: list) -> bool:
    for position, matcher in rule.matchers:
        if not matcher(values[position]):
            return False
    return True


def _first_match(rules: list[Rule], values: list) -> list[Rule]:
    for rule in rules:
        if _matches(rule, values):
            return [rule]
    return []


def read_input(table: DecisionTable, column: Input, context: dict, resolve: Resolver | None) -> Any:
    """The input's value from `context`, coerced to the column's type.

    :raises RuleError: naming the column when the expression needs a resolver or the value has the wrong type.
    """
    if column.path is not None:
        raw = context.get(column.path[0]) if isinstance(context, Mapping) else None
        for key in column.path[1:]:
            raw = raw.get(key) if isinstance(raw, Mapping) else None
    elif resolve is None:
        raise _input_error(
            table,
            column,
            _(
                "的表达式“%(expression)s”不是变量名或点号路径，需要调用方提供 resolve 才能计算",
                expression=column.expression,
            ),
        )
    else:
        raw = resolve(column.expression, context)
    try:
        value = column.coerce(raw)
    except ValueError as exc:
        shown = format_value(raw) if isinstance(raw, (str, int, float, Decimal)) else type(raw).__name__
        raise _input_error(
            table,
            column,
            _(
                "的值 %(value)s %(problem)s，无法按 %(kind)s 比较：请检查数据或该列的类型",
                value=shown,
                problem=exc,
                kind=kind_name(column.kind),
            ),
        ) from None
    if (
        column.allowed_keys is not None
        and value is not None
        and (type(value), value) not in column.allowed_keys
    ):
        allowed = "、".join(format_value(v) for v in column.allowed_values or [])
        raise _input_error(
            table,
            column,
            _("的值 %(value)s 不在允许值中（%(allowed)s）", value=format_value(value), allowed=allowed),
        )
    return value


def _input_error(table: DecisionTable, column: Input, message: str) -> RuleError:
    text = _(
        "决策“%(decision)s”的输入“%(column)s”%(problem)s",
        decision=table.name or table.decision_id,
        column=column.column,
        problem=message,
    )
    return RuleError(
        text, problems=[{"element_id": column.input_id, "column": column.column, "message": text}]
    )


def _apply_hit_policy(table: DecisionTable, matched: list[Rule]) -> tuple[list[Rule], Any]:
    policy = table.hit_policy
    if policy in ("UNIQUE", "FIRST", "ANY", "PRIORITY"):
        if not matched:
            return [], None
        if policy == "UNIQUE" and len(matched) > 1:
            raise _conflict(table, matched)
        if policy == "ANY" and any(rule.outputs != matched[0].outputs for rule in matched[1:]):
            raise _conflict(table, matched)
        if policy == "PRIORITY":
            winner = min(matched, key=lambda rule: rule.priority)  # min() keeps the first of equals
            return [winner], dict(winner.outputs)
        return (matched if policy == "ANY" else matched[:1]), dict(matched[0].outputs)
    if policy == "OUTPUT ORDER":
        matched = sorted(matched, key=lambda rule: rule.priority)
    if policy == "COLLECT" and table.aggregation:
        return matched, _aggregate(table, matched)
    return matched, [dict(rule.outputs) for rule in matched]


def _aggregate(table: DecisionTable, matched: list[Rule]) -> dict:
    if table.aggregation == "COUNT":
        key = table.outputs[0].name if len(table.outputs) == 1 else "count"
        return {key: len(matched)}
    output = table.outputs[0]
    values = [rule.output_values[0] for rule in matched]
    if not values:
        return {output.name: None}
    if table.aggregation == "SUM":
        result = sum(values, Decimal(0))
    else:
        result = min(values) if table.aggregation == "MIN" else max(values)
    return {output.name: plain(result, output.integral)}


def _conflict(table: DecisionTable, matched: list[Rule]) -> RuleError:
    """UNIQUE matched several rules, or ANY matched rules with different outputs."""
    rules = "、".join(rule.label for rule in matched)
    decision = table.name or table.decision_id
    if table.hit_policy == "UNIQUE":
        text = _(
            "决策“%(decision)s”的命中策略为 UNIQUE，但%(rules)s 同时匹配：请修改条件使规则互不重叠，或改用 FIRST/PRIORITY",
            decision=decision,
            rules=rules,
        )
    else:
        text = _(
            "决策“%(decision)s”的命中策略为 ANY，但同时匹配的%(rules)s 输出不同：重叠的规则必须给出相同的输出",
            decision=decision,
            rules=rules,
        )
    problems = [
        {"element_id": rule.rule_id, "rule_id": rule.rule_id, "rule_index": rule.index, "message": text}
        for rule in matched
    ]
    return RuleError(text, problems=problems)
