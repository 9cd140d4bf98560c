"""Task forms: every form in forms/ loads, validates submissions with Chinese messages, and renders."""

from __future__ import annotations

import copy
import json
import re

import jinja2
import pytest
from werkzeug.datastructures import MultiDict

from engine.domain.vocabulary import CATEGORIES
from engine.domain.vocabulary import CHANNELS
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import URGENCIES
from engine.errors import NotFound
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.forms import schema as forms_module
from engine.forms.schema import FORMS_DIR
from engine.forms.schema import FormNotFound
from engine.forms.schema import all_forms
from engine.forms.schema import check_form_schema
from engine.forms.schema import form_from_schema
from engine.forms.schema import load_form

FORM_KEYS = [
    "register_problem",
    "resolve_on_site",
    "dispatch",
    "leader_coordinate",
    "sign_for",
    "feedback",
    "verify",
    "revisit",
    "close_out",
    "supervise",
    "approve_extension",
    "arbitrate",
    "province_handoff",
    "province_answer",
    "evaluation_review",
    "accountability_interview",
    "visit_record",
    "visit_survey",  # a campaign's questionnaire (活动走访调查表), not a task's own form
]

# One valid API submission per form; the expected result adds every other declared field as None / [].
VALID = {
    "visit_record": {
        "visited_on": "2026-03-10",
        "visitors": "王芳、李明",
        "met_with": "赵建华 董事长",
        "summary": "了解生产经营情况。",
        "findings": "none",
    },
    "visit_survey": {
        "operation": "stable",
        "orders_trend": "flat",
        "main_need": "finance",
        "employees": 320,
        "policy_known": "partly",
        "suggestions": "希望简化技改补贴申报材料。",
    },
    "evaluation_review": {"decision": "publish"},
    "accountability_interview": {
        "interview_date": "2026-04-03",
        "interviewee": "王局长",
        "interview_record": "指出一季度办理严重滞后的问题。",
        "rectification": "两周内全部办结。",
    },
    "province_handoff": {
        "handed_to": "省电力公司",
        "handed_at": "2026-03-12",
        "reference_no": "省协〔2026〕12号",
    },
    "province_answer": {
        "province_reply": "同意纳入计划。",
        "reply_date": "2026-03-20",
        "outcome": "resolved",
    },
    "approve_extension": {"extension_decision": "approve"},
    "arbitrate": {"lead_unit": "power", "arbitration_note": "由市电业局牵头办理。"},
    "supervise": {"supervision_step": "order", "supervision_order": "请三日内反馈办理进展。"},
    "register_problem": {
        "enterprise_id": 7,
        "channel": "走访",
        "field": "工业",
        "category": "用地",
        "urgency": "紧急",
        "library": "key",
        "title": "新厂房用地指标不足",
        "description": "企业扩产需新增用地 30 亩，年内无指标。",
        "contact_name": "王经理",
        "contact_phone": "13812345678",
        "attachments": [11, 12],
    },
    "resolve_on_site": {"on_site_result": "resolved", "on_site_actions": "当场联系供电公司，已恢复供电。"},
    "dispatch": {
        "tier": "city_leader",
        "lead_unit": "zrzy",
        "co_units": ["fgw", "gxj"],
        "responsible_leader": "li_fsz",
        "time_limit_days": 15,
        "dispatch_note": "请自然资源局牵头，一周内拿出方案。",
    },
    "leader_coordinate": {
        "meeting_held": True,
        "meeting_date": "2024-05-06",
        "leader_instructions": "请自然资源局统筹调剂指标。",
        "lead_unit": "zrzy",
    },
    "sign_for": {"sign_decision": "sign"},
    "feedback": {"outcome": "resolved", "handling_actions": "已调剂用地指标 30 亩。", "attachments": [5]},
    "verify": {"verdict": "accept"},
    "revisit": {"solved": "yes", "satisfaction": "satisfied", "revisit_method": "phone"},
    "close_out": {"closing_summary": "用地指标已落实，企业满意。"},
}


@pytest.fixture(autouse=True)
def fresh_cache():
    forms_module.clear_cache()
    yield
    forms_module.clear_cache()


def errors_of(form_key: str, raw, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        load_form(form_key).parse_submission(raw, **kwargs)
    assert caught.value.message == "表单有误，请按提示修改"
    return caught.value.errors


def with_changes(form_key: str, **changes) -> dict:
    data = copy.deepcopy(VALID[form_key])
    for name, value in changes.items():
        if value is ...:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def minimal_schema(**properties) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "sample",
        "title": "示例",
        "x-title-en": "Sample",
        "type": "object",
        "properties": properties
        or {"note": {"title": "备注", "x-title-en": "Note", "type": "string", "maxLength": 10}},
        "required": [],
        "additionalProperties": False,
    }


