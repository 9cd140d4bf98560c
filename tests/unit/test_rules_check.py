"""DecisionTable.check(): overlapping rules and uncovered inputs found without evaluating."""

from xml.sax.saxutils import escape

import pytest

from engine.rules import parse_dmn

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def table(inputs, rules, hit_policy="UNIQUE", outputs=None):
    """inputs: (label, typeRef[, allowed]); rules: input cells + one output cell each (default "x")."""
    parts = [f'<definitions xmlns="{NS}" id="defs" namespace="t"><decision id="d" name="检查">']
    parts.append(f'<decisionTable id="t" hitPolicy="{hit_policy}">')
    for n, (label, type_ref, *allowed) in enumerate(inputs, 1):
        values = f"<inputValues><text>{escape(allowed[0])}</text></inputValues>" if allowed else ""
        type_attr = f' typeRef="{type_ref}"' if type_ref else ""
        parts.append(
            f'<input id="in{n}" label="{label}">'
            f"<inputExpression{type_attr}><text>v{n}</text></inputExpression>"
            f"{values}</input>"
        )
    parts.append('<output id="out" name="result" typeRef="string"/>')
    for n, cells in enumerate(rules, 1):
        output = (outputs or {}).get(n, '"x"')
        entries = "".join(f"<inputEntry><text>{escape(c)}</text></inputEntry>" for c in cells)
        parts.append(
            f'<rule id="r{n}">{entries}<outputEntry><text>{escape(output)}</text></outputEntry></rule>'
        )
    parts.append("</decisionTable></decision></definitions>")
    return parse_dmn("".join(parts)).decisions["d"].table


def overlaps(problems):
    return [(p["rule_index"], p["other_rule_index"]) for p in problems if p["kind"] == "overlap"]


def gaps(problems):
    return [p["message"] for p in problems if p["kind"] == "gap"]


def test_applicant_risk_rating_has_no_overlap_and_no_gap():
    risk = table(
        [("Applicant Age", "number"), ("Medical History", "string", '"good","bad"')],
        [["> 60", '"good"'], ["> 60", '"bad"'], ["[25..60]", "-"], ["< 25", '"good"'], ["< 25", '"bad"']],
    )
    assert risk.check() == []


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("[1..10]", "[5..20]", True),
        ("[1..10]", "]10..20]", False),
        ("[1..10]", "[10..20]", True),
        ("< 5", ">= 5", False),
        ("<= 5", ">= 5", True),
        ("-", "> 1000", True),
        ("not(< 5)", "< 5", False),
        ("not([1..10])", "[5..20]", True),
        ("!= 5", "5", False),
        ("1, 2, 3", "3, 4", True),
        ("1, 2", "3, 4", False),
    ],
)
def test_overlap_of_number_cells(first, second, overlap):
    problems = table([("金额", "number")], [[first], [second]]).check()
    assert overlaps(problems) == ([(1, 2)] if overlap else [])


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ('"工业","三产"', '"三产"', True),
        ('"工业"', '"三产"', False),
        ('"工业"', 'not("工业")', False),
        ('not("工业")', 'not("三产")', True),
        ('< "m"', '"apple"', True),
        ('< "m"', '"zebra"', False),
    ],
)
def test_overlap_of_string_cells(first, second, overlap):
    problems = table([("领域", "string")], [[first], [second]]).check()
    assert overlaps(problems) == ([(1, 2)] if overlap else [])


def test_overlap_needs_every_column_to_overlap_and_names_both_rules():
    problems = table(
        [("领域", "string"), ("金额", "number")],
        [['"工业"', "< 10"], ['"工业"', ">= 10"], ["-", "[5..15]"], ['"三产"', "-"]],
    ).check()
    assert overlaps(problems) == [(1, 3), (2, 3), (3, 4)]
    first = problems[0]
    assert first["message"] == "规则 1 与规则 3 重叠（UNIQUE 不允许）"
    assert (first["rule_id"], first["other_rule_id"]) == ("r1", "r3")


def test_overlap_within_allowed_values_only():
    # not("一般") and not("紧急") overlap on any other text, but not within the allowed "一般","紧急".
    cells = [['not("一般")'], ['not("紧急")']]
    assert overlaps(table([("紧急程度", "string")], cells).check()) == [(1, 2)]
    assert overlaps(table([("紧急程度", "string", '"一般","紧急"')], cells).check()) == []


def test_untyped_column_overlap_respects_kinds():
    assert overlaps(table([("值", None)], [["5"], ['"5"']]).check()) == []
    assert overlaps(table([("值", None)], [["< 5"], ["[1..2]"]]).check()) == [(1, 2)]


def test_gap_in_combinations_of_allowed_values():
    urgency = ("紧急程度", "string", '"一般","紧急"')
    field = ("领域", "string", '"工业","三产"')
    problems = table([urgency, field], [['"紧急"', "-"], ['"一般"', '"三产"']]).check()
    assert gaps(problems) == ['没有规则覆盖：紧急程度="一般"，领域="工业"']
    assert problems[0]["values"] == {"紧急程度": "一般", "领域": "工业"}
    assert problems[0]["rule_index"] is None


def test_gap_check_ignores_columns_without_allowed_values():
    urgency = ("紧急程度", "string", '"一般","紧急"')
    problems = table([urgency, ("金额", "number")], [['"紧急"', "< 10"], ['"一般"', ">= 10"]]).check()
    assert problems == []


def test_holes_in_a_single_number_column():
    problems = table([("金额", "number")], [["< 0"], ["[0..10)"], ["[20..30]"]]).check()
    assert gaps(problems) == ["没有规则覆盖：金额 在 [10..20) 内", "没有规则覆盖：金额 > 30"]


@pytest.mark.parametrize(
    ("type_ref", "expected"), [("integer", []), ("number", ["没有规则覆盖：金额 在 (5..6) 内"])]
)
def test_integer_columns_have_no_holes_between_consecutive_integers(type_ref, expected):
    problems = table([("金额", type_ref)], [["<= 5"], [">= 6"]]).check()
    assert gaps(problems) == expected


def test_holes_in_a_single_date_column():
    cells = [['< date("2024-01-01")'], ['[date("2024-01-01")..date("2024-06-30")]'], ['> date("2024-07-01")']]
    assert gaps(table([("日期", "date")], cells).check()) == ['没有规则覆盖：日期=date("2024-07-01")']


def test_multi_hit_tables_are_not_checked_for_overlaps_or_gaps():
    assert table([("金额", "number")], [["< 10"], ["< 5"]], hit_policy="COLLECT").check() == []


def test_first_tables_report_gaps_but_not_overlaps():
    problems = table([("金额", "number")], [["< 10"], ["< 5"]], hit_policy="FIRST").check()
    assert overlaps(problems) == []
    assert gaps(problems) == ["没有规则覆盖：金额 >= 10"]


def test_any_reports_only_overlaps_with_different_outputs():
    any_table = table(
        [("金额", "number")],
        [["< 10"], ["< 5"], ["[3..20]"], [">= 20"]],
        hit_policy="ANY",
        outputs={1: '"x"', 2: '"x"', 3: '"y"', 4: '"y"'},
    )
    problems = any_table.check()
    assert overlaps(problems) == [(1, 3), (2, 3)]
    assert "ANY 要求重叠的规则输出一致" in problems[0]["message"]
