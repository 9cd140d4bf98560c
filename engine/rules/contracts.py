"""What the case-handling process needs from each rule table it calls.

A decision table can be well-formed DMN and still be unusable: a tier the ladder does not know, a negative time
limit, an output column the diagram reads but the table no longer has. The process would then fail (or worse,
run with nonsense) the first time a case hits that rule. These contracts are checked when a table is published
(every rule, so the manager sees each bad cell before anything is stored) and again on each decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain.vocabulary import TIERS
from engine.errors import RuleError


@dataclass(frozen=True)
class Days:
    """A whole number of working days (or times) within [low, high]; `optional` allows an empty cell."""

    low: int
    high: int
    optional: bool = False
    unit: str = "个工作日"

    def problem(self, value) -> str:
        if value is None:
            return "" if self.optional else "不能留空"
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or value != int(value):
            return f"应为整数（{self.unit}），而不是 {value!r}"
        if not self.low <= value <= self.high:
            if value < 0:
                return f"不能为负数（{value}）"
            return f"应在 {self.low} 到 {self.high}{self.unit}之间，而不是 {value}"
        return ""


@dataclass(frozen=True)
class Tier:
    """One rung of the ladder; `allowed` narrows it (triage never sends a new case to the province)."""

    allowed: tuple[str, ...] = tuple(TIERS)

    def problem(self, value) -> str:
        if value in self.allowed:
            return ""
        known = "、".join(f"{code}（{TIERS[code][0]}）" for code in self.allowed)
        return f"“{value}”不是可用的办理层级，只能是 {known}"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of codes, e.g. the evaluation boards."""

    allowed: dict[str, str]

    def problem(self, value) -> str:
        if value in self.allowed:
            return ""
        known = "、".join(f"{code}（{name}）" for code, name in self.allowed.items())
        return f"“{value}”不是可用的值，只能是 {known}"


BOARDS = {"red": "红榜", "yellow": "黄榜", "black": "黑榜", "unranked": "不参与排名"}

# decision id -> output name -> the values the process can work with.
CONTRACTS: dict[str, dict[str, Days | Tier | Choice]] = {
    "triage": {
        "tier": Tier(("on_site", "department", "city_leader")),
        "time_limit_days": Days(1, 365),
    },
    "supervision": {
        "sign_limit_days": Days(0, 30),
        "warn_days": Days(0, 30),
        "notice_days": Days(0, 60),
        "max_returns": Days(1, 20, unit="次"),
    },
    "escalation": {
        "escalate_after_days": Days(0, 60, optional=True),
    },
    "evaluation": {
        "board": Choice(BOARDS),
    },
}


def table_problems(table) -> list[dict]:
    """Every place where a parsed decision table breaks its contract (empty when it has none)."""
    contract = CONTRACTS.get(table.decision_id)
    if not contract:
        return []
    problems = []
    columns = {output.name: output for output in table.outputs}
    for name in contract:
        if name not in columns:
            problems.append(_problem(table, None, None, f"决策表“{table.name}”缺少流程要用的输出列“{name}”"))
    for rule in table.rules:
        for name, expected in contract.items():
            if name not in columns:
                continue
            if message := expected.problem(rule.outputs.get(name)):
                column = columns[name].label or name
                problems.append(_problem(table, rule, column, f"{rule.label} 的“{column}”列{message}"))
    return problems


def check_outputs(decision_id: str, table_name: str, outputs: dict) -> None:
    """Refuse a decision whose outputs the process cannot use.

    :raises RuleError: names the output and the value.
    """
    for name, expected in CONTRACTS.get(decision_id, {}).items():
        if message := expected.problem(outputs.get(name)):
            raise RuleError(f"规则表“{table_name or decision_id}”给出的“{name}”{message}，请管理员修正规则表")


def check_document(document) -> None:
    """Refuse a DMN document any of whose tables breaks its contract.

    :raises RuleError: `problems` lists every bad cell with rule and column, as the parser does.
    """
    problems = [p for decision in document.decisions.values() for p in table_problems(decision.table)]
    if problems:
        message = problems[0]["message"]
        if len(problems) > 1:
            message = f"规则表有 {len(problems)} 处流程无法使用的输出，第一处：{message}"
        raise RuleError(message, problems=problems)


def _problem(table, rule, column, message) -> dict:
    return {
        "element_id": rule.rule_id if rule else table.table_id or table.decision_id,
        "decision_id": table.decision_id,
        "decision_name": table.name,
        "rule_id": rule.rule_id if rule else None,
        "rule_index": rule.index if rule else None,
        "column": column,
        "message": message,
    }
