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
from engine.i18n import _
from engine.i18n import reader_language


@dataclass(frozen=True)
class Days:
    """A whole number of working days (or, with `times`, of times) within [low, high]; `optional` allows an
    empty cell."""

    low: int
    high: int
    optional: bool = False
    times: bool = False

    def problem(self, value) -> str:
        if value is None:
            return "" if self.optional else _("不能留空")
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or value != int(value):
            if self.times:
                return _("应为整数（次），而不是 %(value)s", value=repr(value))
            return _("应为整数（个工作日），而不是 %(value)s", value=repr(value))
        if not self.low <= value <= self.high:
            if value < 0:
                return _("不能为负数（%(value)s）", value=value)
            if self.times:
                return _(
                    "应在 %(low)s 到 %(high)s次之间，而不是 %(value)s",
                    low=self.low,
                    high=self.high,
                    value=value,
                )
            return _(
                "应在 %(low)s 到 %(high)s个工作日之间，而不是 %(value)s",
                low=self.low,
                high=self.high,
                value=value,
            )
        return ""


@dataclass(frozen=True)
class Tier:
    """One rung of the ladder; `allowed` narrows it (triage never sends a new case to the province)."""

    allowed: tuple[str, ...] = tuple(TIERS)

    def problem(self, value) -> str:
        if value in self.allowed:
            return ""
        name = 1 if reader_language() == "en" else 0  # TIERS: code -> (Chinese, English)
        known = "、".join(f"{code}（{TIERS[code][name]}）" for code in self.allowed)
        return _("“%(value)s”不是可用的办理层级，只能是 %(known)s", value=value, known=known)


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of codes, e.g. the evaluation boards; `optional` allows an empty cell."""

    allowed: dict[str, str]
    optional: bool = False

    def problem(self, value) -> str:
        if value in self.allowed or (value is None and self.optional):
            return ""
        known = "、".join(f"{code}（{name}）" for code, name in self.allowed.items())
        return _("“%(value)s”不是可用的值，只能是 %(known)s", value=value, known=known)


@dataclass(frozen=True)
class Weight:
    """A weight of one part of a score: a whole number from 0 (the part does not count) to 100."""

    def problem(self, value) -> str:
        if (
            value is None
            or isinstance(value, bool)
            or not isinstance(value, int | float | Decimal)
            or value != int(value)
            or not 0 <= value <= 100
        ):
            return _("权重应为 0–100 的整数，而不是 %(value)s", value=repr(value))
        return ""


BOARDS = {"red": "红榜", "yellow": "黄榜", "black": "黑榜", "unranked": "不参与排名"}
# Why a unit is not ranked; the board explains each with the unit's own figures.
UNRANKED_REASONS = {"too_few_cases": "牵头问题太少", "missing_parts": "有数据的分项太少"}
# 三级约谈: who holds the accountability interview, lowest first; none = no interview.
INTERVIEW_LEVELS = {
    "none": "不约谈",
    "office": "督查部门约谈",
    "leader": "分管市领导约谈",
    "principal": "市主要领导约谈",
}

# decision id -> output name -> the values the process can work with.
CONTRACTS: dict[str, dict[str, Days | Tier | Choice | Weight]] = {
    "triage": {
        "tier": Tier(("on_site", "department", "city_leader")),
        "time_limit_days": Days(1, 365),
    },
    "supervision": {
        "sign_limit_days": Days(0, 30),
        "warn_days": Days(0, 30),
        "notice_days": Days(0, 60),
        "max_returns": Days(1, 20, times=True),
        "black_days": Days(1, 120),
    },
    "escalation": {
        "escalate_after_days": Days(0, 60, optional=True),
    },
    "evaluation": {
        "board": Choice(BOARDS),
        "reason": Choice(UNRANKED_REASONS, optional=True),
    },
    "interview": {
        "interview_level": Choice(INTERVIEW_LEVELS),
    },
    # The parts of a unit's quarterly score; the enterprises' rating (测评) counts only when a manager gives it weight.
    "evaluation_weights": {
        "closure_weight": Weight(),
        "on_time_weight": Weight(),
        "satisfaction_weight": Weight(),
        "rating_weight": Weight(),
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
            problems.append(
                _problem(
                    table,
                    None,
                    None,
                    _("决策表“%(table)s”缺少流程要用的输出列“%(name)s”", table=table.name, name=name),
                )
            )
    for rule in table.rules:
        for name, expected in contract.items():
            if name not in columns:
                continue
            if message := expected.problem(rule.outputs.get(name)):
                column = columns[name].label or name
                text = _(
                    "%(rule)s 的“%(column)s”列%(problem)s", rule=rule.label, column=column, problem=message
                )
                problems.append(_problem(table, rule, column, text))
    return problems


def check_outputs(decision_id: str, table_name: str, outputs: dict) -> None:
    """Refuse a decision whose outputs the process cannot use.

    :raises RuleError: names the output and the value.
    """
    for name, expected in CONTRACTS.get(decision_id, {}).items():
        if message := expected.problem(outputs.get(name)):
            raise RuleError(
                _(
                    "规则表“%(table)s”给出的“%(name)s”%(problem)s，请管理员修正规则表",
                    table=table_name or decision_id,
                    name=name,
                    problem=message,
                )
            )


def check_document(document) -> None:
    """Refuse a DMN document any of whose tables breaks its contract.

    :raises RuleError: `problems` lists every bad cell with rule and column, as the parser does.
    """
    problems = [p for decision in document.decisions.values() for p in table_problems(decision.table)]
    if problems:
        message = problems[0]["message"]
        if len(problems) > 1:
            message = _(
                "规则表有 %(count)s 处流程无法使用的输出，第一处：%(problem)s",
                count=len(problems),
                problem=message,
            )
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
