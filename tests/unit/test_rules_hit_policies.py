"""Hit policies as DMN 1.3 §8.2.11 defines them, on tables modelled on the spec's chapter 8 examples."""

import time
from xml.sax.saxutils import escape

import pytest

from engine.errors import RuleError
from engine.rules import parse_dmn

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(inputs, outputs, rules, hit_policy=None, aggregation=None) -> str:
    """A DMN 1.3 file with one decision "d".

    inputs: (label, expression, typeRef[, allowed]); outputs: (name, typeRef[, allowed]); rules: (ins, outs).
    """
    policy = f' hitPolicy="{hit_policy}"' if hit_policy else ""
    policy += f' aggregation="{aggregation}"' if aggregation else ""
    parts = [f'<definitions xmlns="{NS}" id="defs" namespace="test"><decision id="d" name="测试">']
    parts.append(f'<decisionTable id="t"{policy}>')
    for n, (label, expression, type_ref, *allowed) in enumerate(inputs, 1):
        values = f"<inputValues><text>{escape(allowed[0])}</text></inputValues>" if allowed else ""
        parts.append(
            f'<input id="in{n}" label="{label}"><inputExpression typeRef="{type_ref}">'
            f"<text>{expression}</text></inputExpression>{values}</input>"
        )
    for n, (name, type_ref, *allowed) in enumerate(outputs, 1):
        values = f"<outputValues><text>{escape(allowed[0])}</text></outputValues>" if allowed else ""
        parts.append(
            f'<output id="out{n}" label="{name}" name="{name}" typeRef="{type_ref}">{values}</output>'
        )
    for n, (ins, outs) in enumerate(rules, 1):
        cells = "".join(f"<inputEntry><text>{escape(c)}</text></inputEntry>" for c in ins)
        cells += "".join(f"<outputEntry><text>{escape(c)}</text></outputEntry>" for c in outs)
        parts.append(f'<rule id="r{n}">{cells}</rule>')
    parts.append("</decisionTable></decision></definitions>")
    return "".join(parts)


def table(*args, **kwargs):
    return parse_dmn(dmn(*args, **kwargs)).decisions["d"].table


# "Applicant Risk Rating" (DMN 1.3 §8.2.11, UNIQUE)
RISK = dict(
    inputs=[("Applicant Age", "age", "number"), ("Medical History", "history", "string", '"good","bad"')],
    outputs=[("rating", "string", '"High","Medium","Low"')],
    rules=[
        (["> 60", '"good"'], ['"Medium"']),
        (["> 60", '"bad"'], ['"High"']),
        (["[25..60]", "-"], ['"Medium"']),
        (["< 25", '"good"'], ['"Low"']),
        (["< 25", '"bad"'], ['"Medium"']),
    ],
)


@pytest.mark.parametrize(
    ("age", "history", "rating", "rule"),
    [(65, "good", "Medium", 1), (65, "bad", "High", 2), (40, "bad", "Medium", 3), (20, "good", "Low", 4)],
)
def test_unique_returns_the_single_matching_rule(age, history, rating, rule):
    result = table(**RISK, hit_policy="UNIQUE").evaluate({"age": age, "history": history})
    assert result.outputs == {"rating": rating}
    assert result.matched == [rule]
    assert result.matched_rule_ids == [f"r{rule}"]


def test_missing_hit_policy_means_unique():
    risk = table(**RISK)
    assert risk.hit_policy == "UNIQUE"
    assert risk.aggregation is None


def test_unique_without_a_match_gives_none():
    result = table(**RISK).evaluate({"age": None, "history": "good"})
    assert result.outputs is None
    assert result.matched == []


def test_unique_with_several_matches_is_an_error_naming_them():
    overlapping = table(
        [("金额", "amount", "number")],
        [("tier", "string")],
        [(["< 10"], ['"A"']), (["[5..20]"], ['"B"']), (["> 15"], ['"C"'])],
    )
    with pytest.raises(RuleError) as caught:
        overlapping.evaluate({"amount": 7})
    assert "规则 1、规则 2 同时匹配" in caught.value.message
    assert [p["rule_index"] for p in caught.value.problems] == [1, 2]