# --- loading and checking ---------------------------------------------------------------------------------


def test_forms_dir_holds_exactly_the_task_forms():
    assert sorted(path.stem for path in FORMS_DIR.glob("*.json")) == sorted(FORM_KEYS)
    assert list(all_forms()) == sorted(FORM_KEYS)


@pytest.mark.parametrize("key", FORM_KEYS)
def test_every_form_loads_and_passes_its_checks(key):
    schema = json.loads((FORMS_DIR / f"{key}.json").read_text(encoding="utf-8"))
    assert check_form_schema(schema) == []
    form = load_form(key)
    assert form.key == key and form.title and form.title_en
    assert form.field_names == list(schema["properties"])
    assert load_form(key) is form  # cached


def test_register_problem_uses_the_domain_vocabulary_as_values():
    form = load_form("register_problem")
    assert form.field("channel").enum == tuple(CHANNELS)
    assert form.field("field").enum == tuple(FIELDS)
    assert form.field("category").enum == tuple(CATEGORIES)
    assert form.field("urgency").enum == tuple(URGENCIES)
    assert form.field("urgency").widget == "radio"
    assert form.field("enterprise_id").widget == "enterprise"
    assert form.field("channel").labels_en["12345热线"] == "12345 hotline"


def test_field_specs_describe_widgets_and_requiredness():
    dispatch = load_form("dispatch")
    assert dispatch.field("lead_unit").required and dispatch.field("lead_unit").widget == "unit"
    leader = dispatch.field("responsible_leader")
    assert (leader.required, leader.conditional, leader.role, leader.widget) == (
        False,
        True,
        "leader",
        "user",
    )
    assert dispatch.field("co_units").multiple and dispatch.field("co_units").widget == "units"
    assert (dispatch.field("time_limit_days").minimum, dispatch.field("time_limit_days").maximum) == (1, 180)
    assert load_form("feedback").file_fields == ["attachments"]
    assert load_form("leader_coordinate").field("meeting_held").choices("en") == [
        ("true", "Yes"),
        ("false", "No"),
    ]
    assert load_form("sign_for").field("sign_decision").choices() == [("sign", "签收"), ("return", "退单")]


def test_unknown_form_is_not_found():
    for key in ("no_such_form", "../forms/dispatch", "Dispatch"):
        with pytest.raises(FormNotFound) as caught:
            load_form(key)
        assert isinstance(caught.value, NotFound) and isinstance(caught.value, SpecError)


@pytest.mark.parametrize("name", ["now", "date", "len", "print", "class", "list", "case_no", "round_no"])
def test_check_form_schema_refuses_reserved_field_names(name):
    schema = minimal_schema(
        **{name: {"title": "字段", "x-title-en": "Field", "type": "string", "maxLength": 10}}
    )
    problems = check_form_schema(schema)
    assert any(f"字段 {name}" in problem for problem in problems), problems


def test_tier_may_be_set_by_the_dispatch_form_only():
    tier = {"title": "层级", "x-title-en": "Tier", "type": "string", "maxLength": 20}
    assert any("tier" in problem for problem in check_form_schema(minimal_schema(tier=tier)))
    schema = minimal_schema(tier=tier) | {"$id": "dispatch"}
    assert check_form_schema(schema) == []


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"x-title-en": "Note", "type": "string", "maxLength": 5}, "缺少 title"),
        ({"title": "备注", "type": "string", "maxLength": 5}, "缺少 x-title-en"),
        ({"title": "备注", "x-title-en": "Note", "type": "string"}, "maxLength"),
        (
            {"title": "备注", "x-title-en": "Note", "type": "string", "maxLength": 5, "x-widget": "slider"},
            "未知的控件",
        ),
        ({"title": "备注", "x-title-en": "Note", "type": "integer", "x-widget": "textarea"}, "不能用于"),
        (
            {"title": "备注", "x-title-en": "Note", "type": "string", "maxLength": 5, "x-wigdet": "textarea"},
            "未知的提示",
        ),
        ({"title": "备注", "x-title-en": "Note", "type": "strnig"}, "JSON Schema"),
        (
            {"title": "备注", "x-title-en": "Note", "type": "string", "maxLength": 5, "x-widget": "user"},
            "x-role",
        ),
        (
            {
                "title": "备注",
                "x-title-en": "Note",
                "type": "string",
                "maxLength": 5,
                "enum": ["a", "b"],
                "x-enum-labels": {"a": "甲"},
                "x-enum-labels-en": {"a": "A", "b": "B"},
            },
            "缺少选项 b",
        ),
        (
            {
                "title": "备注",
                "x-title-en": "Note",
                "type": "string",
                "maxLength": 5,
                "enum": ["a"],
                "x-enum-labels": {"a": "甲"},
                "x-enum-labels-en": {"a": "A"},
                "default": "z",
            },
            "默认值",
        ),
    ],
)
def test_check_form_schema_reports_broken_properties(prop, expected):
    problems = check_form_schema(minimal_schema(note=prop))
    assert any(expected in problem for problem in problems), problems


