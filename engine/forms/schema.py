"""Task forms: load and check the JSON Schemas in forms/; turn submissions into validated, typed task data."""

from __future__ import annotations

import builtins
import functools
import json
import keyword
import math
import re
import threading
import unicodedata
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from pathlib import Path
from typing import Any

import re2
from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaValidationError
from jsonschema import validators as jsonschema_validators
from jsonschema.exceptions import SchemaError

from engine.domain.text import strip_controls
from engine.domain.vocabulary import ROLES
from engine.errors import NotFound
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.i18n import reader_language

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Names a form field may never take: they become task-data variables, and SpiffWorkflow raises (or a script
# silently reads the wrong thing) when task data shadows a script global or a Python builtin.
from engine.workflow.script_api import SCRIPT_FUNCTIONS  # noqa: E402

RESERVED_NAMES: frozenset[str] = frozenset(
    {"now", "date", "datetime", "time", "print", "len"}
    | set(SCRIPT_FUNCTIONS)
    | set(keyword.kwlist)
    | set(keyword.softkwlist)
    | {name for name in dir(builtins) if not name.startswith("_")}
)

# Variables the engine itself keeps in task data. A form may set one only where the process expects the
# person to decide it (the dispatcher confirms or overrides the triage tier).
ENGINE_VARIABLES: dict[str, frozenset[str]] = {
    "case_id": frozenset(),
    "case_no": frozenset(),
    "round_no": frozenset(),
    "returns_count": frozenset(),
    "tier": frozenset({"dispatch"}),
}

# x-widget value -> the JSON types it can render.
WIDGETS: dict[str, frozenset[str]] = {
    "text": frozenset({"string"}),
    "textarea": frozenset({"string"}),
    "select": frozenset({"string", "integer", "boolean"}),
    "radio": frozenset({"string", "integer", "boolean"}),
    "date": frozenset({"string"}),
    "number": frozenset({"integer", "number"}),
    "unit": frozenset({"string"}),
    "units": frozenset({"array"}),
    "user": frozenset({"string"}),
    "enterprise": frozenset({"integer"}),
    "file": frozenset({"array"}),
}

FIELD_TYPES = frozenset({"string", "integer", "number", "boolean", "array"})

# Display hints a property may carry; anything else starting with "x-" is a typo worth reporting.
PROPERTY_HINTS = frozenset(
    {
        "x-title-en",
        "x-description-en",
        "x-widget",
        "x-enum-labels",
        "x-enum-labels-en",
        "x-role",
        "x-pattern-hint",
        "x-inputmode",
        "x-prefill",
    }
)
FORM_HINTS = frozenset({"x-title-en", "x-checks"})

FORM_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FIELD_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


# A designer's `pattern` is matched by RE2 (linear time in the input, whatever the pattern) instead of Python's
# backtracking `re`, where `^(a+)+$` takes seconds on 30 characters. RE2 refuses backreferences and lookaround;
# such patterns are refused when the form is saved, with RE2's reason.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str):
    """The pattern compiled by RE2. :raises ValueError: RE2 cannot take it (the reason in the message)."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = (
            exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        )
        raise ValueError(str(reason)) from None


def _pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = compile_pattern(pattern).search(instance)
    except ValueError:
        matched = None  # a stored pattern RE2 cannot take matches nothing (saving such a form is refused)
    if not matched:
        yield SchemaValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        try:
            regex = compile_pattern(pattern)
        except ValueError:
            continue
        for key, value in instance.items():
            if regex.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


FormValidator = jsonschema_validators.extend(
    Draft202012Validator, {"pattern": _pattern, "patternProperties": _pattern_properties}
)


def _pattern_problems(node, where: str | None = None) -> list[str]:
    """Every `pattern` / `patternProperties` key in a schema that RE2 cannot take, with the reason."""
    problems = []
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            try:
                compile_pattern(node["pattern"])
            except ValueError as exc:
                problems.append(
                    _(
                        "%(where)s 的 pattern %(pattern)s 不能使用：%(reason)s（不支持反向引用和前后断言）",
                        where=where or _("表单"),
                        pattern=node["pattern"][:80],
                        reason=exc,
                    )
                )
        for key in (
            node.get("patternProperties") or {} if isinstance(node.get("patternProperties"), dict) else {}
        ):
            try:
                compile_pattern(key)
            except ValueError as exc:
                problems.append(
                    _(
                        "%(where)s 的 patternProperties %(pattern)s 不能使用：%(reason)s",
                        where=where or _("表单"),
                        pattern=key[:80],
                        reason=exc,
                    )
                )
        for key, value in node.items():
            inner = _("字段 %(name)s", name=key) if isinstance(value, dict) and "type" in value else where
            problems += _pattern_problems(value, inner)
    elif isinstance(node, list):
        for value in node:
            problems += _pattern_problems(value, where)
    return problems


# Keys a page adds next to the fields (CSRF token, optimistic-lock version...): dropped, never task data.
HTML_CONTROL_KEYS = frozenset({"csrf_token"})

BOOLEAN_WORDS = {
    "true": True, "1": True, "yes": True, "on": True, "是": True,
    "false": False, "0": False, "no": False, "off": False, "否": False,
}  # fmt: skip


@dataclass(frozen=True)
class FieldSpec:
    """One form field, flattened from its JSON Schema property for templates and parsing.

    `required` is unconditional; `conditional` says an if/then rule may require it (its help text says when).
    """

    name: str
    title: str
    title_en: str
    type: str
    widget: str
    enum: tuple | None = None
    labels_zh: dict = dataclass_field(default_factory=dict)
    labels_en: dict = dataclass_field(default_factory=dict)
    required: bool = False
    conditional: bool = False
    multiple: bool = False
    item_type: str | None = None
    max_length: int | None = None
    min_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_items: int | None = None
    role: str | None = None
    help: str = ""
    help_en: str = ""
    default: Any = None
    inputmode: str | None = None

    def label(self, lang: str = "zh") -> str:
        """The field's title in `lang` ("en" or anything else for Chinese)."""
        return self.title_en if lang == "en" and self.title_en else self.title

    def help_text(self, lang: str = "zh") -> str:
        """The help text in `lang` (empty when there is none)."""
        return self.help_en if lang == "en" and self.help_en else self.help

    def choices(self, lang: str = "zh") -> list[tuple[str, str]]:
        """(value as submitted by a page, label) pairs for enum and boolean fields, in schema order."""
        labels = self.labels_en if lang == "en" else self.labels_zh
        if self.type == "boolean":
            fallback = {"true": "Yes", "false": "No"} if lang == "en" else {"true": "是", "false": "否"}
            return [(value, labels.get(value) or fallback[value]) for value in ("true", "false")]
        return [
            (_form_value(value), labels.get(_form_value(value)) or str(value)) for value in self.enum or ()
        ]


@dataclass(frozen=True)
class FormSpec:
    """One loaded, checked form (`load_form` reads forms/, `form_from_schema` takes a stored version)."""

    key: str
    title: str
    title_en: str
    schema: dict
    fields: list[FieldSpec]
    validator: Draft202012Validator = dataclass_field(repr=False, compare=False)

    def label(self, lang: str = "zh") -> str:
        """The form's title in `lang`."""
        return self.title_en if lang == "en" and self.title_en else self.title

    @property
    def field_names(self) -> list[str]:
        return [spec.name for spec in self.fields]

    @property
    def file_fields(self) -> list[str]:
        """Upload fields: the web layer stores files sent under these names and passes the ids as `files`."""
        return [spec.name for spec in self.fields if spec.widget == "file"]

    def field(self, name: str) -> FieldSpec:
        """The field called `name`. :raises KeyError: when the form has no such field."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def parse_submission(self, raw: Mapping, *, files: Mapping[str, Iterable[int]] | None = None) -> dict:
        """Validate a submission and return typed task data holding every declared field.

        `raw` is either an HTML form (anything with `getlist`, e.g. werkzeug's MultiDict: values are strings,
        arrays are repeated keys) or a JSON object from the API (values already typed). Strings are stripped,
        blank ones count as absent and are converted to the schema's type; `files` maps an upload field to the
        ids of attachments stored for this submission and is appended to the ids the page kept. A field left
        blank comes back as None (an array as []), so a gateway condition never meets an undefined name and a
        new handling round overwrites the last round's values.

        :raises ValidationFailed: with `errors` mapping each offending field to a message.
        """
        html = callable(getattr(raw, "getlist", None))
        if not isinstance(raw, Mapping) and not html:
            raise ValidationFailed(_form_error(), errors={"": _("提交的数据应为键值对象")}, form=self.key)
        errors: dict[str, str] = {}
        data: dict[str, Any] = {}
        for name in raw.keys():
            if html and _is_html_control_key(name):
                continue
            if not isinstance(name, str) or name not in self._by_name:
                errors[str(name)[:50]] = _("字段 %(name)s 不在表单中", name=str(name)[:50])
                continue
            spec = self._by_name[name]
            values = list(raw.getlist(name)) if html else [raw[name]]
            value, problem = _convert(spec, values, html)
            if problem:
                errors[name] = problem
            elif value is not None:
                data[name] = value
        for name, ids in (files or {}).items():
            if name not in self.file_fields:
                errors[str(name)[:50]] = _("字段 %(name)s 不在表单中", name=str(name)[:50])
                continue
            kept = data.get(name, [])
            if isinstance(kept, list):  # else the schema reports the kept value as "应为列表"
                data[name] = list(dict.fromkeys([*kept, *ids]))
        for spec in self.fields:
            if spec.name not in data and spec.name not in errors and spec.default is not None:
                data[spec.name] = spec.default
        for error in self.validator.iter_errors(data):
            for name in _error_fields(error, data):
                if name not in errors:
                    errors[name] = self._message(name, error)
        for check in self.schema.get("x-checks", []):
            name = check.get("field", "")
            if name not in errors:
                problem = CHECKS[check["rule"]](check, data)
                if problem:
                    errors[name] = problem
        if errors:
            raise ValidationFailed(_form_error(), errors=errors, form=self.key)
        return {spec.name: data.get(spec.name, [] if spec.multiple else None) for spec in self.fields}

    def defaults(self, data: Mapping) -> dict:
        """Values to pre-fill the form with: declared fields found in workflow `data`, else schema defaults.

        Values an enum no longer offers (e.g. a triage tier this form cannot choose) are left out, so the page
        shows a blank choice instead of a value nobody can see.
        """
        values: dict[str, Any] = {}
        for spec in self.fields:
            # A decision made on an earlier pass (x-prefill: false) must be made afresh, never re-submitted.
            prefill = self.schema["properties"][spec.name].get("x-prefill", True)
            value = data.get(spec.name) if isinstance(data, Mapping) and prefill else None
            if value is None or (spec.enum is not None and not spec.multiple and value not in spec.enum):
                value = spec.default
            if value is not None:
                values[spec.name] = value
        return values

    def raw_values(self, raw: Mapping) -> dict:
        """A submission as the page sent it, for re-showing the form after a ValidationFailed: lists for
        multi-value fields, single strings otherwise, undeclared keys left out."""
        html = callable(getattr(raw, "getlist", None))
        values: dict[str, Any] = {}
        for spec in self.fields:
            if spec.name not in raw:
                continue
            if spec.multiple:
                values[spec.name] = list(raw.getlist(spec.name)) if html else raw[spec.name]
            else:
                values[spec.name] = raw[spec.name]
        return values

    @cached_property
    def _by_name(self) -> dict[str, FieldSpec]:
        return {spec.name: spec for spec in self.fields}

    def _message(self, name: str, error) -> str:
        spec = self._by_name.get(name)
        title = spec.label(reader_language()) if spec else name
        return _field_message(title, spec, error)


# --- submission helpers ------------------------------------------------------------------------------------


def _form_error() -> str:
    return _("表单有误，请按提示修改")


def _is_html_control_key(name: str) -> bool:
    return name.startswith("_") or name in HTML_CONTROL_KEYS


def _convert(spec: FieldSpec, values: list, html: bool) -> tuple[Any, str | None]:
    """(typed value or None when blank, error message or None). `values` is getlist() for a page, or
    [the JSON value] for the API."""
    if spec.multiple:
        items = values
        if not html:
            if values[0] is None:
                return None, None
            if not isinstance(values[0], list):
                # Let the schema say "应为列表" rather than guessing what a scalar meant.
                return values[0], None
            items = values[0]
        converted = [_coerce(spec.item_type, _clean(item, multiline=False)) for item in items]
        converted = [item for item in converted if item is not None]
        return (converted or None), None
    cleaned = [_clean(value, multiline=spec.widget == "textarea") for value in values]
    cleaned = [value for value in cleaned if value is not None]
    if not cleaned:
        return None, None
    if len(cleaned) > 1:
        return None, _("“%(title)s”只能填一个值", title=spec.label(reader_language()))
    return _coerce(spec.type, cleaned[0]), None


def _clean(value: Any, *, multiline: bool) -> Any:
    """Strip strings and treat blank ones as absent; other values pass through for the schema to judge."""
    if isinstance(value, str):
        value = strip_controls(value)
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip() if multiline else value.strip()
        return value or None
    return value


def _coerce(json_type: str | None, value: Any) -> Any:
    """Convert a string to `json_type`; anything that does not convert is returned unchanged so the schema
    reports it as the wrong type."""
    if not isinstance(value, str):
        return value
    if json_type == "integer":
        text = unicodedata.normalize("NFKC", value)
        return int(text) if re.fullmatch(r"[+-]?[0-9]{1,18}", text) else value
    if json_type == "number":
        text = unicodedata.normalize("NFKC", value)
        if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", text):
            return value
        number = float(text)
        if not math.isfinite(number):
            return value
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if json_type == "boolean":
        return BOOLEAN_WORDS.get(value.lower(), value)
    return value


def _error_fields(error, data: Mapping) -> list[str]:
    """The field(s) a jsonschema error is about: the missing required properties, else the first path part."""
    if error.validator == "required" and not error.path:
        return [name for name in error.validator_value if name not in data]
    if error.path:
        return [str(error.path[0])]
    return [""]


def _type_word(json_type: str) -> str:
    words = {
        "string": _("文字"),
        "integer": _("整数"),
        "number": _("数字"),
        "boolean": _("“是”或“否”"),
        "array": _("列表"),
        "object": _("对象"),
        "null": _("空"),
    }
    return words.get(json_type, json_type)


def _field_message(title: str, spec: FieldSpec | None, error) -> str:
    """What is wrong with a field, for the person filling in the form (`title` in the reader's language)."""
    kind, limit = error.validator, error.validator_value
    in_item = len(error.path) > 1
    if kind == "required":
        choose = spec is not None and spec.widget in {
            "select",
            "radio",
            "unit",
            "units",
            "user",
            "enterprise",
        }
        if spec is not None and spec.widget == "file":
            return _("请上传“%(title)s”", title=title)
        return _("请选择“%(title)s”", title=title) if choose else _("请填写“%(title)s”", title=title)
    if kind == "maxLength":
        if in_item:
            return _("“%(title)s”每项最多 %(limit)s 个字", title=title, limit=limit)
        return _("“%(title)s”最多 %(limit)s 个字", title=title, limit=limit)
    if kind == "minLength":
        return _("“%(title)s”至少 %(limit)s 个字", title=title, limit=limit)
    if kind in ("enum", "const"):
        return _("请从列表中选择“%(title)s”", title=title)
    if kind == "type":
        wanted = limit if isinstance(limit, str) else limit[0]
        if wanted == "array":
            return _("“%(title)s”格式不对：应为列表", title=title)
        return _("“%(title)s”格式不对：应为%(type)s", title=title, type=_type_word(wanted))
    if kind == "format":
        if limit == "date":
            return _("“%(title)s”格式不对：应为日期，如 2024-05-01", title=title)
        return _("“%(title)s”格式不对", title=title)
    if kind == "pattern":
        # The hint is the form's own text (Chinese, like its other designer-written strings).
        hint = error.schema.get("x-pattern-hint") if isinstance(error.schema, Mapping) else None
        return _("“%(title)s”格式不对：%(hint)s", title=title, hint=hint or _("请检查后重填"))
    if kind == "minimum":
        return _("“%(title)s”不能小于 %(limit)s", title=title, limit=_number(limit))
    if kind == "maximum":
        return _("“%(title)s”不能大于 %(limit)s", title=title, limit=_number(limit))
    if kind == "exclusiveMinimum":
        return _("“%(title)s”应大于 %(limit)s", title=title, limit=_number(limit))
    if kind == "exclusiveMaximum":
        return _("“%(title)s”应小于 %(limit)s", title=title, limit=_number(limit))
    if kind == "maxItems":
        return _("“%(title)s”最多选 %(limit)s 项", title=title, limit=limit)
    if kind == "minItems":
        return _("“%(title)s”至少选 %(limit)s 项", title=title, limit=limit)
    if kind == "uniqueItems":
        return _("“%(title)s”有重复的选项", title=title)
    return _("“%(title)s”填写不正确，请检查", title=title)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _form_value(value: Any) -> str:
    """How a page submits `value` (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- cross-field checks (what JSON Schema cannot say) ------------------------------------------------------


def _check_excludes(check: Mapping, data: Mapping) -> str | None:
    """`field` (an array) must not contain the value of `other`."""
    items, other = data.get(check["field"]), data.get(check["other"])
    if isinstance(items, list) and other is not None and other in items:
        return check.get("message") or _("选项重复")
    return None


# rule name -> function(check, data) -> error message or None. Forms name a rule in "x-checks".
CHECKS: dict[str, Callable[[Mapping, Mapping], str | None]] = {"excludes": _check_excludes}
CHECK_ARGUMENTS: dict[str, tuple[str, ...]] = {"excludes": ("field", "other")}


# --- schema checks ----------------------------------------------------------------------------------------


def check_form_schema(schema: dict) -> list[str]:
    """Everything wrong with a form definition, as messages for the form designer (empty when it is usable).

    Checks it is a valid draft 2020-12 schema of the shape every form has, that every field has a safe name,
    Chinese and English titles, a known widget that fits its type, labels for every enum value and a length
    limit on every string, and that required lists, if/then rules and x-checks name declared fields.
    """
    if not isinstance(schema, dict):
        return [_("表单定义应为 JSON 对象")]
    problems: list[str] = []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or _("（根）")
        problems.append(_("不是有效的 JSON Schema（%(where)s）：%(error)s", where=where, error=exc.message))
    problems += _pattern_problems(schema)
    key = schema.get("$id")
    if schema.get("$schema") != SCHEMA_DIALECT:
        problems.append(_("$schema 应为 %(dialect)s", dialect=SCHEMA_DIALECT))
    if not isinstance(key, str) or not FORM_KEY_RE.match(key):
        problems.append(_("$id 应为表单标识（小写字母、数字、下划线，如 sign_for）"))
        key = None
    for name in ("title", "x-title-en"):
        if not _nonblank(schema.get(name)):
            problems.append(_("表单缺少 %(name)s", name=name))
    if schema.get("type") != "object":
        problems.append(_("表单的 type 应为 object"))
    if schema.get("additionalProperties") is not False:
        problems.append(_("表单应设置 additionalProperties: false（只接受声明过的字段）"))
    problems += [
        _("未知的表单提示 %(name)s", name=name)
        for name in schema
        if name.startswith("x-") and name not in FORM_HINTS
    ]
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return problems + [_("表单没有任何字段（properties）")]
    for name, prop in properties.items():
        problems += _check_property(key, name, prop)
    required = schema.get("required", [])
    if isinstance(required, list):
        problems += [
            _("required 中的 %(name)s 不是表单字段", name=name) for name in required if name not in properties
        ]
    for index, rule in enumerate(schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []):
        for name in sorted(_named_fields(rule)):
            if name not in properties:
                problems.append(_("allOf[%(index)s] 引用了不存在的字段 %(name)s", index=index, name=name))
    problems += _check_x_checks(schema.get("x-checks", []), properties)
    return problems


def _check_property(key: str | None, name: str, prop: Any) -> list[str]:
    where = _("字段 %(name)s", name=name)
    if not isinstance(prop, dict):
        return [_("%(where)s 的定义应为 JSON 对象", where=where)]
    problems: list[str] = []
    if not FIELD_NAME_RE.match(name):
        problems.append(
            _(
                "%(where)s：字段名应以英文字母开头，只含英文字母、数字和下划线（会成为流程变量）",
                where=where,
            )
        )
    if name in RESERVED_NAMES:
        problems.append(_("%(where)s：与脚本保留名或 Python 内置名冲突，请改名", where=where))
    if name in ENGINE_VARIABLES and key not in ENGINE_VARIABLES[name]:
        problems.append(_("%(where)s：是流程自己维护的变量，不能由此表单填写，请改名", where=where))
    for hint in ("title", "x-title-en"):
        if not _nonblank(prop.get(hint)):
            problems.append(_("%(where)s 缺少 %(hint)s", where=where, hint=hint))
    problems += [
        _("%(where)s：未知的提示 %(hint)s", where=where, hint=hint)
        for hint in prop
        if hint.startswith("x-") and hint not in PROPERTY_HINTS
    ]
    json_type = prop.get("type")
    if json_type not in FIELD_TYPES:
        problems.append(
            _("%(where)s：type 应为 %(types)s 之一", where=where, types="、".join(sorted(FIELD_TYPES)))
        )
        return problems
    widget = prop.get("x-widget") or _default_widget(prop)
    if widget not in WIDGETS:
        problems.append(_("%(where)s：未知的控件 x-widget %(widget)s", where=where, widget=widget))
    elif json_type not in WIDGETS[widget]:
        problems.append(
            _("%(where)s：控件 %(widget)s 不能用于 %(type)s 类型", where=where, widget=widget, type=json_type)
        )
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    if json_type == "array" and items.get("type") not in {"string", "integer"}:
        problems.append(_("%(where)s：列表字段需要 items.type（string 或 integer）", where=where))
    if widget == "file" and items.get("type") != "integer":
        problems.append(_("%(where)s：附件字段的 items.type 应为 integer（附件编号）", where=where))
    if widget == "date" and prop.get("format") != "date":
        problems.append(_("%(where)s：日期控件需要 format: date", where=where))
    if widget == "user" and prop.get("x-role") not in ROLES:
        problems.append(
            _("%(where)s：人员控件需要 x-role（%(roles)s 之一）", where=where, roles="、".join(ROLES))
        )
    if (json_type == "string" or items.get("type") == "string") and "maxLength" not in (
        prop if json_type == "string" else items
    ):
        problems.append(_("%(where)s：文字字段需要 maxLength", where=where))
    if "enum" in prop:
        problems += _check_labels(where, prop)
    if "default" in prop:
        try:
            FormValidator(prop).validate(prop["default"])
        except Exception:  # noqa: BLE001 - any failure means the default is unusable
            problems.append(_("%(where)s：默认值不符合字段定义", where=where))
    return problems


def _check_labels(where: str, prop: dict) -> list[str]:
    problems = []
    values = [_form_value(value) for value in prop.get("enum") or []]
    for hint in ("x-enum-labels", "x-enum-labels-en"):
        labels = prop.get(hint)
        if not isinstance(labels, dict):
            problems.append(_("%(where)s：选项字段需要 %(hint)s", where=where, hint=hint))
            continue
        missing = [value for value in values if not _nonblank(labels.get(value))]
        if missing:
            problems.append(
                _(
                    "%(where)s：%(hint)s 缺少选项 %(values)s 的名称",
                    where=where,
                    hint=hint,
                    values="、".join(missing),
                )
            )
    return problems


def _check_x_checks(checks: Any, properties: dict) -> list[str]:
    if not isinstance(checks, list):
        return [_("x-checks 应为列表")]
    problems = []
    for index, check in enumerate(checks):
        if not isinstance(check, dict) or check.get("rule") not in CHECKS:
            problems.append(
                _("x-checks[%(index)s]：未知的校验规则，可用 %(rules)s", index=index, rules="、".join(CHECKS))
            )
            continue
        for argument in CHECK_ARGUMENTS[check["rule"]]:
            if check.get(argument) not in properties:
                problems.append(
                    _(
                        "x-checks[%(index)s]：%(argument)s 的值 %(value)s 不是表单字段",
                        index=index,
                        argument=argument,
                        value=check.get(argument),
                    )
                )
        if not _nonblank(check.get("message")):
            problems.append(_("x-checks[%(index)s] 缺少 message", index=index))
    return problems


def _named_fields(subschema: Any) -> set[str]:
    """Field names an if/then/else rule mentions in `properties` and `required`, at any depth."""
    names: set[str] = set()
    if isinstance(subschema, dict):
        if isinstance(subschema.get("properties"), dict):
            names |= set(subschema["properties"])
        if isinstance(subschema.get("required"), list):
            names |= {name for name in subschema["required"] if isinstance(name, str)}
        for keyword_name in ("if", "then", "else", "not"):
            names |= _named_fields(subschema.get(keyword_name))
        for keyword_name in ("allOf", "anyOf", "oneOf"):
            for part in subschema.get(keyword_name) or []:
                names |= _named_fields(part)
    return names


def _nonblank(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _default_widget(prop: dict) -> str:
    json_type = prop.get("type")
    if "enum" in prop:
        return "select"
    if json_type == "boolean":
        return "radio"
    if json_type in ("integer", "number"):
        return "number"
    if json_type == "string" and prop.get("format") == "date":
        return "date"
    if json_type == "array":
        return "units"
    return "text"


# --- building and loading ---------------------------------------------------------------------------------


def form_from_schema(schema: dict) -> FormSpec:
    """Build a FormSpec from a schema (a file in forms/ or a version stored in the database).

    :raises SpecError: when `check_form_schema` finds problems; `problems` lists them.
    """
    problems = check_form_schema(schema)
    if problems:
        key = schema.get("$id") if isinstance(schema, dict) else None
        raise SpecError(
            _("表单 %(form)s 定义有误：%(problem)s", form=key or _("（无标识）"), problem=problems[0]),
            problems=[{"form": key, "message": problem} for problem in problems],
            form=key,
        )
    required = set(schema.get("required", []))
    conditional = set()
    for rule in schema.get("allOf", []):
        if not isinstance(rule, dict):
            continue
        conditional |= _named_required(rule.get("then")) | _named_required(rule.get("else"))
    fields = []
    for name, prop in schema["properties"].items():
        items = prop.get("items") or {}
        spec = FieldSpec(
            name=name,
            title=prop["title"],
            title_en=prop["x-title-en"],
            type=prop["type"],
            widget=prop.get("x-widget") or _default_widget(prop),
            enum=tuple(prop["enum"]) if "enum" in prop else None,
            labels_zh=dict(prop.get("x-enum-labels") or {}),
            labels_en=dict(prop.get("x-enum-labels-en") or {}),
            required=name in required,
            conditional=name in conditional and name not in required,
            multiple=prop["type"] == "array",
            item_type=items.get("type"),
            max_length=prop.get("maxLength", items.get("maxLength")),
            min_length=prop.get("minLength"),
            minimum=prop.get("minimum"),
            maximum=prop.get("maximum"),
            max_items=prop.get("maxItems"),
            role=prop.get("x-role"),
            help=prop.get("description", ""),
            help_en=prop.get("x-description-en", ""),
            default=prop.get("default"),
            inputmode=prop.get("x-inputmode"),
        )
        fields.append(spec)
    return FormSpec(
        key=schema["$id"],
        title=schema["title"],
        title_en=schema["x-title-en"],
        schema=schema,
        fields=fields,
        validator=FormValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER),
    )


def _named_required(subschema: Any) -> set[str]:
    if isinstance(subschema, dict) and isinstance(subschema.get("required"), list):
        return set(subschema["required"])
    return set()


class FormNotFound(NotFound, SpecError):
    """No form with this key exists in forms/ (a 404 for pages, a SpecError for a diagram that names it)."""


_cache: dict[str, FormSpec] = {}
_cache_lock = threading.Lock()


def load_form(key: str) -> FormSpec:
    """The form `key` from forms/<key>.json, loaded and checked once per process.

    :raises FormNotFound: when there is no such form (or the key is not a form key at all).
    :raises SpecError: when the file is not JSON or the form definition has problems.
    """
    cached = _cache.get(key)
    if cached is not None:
        return cached
    if not isinstance(key, str) or not FORM_KEY_RE.match(key):
        raise FormNotFound(_("没有名为 %(form)s 的表单", form=str(key)[:50]), form=key)
    path = FORMS_DIR / f"{key}.json"
    if not path.is_file():
        raise FormNotFound(_("没有名为 %(form)s 的表单（forms/%(form)s.json 不存在）", form=key), form=key)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SpecError(_("表单 %(form)s 不是有效的 JSON：%(error)s", form=key, error=exc), form=key) from exc
    if isinstance(schema, dict) and schema.get("$id") != key:
        raise SpecError(
            _("表单 %(form)s 的 $id 应与文件名一致", form=key),
            problems=[{"form": key, "message": _("$id 与文件名不一致")}],
        )
    spec = form_from_schema(schema)
    with _cache_lock:
        _cache[key] = spec
    return spec


def all_forms() -> dict[str, FormSpec]:
    """Every form in forms/, by key, in file-name order. :raises SpecError: on the first broken form."""
    return {path.stem: load_form(path.stem) for path in sorted(FORMS_DIR.glob("*.json"))}


def clear_cache() -> None:
    """Forget loaded forms (after a designer edits a file, and between tests)."""
    with _cache_lock:
        _cache.clear()
