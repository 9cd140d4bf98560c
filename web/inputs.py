"""A JSON body no layer below can take is refused before any view, as a 422 naming the field:

- an unpaired surrogate (the escape "\\ud800"), which no database driver can encode;
- nesting deeper than MAX_DEPTH (or too deep for the parser at all), which recursive code below (the JSON
  Schema validator, the serialiser) would meet as a RecursionError.

Either would otherwise be a server error wherever it surfaced. A query string, a form or a path cannot carry a
surrogate (they are decoded as UTF-8 with replacement), and NUL characters are dropped on their way to the
database (engine/storage/db.py)."""

from __future__ import annotations

import re

from flask import Flask
from flask import request
from flask_babel import gettext as _

from engine.errors import ValidationFailed

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = (
    32  # a form's data is an object of lists at most; no request of ours nests deeper than a few levels
)


def _too_deep() -> str:
    return _("嵌套超过 %(depth)s 层", depth=MAX_DEPTH)


def problem(value) -> str | None:
    """What is wrong with this JSON value for us (its keys and texts, at any depth), or None. Iterative: the
    value may be nested as deep as the parser allows."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            return _too_deep()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return _("含有无效的 Unicode 字符（不成对的代理项），请检查编码")
        elif isinstance(item, dict):
            pending += [(key, depth) for key in item]
            pending += [(inner, depth + 1) for inner in item.values()]
        elif isinstance(item, list):
            pending += [(inner, depth + 1) for inner in item]
    return None


def refuse_unusable_json() -> None:
    """:raises ValidationFailed: a JSON body `problem` finds fault with (each such field named)."""
    if not request.is_json:
        return
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested too deep for the parser itself
        raise ValidationFailed(
            _("请求的 JSON 无法处理：%(problem)s", problem=_too_deep()), {"": _too_deep()}
        ) from None
    errors = {}
    for name, value in data.items() if isinstance(data, dict) else [("", data)]:
        found = problem(name) or problem(value)
        if found:
            errors[_SURROGATE.sub("?", str(name))[:50]] = found
    if errors:
        raise ValidationFailed(
            _("请求的 JSON 无法处理：%(problem)s", problem=next(iter(errors.values()))), errors
        )


def init_app(app: Flask) -> None:
    app.before_request(refuse_unusable_json)