def test_check_form_schema_reports_broken_form_structure():
    schema = minimal_schema()
    schema["required"] = ["ghost"]
    schema["allOf"] = [{"if": {"properties": {"phantom": {"const": 1}}}, "then": {"required": ["note"]}}]
    schema["x-checks"] = [{"rule": "excludes", "field": "note", "other": "nowhere", "message": "x"}]
    del schema["additionalProperties"]
    problems = check_form_schema(schema)
    for expected in ("ghost", "phantom", "nowhere", "additionalProperties"):
        assert any(expected in problem for problem in problems), (expected, problems)
    assert check_form_schema(minimal_schema()) == []
    assert any(
        "_secret" in p
        for p in check_form_schema(
            minimal_schema(_secret={"title": "a", "x-title-en": "a", "type": "boolean"})
        )
    )


def test_form_from_schema_refuses_a_broken_form_with_all_problems():
    schema = minimal_schema(now={"title": "现在", "x-title-en": "Now", "type": "string"})
    with pytest.raises(SpecError) as caught:
        form_from_schema(schema)
    assert len(caught.value.problems) == 2
    assert all(problem["form"] == "sample" for problem in caught.value.problems)


# --- parsing submissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", FORM_KEYS)
def test_valid_submission_returns_typed_data_for_every_field(key):
    form = load_form(key)
    result = form.parse_submission(VALID[key])
    assert list(result) == form.field_names
    for spec in form.fields:
        expected = VALID[key].get(
            spec.name, spec.default if spec.default is not None else ([] if spec.multiple else None)
        )
        assert result[spec.name] == expected, spec.name
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize("key", FORM_KEYS)
def test_missing_required_field_is_named(key):
    form = load_form(key)
    for spec in form.fields:
        if not spec.required or spec.default is not None:  # a missing field with a default takes the default
            continue
        errors = errors_of(key, with_changes(key, **{spec.name: ...}))
        assert errors == {spec.name: errors[spec.name]}
        assert re.fullmatch(f"请(填写|选择)“{re.escape(spec.title)}”", errors[spec.name]), errors


@pytest.mark.parametrize("key", FORM_KEYS)
def test_oversized_text_is_refused(key):
    spec = next(
        s
        for s in load_form(key).fields
        if s.type == "string" and s.enum is None and s.widget != "date" and s.widget in ("text", "textarea")
    )
    errors = errors_of(key, with_changes(key, **{spec.name: "字" * (spec.max_length + 1)}))
    assert errors[spec.name] == f"“{spec.title}”最多 {spec.max_length} 个字"


@pytest.mark.parametrize("key", FORM_KEYS)
def test_wrong_type_is_refused(key):
    form = load_form(key)
    spec = next((s for s in form.fields if s.type in ("integer", "boolean")), None) or next(
        s for s in form.fields if s.widget == "textarea"
    )
    wrong = {"integer": "七", "boolean": "也许", "string": 12345}[spec.type]
    errors = errors_of(key, with_changes(key, **{spec.name: wrong}))
    word = {"integer": "整数", "boolean": "“是”或“否”", "string": "文字"}[spec.type]
    assert errors[spec.name] == f"“{spec.title}”格式不对：应为{word}"


@pytest.mark.parametrize("key", [key for key in FORM_KEYS if any(s.enum for s in load_form(key).fields)])
def test_value_outside_the_enum_is_refused(key):
    spec = next(s for s in load_form(key).fields if s.enum)
    errors = errors_of(key, with_changes(key, **{spec.name: "乱填"}))
    assert errors == {spec.name: f"请从列表中选择“{spec.title}”"}


