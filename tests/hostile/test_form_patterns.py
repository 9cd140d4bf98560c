"""A designer's `pattern` cannot stall a submission: patterns are matched by RE2 (linear time), and patterns RE2
cannot take are refused when the form is saved, with the reason."""

from __future__ import annotations

import json
import time

import pytest

from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.forms.schema import check_form_schema
from engine.forms.schema import form_from_schema
from engine.forms.schema import load_form
from engine.services import forms_admin

CATASTROPHIC = "^(a+)+$"


def schema_with(pattern: str) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "sample",
        "title": "示例",
        "x-title-en": "Sample",
        "type": "object",
        "properties": {
            "code": {
                "title": "编码",
                "x-title-en": "Code",
                "type": "string",
                "maxLength": 200,
                "pattern": pattern,
            }
        },
        "required": ["code"],
        "additionalProperties": False,
    }


def test_a_catastrophic_pattern_answers_at_once():
    form = form_from_schema(schema_with(CATASTROPHIC))
    started = time.monotonic()
    for length in (29, 60, 200):
        with pytest.raises(ValidationFailed) as refused:
            form.parse_submission({"code": "a" * (length - 1) + "!"})
        assert "code" in refused.value.errors
    assert time.monotonic() - started < 0.5  # Python's re took 9.3 s on the first alone
    assert form.parse_submission({"code": "aaaa"}) == {"code": "aaaa"}


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"^(a)\1$", "escape"), (r"^(?=a)a$", "perl operator"), (r"^(?<!x)a$", "perl operator")],
)
def test_a_pattern_re2_cannot_take_is_refused_when_the_form_is_saved(pattern, reason):
    problems = check_form_schema(schema_with(pattern))
    assert any("pattern" in p and reason in p for p in problems), problems
    with pytest.raises(SpecError):
        form_from_schema(schema_with(pattern))


def test_the_designers_save_refuses_it_and_changes_nothing(eng, actors):
    designer = actors("designer")
    before = forms_admin.list_forms(eng, designer)
    schema = dict(load_form("sign_for").schema)
    schema["properties"] = dict(schema["properties"])
    field = next(name for name, prop in schema["properties"].items() if prop.get("type") == "string")
    schema["properties"][field] = {**schema["properties"][field], "pattern": r"(x)\1"}
    with pytest.raises(SpecError) as refused:
        forms_admin.save(eng, designer, "sign_for", json.dumps(schema, ensure_ascii=False), "backreference")
    assert any("pattern" in problem["message"] for problem in refused.value.problems)
    assert forms_admin.list_forms(eng, designer) == before


def test_the_shipped_phone_pattern_still_works():
    form = load_form("register_problem")
    errors = [
        e.message for e in form.validator.iter_errors({"contact_phone": "12ab"}) if "contact_phone" in e.path
    ]
    assert errors and "does not match" in errors[0]
    assert not [
        e for e in form.validator.iter_errors({"contact_phone": "13812345678"}) if "contact_phone" in e.path
    ]
