"""The restricted script environment: ordinary scripts and conditions run; escapes and imports are refused."""

from __future__ import annotations

from types import SimpleNamespace
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from engine.errors import ScriptError
from engine.errors import SpecError
from engine.workflow import runtime
from engine.workflow.scripts import RESERVED_NAMES
from engine.workflow.scripts import JienanScriptEngine
from engine.workflow.scripts import RestrictedEnvironment
from engine.workflow.scripts import check_source
from engine.workflow.specs import parse_bpmn


def double(value):
    return value * 2


@pytest.fixture
def env():
    return RestrictedEnvironment({"double": double})


def run(env, script: str, **data) -> dict:
    """Execute `script` on task data `data` and return the data afterwards."""
    assert env.execute(script, data) is True
    return data


# --- what scripts may do -------------------------------------------------------------------------------------


def test_ordinary_script_updates_task_data(env):
    data = run(
        env,
        "total = sum(amounts)\n"
        "count = len(amounts)\n"
        "big = [a for a in amounts if a > 10]\n"
        "label = 'tier-' + str(max(amounts))\n"
        "summary = {'n': count, 'avg': round(total / count, 1)}\n"
        "pairs = sorted(zip(names, amounts), key=lambda p: p[1])\n",
        amounts=[5, 20, 12],
        names=["a", "b", "c"],
    )
    assert data == {
        "amounts": [5, 20, 12],
        "names": ["a", "b", "c"],
        "total": 37,
        "count": 3,
        "big": [20, 12],
        "label": "tier-20",
        "summary": {"n": 3, "avg": 12.3},
        "pairs": [("a", 5), ("c", 12), ("b", 20)],
    }


def test_script_control_flow_functions_and_unpacking(env):
    data = run(
        env,
        "def bump(v):\n"
        "    return v + 1\n"
        "n = 0\n"
        "for i in range(3):\n"
        "    n += bump(i)\n"
        "a, (b, c) = 1, (2, 3)\n"
        "if n > 5:\n"
        "    flag = 'red'\n"
        "else:\n"
        "    flag = 'green'\n"
        "doubled = double(n)\n",
    )
    assert data == {"n": 6, "i": 2, "a": 1, "b": 2, "c": 3, "flag": "red", "doubled": 12}
    assert "bump" not in data  # functions never become task data


def test_script_can_delete_and_mutate_task_data(env):
    data = run(
        env,
        "del old\nitems.append(3)\nreturns_count = returns_count + 1",
        old=1,
        items=[1, 2],
        returns_count=0,
    )
    assert data == {"items": [1, 2, 3], "returns_count": 1}


def test_private_names_are_refused(env):
    with pytest.raises(ScriptError, match="_scratch"):
        env.execute("_scratch = 1", {})


def test_conditions_evaluate(env):
    context = {"tier": "city_leader", "round_no": 2, "satisfaction": "unsatisfied", "outcome": "resolved"}
    assert env.evaluate('tier == "city_leader"', context) is True
    assert env.evaluate("round_no > 1", context) is True
    assert env.evaluate('satisfaction == "unsatisfied" and outcome != "not_solvable"', context) is True
    assert env.evaluate("double(round_no) + len(tier)", context) == 15
    assert env.evaluate('tier in ("department", "on_site")', context) is False


def test_script_engine_evaluates_through_the_restricted_environment():
    engine = JienanScriptEngine(helpers={"double": double})
    task = SimpleNamespace(data={"x": 4})
    assert engine.evaluate(task, "double(x) == 8") is True
    with pytest.raises(ScriptError):
        engine.validate("__import__('os')")
    engine.validate("x > 1")  # no error


# --- what scripts may not do ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script", ["import os", "from os import path", "import os.path as p", "x = 1\nimport sys"]
)
def test_imports_are_refused_with_the_line(env, script):
    with pytest.raises(ScriptError) as caught:
        env.execute(script, {})
    line = script.count("\n") + 1
    assert caught.value.message == f"脚本第 {line} 行：不允许导入模块"
    assert caught.value.context == {"line": line}


@pytest.mark.parametrize(
    "script",
    [
        "x = ().__class__.__bases__",
        "y = x.__dict__",
        "y = x.__class__",
        "y = double.__globals__",
        "y = double.__code__",
        "def f():\n    return 1\ng = f.__globals__['__builtins__']",
        "y = (i for i in []).gi_frame.f_back",
        "y = __builtins__",
        "y = __import__('os')",
        "eval('1')",
        "exec('x = 1')",
    ],
)
def test_dunder_access_and_dynamic_code_are_refused_at_compile_time(env, script):
    with pytest.raises(ScriptError) as caught:
        env.execute(script, {"x": 1})
    assert caught.value.message.startswith("脚本第 ")
    assert check_source(script) == caught.value.message


@pytest.mark.parametrize(
    "script",
    [
        "f = open('/etc/passwd')",
        "y = getattr(x, 'real')",
        "y = compile('1', 's', 'eval')",
        "y = globals()",
        "y = locals()",
        "y = vars()",
        "y = type(x)",
        "setattr(x, 'a', 1)",
        "y = breakpoint",
        "y = input",
    ],
)
def test_dangerous_builtins_do_not_exist(env, script):
    with pytest.raises((NameError, ScriptError)):
        env.execute(script, {"x": 1})