@pytest.mark.parametrize("key", FORM_KEYS)
def test_undeclared_api_field_is_refused(key):
    errors = errors_of(key, with_changes(key, is_admin=True, _version=3))
    assert errors == {"is_admin": "字段 is_admin 不在表单中", "_version": "字段 _version 不在表单中"}


def test_array_with_a_scalar_and_bad_items_is_refused():
    assert errors_of("dispatch", with_changes("dispatch", co_units="fgw")) == {
        "co_units": "“协办单位”格式不对：应为列表"
    }
    assert errors_of("feedback", with_changes("feedback", attachments=[1, "x"])) == {
        "attachments": "“附件”格式不对：应为整数"
    }
    assert errors_of("dispatch", with_changes("dispatch", co_units=["fgw", "fgw"])) == {
        "co_units": "“协办单位”有重复的选项"
    }


def test_numbers_outside_their_range_are_refused():
    assert errors_of("dispatch", with_changes("dispatch", time_limit_days=0)) == {
        "time_limit_days": "“办理时限（工作日）”不能小于 1"
    }
    assert errors_of("dispatch", with_changes("dispatch", time_limit_days=181)) == {
        "time_limit_days": "“办理时限（工作日）”不能大于 180"
    }


@pytest.mark.parametrize(
    "phone", ["13812345678", "+86 13812345678", "0371-12345678", "037112345678", "400-123-4567"]
)
def test_phone_numbers_that_are_accepted(phone):
    assert load_form("register_problem").parse_submission(
        with_changes("register_problem", contact_phone=phone)
    )


@pytest.mark.parametrize("phone", ["12345", "1381234567", "138123456789", "电话号码", "0371-123"])
def test_phone_numbers_that_are_refused(phone):
    errors = errors_of("register_problem", with_changes("register_problem", contact_phone=phone))
    assert errors["contact_phone"].startswith("“联系电话”格式不对：应为手机号或座机号")


def test_return_needs_a_reason_of_five_characters():
    assert errors_of("sign_for", {"sign_decision": "return"}) == {"return_reason": "请填写“退单理由”"}
    assert errors_of("sign_for", {"sign_decision": "return", "return_reason": "不归我"}) == {
        "return_reason": "“退单理由”至少 5 个字"
    }
    result = load_form("sign_for").parse_submission(
        {"sign_decision": "return", "return_reason": "应由住建局办理"}
    )
    assert result == {"sign_decision": "return", "return_reason": "应由住建局办理"}
    assert load_form("sign_for").parse_submission({"sign_decision": "sign", "return_reason": "短"})


def test_not_solvable_needs_an_explanation_of_ten_characters():
    data = with_changes("feedback", outcome="not_solvable")
    assert errors_of("feedback", data) == {"explanation": "请填写“书面说明”"}
    assert errors_of("feedback", data | {"explanation": "政策不允许"}) == {
        "explanation": "“书面说明”至少 10 个字"
    }
    assert load_form("feedback").parse_submission(
        data | {"explanation": "根据土地管理法第四十四条，暂无法办理。"}
    )


def test_city_leader_tier_needs_a_responsible_leader():
    assert errors_of("dispatch", with_changes("dispatch", responsible_leader=...)) == {
        "responsible_leader": "请选择“包联领导”"
    }
    result = load_form("dispatch").parse_submission(
        with_changes("dispatch", tier="department", responsible_leader=...)
    )
    assert result["responsible_leader"] is None


def test_co_units_may_not_contain_the_lead_unit():
    assert errors_of("dispatch", with_changes("dispatch", co_units=["fgw", "zrzy"])) == {
        "co_units": "协办单位不能包含牵头单位"
    }


def test_unsatisfied_revisit_needs_a_comment():
    data = with_changes("revisit", satisfaction="unsatisfied")
    assert errors_of("revisit", data) == {"revisit_comment": "请填写“回访意见”"}
    assert load_form("revisit").parse_submission(data | {"revisit_comment": "问题没有真正解决"})


def test_meeting_held_needs_a_valid_meeting_date():
    assert errors_of("leader_coordinate", with_changes("leader_coordinate", meeting_date=...)) == {
        "meeting_date": "请填写“会议日期”"
    }
    assert errors_of("leader_coordinate", with_changes("leader_coordinate", meeting_date="2024-02-30")) == {
        "meeting_date": "“会议日期”格式不对：应为日期，如 2024-05-01"
    }
    result = load_form("leader_coordinate").parse_submission(
        with_changes("leader_coordinate", meeting_held=False, meeting_date=...)
    )
    assert result["meeting_held"] is False and result["meeting_date"] is None


