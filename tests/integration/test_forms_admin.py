"""Designers edit a task form: validated before saving, versioned, live for the next task at once, rollback."""

from __future__ import annotations

import json

import pytest

from engine.errors import PermissionDenied
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.services import design
from engine.services import forms_admin


def _verify_with_note(required: bool) -> str:
    source = json.loads(_live_text())
    source["properties"]["review_note"] = {
        "title": "复核意见",
        "x-title-en": "Review note",
        "type": "string",
        "maxLength": 500,
        "x-widget": "textarea",
    }
    if required:
        source.setdefault("required", []).append("review_note")
    return json.dumps(source, ensure_ascii=False, indent=2)


def _live_text() -> str:
    from engine.forms.schema import load_form

    return json.dumps(load_form("verify").schema, ensure_ascii=False, indent=2)


def test_a_saved_form_is_used_by_the_next_task_and_can_be_rolled_back(eng, actors, journey):
    designer = actors("designer")
    result = forms_admin.save(eng, designer, "verify", _verify_with_note(required=True), "增加复核意见")
    assert result["changed"]
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id)
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    journey.act("handler_power", case_id, {"outcome": "resolved", "handling_actions": "已解决。"})
    with pytest.raises(ValidationFailed) as refused:  # the new required field is checked at once
        journey.act("dispatcher", case_id, {"verdict": "accept"})
    assert "review_note" in refused.value.errors
    journey.act("dispatcher", case_id, {"verdict": "accept", "review_note": "材料齐全。"})
    assert journey.case(case_id)["status"] == "revisiting"
    source = forms_admin.form_source(eng, designer, "verify")
    assert source["live_version_id"] == result["version_id"] and "复核意见" in source["text"]
    again = forms_admin.save(eng, designer, "verify", _verify_with_note(required=False), "改为选填")
    forms_admin.rollback(eng, designer, "verify", result["version_id"])
    assert forms_admin.form_source(eng, designer, "verify")["live_version_id"] == result["version_id"]
    history = design.history(eng, designer, "form", "verify")
    assert [h["action"] for h in history] == ["rollback", "save", "save"]
    assert history[0]["before"] == again["version_id"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"$id": "verify", "title": ', "第 1 行"),
        ('{"$id": "other", "title": "x", "x-title-en": "x", "type": "object", "properties": {}}', "$id"),
        ("[]", "JSON 对象"),
        ("", "为空"),
        (
            '{"$id": "verify", "title": "审核", "x-title-en": "V", "type": "object", "properties": {"a": {}}}',
            "表单",
        ),
    ],
)
def test_a_broken_form_is_refused_and_nothing_changes(eng, actors, text, expected):
    with pytest.raises(SpecError) as refused:
        forms_admin.save(eng, actors("designer"), "verify", text)
    assert expected in refused.value.message
    assert forms_admin.form_source(eng, actors("designer"), "verify")["live_version_id"] is None


def test_only_designers_edit_forms(eng, actors):
    for user in ("dispatcher", "manager", "handler_power"):
        with pytest.raises(PermissionDenied):
            forms_admin.save(eng, actors(user), "verify", _live_text())


def test_saving_the_shipped_form_unchanged_makes_no_version(eng, actors):
    assert not forms_admin.save(eng, actors("designer"), "verify", _live_text())["changed"]
