"""Layering rules read from the source with ast: engine/ never imports the web layer, and only engine/storage/db.py
commits a transaction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
ENGINE_FILES = sorted(ENGINE.rglob("*.py"))
WEB_PACKAGES = ("flask", "werkzeug", "web")


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def tree_of(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import, including those inside functions."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _dynamic_import_target(node):
            found.append((node.lineno, _dynamic_import_target(node)))
    return found


def _dynamic_import_target(node: ast.Call) -> str | None:
    """The module of `importlib.import_module("x")` / `__import__("x")` with a literal name."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


def is_web_module(module: str) -> bool:
    top = module.split(".")[0]
    return top in WEB_PACKAGES or top.startswith("flask_")


def commit_calls(tree: ast.Module) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def test_engine_sources_are_found():
    names = {relative(path) for path in ENGINE_FILES}
    assert {"engine/storage/db.py", "engine/workflow/runtime.py", "engine/services/flow.py"} <= names
    assert len(names) > 20


@pytest.mark.parametrize(
    ("module", "web"),
    [
        ("flask", True),
        ("flask.globals", True),
        ("flask_login", True),
        ("flask_wtf.csrf", True),
        ("werkzeug.datastructures", True),
        ("web", True),
        ("web.errors", True),
        ("webbrowser", False),
        ("engine.web_hooks", False),
        ("sqlalchemy", False),
    ],
)
def test_web_module_detection(module, web):
    assert is_web_module(module) is web


def test_import_finder_sees_nested_and_dynamic_imports():
    tree = ast.parse(
        "import os\n"
        "def f():\n"
        "    from flask import g\n"
        "    import importlib\n"
        "    importlib.import_module('werkzeug.utils')\n"
        "from . import sibling\n"
    )
    assert sorted(imported_modules(tree)) == [
        (1, "os"),
        (3, "flask"),
        (4, "importlib"),
        (5, "werkzeug.utils"),
    ]


def test_engine_never_imports_the_web_layer():
    offenders = [
        f"{relative(path)}:{line} imports {module}"
        for path in ENGINE_FILES
        for line, module in imported_modules(tree_of(path))
        if is_web_module(module)
    ]
    assert offenders == []


def test_commit_finder_sees_method_calls_only():
    tree = ast.parse("session.commit()\nself._session.commit()\ncommit = 1\ngit_commit()\n")
    assert commit_calls(tree) == [1, 2]


def test_only_engine_db_commits():
    offenders = [
        f"{relative(path)}:{line}"
        for path in ENGINE_FILES
        if relative(path) != "engine/storage/db.py"
        for line in commit_calls(tree_of(path))
    ]
    assert offenders == []
    assert commit_calls(tree_of(ENGINE / "storage" / "db.py")), (
        "engine/storage/db.py should hold the one commit (transaction())"
    )


# ---------------------------------------------------------------------------------------------------------
# The engine's import graph: no cycles, each package imports only the layers below it, no hidden imports.

# Lowest first: a module may import its own package and the packages before it, never one after it.
LAYERS = (
    ("errors", "i18n"),
    ("domain",),
    ("storage",),
    ("rules",),
    ("workflow",),
    ("forms",),
    ("mail", "services"),
    ("demo",),
    ("context", "config", "worker", "cli"),
)
# What web/ may import from the engine: services and the plain vocabulary, never tables, sessions or the runtime.
WEB_MAY_IMPORT = (
    "engine.services",
    "engine.errors",
    "engine.i18n",
    "engine.domain",
    "engine.context",
    "engine.config",
)
# Migrations are snapshots of their day: they import what they need where they need it.
MIGRATION_VERSIONS = ENGINE / "storage" / "migrations" / "versions"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of import nodes inside `if TYPE_CHECKING:` (annotations only: they never run)."""
    skipped = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
        ):
            skipped.update(id(inner) for child in node.body for inner in ast.walk(child))
    return skipped


def import_edges(tree: ast.Module, modules: set[str]) -> list[tuple[int, str, bool]]:
    """(line, imported engine module, at module level?) for every import that runs, nested ones included.
    `from a.b import c` counts as importing a.b.c when that is a module, else a.b."""
    skipped = _type_checking_nodes(tree)
    top_level = {id(node) for node in tree.body}
    edges = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                for alias in node.names
            ]
        edges += [(node.lineno, target, id(node) in top_level) for target in targets if target in modules]
    return edges


def engine_graph() -> dict[str, list[tuple[int, str, bool]]]:
    modules = {module_name(path): path for path in ENGINE_FILES}
    return {name: import_edges(tree_of(path), set(modules)) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a module importing itself), sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_of(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    for rank, names in enumerate(LAYERS):
        if part in names:
            return rank
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS")


def test_cycle_finder_finds_cycles_and_only_cycles():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"a"}}) == [["a"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_import_edges_skip_type_checking_and_see_nested_imports():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from engine.rules import model\n"
        "from engine.rules.model import Rule\n"
        "if TYPE_CHECKING:\n"
        "    from engine.storage.models import Case\n"
        "def f():\n"
        "    import engine.storage.db\n"
    )
    modules = {"engine.rules", "engine.rules.model", "engine.storage.models", "engine.storage.db"}
    assert import_edges(tree, modules) == [
        (2, "engine.rules.model", True),
        (3, "engine.rules.model", True),
        (7, "engine.storage.db", False),
    ]


def test_engine_has_no_import_cycles():
    graph = {name: {target for _line, target, _top in edges} for name, edges in engine_graph().items()}
    assert find_cycles(graph) == []


def test_engine_imports_its_own_modules_at_the_top():
    """A function-level import hides a dependency (and was how cycles were dodged): import at module level."""
    offenders = [
        f"{name}:{line} imports {target} inside a function"
        for name, edges in engine_graph().items()
        if not name.startswith("engine.storage.migrations.versions")
        for line, target, top in edges
        if not top
    ]
    assert offenders == []


def test_each_engine_package_imports_only_the_layers_below_it():
    offenders = [
        f"{name}:{line} imports {target}"
        for name, edges in engine_graph().items()
        if name != "engine" and not name.startswith("engine.storage.migrations")
        for line, target, _top in edges
        if layer_of(target) > layer_of(name)
    ]
    assert offenders == []


def test_engine_top_level_keeps_only_the_wiring():
    modules = sorted(path.name for path in ENGINE.glob("*.py"))
    assert len(modules) <= 8, modules
    packages = sorted(path.parent.name for path in ENGINE.glob("*/__init__.py"))
    for package in packages:
        doc = ast.get_docstring(tree_of(ENGINE / package / "__init__.py"))
        assert doc and "\n" not in doc.strip(), f"engine/{package}/__init__.py needs a one-line docstring"


WEB_FILES = sorted((ROOT / "web").rglob("*.py"))


def test_web_reaches_the_engine_only_through_services():
    """web/ parses requests and calls services: no SQL, no sessions, no tables, no workflow runtime."""
    offenders = []
    for path in WEB_FILES:
        tree = tree_of(path)
        for line, module in imported_modules(tree):
            top = module.split(".")[0]
            if top in ("sqlalchemy", "SpiffWorkflow") or (
                top == "engine" and not module.startswith(WEB_MAY_IMPORT)
            ):
                offenders.append(f"{relative(path)}:{line} imports {module}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("read", "transaction"):
                if isinstance(node.value, ast.Attribute) and node.value.attr == "db":
                    offenders.append(f"{relative(path)}:{node.lineno} opens a database session")
    assert offenders == []
