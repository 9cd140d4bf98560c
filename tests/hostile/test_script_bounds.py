"""Scripts and expressions a designer writes cannot run forever or build huge values: each run is bounded in
steps, time and size; a refused run raises ScriptError and leaves the process able to run the next one."""

from __future__ import annotations

import time

import pytest

from engine.errors import ScriptError
from engine.workflow import bounds
from engine.workflow.scripts import RestrictedEnvironment
from engine.workflow.scripts import check_source


@pytest.fixture
def env():
    return RestrictedEnvironment({})


# Each of these once hung a worker or grew it by gigabytes; now each stops with a ScriptError.
RUNAWAY_SCRIPTS = [
    "x = 0\nwhile x >= 0:\n    x = x + 1",  # endless loop the static check cannot see
    "s = 'a'\nn = 40\nwhile n:\n    s = s + s\n    n -= 1",  # doubling a string
    "s = 'a'\nfor i in range(40):\n    s += s",  # doubling in place
    "n = 10\nx = 'a' * (n ** 10)",  # a huge repeat computed at run time
    "n = 9\nx = [0] * 10 ** n",
    "n = 9\nx = list(range(10 ** n))",
    "n = 12\nx = sum(range(10 ** n))",
    "n = 9\nx = [i for i in range(10 ** n)]",
    "n = 9\nx = {i: i for i in range(10 ** n)}",
    "n = 9\nx = ','.join(map(str, range(10 ** n)))",
    "n = 9\nx = str.join(',', map(str, range(10 ** n)))",
    "n = 10\nx = ' '.ljust(10 ** n)",
    "n = 10\nx = 'ab'.replace('a', 'a' * 50000).replace('a', 'a' * 50000)",
    "n = 9\nx = []\nx.extend(range(10 ** n))",
    "n = 9\nx = sorted(range(10 ** n))",
    "n = 10\nx = max(range(10 ** n))",
    "n = 9\nx = 2 ** (10 ** n)",
    "n = 9\nx = 1 << (10 ** n)",
    "w = 999999999\nx = f'{1:>{w}}'",
    "w = 999999999\nx = '%0*d' % (w, 1)",
    "x = '%0999999999d' % 1",
    "def f(n):\n    return f(n + 1)\nx = f(0)",
    "def f(n):\n    return [f(n + 1) for i in range(2)]\nx = f(0)",
    "n = 9\nx = dict.fromkeys(range(10 ** n))",
    "n = 9\nx = any(i < 0 for i in range(10 ** n))",
    "n = 9\nx = list(zip(range(10 ** n), range(10 ** n)))",
    "n = 9\nx = [a for a, b in enumerate(range(10 ** n))]",
]


@pytest.mark.parametrize("script", RUNAWAY_SCRIPTS)
def test_a_runaway_script_stops_with_a_clear_error(env, script):
    started = time.monotonic()
    with pytest.raises(ScriptError) as raised:
        env.execute(script, {})
    assert raised.value.message  # a sentence the designer reads
    assert time.monotonic() - started < bounds.MAX_SECONDS + 2
    assert env.execute("y = 1 + 1", {}) is True  # and the next run is fine


@pytest.mark.parametrize(
    "expression",
    [
        "len([i for i in range(10 ** 9)]) > 0",
        "'a' * (10 ** 10) == ''",
        "sum(range(10 ** 12)) > 0",
    ],
)
def test_a_runaway_condition_stops_too(env, expression):
    with pytest.raises(ScriptError):
        env.evaluate(expression, {})


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("while True:\n    pass", "while True"),
        ("while 1:\n    x = 1", "while True"),
        ("x = 'a' * 10 ** 10", "过大"),
        ("x = [0] * 10 ** 9", "过大"),
        ("x = 2 ** 10 ** 9", "过大"),
    ],
)
def test_what_can_be_seen_statically_is_refused_at_validation(source, why):
    message = check_source(source)
    assert message and why in message and "第 1 行" in message


def test_ordinary_scripts_keep_working(env):
    data = {"amounts": [5, 20, 12], "names": ["a", "b"]}
    env.execute(
        "ok = isinstance(amounts, list) and isinstance(names, (list, tuple))\n"
        "label = 'x' * 3 + str(len(amounts))\n"
        "share = f'{sum(amounts) / 3:.2f}'\n"
        "padded = 'a'.ljust(5, '.')\n"
        "joined = ','.join(str(a) for a in sorted(amounts))\n"
        "big = 2 ** 64\n"
        "while_ok = 0\n"
        "while True:\n"
        "    while_ok += 1\n"
        "    if while_ok == 3:\n"
        "        break\n"
        "table = dict(zip(names, amounts))\n"
        "pct = '%d%%' % 50\n",
        data,
    )
    assert data["ok"] is True
    assert data["label"] == "xxx3"
    assert data["share"] == "12.33"
    assert data["padded"] == "a...."
    assert data["joined"] == "5,12,20"
    assert data["big"] == 2**64
    assert data["while_ok"] == 3
    assert data["table"] == {"a": 5, "b": 20}
    assert data["pct"] == "50%"


def test_nested_runs_each_get_their_own_budget(env):
    """A helper that evaluates an expression mid-script (a rule input) does not spend the outer run's budget."""
    inner = RestrictedEnvironment({})
    outer = RestrictedEnvironment({"probe": lambda: inner.evaluate("sum(range(1000))", {})})
    data = {}
    outer.execute("values = [probe() for i in range(150)]", data)
    assert data["values"][0] == 499500