def test_html_form_is_converted_to_schema_types():
    raw = MultiDict(
        [
            ("csrf_token", "abc"),
            ("_version", "4"),
            ("enterprise_id", " 7 "),
            ("channel", "电话"),
            ("field", "三产"),
            ("category", "融资"),
            ("urgency", "一般"),
            ("library", ""),
            ("title", "  贷款到期续贷难  "),
            ("description", "第一行\r\n第二行"),
            ("contact_name", ""),
            ("contact_phone", "0371-12345678"),
            ("attachments", "3"),
            ("attachments", ""),
        ]
    )
    result = load_form("register_problem").parse_submission(raw, files={"attachments": [9, 3]})
    assert result == {
        "enterprise_id": 7,
        "channel": "电话",
        "field": "三产",
        "category": "融资",
        "urgency": "一般",
        "library": "general",  # blank -> the schema default
        "title": "贷款到期续贷难",
        "description": "第一行\n第二行",
        "contact_name": None,
        "contact_phone": "0371-12345678",
        "attachments": [3, 9],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("1", True), ("是", True), ("false", False), ("0", False), ("否", False)],
)
def test_html_booleans(text, expected):
    raw = MultiDict(
        [
            ("meeting_held", text),
            ("meeting_date", "2024-05-06"),
            ("leader_instructions", "抓紧办"),
            ("lead_unit", "zrzy"),
        ]
    )
    assert load_form("leader_coordinate").parse_submission(raw)["meeting_held"] is expected


def test_html_arrays_and_integers():
    raw = MultiDict(
        [
            ("tier", "department"),
            ("lead_unit", "zrzy"),
            ("co_units", "fgw"),
            ("co_units", "gxj"),
            ("time_limit_days", "１０"),
        ]
    )
    result = load_form("dispatch").parse_submission(raw)
    assert result["co_units"] == ["fgw", "gxj"] and result["time_limit_days"] == 10
    nothing_ticked = MultiDict([("tier", "department"), ("lead_unit", "zrzy"), ("time_limit_days", "5")])
    assert load_form("dispatch").parse_submission(nothing_ticked)["co_units"] == []


def test_html_form_problems():
    raw = MultiDict(
        [
            ("tier", "department"),
            ("lead_unit", "zrzy"),
            ("time_limit_days", "3.5"),
            ("role", "admin"),
            ("dispatch_note", "a"),
            ("dispatch_note", "b"),
        ]
    )
    assert errors_of("dispatch", raw) == {
        "time_limit_days": "“办理时限（工作日）”格式不对：应为整数",
        "role": "字段 role 不在表单中",
        "dispatch_note": "“派单意见”只能填一个值",
    }
    assert errors_of("close_out", MultiDict([("closing_summary", "   ")])) == {
        "closing_summary": "请填写“办结情况”"
    }
    assert errors_of("close_out", {"closing_summary": "好"}, files={"attachments": [1]}) == {
        "attachments": "字段 attachments 不在表单中"
    }


def test_a_non_mapping_submission_is_refused():
    assert errors_of("close_out", ["closing_summary"]) == {"": "提交的数据应为键值对象"}


def test_defaults_prefill_from_workflow_data():
    dispatch = load_form("dispatch")
    data = {"tier": "city_leader", "lead_unit": "zrzy", "case_no": "JN-1", "co_units": None}
    assert dispatch.defaults(data) == {"tier": "city_leader", "lead_unit": "zrzy"}
    assert dispatch.defaults({"tier": "province"}) == {}  # not a choice on this form
    assert load_form("register_problem").defaults({}) == {"library": "general"}


def test_raw_values_keep_what_the_page_sent():
    raw = MultiDict([("co_units", "a"), ("co_units", "b"), ("lead_unit", "c"), ("csrf_token", "x")])
    assert load_form("dispatch").raw_values(raw) == {"lead_unit": "c", "co_units": ["a", "b"]}


# --- rendering --------------------------------------------------------------------------------------------

