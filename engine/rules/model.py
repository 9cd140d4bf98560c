"""The parsed decision-table model: documents, decisions, tables, columns, rules and results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from engine.errors import RuleError
from engine.i18n import _
from engine.rules.check import check_table
from engine.rules.evaluate import evaluate_table
from engine.rules.result import DecisionResult
from engine.rules.result import Resolver
from engine.rules.sfeel import UnaryTests


@dataclass(slots=True)
class Input:
    """An input column. `expression` is the inputExpression text; `type_ref` as written in the file."""

    input_id: str
    label: str
    expression: str
    type_ref: str | None
    allowed_values: list | None = None
    kind: str | None = field(default=None, repr=False)
    integral: bool = field(default=False, repr=False)
    path: tuple[str, ...] | None = field(default=None, repr=False)  # for plain names / dotted paths
    coerce: Callable[[Any], Any] | None = field(default=None, repr=False)
    allowed_typed: tuple | None = field(default=None, repr=False)  # allowed values as cells see them
    allowed_keys: frozenset | None = field(default=None, repr=False)  # {(type, value)} of allowed values

    @property
    def column(self) -> str:
        """How messages name this column: the label, else the expression, else the id."""
        return self.label or self.expression or self.input_id


@dataclass(slots=True)
class Output:
    """An output column; results are keyed by `name`."""

    output_id: str
    label: str
    name: str
    type_ref: str | None
    allowed_values: list | None = None
    kind: str | None = field(default=None, repr=False)
    integral: bool = field(default=False, repr=False)
    priority: dict | None = field(default=None, repr=False)  # typed allowed value -> rank (0 = highest)

    @property
    def column(self) -> str:
        return self.label or self.name or self.output_id


@dataclass(slots=True)
class Rule:
    """One row. `index` is 1-based, as managers count rows; entries keep the cell text as written."""

    rule_id: str
    index: int
    input_entries: list[str]
    output_entries: list[str]
    annotation: str = ""
    conditions: list[UnaryTests] = field(default_factory=list, repr=False)
    output_values: list = field(default_factory=list, repr=False)  # typed (Decimal, date, …)
    outputs: dict = field(default_factory=dict, repr=False)  # JSON-safe, keyed by output name
    matchers: tuple = field(default=(), repr=False)  # ((input position, matcher), …) without `-` cells
    priority: tuple = field(default=(), repr=False)

    @property
    def label(self) -> str:
        return _("规则 %(n)s", n=self.index)


@dataclass(slots=True)
class DecisionTable:
    """A parsed, checked decision table, ready to evaluate many times."""

    decision_id: str
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: list[Input]
    outputs: list[Output]
    rules: list[Rule]
    table_id: str = ""

    def evaluate(self, context: dict, *, resolve: Resolver | None = None) -> DecisionResult:
        """Decide for `context` (task data). Plain names and dotted paths are read from it; other input
        expressions go to `resolve(expression_text, context)`.

        :raises RuleError: an input cannot be read or coerced, UNIQUE matched several rules, ANY matched
            rules with different outputs.
        """
        return evaluate_table(self, context, resolve)

    def check(self) -> list[dict]:
        """Static problems: overlapping rules (UNIQUE, ANY) and uncovered inputs (single-hit policies)."""
        return check_table(self)


@dataclass(slots=True)
class Decision:
    decision_id: str
    name: str
    table: DecisionTable


@dataclass(slots=True)
class DmnDocument:
    """A parsed DMN file: its decisions by id."""

    decisions: dict[str, Decision]
    source: str = ""
    namespace: str = ""
    definitions_id: str = ""
    name: str = ""

    def decision(self, decision_id: str) -> Decision:
        """:raises RuleError: when the file has no such decision."""
        try:
            return self.decisions[decision_id]
        except KeyError:
            known = "、".join(self.decisions) or _("（无）")
            if self.source:
                message = _(
                    "DMN 文件 %(source)s 中没有决策“%(decision)s”，已有：%(known)s",
                    source=self.source,
                    decision=decision_id,
                    known=known,
                )
            else:
                message = _(
                    "DMN 文件中没有决策“%(decision)s”，已有：%(known)s", decision=decision_id, known=known
                )
            raise RuleError(
                message,
                problems=[
                    {
                        "element_id": decision_id,
                        "message": _("找不到决策“%(decision)s”", decision=decision_id),
                    }
                ],
            ) from None

    def evaluate(self, decision_id: str, context: dict, *, resolve: Resolver | None = None) -> DecisionResult:
        """Shortcut for `decision(decision_id).table.evaluate(...)`."""
        return self.decision(decision_id).table.evaluate(context, resolve=resolve)
