"""The editor bundles (web/static/dist/modeler.js, viewer.js, dmn.js) in Chromium, through the static
pages in tests/browser/harness/ opened as file:// URLs and mounted with the real process and rule files.

Screenshots: test-artifacts/browser/modeler_zh.png, viewer.png and dmn_zh.png."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"
HARNESS = Path(__file__).resolve().parent / "harness"
BUNDLES = [f"{name}.{ext}" for name in ("modeler", "viewer", "dmn") for ext in ("js", "css")]

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiff": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
}
SPIFF = "{" + NS["spiff"] + "}"
HAN = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.skipif(
    any(not (DIST / name).is_file() for name in BUNDLES),
    reason="editor bundles not built: run `npm ci && npm run build` (setup.sh does)",
)


def forms() -> list[dict]:
    """What a page would pass as options.forms: every form definition's key and title."""
    result = []
    for path in sorted((ROOT / "forms").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        result.append({"key": schema.get("$id") or path.stem, "title": schema.get("title", "")})
    return result


def decisions() -> list[dict]:
    result = []
    for path in sorted((ROOT / "processes").glob("*.dmn")):
        for decision in ET.parse(path).getroot().findall("dmn:decision", NS):
            result.append({"id": decision.get("id"), "name": decision.get("name", "")})
    return result


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def screenshot(artifacts_dir):
    folder = artifacts_dir / "browser"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / name
        page.screenshot(path=str(path), animations="disabled")
        return path

    return take


def open_modeler(page, lang: str = "zh", signals: list | None = None) -> None:
    page.goto((HARNESS / "modeler.html").as_uri())
    page.evaluate(
        """async ([xml, options]) => {
          window.changes = 0;
          window.modeler = Jienan.modeler.mount(
            document.getElementById("canvas"), document.getElementById("properties"), { xml, ...options });
          window.modeler.onChange(() => { window.changes += 1; });
          await window.modeler.ready;
        }""",
        [
            (ROOT / "processes" / "case_handling.bpmn").read_text(encoding="utf-8"),
            {"lang": lang, "forms": forms(), "decisions": decisions(), "signals": signals or []},
        ],
    )


def open_group(page, label: str) -> None:
    header = page.locator(".bio-properties-panel-group-header", has_text=label)
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def open_all_groups(page) -> None:
    closed = page.locator(".bio-properties-panel-group-header:not(.open)")
    while closed.count():
        closed.first.click()


def select(page, element_id: str) -> None:
    assert page.evaluate("(id) => window.modeler.selectElement(id)", element_id)


def edit_text(page, entry_id: str, value: str) -> None:
    """Types into a debounced panel field and waits until the change reached the command stack."""
    before = page.evaluate("window.changes")
    field = page.locator(f"#bio-properties-panel-{entry_id}")
    field.fill(value)
    field.blur()
    page.wait_for_function("(n) => window.changes > n", arg=before)


def exported(page) -> ET.Element:
    return ET.fromstring(page.evaluate("window.modeler.getXML()").encode("utf-8"))


def node(root: ET.Element, element_id: str) -> ET.Element:
    found = root.find(f".//*[@id='{element_id}']")
    assert found is not None, element_id
    return found


def spiff_properties(task: ET.Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in task.iterfind(f"bpmn:extensionElements/{SPIFF}properties/{SPIFF}property", NS)
    }


def called_decision(task: ET.Element) -> str | None:
    called = task.find(f"bpmn:extensionElements/{SPIFF}calledDecisionId", NS)
    return None if called is None else called.text


def spiff_elements(root: ET.Element) -> list[tuple]:
    return [
        (e.tag, sorted(e.attrib.items()), (e.text or "").strip())
        for e in root.iter()
        if e.tag.startswith(SPIFF)
    ]


# --- modeler ----------------------------------------------------------------------------------------


def test_modeler_renders_in_chinese_and_edits_the_form_through_the_panel(page, screenshot):
    open_modeler(page)
    assert page.locator('.djs-element[data-element-id="handle"]').count() == 1

    palette = page.locator(".djs-palette .entry[data-action]")
    labels = [palette.nth(i).get_attribute("aria-label") for i in range(palette.count())]
    assert "创建任务" in labels and "创建开始事件" in labels
    assert all(HAN.search(label or "") for label in labels), labels

    select(page, "dispatch")
    assert page.locator(".bio-properties-panel-header-type").inner_text() == "用户任务"
    open_group(page, "办理设置")
    form = page.locator("#bio-properties-panel-jienanFormKey")
    assert form.input_value() == "dispatch"
    form.select_option("feedback")
    assert page.evaluate("window.changes") >= 1

    root = exported(page)
    assert spiff_properties(node(root, "dispatch")) == {"formKey": "feedback", "caseStatus": "dispatching"}
    assert called_decision(node(root, "triage")) == "triage"

    # Everything this test (and a user browsing the menus) sees is translated.
    page.locator('.djs-context-pad .entry[data-action="replace"]').click()
    assert page.locator(".djs-popup-title", has_text="更改元素类型").count() == 1
    page.keyboard.press("Escape")
    for element_id in ("triage", "to_department", "timer_on_site", "flow_reopen_round", "signal_escalate"):
        select(page, element_id)
        open_all_groups(page)
    assert page.evaluate("Array.from(Jienan.i18n.missing)") == []

    select(page, "dispatch")
    open_group(page, "基本信息")
    open_group(page, "办理设置")
    open_group(page, "说明")
    screenshot(page, "modeler_zh.png")


def test_modeler_round_trips_spiffworkflow_extensions(page):
    source = ET.parse(ROOT / "processes" / "case_handling.bpmn").getroot()
    open_modeler(page)
    root = exported(page)
    assert spiff_elements(root) == spiff_elements(source)
    for script_task in source.iterfind(".//bpmn:scriptTask", NS):
        again = node(root, script_task.get("id"))
        assert again.get("scriptFormat") == "python"
        assert again.findtext("bpmn:script", namespaces=NS) == script_task.findtext(
            "bpmn:script", namespaces=NS
        )
    for flow in source.iterfind(".//bpmn:sequenceFlow", NS):
        condition = flow.findtext("bpmn:conditionExpression", namespaces=NS)
        assert node(root, flow.get("id")).findtext("bpmn:conditionExpression", namespaces=NS) == condition


def test_modeler_panel_creates_and_removes_extensions_on_new_elements(page):
    open_modeler(page)
    page.evaluate(
        """() => {
          const bpmnjs = window.modeler.bpmnjs;
          const modeling = bpmnjs.get("modeling");
          const lane = bpmnjs.get("elementRegistry").get("lane_supervisor");
          const create = (type, id, dx) => {
            const businessObject = bpmnjs.get("bpmnFactory").create(type, { id });
            const shape = bpmnjs.get("elementFactory").createShape({ type, businessObject });
            modeling.createShape(shape, { x: lane.x + lane.width - dx, y: lane.y + lane.height / 2 }, lane);
          };
          create("bpmn:UserTask", "new_user_task", 400);
          create("bpmn:BusinessRuleTask", "new_rule_task", 250);
        }"""
    )
    select(page, "new_user_task")
    open_group(page, "办理设置")
    page.locator("#bio-properties-panel-jienanFormKey").select_option("verify")
    edit_text(page, "jienanCaseStatus", "verifying")
    select(page, "new_rule_task")
    open_group(page, "办理设置")
    page.locator("#bio-properties-panel-jienanCalledDecision").select_option("supervision")

    root = exported(page)
    assert spiff_properties(node(root, "new_user_task")) == {"formKey": "verify", "caseStatus": "verifying"}
    assert called_decision(node(root, "new_rule_task")) == "supervision"

    select(page, "new_user_task")
    open_group(page, "办理设置")
    page.locator("#bio-properties-panel-jienanFormKey").select_option("")
    edit_text(page, "jienanCaseStatus", "")
    assert node(exported(page), "new_user_task").find("bpmn:extensionElements", NS) is None

    page.evaluate("window.modeler.bpmnjs.get('commandStack').undo()")
    assert spiff_properties(node(exported(page), "new_user_task")) == {"caseStatus": "verifying"}


def test_modeler_panel_edits_scripts_conditions_and_timers(page):
    open_modeler(page)
    select(page, "to_department")
    open_group(page, "办理设置")
    edit_text(page, "jienanScript", 'tier = "department"\nrecord("转部门办", "escalation")')
    select(page, "flow_reopen_round")
    open_group(page, "办理设置")
    edit_text(page, "jienanCondition", "round_no > 2")
    select(page, "timer_on_site")
    open_group(page, "定时器")
    assert page.locator("#bio-properties-panel-timerEventDefinitionType").input_value() == "timeDate"
    edit_text(page, "timerEventDefinitionValue", "working_days_after(now_iso(), 2)")

    root = exported(page)
    script_task = node(root, "to_department")
    assert (
        script_task.findtext("bpmn:script", namespaces=NS)
        == 'tier = "department"\nrecord("转部门办", "escalation")'
    )
    assert script_task.get("scriptFormat") == "python"
    assert (
        node(root, "flow_reopen_round").findtext("bpmn:conditionExpression", namespaces=NS) == "round_no > 2"
    )
    timer = node(root, "timer_on_site").find("bpmn:timerEventDefinition/bpmn:timeDate", NS)
    assert timer.text == "working_days_after(now_iso(), 2)"


def test_modeler_offers_the_engines_signals(page):
    open_modeler(page, signals=[{"id": "signal_case_withdrawn", "name": "诉求撤回"}])
    select(page, "signal_escalate")
    open_group(page, "信号")
    signal_ref = page.locator("#bio-properties-panel-signalRef")
    assert signal_ref.input_value() == "signal_overdue_escalation"
    signal_ref.select_option("signal_case_withdrawn")

    root = exported(page)
    signal = root.find("bpmn:signal[@id='signal_case_withdrawn']", NS)
    assert signal is not None and signal.get("name") == "诉求撤回"
    definition = node(root, "signal_escalate").find("bpmn:signalEventDefinition", NS)
    assert definition.get("signalRef") == "signal_case_withdrawn"


def test_modeler_pins_problems_on_their_elements(page):
    open_modeler(page)
    unpinned = page.evaluate(
        """() => window.modeler.showProblems([
          { element_id: "handle", message: "表单 feedback 缺少字段 handling_step" },
          { element_id: "handle", message: "案件状态为空" },
          { element_id: null, message: "流程没有开始事件" },
          { element_id: "no_such_element", message: "已删除的元素" },
        ])"""
    )
    assert [p["message"] for p in unpinned] == ["流程没有开始事件", "已删除的元素"]
    assert page.locator('.djs-element.jienan-problem[data-element-id="handle"]').count() == 1
    badge = page.locator(".jienan-problem-badge")
    assert badge.count() == 1 and badge.inner_text() == "2"
    assert "案件状态为空" in badge.get_attribute("title")

    page.evaluate("window.modeler.showProblems([{ element_id: 'dispatch', message: '未选择表单' }])")
    assert page.locator(".djs-element.jienan-problem").count() == 1
    assert page.locator('.djs-element.jienan-problem[data-element-id="dispatch"]').count() == 1
    page.evaluate("window.modeler.clearProblems()")
    assert page.locator(".djs-element.jienan-problem, .jienan-problem-badge").count() == 0


def test_modeler_in_english_is_untranslated(page):
    open_modeler(page, lang="en")
    assert (
        page.locator('.djs-palette .entry[data-action="create.task"]').get_attribute("aria-label")
        == "Create task"
    )
    select(page, "triage")
    assert page.locator(".bio-properties-panel-group-header", has_text="Case handling").count() == 1


# --- viewer -----------------------------------------------------------------------------------------

COMPLETED = [
    "start",
    "gw_round",
    "triage",
    "gw_tier",
    "gw_merge_dispatch",
    "dispatch",
    "gw_leader",
    "gw_merge_sign",
    "supervision_rules",
    "set_sign_limit",
    "sign_for",
]


def test_viewer_highlights_progress_and_reports_clicks(page, screenshot):
    page.goto((HARNESS / "viewer.html").as_uri())
    page.evaluate(
        """async ([xml, completed]) => {
          window.clicks = [];
          window.viewer = Jienan.viewer.mount(document.getElementById("viewer"), {
            xml, completed, current: ["handle"], lang: "zh",
            onElementClick: (id, name) => window.clicks.push([id, name]),
          });
          await window.viewer.ready;
        }""",
        [(ROOT / "processes" / "case_handling.bpmn").read_text(encoding="utf-8"), COMPLETED],
    )
    completed = page.locator(".djs-element.jienan-completed")
    ids = {completed.nth(i).get_attribute("data-element-id") for i in range(completed.count())}
    assert set(COMPLETED) <= ids
    assert "flow_new_case" in ids  # a flow between two completed elements counts as taken
    assert page.locator('.djs-element.jienan-current[data-element-id="handle"]').count() == 1
    assert page.locator('.djs-element.jienan-clickable[data-element-id="handle"]').count() == 1
    screenshot(page, "viewer.png")

    page.locator('.djs-element[data-element-id="handle"]').click()
    assert page.evaluate("window.clicks") == [["handle", "办理反馈"]]

    page.evaluate("window.viewer.highlight(['start'], ['gw_round'])")
    assert page.locator(".djs-element.jienan-completed").count() == 2  # start and its flow
    assert page.locator('.djs-element.jienan-current[data-element-id="gw_round"]').count() == 1
    assert page.locator('.djs-element.jienan-current[data-element-id="handle"]').count() == 0


# --- rule tables ------------------------------------------------------------------------------------


def test_dmn_editor_edits_the_triage_table_in_chinese(page, screenshot):
    source_xml = (ROOT / "processes" / "triage.dmn").read_text(encoding="utf-8")
    page.goto((HARNESS / "dmn.html").as_uri())
    page.evaluate(
        """async (xml) => {
          window.changes = 0;
          window.rules = Jienan.dmn.mount(document.getElementById("dmn"), { xml, lang: "zh" });
          window.rules.onChange(() => { window.changes += 1; });
          await window.rules.ready;
        }""",
        source_xml,
    )
    table = page.locator(".tjs-table")
    assert table.count() == 1
    text = page.locator(".jienan-dmn").inner_text()
    for label in ("诉求分级分类", "命中策略", "条件", "结果", "备注", "紧急程度", "办理时限（工作日）"):
        assert label in text, label
    assert page.locator(".view-drd").count() == 0
    assert page.locator('[title="添加规则"]').count() >= 1

    # Rules: add one below the first through the context menu.
    rows_before = page.locator("tbody tr").count()
    page.locator('td[data-element-id="rule_major_urgency"]').click(button="right")
    menu = page.locator(".context-menu")
    assert "在下方添加规则" in menu.inner_text() and "删除规则" in menu.inner_text()
    menu.get_by_text("在下方添加规则").click()
    assert page.locator("tbody tr").count() == rows_before + 1
    assert page.evaluate("window.changes") >= 1

    # Simple mode offers the column's input values as a pick list.
    page.locator('td[data-element-id="rule_extra_urgent_urgency"]').click()
    page.locator(".simple-mode-button").click()
    picker = page.locator(".context-menu")
    assert "预设取值" in picker.inner_text()
    options = [item.replace("\xa0", " ").strip() for item in picker.locator("li.item").all_inner_texts()]
    assert options == ['"一般"', '"紧急"', '"特急"', '"重大"']
    picker.locator("li.item", has_text='"重大"').locator("input[type=checkbox]").check()
    screenshot(page, "dmn_zh.png")
    page.keyboard.press("Escape")

    root = ET.fromstring(page.evaluate("window.rules.getXML()").encode("utf-8"))
    source = ET.fromstring(source_xml.encode("utf-8"))
    entry = root.find(".//dmn:inputEntry[@id='rule_extra_urgent_urgency']", NS)
    assert entry.findtext("dmn:text", namespaces=NS) == '"特急","重大"'

    def columns(tree):
        inputs = [
            (
                i.get("id"),
                i.get("label"),
                i.find("dmn:inputExpression", NS).get("typeRef"),
                i.findtext("dmn:inputValues/dmn:text", namespaces=NS),
            )
            for i in tree.iterfind(".//dmn:input", NS)
        ]
        outputs = [
            (
                o.get("id"),
                o.get("name"),
                o.get("typeRef"),
                o.findtext("dmn:outputValues/dmn:text", namespaces=NS),
            )
            for o in tree.iterfind(".//dmn:output", NS)
        ]
        return inputs, outputs

    assert columns(root) == columns(source)
    descriptions = [d.text for d in root.iterfind(".//dmn:rule/dmn:description", NS)]
    assert descriptions == [d.text for d in source.iterfind(".//dmn:rule/dmn:description", NS)]
    assert root.find(".//dmn:decisionTable", NS).get("hitPolicy") == "FIRST"
    assert page.evaluate("Array.from(Jienan.i18n.missing)") == []