OPTIONS = {
    "units": [
        {"code": "zrzy", "name": "市自然资源局"},
        {"code": "fgw", "name": "市发改委"},
        {"code": "gxj", "name": "市工信局"},
    ],
    "users": {
        "leader": [
            {"username": "li_fsz", "display_name": "李副市长"},
            {"username": "wang", "display_name": "王市长"},
        ]
    },
    "enterprises": [
        {"enterprise_id": 7, "name": "中原机械有限公司", "credit_code": "91410100MA40000000"},
        {"enterprise_id": 8, "name": "豫丰食品", "credit_code": "91410100MA40000001"},
    ],
    "attachments": [
        {"attachment_id": 11, "filename": "现场照片.jpg", "size": 204800},
        {"attachment_id": 13, "filename": "旧合同.pdf", "size": 1024},
    ],
    "accept": "image/*,.pdf",
}


@pytest.fixture
def render():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader("web/templates"))
    template = env.from_string(
        '{% from "macros/form.html" import render_form %}'
        "{{ render_form(form, values=values, errors=errors, lang=lang, options=options) }}"
    )

    def render(key, values=None, errors=None, lang="zh", options=OPTIONS):
        return template.render(
            form=load_form(key), values=values or {}, errors=errors or {}, lang=lang, options=options
        )

    return render


@pytest.mark.parametrize("key", FORM_KEYS)
def test_every_form_renders_values_and_errors(render, key):
    form = load_form(key)
    errors = {spec.name: f"错误提示-{spec.name}" for spec in form.fields}
    html = render(key, values=VALID[key], errors=errors)
    for spec in form.fields:
        assert (
            f'<div id="f-{spec.name}-error" class="invalid-feedback d-block">错误提示-{spec.name}</div>'
            in html
        )
        assert spec.title in html
    assert html.count("is-invalid") >= len(form.fields)
    assert "<form" not in html and "csrf" not in html
    # Every name the page would submit is a declared field: nothing the parser would refuse.
    assert set(re.findall(r'name="([^"]+)"', html)) <= set(form.field_names)
    for spec in form.fields:
        if spec.required:
            label_end = html.index(spec.title) + len(spec.title)
            assert html[label_end : label_end + 40].startswith(' <span class="text-danger"'), spec.name


def test_selected_options_and_checked_choices_are_prefilled(render):
    html = render("dispatch", values=VALID["dispatch"])
    assert '<option value="zrzy" selected>市自然资源局</option>' in html
    assert '<option value="li_fsz" selected>李副市长</option>' in html
    assert re.search(r'value="city_leader" autocomplete="off" checked', html)
    assert re.search(r'value="fgw" checked>', html) and re.search(r'value="gxj" checked>', html)
    assert not re.search(r'value="zrzy" checked>', html)
    assert 'value="15"' in html and 'min="1"' in html and 'max="180"' in html
    html = render("register_problem", values=VALID["register_problem"])
    assert '<option value="走访" selected>走访</option>' in html
    assert 'value="7" data-credit-code="91410100MA40000000" selected>' in html
    assert "data-enterprise-search" in html
    assert re.search(r'name="attachments" id="f-attachments-kept-1"\s+value="11" checked>', html)
    assert re.search(r'name="attachments" id="f-attachments-kept-2"\s+value="13">', html)  # not kept
    assert re.search(r'type="file" [^>]*name="attachments" multiple accept="image/\*,\.pdf"', html)
    html = render("leader_coordinate", values={"meeting_held": True, "meeting_date": "2024-05-06"})
    assert re.search(r'value="true" autocomplete="off" checked', html)
    assert 'type="date"' in html and 'value="2024-05-06"' in html


def test_render_in_english_with_form_level_errors(render):
    html = render("revisit", errors={"": "该任务已被他人办理", "satisfaction": "请选择“满意度”"}, lang="en")
    assert "Satisfaction" in html and "Very satisfied" in html and "非常满意" not in html
    assert '<div class="alert alert-danger' in html and "该任务已被他人办理" in html


def test_render_escapes_values_even_without_autoescape(render):
    html = render("close_out", values={"closing_summary": "</textarea><script>alert(1)</script>"})
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_render_keeps_values_missing_from_the_options(render):
    html = render("dispatch", values={"lead_unit": "retired_unit", "co_units": ["old"]}, options={})
    assert '<option value="retired_unit" selected>' in html and 'value="old" checked>' in html


@pytest.mark.parametrize("key", FORM_KEYS)
def test_render_with_nothing_given_under_strict_undefined(key):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader("web/templates"), undefined=jinja2.StrictUndefined
    )
    html = env.from_string('{% from "macros/form.html" import render_form %}{{ render_form(form) }}').render(
        form=load_form(key)
    )
    assert "invalid-feedback" not in html
