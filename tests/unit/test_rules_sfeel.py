"""S-FEEL input entries and typed inputs: table-driven cases run through a real one-column table."""

from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest

from engine.errors import RuleError
from engine.rules import parse_dmn
from engine.rules.sfeel import Compare
from engine.rules.sfeel import Range
from engine.rules.sfeel import SfeelSyntaxError
from engine.rules.sfeel import parse_literal
from engine.rules.sfeel import parse_unary_tests

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def one_cell_table(cell: str, type_ref: str | None, label: str = "值", expression: str = "value"):
    type_attr = f' typeRef="{type_ref}"' if type_ref else ""
    xml = f"""<definitions xmlns="{NS}" id="defs" namespace="test">
      <decision id="d" name="单列"><decisionTable id="t" hitPolicy="FIRST">
        <input id="in1" label="{label}">
          <inputExpression{type_attr}><text>{expression}</text></inputExpression>
        </input>
        <output id="out1" name="hit" typeRef="boolean"/>
        <rule id="r1"><inputEntry id="c1"><text>{escape(cell)}</text></inputEntry>
          <outputEntry><text>true</text></outputEntry></rule>
      </decisionTable></decision></definitions>"""
    return parse_dmn(xml).decisions["d"].table


def matches(cell: str, type_ref: str | None, value) -> bool:
    result = one_cell_table(cell, type_ref).evaluate({"value": value})
    return result.matched == [1]


CASES = [
    # (cell, typeRef, input value, matches?)
    ("-", "string", "anything", True),
    ("", "number", 5, True),
    ('"工业"', "string", "工业", True),
    ('"工业"', "string", "三产", False),
    ('"工业","三产"', "string", "三产", True),
    ('"工业", "三产"', "string", "农业", False),
    ("< 5", "number", 4, True),
    ("< 5", "number", 5, False),
    ("<= 5", "number", 5, True),
    ("> 5", "number", 5, False),
    ("> 5", "number", 5.01, True),
    (">= 5", "number", 5, True),
    ("[1..10]", "number", 1, True),
    ("[1..10]", "number", 10, True),
    ("[1..10]", "number", 10.5, False),
    ("]1..10[", "number", 1, False),
    ("]1..10[", "number", 10, False),
    ("]1..10[", "number", 5.5, True),
    ("(1..10)", "number", 1, False),
    ("[1..10)", "number", 10, False),
    ("[1..10)", "number", 1, True),
    ("(1..10]", "number", 10, True),
    ("[-5..-1]", "number", -3, True),
    ("-5", "number", -5, True),
    ("0.1", "number", 0.1, True),
    ("= 5", "number", 5, True),
    ("!= 5", "number", 4, True),
    ("!= 5", "number", 5, False),
    ("not([1..5])", "number", 6, True),
    ("not([1..5])", "number", 3, False),
    ('not("工业")', "string", "三产", True),
    ('not("工业")', "string", "工业", False),
    ('not("工业", "三产")', "string", "三产", False),
    ("not(< 5, > 10)", "number", 7, True),
    ("> 5, < 0", "number", -1, True),
    ('< "m"', "string", "apple", True),
    ('< "m"', "string", "zebra", False),
    ('["a".."c"]', "string", "b", True),
    ("true", "boolean", True, True),
    ("true", "boolean", False, False),
    ("false", "boolean", "false", True),
    ('date("2024-10-01")', "date", "2024-10-01", True),
    ('date("2024-10-01")', "date", date(2024, 10, 2), False),
    ('> date("2024-10-01")', "date", date(2024, 10, 2), True),
    ('[date("2024-01-01")..date("2024-12-31")]', "date", "2024-06-30T08:00:00", True),
    ('[date("2024-01-01")..date("2024-12-31")]', "date", "2025-01-01", False),
    ('"a\\"b"', "string", 'a"b', True),
    ('"\\u5de5"', "string", "工", True),
    # typed matching: strings arriving for number columns are converted
    (">= 5", "number", "5", True),
    (">= 5", "number", " 4.5 ", False),
    ("5", "integer", "5", True),
    ("5", "long", 5.0, True),
    ('"5"', "string", 5, True),
    # untyped columns: numbers compare as numbers, but never equal text or booleans
    ("5", None, 5, True),
    ("5", None, 5.0, True),
    ("5", None, "5", False),
    ("1", None, True, False),
    ("< 5", None, "abc", False),
    ('"工业"', None, "工业", True),
    # null input: only "-", "null" and not(non-null) match it
    ("-", "string", None, True),
    ("null", "string", None, True),
    ("null", "string", "x", False),
    ('"a"', "string", None, False),
    ("< 5", "number", None, False),
    ("[1..5]", "number", None, False),
    ('not("a")', "string", None, True),
    ("not(null)", "string", None, False),
    ("not(null)", "string", "x", True),
]


