"""The one script environment: BPMN scripts, conditions and expressions run under RestrictedPython.

SpiffWorkflow's default environment is plain `exec` with full builtins. Here every source is compiled with
`compile_restricted` (no imports, no dunder access, no attribute writes on arbitrary objects) and runs with a
small whitelist of builtins and helper functions. Compiled code is cached by source text.
"""

from __future__ import annotations

import ast
import builtins
import functools
import operator
import re
from collections.abc import Callable

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython import compile_restricted_eval
from RestrictedPython import compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import full_write_guard
from RestrictedPython.Guards import guarded_iter_unpack_sequence
from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.Guards import safer_getattr
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.errors import ScriptError
from engine.i18n import _
from engine.workflow import bounds

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


_CHECKED_INPLACE = {"+=", "*=", "**=", "<<=", "%="}


def _inplacevar(op: str, x, y):
    if op in _CHECKED_INPLACE:
        return bounds.binop(op[:-1], x, y)
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise ScriptError(_("不支持的运算符 %(op)s", op=op)) from None


_MISSING = object()


def _getattr(obj, name, default=_MISSING, getattr=getattr):
    """RestrictedPython's safer getattr, with the size-building methods (str.join, list.extend …) checked."""
    guarded = bounds.guarded_attribute(obj, name)
    if guarded is not None:
        return guarded
    if isinstance(obj, bounds.Checked):
        obj = obj.real
    if default is _MISSING:
        return safer_getattr(obj, name, getattr=getattr)
    return safer_getattr(obj, name, default, getattr)


# Operators that can build a large value in one go: run through bounds.binop, which checks first.
_CHECKED_OPS = {ast.Mult: "*", ast.Add: "+", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


class BoundedPolicy(RestrictingNodeTransformer):
    """RestrictedPython's checks, then the bounds: a step per loop iteration and function call, and the
    operators and f-string fields that build values checked before they run (see engine/workflow/bounds.py)."""

    def visit_Module(self, node):
        return ast.fix_missing_locations(super().visit_Module(node))

    def visit_Expression(self, node):
        return ast.fix_missing_locations(super().visit_Expression(node))

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_call("_tick_")), node))
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_call("_tick_")), node))
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = ast.copy_location(_call("_ticked_", node.body), node.body)
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        op = _CHECKED_OPS.get(type(node.op))
        if op is None:
            return node
        return ast.copy_location(_call("_binop_", ast.Constant(op), node.left, node.right), node)

    def visit_FormattedValue(self, node):
        node = super().visit_FormattedValue(node)
        if node.format_spec is None:
            return node
        value = _call("_format_", node.value, ast.Constant(node.conversion), node.format_spec)
        return ast.copy_location(
            ast.FormattedValue(value=ast.copy_location(value, node), conversion=-1, format_spec=None), node
        )


def _builtins() -> dict:
    names = {name: getattr(builtins, name) for name in _BUILTIN_NAMES}
    names.update(_CONSTANTS)
    return bounds.bounded_builtins(names)


RESERVED_NAMES = frozenset(_BUILTIN_NAMES) | frozenset(_CONSTANTS)
# Built once: scripts cannot reach or change it (names with underscores are refused), so every environment shares it.
_BUILTINS = _builtins()


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


def _breaks_out(loop: ast.While) -> bool:
    """Does a `break` (or `return`) leave this loop? Breaks of loops nested inside it do not count."""
    stack = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Break | ast.Return):
            return True
        if isinstance(node, ast.For | ast.While | ast.FunctionDef | ast.Lambda):
            stack.extend(node.orelse if isinstance(node, ast.For | ast.While) else [])
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _constant(node: ast.expr):
    """The value of an expression made only of literals and operators, or raise ValueError."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_constant(node.operand)
    if isinstance(node, ast.List | ast.Tuple) and len(node.elts) <= 100:
        items = [_constant(item) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.BinOp):
        left, right = _constant(node.left), _constant(node.right)
        op = _CHECKED_OPS.get(type(node.op))
        if op is None:
            raise ValueError("not folded")
        return bounds.binop(op, left, right)
    raise ValueError("not constant")


def _static_bound_problem(node: ast.AST) -> str | None:
    """What can be seen before running: an endless `while True` and a literal expression that is too large."""
    if isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value:
        if not _breaks_out(node):
            return _("while True 循环里没有 break，会一直运行下去")
    if isinstance(node, ast.BinOp):
        try:
            with bounds.bounded():
                _constant(node)
        except ScriptError as exc:
            return exc.message
        except (ValueError, TypeError, ArithmeticError):
            return None
    return None


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
        problem = _static_bound_problem(node)
        if problem:
            raise ScriptError(
                _("脚本第 %(line)s 行：%(problem)s", line=node.lineno, problem=problem), line=node.lineno
            )
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(tree, filename="<script>", policy=BoundedPolicy)
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
            "__builtins__": _BUILTINS,
            "_getattr_": _getattr,
            "_getitem_": default_guarded_getitem,
            "_getiter_": bounds.getiter,
            "_tick_": bounds.tick,
            "_ticked_": bounds.ticked,
            "_binop_": bounds.binop,
            "_format_": bounds.format_value,
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
        code = compile_source(expression, "eval")
        namespace = self._namespace(context, external_context)
        with bounds.bounded():
            return eval(code, namespace)

    def execute(self, script, context, external_context=None):
        clashes = (set(self.globals) | set(external_context or {})) & set(context)
        if clashes:
            raise ScriptError(
                _("流程数据中的变量与系统函数重名，请改名：%(names)s", names=", ".join(sorted(clashes)))
            )
        code = compile_source(script, "exec")
        namespace = self._namespace(context, external_context)
        with bounds.bounded():
            exec(code, namespace)
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