def test_class_definitions_are_refused(env):
    with pytest.raises((NameError, ScriptError)):
        env.execute("class A:\n    pass\n", {})


def test_functions_defined_in_a_script_see_only_the_whitelist(env):
    # A function's globals are the script namespace, whose builtins are the whitelist, not the real module.
    with pytest.raises(NameError, match="open"):
        env.execute("def leak():\n    return open\ny = leak()", {})
    data = run(env, "def size(v):\n    return len(v)\ny = size('abc')")
    assert data == {"y": 3}


def test_attribute_writes_and_format_tricks_are_refused(env):
    with pytest.raises((TypeError, ScriptError)):
        env.execute("double.x = 1", {})
    with pytest.raises((NotImplementedError, ScriptError)):
        env.execute("y = '{0.__class__}'.format(1)", {})


def test_builtins_whitelist_is_not_shared_mutable_state(env):
    env.execute("len = 5", {})  # shadows locally only
    assert run(env, "y = len([1, 2])") == {"y": 2}


# --- messages ------------------------------------------------------------------------------------------------


def test_check_source_accepts_good_code():
    assert check_source("returns_count = returns_count + 1") is None
    assert check_source('tier == "on_site"', "eval") is None


def test_check_source_gives_chinese_messages_with_the_line():
    assert check_source("a = 1\nimport os") == "脚本第 2 行：不允许导入模块"
    assert check_source("a = 1\nb = 2\nc = (") == "脚本第 3 行有语法错误：'(' was never closed"
    assert check_source("tier ==", "eval") == "脚本第 1 行有语法错误：invalid syntax"
    # A statement is not an expression: a condition must be an expression.
    assert check_source("x = 1", "eval").startswith("脚本第 1 行有语法错误")


def test_restricted_refusal_names_the_offending_attribute():
    message = check_source("a = 1\nb = 2\nc = a.__class__")
    assert message.startswith("脚本第 3 行：")
    assert "__class__" in message


def test_restricted_refusal_is_in_chinese_with_the_line():
    with pytest.raises(ScriptError) as caught:
        RestrictedEnvironment().execute("a = 1\nb = 2\nc = a.__class__", {})
    assert "第 3 行" in caught.value.message
    assert "Line" not in caught.value.message
    assert caught.value.context == {"line": 3}


def test_print_is_refused_with_a_clear_message(env):
    with pytest.raises(ScriptError):
        env.execute("print(1)", {})


# --- names that clash with helpers ---------------------------------------------------------------------------


def test_task_data_clashing_with_a_helper_is_refused(env):
    with pytest.raises(ScriptError) as caught:
        env.execute("y = 1", {"double": 3, "x": 1})
    assert caught.value.message == "流程数据中的变量与系统函数重名，请改名：double"


def test_task_data_clashing_with_external_context_is_refused(env):
    with pytest.raises(ScriptError, match="now"):
        env.execute("y = 1", {"now": 1}, {"now": lambda: 0})


def test_script_assigning_a_helper_name_is_refused(env):
    with pytest.raises(ScriptError):
        env.execute("double = 3", {})


def test_builtin_names_are_reserved():
    assert {"len", "sum", "True", "None", "str", "sorted"} <= RESERVED_NAMES
    assert (
        not {"open", "eval", "exec", "getattr", "compile", "globals", "__import__", "type"} & RESERVED_NAMES
    )


# --- inside a running workflow -------------------------------------------------------------------------------

ONE_SCRIPT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="http://t">
  <bpmn:process id="one_script" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="calc" name="计算" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc" />
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def run_diagram(script: str, data: dict, validate: bool = True):
    parsed = parse_bpmn(ONE_SCRIPT.format(script=escape(script)), validate=validate)
    workflow = runtime.create(parsed, "one_script@1", JienanScriptEngine({"double": double}), data)
    runtime.advance(workflow)
    return workflow


def test_script_task_runs_in_the_restricted_environment():
    workflow = run_diagram("y = double(x) + 1", {"x": 2})
    assert workflow.is_completed()
    assert workflow.last_task.data == {"x": 2, "y": 5}


@pytest.mark.parametrize(
    ("script", "detail"),
    [("import os", "不允许导入模块"), ("y = open('/etc/passwd')", "open"), ("y = ().__class__", "__class__")],
)
def test_script_task_escape_attempts_stop_the_workflow(script, detail):
    """Even a stored diagram parsed without validation cannot escape when the script runs."""
    with pytest.raises(WorkflowTaskException) as caught:
        run_diagram(script, {"x": 1}, validate=False)
    assert detail in str(caught.value)
    assert caught.value.task.task_spec.name == "calc"


@pytest.mark.parametrize(
    ("script", "detail"), [("import os", "不允许导入模块"), ("y = ().__class__", "__class__")]
)
def test_deploying_a_diagram_with_a_forbidden_script_is_refused_with_the_element(script, detail):
    with pytest.raises(SpecError) as caught:
        run_diagram(script, {"x": 1})
    assert detail in caught.value.message
    assert caught.value.problems[0]["element_id"] == "calc"
