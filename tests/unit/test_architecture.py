"""Layering rules read from the source with ast: engine/ never imports the web layer, and only engine/db.py
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
    assert {"engine/db.py", "engine/runtime.py", "engine/services/flow.py"} <= names
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
        if relative(path) != "engine/db.py"
        for line in commit_calls(tree_of(path))
    ]
    assert offenders == []
    assert commit_calls(tree_of(ENGINE / "db.py")), "engine/db.py should hold the one commit (transaction())"
