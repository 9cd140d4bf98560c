"""Bounds on what one script or expression may cost: steps, wall-clock time and the size of what it builds.

RestrictedPython stops a diagram's script from escaping, but not from running forever (`while True: pass`) or
building a 10 GB string (`"a" * 10**10`). Every script and expression runs under a `Budget` (one per run, nested
runs restore the outer one): each loop iteration, function call and iterated item is a step, the clock is read
every few hundred steps, and the operations that can build large values in one go (`*`, `+`, `**`, `<<`, `%`,
str.join / ljust / replace / format …, list(), sorted() …) are checked before they run. A single C-level
operation is therefore bounded in size, and their number is bounded in steps and time: the run stops with a
ScriptError, the caller's transaction rolls back, the process carries on.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable

from engine.errors import ScriptError
from engine.i18n import _

MAX_STEPS = 200_000  # loop iterations, function calls and iterated items per run
MAX_SECONDS = 1.0  # wall-clock per run
MAX_ITEMS = 100_000  # characters of a string, elements of a list/tuple/dict built in one operation
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_BUILT = 10_000_000  # characters/elements built by the checked operations in one run, all together
_CLOCK_EVERY = 256

_local = threading.local()


class Budget:
    """What one run may still spend."""

    __slots__ = ("steps", "built", "deadline")

    def __init__(self) -> None:
        self.steps = 0
        self.built = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ScriptError(_("脚本运行超过 %(steps)s 步（可能是死循环），已中止", steps=f"{MAX_STEPS:,}"))
        if self.steps % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise ScriptError(_("脚本运行超过 %(seconds)s 秒，已中止", seconds=f"{MAX_SECONDS:g}"))

    def charge(self, steps: int) -> None:
        """Steps spent at once (a builtin iterating a container of known length)."""
        self.steps += steps
        if self.steps > MAX_STEPS:
            raise ScriptError(
                _("脚本运行超过 %(steps)s 步（数据量过大或死循环），已中止", steps=f"{MAX_STEPS:,}")
            )

    def build(self, size: int) -> None:
        if size > MAX_ITEMS:
            raise ScriptError(
                _(
                    "脚本要生成的数据过大（%(size)s 个字符或元素，上限 %(limit)s），已中止",
                    size=f"{size:,}",
                    limit=f"{MAX_ITEMS:,}",
                )
            )
        self.built += size
        if self.built > MAX_BUILT:
            raise ScriptError(
                _("脚本生成的数据总量超过 %(limit)s 个字符或元素，已中止", limit=f"{MAX_BUILT:,}")
            )


class bounded:  # noqa: N801 - used as `with bounded():`
    """Run the block under a fresh budget (the outer one, if any, is restored after). Deep recursion and an
    allocation the machine refuses inside the block end the script (a ScriptError), not the process."""

    __slots__ = ("previous",)

    def __enter__(self) -> Budget:
        self.previous = getattr(_local, "budget", None)
        budget = _local.budget = Budget()
        return budget

    def __exit__(self, kind, _value, _traceback) -> None:
        _local.budget = self.previous
        if kind is RecursionError:
            raise ScriptError(_("脚本递归过深，已中止")) from None
        if kind is MemoryError:
            raise ScriptError(_("脚本需要的内存过多，已中止")) from None


def current() -> Budget:
    budget = getattr(_local, "budget", None)
    if budget is None:  # a helper called outside any run (tests, static checks): a budget of its own
        budget = _local.budget = Budget()
    return budget


def tick() -> None:
    current().tick()


def ticked(value):
    """A lambda's body: counts the call, returns its value."""
    current().tick()
    return value


def _length(value) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set | frozenset) else None


def _int_bits(value) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def binop(op: str, left, right):
    """`left op right` for the operators that can build large values, checked before it runs."""
    budget = current()
    if op == "*":
        for seq, times in ((left, right), (right, left)):
            size = _length(seq)
            if size is not None and isinstance(times, int):
                budget.build(size * max(times, 0))
                return left * right
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and _int_bits(left) + _int_bits(right) > MAX_INT_BITS
        ):
            raise ScriptError(_("脚本中的整数过大，已中止"))
        return left * right
    if op == "+":
        a, b = _length(left), _length(right)
        if a is not None and b is not None:
            budget.build(a + b)
        return left + right
    if op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if right * math.log2(abs(left)) > MAX_INT_BITS:
                raise ScriptError(_("脚本中的乘方结果过大，已中止"))
        return left**right
    if op == "<<":
        if isinstance(left, int) and isinstance(right, int) and _int_bits(left) + right > MAX_INT_BITS:
            raise ScriptError(_("脚本中的移位结果过大，已中止"))
        return left << right
    if op == "%":
        if isinstance(left, str | bytes):
            _check_percent_format(left)
            result = left % right
            budget.build(len(result))
            return result
        return left % right
    raise ScriptError(_("不支持的运算符 %(op)s", op=op))


_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(template) -> None:
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    for match in _PERCENT_FIELD.finditer(text):
        for number in match.groups():
            if number == "*":
                raise ScriptError(_("格式化字符串不支持 * 宽度"))
            if number and int(number) > MAX_ITEMS:
                raise ScriptError(_("格式化宽度 %(width)s 过大，已中止", width=number))


def check_format_spec(spec: str) -> None:
    """A format spec (`>10`, `,.2f`) whose width and precision are within bounds."""
    for number in re.findall(r"\d+", spec or ""):
        if int(number) > MAX_ITEMS:
            raise ScriptError(_("格式化宽度 %(width)s 过大，已中止", width=number))


def format_value(value, conversion: int, spec: str):
    """An f-string field `{value!r:spec}` with a checked spec."""
    check_format_spec(spec)
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    result = format(value, spec)
    current().build(len(result))
    return result


