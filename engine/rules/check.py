"""Static checks of a decision table: overlapping rules and input values no rule covers.

Cells are seen as sets of values: unions of intervals per kind of value (a literal is a one-point interval),
`not(...)` is the complement. Columns with allowed values are checked value by value instead. Null inputs
are left out: every `not(...)` cell matches null, and reporting that would drown the real findings.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from typing import TYPE_CHECKING
from typing import Any

from engine.i18n import _
from engine.rules.match import compile_tests
from engine.rules.result import SINGLE_HIT
from engine.rules.sfeel import Compare
from engine.rules.sfeel import Range
from engine.rules.sfeel import UnaryTests
from engine.rules.sfeel import format_value
from engine.rules.sfeel import kind_of
from engine.rules.typeref import plain

if TYPE_CHECKING:  # annotations only: the model imports this module
    from engine.rules.model import DecisionTable
    from engine.rules.model import Input
    from engine.rules.model import Rule

MAX_COMBINATIONS = 10_000
MAX_REPORTED = 50

# An interval is (low, low_closed, high, high_closed); None as low/high means unbounded.
Interval = tuple[Any, bool, Any, bool]
_FULL: list[Interval] = [(None, False, None, False)]


def check_table(table: DecisionTable) -> list[dict]:
    """Overlaps for UNIQUE (and ANY with different outputs); gaps for the single-hit policies."""
    problems: list[dict] = []
    cells = [
        [_cell(table, column, rule, position) for position, column in enumerate(table.inputs)]
        for rule in table.rules
    ]
    if table.hit_policy in ("UNIQUE", "ANY"):
        problems += _overlaps(table, cells)
    if table.hit_policy in SINGLE_HIT:
        problems += _gaps(table, cells)
    return problems


# --- value sets ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ValueSet:
    kinds: dict  # kind -> sorted, merged intervals
    rest: bool  # whether values of every kind not in `kinds` belong to the set

    def get(self, kind: str) -> list[Interval]:
        return self.kinds.get(kind, _FULL if self.rest else [])

    def union(self, other: _ValueSet) -> _ValueSet:
        keys = self.kinds.keys() | other.kinds.keys()
        return _ValueSet({k: _normalize(self.get(k) + other.get(k)) for k in keys}, self.rest or other.rest)

    def intersection(self, other: _ValueSet) -> _ValueSet:
        keys = self.kinds.keys() | other.kinds.keys()
        kinds = {k: _intersect(self.get(k), other.get(k)) for k in keys}
        return _ValueSet(kinds, self.rest and other.rest)

    def complement(self) -> _ValueSet:
        return _ValueSet({k: _complement(v) for k, v in self.kinds.items()}, not self.rest)

    def is_empty(self, kind: str | None) -> bool:
        if kind is not None:
            return not self.get(kind)
        return not self.rest and not any(self.kinds.values())


_EVERYTHING = _ValueSet({}, True)
_NOTHING = _ValueSet({}, False)


def value_set(tests: UnaryTests) -> _ValueSet:
    """The non-null values an input entry matches."""
    if tests.is_any:
        return _EVERYTHING
    result = _NOTHING
    for test in tests.tests:
        result = result.union(_test_set(test))
    return result.complement() if tests.negated else result


def _test_set(test: Compare | Range) -> _ValueSet:
    if isinstance(test, Range):
        return _ValueSet(
            {kind_of(test.low): [(test.low, test.low_closed, test.high, test.high_closed)]}, False
        )
    value, op = test.value, test.op
    if value is None:
        return _EVERYTHING if op == "!=" else _NOTHING
    interval = {
        "=": (value, True, value, True),
        "!=": (value, True, value, True),
        "<": (None, False, value, False),
        "<=": (None, False, value, True),
        ">": (value, False, None, False),
        ">=": (value, True, None, False),
    }[op]
    points = _ValueSet({kind_of(value): [interval]}, False)
    return points.complement() if op == "!=" else points


def _nonempty(interval: Interval) -> bool:
    low, low_closed, high, high_closed = interval
    if low is None or high is None:
        return True
    return low < high or (low == high and low_closed and high_closed)


def _intersect(xs: list[Interval], ys: list[Interval]) -> list[Interval]:
    out = []
    for a in xs:
        for b in ys:
            low = _pick(a[0], a[1], b[0], b[1], prefer_greater=True)
            high = _pick(a[2], a[3], b[2], b[3], prefer_greater=False)
            interval = (*low, *high)
            if _nonempty(interval):
                out.append(interval)
    return _normalize(out)


def _pick(x, x_closed, y, y_closed, prefer_greater: bool) -> tuple[Any, bool]:
    """The tighter of two bounds (the greater low or the smaller high); None is unbounded."""
    if x is None:
        return y, y_closed
    if y is None:
        return x, x_closed
    if x == y:
        return x, x_closed and y_closed
    return (x, x_closed) if (x > y) == prefer_greater else (y, y_closed)


def _normalize(intervals: list[Interval]) -> list[Interval]:
    ordered = sorted(
        (iv for iv in intervals if _nonempty(iv)),
        key=lambda iv: (0,) if iv[0] is None else (1, iv[0], 0 if iv[1] else 1),
    )
    merged: list[Interval] = []
    for interval in ordered:
        if merged and _touches(merged[-1], interval):
            last = merged[-1]
            merged[-1] = (last[0], last[1], *_higher(last[2], last[3], interval[2], interval[3]))
        else:
            merged.append(interval)
    return merged


def _touches(a: Interval, b: Interval) -> bool:
    if a[2] is None or b[0] is None:
        return True
    return a[2] > b[0] or (a[2] == b[0] and (a[3] or b[1]))


def _higher(x, x_closed, y, y_closed) -> tuple[Any, bool]:
    if x is None or y is None:
        return None, False
    if x == y:
        return x, x_closed or y_closed
    return (x, x_closed) if x > y else (y, y_closed)


def _complement(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    low, low_closed = None, False
    for start, start_closed, end, end_closed in intervals:
        if start is not None:
            gap = (low, low_closed, start, not start_closed)
            if _nonempty(gap):
                out.append(gap)
        if end is None:
            return out
        low, low_closed = end, not end_closed
    out.append((low, low_closed, None, False))
    return out


# --- overlaps -----------------------------------------------------------------------------------------


def _cell(table: DecisionTable, column: Input, rule: Rule, position: int):
    """A cell as a frozenset of allowed-value positions (columns with allowed values) or a _ValueSet."""
    tests = rule.conditions[position] if position < len(rule.conditions) else UnaryTests(())
    if column.allowed_typed is None:
        return value_set(tests)
    matcher = compile_tests(tests, typed=column.kind is not None)
    return frozenset(i for i, value in enumerate(column.allowed_typed) if matcher is None or matcher(value))


def _can_overlap(a, b, kind: str | None) -> bool:
    if isinstance(a, frozenset):
        return not a.isdisjoint(b)
    return not a.intersection(b).is_empty(kind)


def _overlaps(table: DecisionTable, cells: list[list]) -> list[dict]:
    problems = []
    kinds = [column.kind for column in table.inputs]
    for (i, rule), (j, other) in itertools.combinations(enumerate(table.rules), 2):
        if table.hit_policy == "ANY" and rule.outputs == other.outputs:
            continue
        if all(_can_overlap(a, b, kind) for a, b, kind in zip(cells[i], cells[j], kinds, strict=True)):
            if table.hit_policy == "ANY":
                message = _(
                    "%(rule)s 与%(other)s 重叠且输出不同（ANY 要求重叠的规则输出一致）",
                    rule=rule.label,
                    other=other.label,
                )
            else:
                message = _("%(rule)s 与%(other)s 重叠（UNIQUE 不允许）", rule=rule.label, other=other.label)
            problems.append(
                {
                    "kind": "overlap",
                    "element_id": rule.rule_id,
                    "rule_index": rule.index,
                    "rule_id": rule.rule_id,
                    "other_rule_index": other.index,
                    "other_rule_id": other.rule_id,
                    "message": message,
                }
            )
    return _capped(problems, lambda rest: _("另有 %(n)s 对重叠的规则未列出", n=rest))


# --- gaps ---------------------------------------------------------------------------------------------


def _gaps(table: DecisionTable, cells: list[list]) -> list[dict]:
    listed = [p for p, column in enumerate(table.inputs) if column.allowed_typed is not None]
    if listed:
        return _uncovered_combinations(table, cells, listed)
    if len(table.inputs) == 1:
        return _uncovered_intervals(table, cells)
    return []


def _uncovered_combinations(table: DecisionTable, cells: list[list], listed: list[int]) -> list[dict]:
    columns = [table.inputs[p] for p in listed]
    size = 1
    for column in columns:
        size *= len(column.allowed_typed)
    if size > MAX_COMBINATIONS:
        return []
    rows = [[row[p] for p in listed] for row in cells]
    problems = []
    for combination in itertools.product(*(range(len(c.allowed_typed)) for c in columns)):
        if any(all(i in cell for i, cell in zip(combination, row, strict=True)) for row in rows):
            continue
        values = {c.column: c.allowed_typed[i] for c, i in zip(columns, combination, strict=True)}
        shown = "，".join(f"{name}={format_value(value)}" for name, value in values.items())
        problems.append(
            _gap(table, _("没有规则覆盖：%(values)s", values=shown), {k: plain(v) for k, v in values.items()})
        )
    return _capped(problems, lambda rest: _("另有 %(n)s 个未覆盖的组合未列出", n=rest))


def _uncovered_intervals(table: DecisionTable, cells: list[list]) -> list[dict]:
    column = table.inputs[0]
    kind = column.kind or _only_ordered_kind(table)
    if kind not in ("number", "date"):
        return []
    covered: list[Interval] = []
    for row in cells:
        covered = _normalize(covered + row[0].get(kind))
    discrete = kind == "date" or column.integral
    holes = _complement(covered)
    if discrete:
        holes = [tight for hole in holes if (tight := _tighten(hole)) is not None]
    problems = []
    for hole in holes:
        shown = _describe_interval(column.column, hole)
        problems.append(_gap(table, _("没有规则覆盖：%(values)s", values=shown), {column.column: shown}))
    return _capped(problems, lambda rest: _("另有 %(n)s 段未覆盖的取值未列出", n=rest))


def _only_ordered_kind(table: DecisionTable) -> str | None:
    kinds = {
        kind_of(value)
        for rule in table.rules
        for test in rule.conditions[0].tests
        for value in ((test.low, test.high) if isinstance(test, Range) else (test.value,))
        if value is not None
    }
    return kinds.pop() if len(kinds) == 1 else None


def _tighten(interval: Interval) -> Interval | None:
    """Close an interval of integers or dates on its first and last member; None if it holds none."""
    low, low_closed, high, high_closed = interval
    if low is not None:
        if isinstance(low, date):
            low = low if low_closed else low + timedelta(days=1)
        else:
            ceiling = low.to_integral_value(rounding=ROUND_CEILING)
            low = ceiling + 1 if ceiling == low and not low_closed else ceiling
        low_closed = True
    if high is not None:
        if isinstance(high, date):
            high = high if high_closed else high - timedelta(days=1)
        else:
            floor = high.to_integral_value(rounding=ROUND_FLOOR)
            high = floor - 1 if floor == high and not high_closed else floor
        high_closed = True
    tightened = (low, low_closed, high, high_closed)
    return tightened if _nonempty(tightened) else None


def _describe_interval(name: str, interval: Interval) -> str:
    low, low_closed, high, high_closed = interval
    if low is None and high is None:
        return _("%(name)s 的任何值", name=name)
    if low is None:
        return f"{name} {'<=' if high_closed else '<'} {format_value(high)}"
    if high is None:
        return f"{name} {'>=' if low_closed else '>'} {format_value(low)}"
    if low == high:
        return f"{name}={format_value(low)}"
    start, end = "[" if low_closed else "(", "]" if high_closed else ")"
    interval_text = f"{start}{format_value(low)}..{format_value(high)}{end}"
    return _("%(name)s 在 %(interval)s 内", name=name, interval=interval_text)


def _gap(table: DecisionTable, message: str, values: dict) -> dict:
    return {
        "kind": "gap",
        "element_id": table.table_id or table.decision_id,
        "rule_index": None,
        "rule_id": None,
        "values": values,
        "message": message,
    }


def _capped(problems: list[dict], more: Callable[[int], str]) -> list[dict]:
    """The first MAX_REPORTED problems, then one saying how many more there are (`more(count)`)."""
    if len(problems) <= MAX_REPORTED:
        return problems
    rest = len(problems) - MAX_REPORTED
    summary = dict(problems[MAX_REPORTED], message=more(rest), rule_index=None, rule_id=None)
    return problems[:MAX_REPORTED] + [summary]
