"""Column types (`typeRef`): which are accepted, how input values are coerced and outputs made JSON-safe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from engine.i18n import _
from engine.rules.sfeel import kind_of

# typeRef as written by dmn-js / DMN 1.1-1.5 → (kind, integral). kind None means "untyped".
TYPE_REFS: dict[str, tuple[str | None, bool]] = {
    "": (None, False),
    "any": (None, False),
    "string": ("string", False),
    "number": ("number", False),
    "double": ("number", False),
    "integer": ("number", True),
    "long": ("number", True),
    "boolean": ("boolean", False),
    "date": ("date", False),
}


def kind_name(kind: str | None) -> str:
    """A column kind as shown in messages, e.g. "number（数字）" ("" for an untyped column)."""
    names = {
        "string": _("string（文本）"),
        "number": _("number（数字）"),
        "boolean": _("boolean（是/否）"),
        "date": _("date（日期）"),
    }
    return names.get(kind or "", kind or "")


def resolve_type_ref(type_ref: str | None) -> tuple[str | None, bool]:
    """Map a typeRef (`feel:string`, `integer`, …) to (kind, integral).

    :raises ValueError: for a type we do not support, with a message for the table's author.
    """
    name = (type_ref or "").strip().rsplit(":", 1)[-1].lower()
    if name not in TYPE_REFS:
        supported = "、".join(sorted(n for n in TYPE_REFS if n))
        raise ValueError(_("类型“%(type)s”不受支持，可用：%(supported)s", type=type_ref, supported=supported))
    return TYPE_REFS[name]


def to_decimal(value: Any) -> Decimal:
    """Coerce an int, float, Decimal or numeric string to a finite Decimal; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(_("是布尔值，不是数字"))
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(_("不是数字")) from None
    else:
        raise ValueError(_("是 %(type)s，不是数字", type=type(value).__name__))
    if not number.is_finite():
        raise ValueError(_("不是有限的数字"))
    return number


def _to_integral(value: Any) -> Decimal:
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(_("不是整数"))
    return number


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(_("是 %(type)s，不是文本", type=type(value).__name__))


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(_("不是 true/false"))


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 or text[10:11] in ("T", " "):
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                pass
    raise ValueError(_("不是 YYYY-MM-DD 格式的日期"))


def _untyped(value: Any) -> Any:
    # Untyped columns still compare numbers as numbers, whatever Python type they arrive as.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return to_decimal(value)
    return value


def coercer(kind: str | None, integral: bool) -> Callable[[Any], Any]:
    """The function turning a raw input value into the column's kind (None passes through)."""
    if kind == "number":
        convert = _to_integral if integral else to_decimal
    else:
        convert = {"string": _to_string, "boolean": _to_boolean, "date": _to_date, None: _untyped}[kind]

    def coerce(value: Any) -> Any:
        return None if value is None else convert(value)

    return coerce


def literal_fits(value: Any, kind: str | None) -> bool:
    """Whether a cell literal has the column's kind (null fits every column)."""
    return value is None or kind is None or kind_of(value) == kind


def plain(value: Any, integral: bool = False) -> Any:
    """A JSON-safe copy: Decimal → int (when whole or the column is integral) or float, date → ISO text."""
    if isinstance(value, Decimal):
        if integral or value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