SCORES = dict(
    inputs=[("金额", "amount", "number")],
    outputs=[("level", "string", '"高","中","低"'), ("days", "integer")],
    rules=[
        (["> 0"], ['"低"', "30"]),
        (["> 100"], ['"中"', "15"]),
        (["> 1000"], ['"高"', "5"]),
        (["> 500"], ['"高"', "7"]),
    ],
)


def test_first_returns_the_first_match_in_rule_order():
    result = table(**SCORES, hit_policy="FIRST").evaluate({"amount": 2000})
    assert result.outputs == {"level": "低", "days": 30}
    assert result.matched == [1]


def test_priority_picks_by_output_values_order_then_rule_order():
    result = table(**SCORES, hit_policy="PRIORITY").evaluate({"amount": 2000})
    assert result.outputs == {"level": "高", "days": 5}
    assert result.matched == [3]
    assert table(**SCORES, hit_policy="PRIORITY").evaluate({"amount": 200}).outputs == {
        "level": "中",
        "days": 15,
    }


def test_priority_uses_the_first_output_that_has_output_values():
    prioritised = table(
        [("x", "x", "number")],
        [("note", "string"), ("level", "string", '"高","低"')],
        [(["-"], ['"甲"', '"低"']), (["> 5"], ['"乙"', '"高"'])],
        hit_policy="PRIORITY",
    )
    assert prioritised.evaluate({"x": 9}).outputs == {"note": "乙", "level": "高"}
    assert prioritised.evaluate({"x": 1}).outputs == {"note": "甲", "level": "低"}


def test_rule_order_lists_every_match_in_rule_order():
    result = table(**SCORES, hit_policy="RULE ORDER").evaluate({"amount": 2000})
    assert [o["days"] for o in result.outputs] == [30, 15, 5, 7]
    assert result.matched == [1, 2, 3, 4]


def test_output_order_sorts_by_output_priority():
    result = table(**SCORES, hit_policy="OUTPUT ORDER").evaluate({"amount": 2000})
    assert [o["level"] for o in result.outputs] == ["高", "高", "中", "低"]
    assert result.matched == [3, 4, 2, 1]


# "Routing rules" (DMN 1.3 §8.2.11, OUTPUT ORDER with a compound output)
ROUTING = dict(
    inputs=[
        ("Age", "age", "number"),
        ("Risk category", "risk", "string", '"LOW","MEDIUM","HIGH"'),
        ("Debt review", "debt_review", "boolean"),
    ],
    outputs=[
        ("routing", "string", '"DECLINE","REFER","ACCEPT"'),
        ("review", "string", '"LEVEL 2","LEVEL 1","NONE"'),
        ("reason", "string"),
    ],
    rules=[
        (["-", "-", "-"], ['"ACCEPT"', '"NONE"', '"Acceptable"']),
        (["< 18", "-", "-"], ['"DECLINE"', '"NONE"', '"Applicant too young"']),
        (["-", '"HIGH"', "-"], ['"REFER"', '"LEVEL 1"', '"High risk application"']),
        (["-", "-", "true"], ['"REFER"', '"LEVEL 2"', '"Applicant under debt review"']),
    ],
)


def test_routing_rules_output_order_uses_every_prioritised_output():
    result = table(**ROUTING, hit_policy="OUTPUT ORDER").evaluate(
        {"age": 17, "risk": "HIGH", "debt_review": True}
    )
    assert [(o["routing"], o["review"]) for o in result.outputs] == [
        ("DECLINE", "NONE"),
        ("REFER", "LEVEL 2"),
        ("REFER", "LEVEL 1"),
        ("ACCEPT", "NONE"),
    ]
    assert result.matched == [2, 4, 3, 1]


