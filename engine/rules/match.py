"""Compile parsed input entries into fast matchers `value -> bool`, once, at parse time.

Values reaching a matcher are already coerced to the column's kind (or None). Untyped columns may see any
kind, so their matchers also check the value's type: FEEL never equates `1` with `true` or `"1"`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from engine.rules.sfeel import Compare
from engine.rules.sfeel import Range
from engine.rules.sfeel import UnaryTests

Matcher = Callable[[Any], bool]
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compile_tests(tests: UnaryTests, typed: bool) -> Matcher | None:
    """A matcher for one cell, or None for `-` (matches everything, so it is skipped)."""
    if tests.is_any:
        return None
    equalities = [t.value for t in tests.tests if isinstance(t, Compare) and t.op == "="]
    if len(equalities) == len(tests.tests) > 1 and None not in equalities:
        positive = _member(equalities, typed)
    else:
        parts = [_compile_one(test, typed) for test in tests.tests]
        positive = parts[0] if len(parts) == 1 else _any_of(parts)
    if tests.negated:
        return lambda value: not positive(value)
    return positive


def _any_of(parts: list[Matcher]) -> Matcher:
    def match(value: Any) -> bool:
        for part in parts:
            if part(value):
                return True
        return False

    return match


def _member(values: list, typed: bool) -> Matcher:
    if typed:
        allowed = frozenset(values)
        return lambda value: value in allowed
    keyed = frozenset((type(v), v) for v in values)
    return lambda value: (type(value), value) in keyed


def _compile_one(test: Compare | Range, typed: bool) -> Matcher:
    if isinstance(test, Range):
        return _range(test, typed)
    constant = test.value
    if test.op in ("=", "!="):
        equal = _equal(constant, typed)
        if test.op == "!=":
            return lambda value: not equal(value)
        return equal
    compare = _ORDER[test.op]
    if typed:
        return lambda value: value is not None and compare(value, constant)
    kind = type(constant)
    return lambda value: type(value) is kind and compare(value, constant)


def _equal(constant: Any, typed: bool) -> Matcher:
    if constant is None:
        return lambda value: value is None
    if typed:
        return lambda value: value == constant
    kind = type(constant)
    return lambda value: type(value) is kind and value == constant


def _range(test: Range, typed: bool) -> Matcher:
    low, high = test.low, test.high
    above = operator.le if test.low_closed else operator.lt
    below = operator.le if test.high_closed else operator.lt
    if typed:
        return lambda value: value is not None and above(low, value) and below(value, high)
    kind = type(low)
    return lambda value: type(value) is kind and above(low, value) and below(value, high)