class TickingIterator:
    """Every item a script iterates over is a step."""

    __slots__ = ("_it", "_budget")

    def __init__(self, iterable: Iterable):
        self._it = iter(iterable)
        self._budget = current()

    def __iter__(self):
        return self

    def __next__(self):
        self._budget.tick()
        return next(self._it)


def getiter(iterable):
    return TickingIterator(iterable)


def _counted(value):
    """A value about to be iterated by a builtin: a sized one costs its length in steps up front (a dict stays
    a dict, so `dict(row, score=1)` keeps working); anything else is iterated item by item."""
    if isinstance(value, int | float | bool) or value is None:
        return value
    try:
        size = len(value)
    except TypeError:
        return TickingIterator(value)
    current().charge(size)
    return value


# --- str and bytes methods that can build large values in one call ------------------------------------------


def _pad(method: str):
    def padded(self, width, *args):
        if isinstance(width, int):
            current().build(max(width, len(self)))
        return getattr(self, method)(width, *args)

    return padded


def _join(self, iterable):
    budget = current()
    parts = []
    size = 0
    for part in TickingIterator(iterable):
        size += len(part) + len(self) if isinstance(part, str | bytes) else 0
        if size > MAX_ITEMS:
            budget.build(size)
        parts.append(part)
    result = self.join(parts)
    budget.build(len(result))
    return result


def _replace(self, old, new, count=-1):
    if isinstance(old, str | bytes) and isinstance(new, str | bytes):
        hits = self.count(old) if old else len(self) + 1
        if count >= 0:
            hits = min(hits, count)
        current().build(len(self) + hits * max(len(new) - len(old), 0))
    return self.replace(old, new, count)


def _expandtabs(self, tabsize=8):
    if isinstance(tabsize, int):
        current().build(len(self) + self.count("\t" if isinstance(self, str) else b"\t") * max(tabsize, 0))
    return self.expandtabs(tabsize)


_TEXT_METHODS = {
    "ljust": _pad("ljust"),
    "rjust": _pad("rjust"),
    "center": _pad("center"),
    "zfill": _pad("zfill"),
    "join": _join,
    "replace": _replace,
    "expandtabs": _expandtabs,
}


def _list_extend(self, iterable):
    self.extend(TickingIterator(iterable))
    current().build(len(self))


def guarded_method(obj, name: str):
    """The checked version of a size-amplifying method of `obj`, or None when `name` needs no check."""
    if isinstance(obj, str | bytes):
        method = _TEXT_METHODS.get(name)
        if method is not None:
            return lambda *args, **kwargs: method(obj, *args, **kwargs)
    elif isinstance(obj, list) and name == "extend":
        return lambda iterable: _list_extend(obj, iterable)
    return None


# --- builtins that consume iterables ------------------------------------------------------------------------


class Checked:
    """A whitelisted builtin whose use is checked; `real` is the builtin itself (for isinstance and attributes)."""

    __slots__ = ("real", "_call", "__name__")

    def __init__(self, real, call):
        self.real, self._call, self.__name__ = real, call, getattr(real, "__name__", "builtin")

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self.real)


def _consuming(func):
    """A builtin whose first argument is iterated: every item is a step, the result's size is checked."""

    def call(*args, **kwargs):
        if args:
            args = (_counted(args[0]), *args[1:])
        result = func(*args, **kwargs)
        size = _length(result)
        if size is not None:
            current().build(size)
        return result

    return Checked(func, call)


def _lazy(func):
    """map / filter / zip / enumerate: their inputs are iterated item by item, each a step."""

    def call(*args, **kwargs):
        if func is map or func is filter:
            args = (args[0], *(TickingIterator(a) for a in args[1:])) if args else args
        elif func is zip:
            args = tuple(TickingIterator(a) for a in args)
        elif args:
            args = (TickingIterator(args[0]), *args[1:])
        return func(*args, **kwargs)

    return Checked(func, call)


def _sized_result(func):
    """str(), repr(): the result's size counts (str of a huge int is already refused by Python)."""

    def call(*args, **kwargs):
        result = func(*args, **kwargs)
        current().build(len(result))
        return result

    return Checked(func, call)


def _isinstance(obj, classes):
    if isinstance(classes, Checked):
        classes = classes.real
    elif isinstance(classes, tuple):
        classes = tuple(c.real if isinstance(c, Checked) else c for c in classes)
    return isinstance(obj, classes)


def bounded_builtins(builtins: dict) -> dict:
    """The whitelisted builtins with the iterating and size-building ones checked."""
    result = dict(builtins)
    for name in ("list", "tuple", "dict", "sorted", "sum", "min", "max", "any", "all", "set"):
        if name in result:
            result[name] = _consuming(result[name])
    for name in ("map", "filter", "zip", "enumerate"):
        if name in result:
            result[name] = _lazy(result[name])
    for name in ("str", "repr"):
        if name in result:
            result[name] = _sized_result(result[name])
    if "isinstance" in result:
        result["isinstance"] = _isinstance
    return result


def guarded_attribute(obj, name: str):
    """The checked version of a size-building method (`s.join`, `str.join`, `items.extend`), or None.

    :raises ScriptError: for `dict.fromkeys` (it builds from any iterable in one go)."""
    if isinstance(obj, Checked):
        if obj.real in (str, bytes) and name in _TEXT_METHODS:
            method = _TEXT_METHODS[name]
            return lambda self, *args, **kwargs: method(self, *args, **kwargs)
        if obj.real is list and name == "extend":
            return _list_extend
        if name == "fromkeys":
            raise ScriptError(_("脚本不支持 dict.fromkeys，请用字典推导式"))
        return None
    return guarded_method(obj, name)