def test_routing_rules_priority_breaks_ties_on_the_next_prioritised_output():
    result = table(**ROUTING, hit_policy="PRIORITY").evaluate(
        {"age": 30, "risk": "HIGH", "debt_review": True}
    )
    assert result.outputs == {
        "routing": "REFER",
        "review": "LEVEL 2",
        "reason": "Applicant under debt review",
    }


ANY_TABLE = dict(
    inputs=[("类别", "kind", "string")],
    outputs=[("flag", "string")],
    rules=[(['"工业"'], ['"黄"']), (['"工业","三产"'], ['"黄"']), (['"三产"'], ['"红"'])],
)


def test_any_returns_the_common_output_of_equal_matches():
    result = table(**ANY_TABLE, hit_policy="ANY").evaluate({"kind": "工业"})
    assert result.outputs == {"flag": "黄"}
    assert result.matched == [1, 2]


def test_any_with_different_outputs_is_an_error():
    with pytest.raises(RuleError, match="ANY.*规则 2、规则 3.*输出不同") as caught:
        table(**ANY_TABLE, hit_policy="ANY").evaluate({"kind": "三产"})
    assert {p["rule_id"] for p in caught.value.problems} == {"r2", "r3"}


# A "Holidays"-style COLLECT table (DMN 1.3 §8.2.11): every matching rule adds days.
HOLIDAYS = dict(
    inputs=[("Age", "age", "number"), ("Years of Service", "service", "number")],
    outputs=[("holidays", "integer")],
    rules=[
        (["-", "-"], ["22"]),
        (["< 18, >= 60", "-"], ["5"]),
        (["-", ">= 30"], ["5"]),
        (["[18..60)", "[15..30)"], ["2"]),
        ([">= 60", "-"], ["3"]),
    ],
)


def test_collect_without_aggregation_lists_outputs_in_rule_order():
    result = table(**HOLIDAYS, hit_policy="COLLECT").evaluate({"age": 61, "service": 31})
    assert result.outputs == [{"holidays": 22}, {"holidays": 5}, {"holidays": 5}, {"holidays": 3}]
    assert result.matched == [1, 2, 3, 5]


@pytest.mark.parametrize(
    ("aggregation", "age", "service", "expected"),
    [
        ("SUM", 61, 31, 35),
        ("SUM", 40, 20, 24),
        ("MIN", 61, 31, 3),
        ("MAX", 40, 20, 22),
        ("COUNT", 61, 31, 4),
        ("COUNT", 40, 5, 1),
    ],
)
def test_collect_aggregations(aggregation, age, service, expected):
    holidays = table(**HOLIDAYS, hit_policy="COLLECT", aggregation=aggregation)
    result = holidays.evaluate({"age": age, "service": service})
    assert result.outputs == {"holidays": expected}
    assert result.to_audit()["aggregation"] == aggregation


def test_collect_sum_of_decimals_is_exact():
    fees = table(
        [("x", "x", "number")],
        [("fee", "number")],
        [(["-"], ["0.1"]), (["-"], ["0.2"])],
        hit_policy="COLLECT",
        aggregation="SUM",
    )
    assert fees.evaluate({"x": 1}).outputs == {"fee": 0.3}