@pytest.mark.parametrize(("cell", "type_ref", "value", "expected"), CASES)
def test_unary_test_cell_matches_typed_input(cell, type_ref, value, expected):
    assert matches(cell, type_ref, value) is expected


@pytest.mark.parametrize(
    ("text", "tests", "negated"),
    [
        ('"工业","三产"', (Compare("=", "工业"), Compare("=", "三产")), False),
        ("<= 5", (Compare("<=", Decimal("5")),), False),
        ("]1..10]", (Range(Decimal("1"), Decimal("10"), False, True),), False),
        ('not(null, "x")', (Compare("=", None), Compare("=", "x")), True),
        ('!= date("2024-10-01")', (Compare("!=", date(2024, 10, 1)),), False),
        ("  -  ", (), False),
    ],
)
def test_parse_unary_tests_builds_the_expected_tree(text, tests, negated):
    parsed = parse_unary_tests(text)
    assert parsed.tests == tests
    assert parsed.negated is negated


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("“工业”", "中文标点 “"),
        ('"工业"，"三产"', "中文标点 ，"),
        ("'工业'", "单引号"),
        ("工业", '"工业"'),
        ("5 6", "逗号分隔"),
        ("[1..", "缺少值"),
        ("[1,10]", "应为 .."),
        ('"abc', "缺少结尾的双引号"),
        ("not(5", "右括号"),
        ('date("2024/10/01")', "YYYY-MM-DD"),
        ('date("2024-02-30")', "不存在"),
        ('time("10:00:00")', "暂不支持"),
        ('"a\\x"', "转义"),
        ("5 + 1", "+"),
        ("-,5", "应为一个值"),
    ],
)
def test_unparsable_cells_say_what_is_wrong(text, fragment):
    with pytest.raises(SfeelSyntaxError) as caught:
        parse_unary_tests(text)
    assert fragment in str(caught.value)


def test_syntax_error_position_is_one_based():
    with pytest.raises(SfeelSyntaxError, match="^第 3 个字符处"):
        parse_unary_tests("5 6")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"红"', "红"),
        ("-2.50", Decimal("-2.50")),
        ("true", True),
        ("null", None),
        ('date("2024-10-01")', date(2024, 10, 1)),
    ],
)
def test_parse_literal_reads_output_literals(text, value):
    assert parse_literal(text) == value


@pytest.mark.parametrize("text", ["a + 1", "-", "< 5", '"a","b"', "[1..2]"])
def test_parse_literal_refuses_expressions(text):
    with pytest.raises(SfeelSyntaxError):
        parse_literal(text)


@pytest.mark.parametrize(
    ("type_ref", "value", "fragment"),
    [
        ("number", "abc", '"abc" 不是数字'),
        ("number", "NaN", "不是有限的数字"),
        ("number", True, "是布尔值"),
        ("integer", 5.5, "不是整数"),
        ("boolean", "yes", "不是 true/false"),
        ("date", "2024/10/01", "YYYY-MM-DD"),
        ("string", 1.5, "不是文本"),
    ],
)
def test_value_that_cannot_be_coerced_names_the_input(type_ref, value, fragment):
    table = one_cell_table("-", type_ref, label="企业规模")
    with pytest.raises(RuleError) as caught:
        table.evaluate({"value": value})
    assert "输入“企业规模”" in caught.value.message
    assert fragment in caught.value.message
    assert caught.value.problems[0]["element_id"] == "in1"
    assert caught.value.problems[0]["column"] == "企业规模"


def test_dotted_path_is_read_from_nested_dicts():
    table = one_cell_table(">= 100", "number", expression="enterprise.staff")
    assert table.evaluate({"enterprise": {"staff": 150}}).matched == [1]
    assert table.evaluate({"enterprise": {"staff": 50}}).matched == []


def test_missing_name_reads_as_null():
    table = one_cell_table("null", "number", expression="enterprise.staff")
    assert table.evaluate({}).matched == [1]
    assert table.evaluate({"enterprise": "not a dict"}).matched == [1]


def test_complex_input_expression_needs_a_resolver():
    table = one_cell_table("> 10", "number", expression="staff * 2")
    with pytest.raises(RuleError, match="resolve"):
        table.evaluate({"staff": 6})
    seen = []

    def resolve(expression, context):
        seen.append(expression)
        return context["staff"] * 2

    assert table.evaluate({"staff": 6}, resolve=resolve).matched == [1]
    assert seen == ["staff * 2"]


def test_input_values_are_recorded_for_the_audit_trail():
    table = one_cell_table(">= 5", "number", label="金额")
    result = table.evaluate({"value": "7.5"})
    assert result.inputs == {"金额": 7.5}
    assert result.to_audit()["inputs"] == {"金额": 7.5}
