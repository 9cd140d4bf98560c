"""The one script environment: BPMN scripts, conditions and expressions run under RestrictedPython.

SpiffWorkflow's default environment is plain `exec` with full builtins. Here every source is compiled with
`compile_restricted` (no imports, no dunder access, no attribute writes on arbitrary objects) and runs with a
small whitelist of builtins and helper functions. Compiled code is cached by source text.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Callable

from RestrictedPython import compile_restricted_eval
from RestrictedPython import compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Eval import default_guarded_getiter
from RestrictedPython.Guards import full_write_guard
from RestrictedPython.Guards import guarded_iter_unpack_sequence
from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.Guards import safer_getattr
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.errors import ScriptError
from engine.i18n import _

_BUILTIN_NAMES = (
    "abs all any bool dict divmod enumerate filter float int isinstance len list map max min "
    "range repr reversed round set sorted str sum tuple zip"
).split()
_CONSTANTS = {"True": True, "False": False, "None": None}

_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
}


def _inplacevar(op: str, x, y):
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise ScriptError(_("不支持的运算符 %(op)s", op=op)) from None


def _builtins() -> dict:
    import builtins

    names = {name: getattr(builtins, name) for name in _BUILTIN_NAMES}
    names.update(_CONSTANTS)
    return names


RESERVED_NAMES = frozenset(_BUILTIN_NAMES) | frozenset(_CONSTANTS)


def _forbidden_call(name: str) -> str | None:
    """Why a call to `name` is refused (None: it is not refused outright)."""
    if name == "print":
        return _("不允许使用 print（脚本没有输出窗口，请把结果赋给变量）")
    return None


_LINE = re.compile(r"^Line (\d+): (.*)$")


def _translate(message: str) -> tuple[int | None, str]:
    """RestrictedPython's English refusal → (line, explanation in the reader's language)."""
    match = _LINE.match(message)
    line, text = (int(match.group(1)), match.group(2)) if match else (None, message)
    name = re.search(r'"([^"]+)"', text)
    if "invalid attribute name" in text and name:
        text = _("不允许访问以下划线开头的属性 %(name)s", name=name.group(1))
    elif "invalid variable name" in text and name:
        text = _("不允许使用以下划线开头的名称 %(name)s", name=name.group(1))
    elif "not allowed" in text:
        text = _("不允许的语句：%(statement)s", statement=text)
    return line, text


@functools.lru_cache(maxsize=4096)
def compile_source(source: str, mode: str):
    """Compile `source` ('exec' for scripts, 'eval' for expressions) under RestrictedPython.

    :raises ScriptError: with a message naming the line when the source is refused.
    """
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptError(
            _("脚本第 %(line)s 行有语法错误：%(error)s", line=exc.lineno or 1, error=exc.msg), line=exc.lineno
        ) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptError(_("脚本第 %(line)s 行：不允许导入模块", line=node.lineno), line=node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and (refusal := _forbidden_call(node.func.id))
        ):
            raise ScriptError(
                _("脚本第 %(line)s 行：%(problem)s", line=node.lineno, problem=refusal), line=node.lineno
            )
        if isinstance(node, ast.ClassDef):
            raise ScriptError(_("脚本第 %(line)s 行：不允许定义类", line=node.lineno), line=node.lineno)
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, filename="<script>")
    if result.errors:
        line, text = _translate(result.errors[0])
        if line:
            raise ScriptError(_("脚本第 %(line)s 行：%(problem)s", line=line, problem=text), line=line)
        raise ScriptError(_("脚本：%(problem)s", problem=text), line=line)
    return result.code


def check_source(source: str, mode: str = "exec") -> str | None:
    """Return a message if the script/expression would be refused, else None (used by diagram validation)."""
    try:
        compile_source(source, mode)
    except ScriptError as exc:
        return exc.message
    return None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment whose evaluate/execute go through RestrictedPython."""

    def __init__(self, helpers: dict[str, Callable] | None = None):
        super().__init__(dict(helpers or {}))
        self._base = {
            "__builtins__": _builtins(),
            "_getattr_": safer_getattr,
            "_getitem_": default_guarded_getitem,
            "_getiter_": default_guarded_getiter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard,
            "_inplacevar_": _inplacevar,
        }

    def _namespace(self, context: dict, external_context: dict | None) -> dict:
        namespace = dict(self._base)
        namespace.update(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        return namespace

    def evaluate(self, expression, context, external_context=None):
        return eval(compile_source(expression, "eval"), self._namespace(context, external_context))

    def execute(self, script, context, external_context=None):
        clashes = (set(self.globals) | set(external_context or {})) & set(context)
        if clashes:
            raise ScriptError(
                _("流程数据中的变量与系统函数重名，请改名：%(names)s", names=", ".join(sorted(clashes)))
            )
        namespace = self._namespace(context, external_context)
        exec(compile_source(script, "exec"), namespace)
        protected = {**self.globals, **(external_context or {})}
        replaced = sorted(name for name, value in protected.items() if namespace.get(name) is not value)
        if replaced:
            raise ScriptError(
                _("脚本给系统函数名赋了值，请改用其他变量名：%(names)s", names=", ".join(replaced))
            )
        hidden = set(self._base) | set(self.globals) | set(external_context or {})
        for key in list(context):
            if key not in namespace:
                del context[key]
        for key, value in namespace.items():
            if key in hidden or key.startswith("_") or callable(value):
                continue
            context[key] = value
        return True

    def call_service(self, context, **kwargs):
        raise ScriptError(_("本系统不支持服务任务调用外部服务"))


class JienanScriptEngine(PythonScriptEngine):
    """Script engine re-attached to every loaded workflow.

    `decide` is set per unit of work: it evaluates a DMN decision (engine.rules) for a business rule task and
    records the decision so the service can write it to the audit trail.
    """

    def __init__(self, helpers: dict[str, Callable] | None = None, decide: Callable | None = None):
        super().__init__(environment=RestrictedEnvironment(helpers))
        self.decide = decide
        self.decisions: list[dict] = []

    def validate(self, expression):
        compile_source(expression, "eval")