def test_collect_without_matches():
    none_match = dict(inputs=[("x", "x", "number")], outputs=[("n", "integer")], rules=[(["> 5"], ["1"])])
    assert table(**none_match, hit_policy="COLLECT", aggregation="SUM").evaluate({"x": 1}).outputs == {
        "n": None
    }
    assert table(**none_match, hit_policy="COLLECT", aggregation="COUNT").evaluate({"x": 1}).outputs == {
        "n": 0
    }
    assert table(**none_match, hit_policy="COLLECT").evaluate({"x": 1}).outputs == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            dict(hit_policy="COLLECT", aggregation="SUM", outputs=[("a", "number"), ("b", "number")]),
            "只有一个输出列",
        ),
        (dict(hit_policy="FIRST", aggregation="SUM"), "只有 COLLECT"),
        (dict(hit_policy="COLLECT", aggregation="AVG"), "汇总方式“AVG”无效"),
        (dict(hit_policy="PRIORITY"), "需要在输出列上设置允许值"),
        (dict(hit_policy="OUTPUT ORDER"), "需要在输出列上设置允许值"),
        (dict(hit_policy="MAYBE"), "命中策略“MAYBE”无效"),
    ],
)
def test_invalid_hit_policy_setups_are_refused(kwargs, fragment):
    outputs = kwargs.pop("outputs", [("a", "number")])
    rules = [(["-"], ["1"] * len(outputs))]
    with pytest.raises(RuleError) as caught:
        parse_dmn(dmn([("x", "x", "number")], outputs, rules, **kwargs))
    assert fragment in caught.value.message


def test_collect_sum_refuses_text_and_empty_outputs():
    rules = [(["-"], ['"a"']), (["-"], [""])]
    with pytest.raises(RuleError) as caught:
        parse_dmn(dmn([("x", "x", "number")], [("a", "")], rules, hit_policy="COLLECT", aggregation="SUM"))
    assert [(p["rule_index"], p["column"]) for p in caught.value.problems] == [(1, "a"), (2, "a")]
    assert "不是数字" in caught.value.problems[0]["message"]
    assert "不能留空" in caught.value.problems[1]["message"]


def test_outputs_are_converted_to_their_type():
    typed = table(
        [("x", "x", "number")],
        [
            ("n", "integer"),
            ("rate", "number"),
            ("ok", "boolean"),
            ("due", "date"),
            ("note", "string"),
            ("nothing", ""),
        ],
        [(["-"], ["10", "0.15", "false", 'date("2024-10-01")', '"备注"', ""])],
    )
    outputs = typed.evaluate({"x": 1}).outputs
    assert outputs == {
        "n": 10,
        "rate": 0.15,
        "ok": False,
        "due": "2024-10-01",
        "note": "备注",
        "nothing": None,
    }
    assert type(outputs["n"]) is int


def test_result_is_a_fresh_dict_each_time():
    risk = table(**RISK)
    first = risk.evaluate({"age": 65, "history": "good"})
    first.outputs["rating"] = "changed"
    assert risk.evaluate({"age": 65, "history": "good"}).outputs == {"rating": "Medium"}


def test_to_audit_is_json_safe():
    import json

    result = table(**HOLIDAYS, hit_policy="COLLECT").evaluate({"age": "61.5", "service": 31})
    audit = json.loads(json.dumps(result.to_audit()))
    assert audit == {
        "decision_id": "d",
        "hit_policy": "COLLECT",
        "aggregation": None,
        "matched": [1, 2, 3, 5],
        "matched_rule_ids": ["r1", "r2", "r3", "r5"],
        "inputs": {"Age": 61.5, "Years of Service": 31},
        "outputs": [{"holidays": 22}, {"holidays": 5}, {"holidays": 5}, {"holidays": 3}],
    }


def test_twenty_rule_three_input_table_evaluates_well_under_a_tenth_of_a_millisecond():
    rules = []
    for n in range(20):
        rules.append(
            ([f"[{n * 10}..{n * 10 + 10})", '"工业","三产"' if n % 2 else '"农业"', "not(true)"], [f'"t{n}"'])
        )
    big = table(
        [("金额", "amount", "number"), ("领域", "field", "string"), ("紧急", "urgent", "boolean")],
        [("tier", "string")],
        rules,
        hit_policy="UNIQUE",
    )
    context = {"amount": 195, "field": "三产", "urgent": False}
    assert big.evaluate(context).outputs == {"tier": "t19"}
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(1000):
            big.evaluate(context)
        best = min(best, (time.perf_counter() - start) / 1000)
    assert best < 0.0001
