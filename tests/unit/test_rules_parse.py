"""parse_dmn: safe XML intake, DMN versions, the model it builds, bad cells refused naming rule and column."""

from xml.sax.saxutils import escape

import pytest

from engine.errors import RuleError
from engine.errors import SpecError
from engine.rules import DecisionTable
from engine.rules import parse_dmn

NS13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def tier_table(
    cells=('"紧急"', "< 100"), outputs=('"部门"', "10"), ns=NS13, extra="", input_values='"一般","紧急"'
):
    """A two-input, two-output table with one rule whose cells the test chooses."""
    entries = "".join(
        f'<inputEntry id="ie{n}"><text>{escape(c)}</text></inputEntry>' for n, c in enumerate(cells, 1)
    )
    entries += "".join(
        f'<outputEntry id="oe{n}"><text>{escape(c)}</text></outputEntry>' for n, c in enumerate(outputs, 1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{ns}" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
             xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="defs" name="分级" namespace="jienan">
  <decision id="tier" name="定级">
    <decisionTable id="t1">
      <input id="in1" label="紧急程度">
        <inputExpression id="ie_expr1" typeRef="string"><text>problem.urgency</text></inputExpression>
        <inputValues><text>{escape(input_values)}</text></inputValues>
      </input>
      <input id="in2" label="金额">
        <inputExpression id="ie_expr2" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="out1" label="层级" name="tier" typeRef="string">
        <outputValues><text>"部门","市领导","省"</text></outputValues>
      </output>
      <output id="out2" label="时限（天）" name="days" typeRef="integer"/>
      <rule id="rule_a">
        <description>紧急小额问题由部门办理</description>
        {entries}
      </rule>
      {extra}
    </decisionTable>
  </decision>
  <dmndi:DMNDI><dmndi:DMNDiagram id="dia"><dmndi:DMNShape id="s" dmnElementRef="tier">
    <dc:Bounds height="80" width="180" x="160" y="100"/></dmndi:DMNShape></dmndi:DMNDiagram></dmndi:DMNDI>
</definitions>"""


def refused(xml) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_dmn(xml)
    assert isinstance(caught.value, SpecError)
    return caught.value


def test_parse_builds_the_model():
    document = parse_dmn(tier_table(), source="tier.dmn")
    assert list(document.decisions) == ["tier"]
    decision = document.decisions["tier"]
    assert (decision.decision_id, decision.name) == ("tier", "定级")
    table = decision.table
    assert isinstance(table, DecisionTable)
    assert (table.decision_id, table.name, table.hit_policy, table.aggregation) == (
        "tier",
        "定级",
        "UNIQUE",
        None,
    )
    assert [(i.input_id, i.label, i.expression, i.type_ref) for i in table.inputs] == [
        ("in1", "紧急程度", "problem.urgency", "string"),
        ("in2", "金额", "amount", "number"),
    ]
    assert table.inputs[0].allowed_values == ["一般", "紧急"]
    assert table.inputs[1].allowed_values is None
    assert [(o.output_id, o.label, o.name, o.type_ref) for o in table.outputs] == [
        ("out1", "层级", "tier", "string"),
        ("out2", "时限（天）", "days", "integer"),
    ]
    assert table.outputs[0].allowed_values == ["部门", "市领导", "省"]
    rule = table.rules[0]
    assert (rule.rule_id, rule.index, rule.annotation) == ("rule_a", 1, "紧急小额问题由部门办理")
    assert rule.input_entries == ['"紧急"', "< 100"]
    assert rule.output_entries == ['"部门"', "10"]
    assert table.evaluate({"problem": {"urgency": "紧急"}, "amount": 50}).outputs == {
        "tier": "部门",
        "days": 10,
    }
    assert document.evaluate("tier", {"problem": {"urgency": "紧急"}, "amount": 500}).outputs is None


@pytest.mark.parametrize(
    "namespace",
    [
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
        "http://www.omg.org/spec/DMN/20180521/MODEL/",
        "https://www.omg.org/spec/DMN/20191111/MODEL/",
        "https://www.omg.org/spec/DMN/20211108/MODEL/",
        "https://www.omg.org/spec/DMN/20230324/MODEL/",
    ],
)
def test_dmn_1_1_to_1_5_namespaces_are_accepted(namespace):
    document = parse_dmn(tier_table(ns=namespace).encode("utf-8"))
    assert document.namespace == namespace
    assert document.decisions["tier"].table.rules[0].outputs == {"tier": "部门", "days": 10}


def test_unknown_decision_is_a_rule_error():
    with pytest.raises(RuleError) as caught:
        parse_dmn(tier_table()).decision("nope")
    error = caught.value
    assert "没有决策“nope”" in error.message
    assert "tier" in error.message


def test_several_decisions_are_parsed_and_decisions_without_tables_refused():
    literal = (
        '<decision id="note" name="说明"><literalExpression><text>"x"</text></literalExpression></decision>'
    )
    xml = tier_table().replace("<dmndi:DMNDI>", literal + "<dmndi:DMNDI>")
    error = refused(xml)
    assert "决策“说明”不是决策表" in error.message
    assert error.problems[0]["element_id"] == "note"


# --- cells refused at parse time, naming rule and column ------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "outputs", "column", "element_id", "fragment"),
    [
        (
            ('"紧急"', '"abc"'),
            ('"部门"', "10"),
            "金额",
            "ie2",
            '规则 1 的“金额”列有误：该列类型为 number（数字），不能写文本 "abc"',
        ),
        (
            ("紧急", "< 100"),
            ('"部门"', "10"),
            "紧急程度",
            "ie1",
            "规则 1 的“紧急程度”列无法解析：第 1 个字符处的“紧急”不是字面值",
        ),
        (("“紧急”", "< 100"), ('"部门"', "10"), "紧急程度", "ie1", "中文标点"),
        (
            ('"特急"', "< 100"),
            ('"部门"', "10"),
            "紧急程度",
            "ie1",
            '"特急" 不在该列的允许值中（"一般"、"紧急"）',
        ),
        (("5", "< 100"), ('"部门"', "10"), "紧急程度", "ie1", '文本要用英文双引号括起来，例如 "5"'),
        (('"紧急"', "[100..10]"), ('"部门"', "10"), "金额", "ie2", "下限应小于上限"),
        (('"紧急"', "> true"), ('"部门"', "10"), "金额", "ie2", "true/false 不能比较大小"),
        (('"紧急"', "< 100"), ("部门", "10"), "层级", "oe1", "规则 1 的“层级”列无法解析"),
        (('"紧急"', "< 100"), ('"处长"', "10"), "层级", "oe1", '"处长" 不在该列的允许值中'),
        (('"紧急"', "< 100"), ('"部门"', "days + 1"), "时限（天）", "oe2", "只能写字面值"),
        (('"紧急"', "< 100"), ('"部门"', "2.5"), "时限（天）", "oe2", "整数类型，不能写小数 2.5"),
        (('"紧急"', "< 100"), ('"部门"', '"10"'), "时限（天）", "oe2", '不能写文本 "10"'),
    ],
)
def test_bad_cells_are_refused_naming_rule_and_column(cells, outputs, column, element_id, fragment):
    error = refused(tier_table(cells=cells, outputs=outputs))
    assert fragment in error.message
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert (problem["rule_index"], problem["rule_id"], problem["column"]) == (1, "rule_a", column)
    assert problem["element_id"] == element_id


def test_all_problems_are_collected():
    extra = """<rule id="rule_b">
      <inputEntry><text>"紧急"</text></inputEntry><inputEntry><text>'x'</text></inputEntry>
      <outputEntry><text>"省"</text></outputEntry><outputEntry><text>1</text></outputEntry></rule>"""
    error = refused(tier_table(cells=('"紧急"', '"abc"'), extra=extra))
    assert error.message.startswith("DMN 文件有 2 处问题，第一处：规则 1 的“金额”列有误")
    assert [(p["rule_index"], p["column"]) for p in error.problems] == [(1, "金额"), (2, "金额")]


def test_untyped_text_comparison_is_refused():
    xml = tier_table().replace('typeRef="string"', "")
    error = refused(xml.replace('"紧急"</text></inputEntry>', '&lt; "紧急"</text></inputEntry>'))
    assert "请把该输入列的类型设为 string" in error.message


def test_rule_with_wrong_number_of_cells_is_refused():
    error = refused(tier_table(cells=('"紧急"',)))
    assert "规则 1 有 1 个条件、2 个输出，但表有 2 个输入列、2 个输出列" in error.message


def test_unsupported_type_ref_is_refused():
    error = refused(tier_table().replace('typeRef="number"', 'typeRef="dateTime"'))
    assert "“金额”列的类型“dateTime”不受支持" in error.message
    assert error.problems[0]["element_id"] == "in2"


def test_allowed_values_must_be_literals_of_the_column_type():
    assert "允许值只能是逗号分隔的字面值" in refused(tier_table(input_values='not("一般")')).message
    assert "允许值有误" in refused(tier_table(input_values='"一般", 5')).message


def test_duplicate_output_names_are_refused():
    error = refused(tier_table().replace('name="days"', 'name="tier"'))
    assert "输出列名“tier”重复" in error.message


# --- safe XML -----------------------------------------------------------------------------------------


def test_malformed_xml_reports_the_line():
    error = refused(f"<definitions xmlns='{NS13}'>\n  <decision id='d'>\n</definitions>")
    assert "不是合法的 XML（第 3 行）" in error.message
    assert error.problems[0]["line"] == 3


XXE = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d">
  <decision id="x" name="&xxe;"/>
</definitions>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d">&lol4;</definitions>"""

PLAIN_DOCTYPE = '<!DOCTYPE definitions SYSTEM "http://example.com/dmn.dtd">' + tier_table().split("?>", 1)[1]


@pytest.mark.parametrize(
    "xml", [XXE, BILLION_LAUGHS, PLAIN_DOCTYPE], ids=["xxe", "billion-laughs", "doctype"]
)
def test_doctype_and_entities_are_refused(xml):
    error = refused(xml)
    assert "DOCTYPE/ENTITY" in error.message


def test_doctype_hidden_in_utf16_is_refused_after_parsing():
    xml = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE definitions>' + tier_table().split("?>", 1)[1]
    data = xml.encode("utf-16")
    assert b"<!DOCTYPE" not in data
    assert "DOCTYPE/ENTITY" in refused(data).message


def test_oversized_input_is_refused():
    padding = "<!-- " + "x" * (2 * 1024 * 1024) + " -->"
    error = refused(tier_table().replace("</definitions>", padding + "</definitions>"))
    assert "过大" in error.message
    assert "2 MB" in error.message


def test_comments_are_dropped():
    xml = tier_table(cells=('"紧急"', "< 100"), extra="<!-- a comment between rules -->")
    assert len(parse_dmn(xml).decisions["tier"].table.rules) == 1


@pytest.mark.parametrize(
    ("xml", "fragment"),
    [
        (
            '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
            "不是 DMN：根元素是 definitions",
        ),
        (f'<decision xmlns="{NS13}" id="d"/>', "不是 DMN：根元素是 decision"),
        ("<html><body/></html>", "命名空间 无"),
    ],
)
def test_non_dmn_xml_is_refused(xml, fragment):
    assert fragment in refused(xml).message


def test_dmn_without_decisions_is_refused():
    assert "没有任何决策" in refused(f'<definitions xmlns="{NS13}" id="d"/>').message
