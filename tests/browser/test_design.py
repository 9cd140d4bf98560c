"""Designers and managers change the system in the browser: a rule table edited in dmn-js and published with
its examples passing; an invalid diagram shows its errors on the elements and does not deploy; a designer adds a
step in the modeler and deploys it, new cases take it while a running case stays on its version; a designer
imports a file whose process id is taken, sees the process it matches and gets a new process (a draft)."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlalchemy import select

from engine.storage.models import ProcessVersion
from engine.storage.models import WorkflowInstance


def _versions(eng):
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(ProcessVersion))


def _instance_version(eng, case_id):
    with eng.db.read() as session:
        return session.scalars(
            select(WorkflowInstance.version_id).where(WorkflowInstance.case_id == case_id)
        ).first()


def _edit_cell(page, element_id: str, text: str) -> None:
    """Replace the text of a dmn-js decision-table cell as a user does: click, select all, type."""
    cell = page.locator(f'td[data-element-id="{element_id}"]')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Escape")


def test_manager_changes_a_categorys_tier_and_the_next_case_gets_it(eng, page_as, shot, journey):
    manager = page_as("manager")
    manager.set_viewport_size({"width": 1400, "height": 1000})
    manager.goto("/rules/triage")
    manager.wait_for_selector('td[data-element-id="rule_complex_category_tier"]')
    # Keep an example first: 重大 → 市领导办 must stay true after the change.
    manager.select_option("#in-urgency", "重大")
    manager.click("#try-form button[type=submit]")
    manager.wait_for_selector("#try-result .fw-semibold")
    assert "city_leader" in manager.locator("#try-result").inner_text()
    manager.once("dialog", lambda dialog: dialog.accept("重大问题市领导办"))
    manager.click("#btn-keep")
    manager.wait_for_selector("[data-example]")
    # 用地/融资/政策兑现 (rule 5) now go to the city leader with 20 working days.
    _edit_cell(manager, "rule_complex_category_tier", '"city_leader"')
    _edit_cell(manager, "rule_complex_category_days", "20")
    manager.select_option("#in-urgency", "一般")
    manager.select_option("#in-category", "用地")
    manager.click("#try-form button[type=submit]")
    manager.wait_for_function("() => document.querySelector('#try-result').innerText.includes('20')")
    manager.click("#btn-check")
    manager.wait_for_selector(".jn-example-result.text-success")
    manager.click("#btn-preview")
    manager.wait_for_selector("#preview .fw-semibold")
    manager.fill("#comment", "用地、融资、政策兑现类问题改由市领导协调")
    manager.click("#btn-publish")
    manager.wait_for_function("() => document.querySelector('#status').innerText.includes('已发布版本')")
    shot(manager, "01-published")
    case_id = journey.register(category="用地", urgency="一般")["case_id"]
    page = journey.case(case_id)
    assert page["tier"] == "city_leader" and page["time_limit_days"] == 20


def test_invalid_diagram_shows_errors_on_the_elements_and_does_not_deploy(eng, page_as, shot):
    designer = page_as("designer")
    designer.set_viewport_size({"width": 1400, "height": 900})
    designer.goto("/design/processes/case_handling/edit")
    designer.wait_for_selector('[data-element-id="dispatch"]')
    before = _versions(eng)
    designer.evaluate("window.jienanModeler.selectElement('count_return')")
    designer.locator("#properties .bio-properties-panel-group-header", has_text="办理设置").click()
    script = designer.locator("#properties textarea:visible").first
    script.wait_for()
    script.fill("import os\nreturns_count = returns_count + 1")
    designer.click("#btn-deploy")
    designer.wait_for_selector("#problems:not(.d-none)")
    assert "count_return" in designer.locator("#problems").inner_text()
    assert designer.locator('[data-element-id="count_return"].jienan-problem').count() == 1
    assert designer.locator(".jienan-problem-badge").count() >= 1
    shot(designer, "01-errors-on-elements")
    assert _versions(eng) == before


def _screen_point(page, x: float, y: float) -> tuple[float, float]:
    """Where diagram coordinate (x, y) is on the screen now."""
    return tuple(
        page.evaluate(
            """([x, y]) => {
                const canvas = window.jienanModeler.bpmnjs.get("canvas");
                const box = canvas.viewbox();
                const rect = canvas.getContainer().getBoundingClientRect();
                return [rect.left + (x - box.x) * box.scale, rect.top + (y - box.y) * box.scale];
            }""",
            [x, y],
        )
    )


def test_designer_adds_a_step_and_deploys_new_cases_take_it_running_cases_stay(eng, page_as, shot, journey):
    running = journey.register()["case_id"]
    journey.dispatch(running)
    old_version = _instance_version(eng, running)

    designer = page_as("designer")
    designer.set_viewport_size({"width": 1400, "height": 900})
    designer.goto("/design/processes/case_handling/edit")
    designer.wait_for_selector('[data-element-id="dispatch"]')
    # Bring the verified → revisit flow into view and drop a new task onto its long horizontal stretch.
    designer.evaluate("window.jienanModeler.selectElement('flow_verify_pass')")
    designer.keyboard.press("Escape")
    designer.click('.djs-palette [data-action="create.task"]')
    x, y = _screen_point(designer, 3240, 160)
    designer.mouse.move(x - 40, y - 40)
    designer.mouse.move(x, y, steps=5)
    designer.mouse.click(x, y)
    new_task = designer.evaluate("window.jienanModeler.bpmnjs.get('selection').get()[0].id")
    assert re.match(r"Activity_", new_task)
    # Make it a user task (the wrench), name it, pick its form in the properties panel.
    designer.click('.djs-context-pad [data-action="replace"]')
    designer.click('.djs-popup [data-id="replace-with-user-task"]')
    new_task = designer.evaluate("window.jienanModeler.bpmnjs.get('selection').get()[0].id")
    designer.locator("#properties .bio-properties-panel-group-header", has_text="基本信息").click()
    designer.fill("#properties #bio-properties-panel-name", "复核")
    designer.locator("#properties .bio-properties-panel-group-header", has_text="办理设置").click()
    form_select = designer.locator("#properties select:visible").first
    form_select.select_option("verify")
    shot(designer, "01-new-step")
    designer.fill("#deploy-comment", "审核通过后由助企干部复核")
    designer.click("#btn-deploy")
    designer.wait_for_function("() => document.querySelector('#status').innerText.includes('已部署为版本')")
    shot(designer, "02-deployed")

    fresh = journey.register()["case_id"]
    new_version = _instance_version(eng, fresh)
    assert new_version != old_version and _instance_version(eng, running) == old_version
    journey.handle_to_revisit(running)
    assert journey.case(running)["status"] == "revisiting"  # the old version: verify → revisit
    journey.dispatch(fresh)
    journey.handle_to_revisit(fresh)
    assert journey.case(fresh)["status"] != "revisiting"  # the new version: verify → 复核
    step = journey.task("registrar", fresh)
    assert step["task_name"] == new_task and step["title"] == "复核"


def test_designer_edits_a_form_with_a_live_preview(eng, page_as, shot):
    designer = page_as("designer")
    designer.set_viewport_size({"width": 1400, "height": 1000})
    designer.goto("/design/forms")
    designer.click('[data-form="verify"]')
    designer.wait_for_selector('#preview [name="verdict"]')
    text = designer.input_value("#schema")
    designer.fill("#schema", text.replace('"审核意见"', '"审核意见（必填说明理由）"', 1)[:-3])
    designer.wait_for_selector("#problems:not(.d-none)")
    assert "不是有效的 JSON" in designer.locator("#problems").inner_text()
    designer.fill("#schema", text.replace('"审核意见"', '"审核意见（必填说明理由）"', 1))
    designer.wait_for_function("() => document.querySelector('#preview').innerText.includes('必填说明理由')")
    designer.fill("#comment", "审核意见标题写明要求")
    designer.click("#btn-save")
    designer.wait_for_function("() => document.querySelector('#status').innerText.includes('已保存为版本')")
    shot(designer, "01-form-saved")
    assert "必填说明理由" in eng.forms.get("verify").schema["properties"]["verify_comment"]["title"]


def test_case_page_diagram_highlights_the_path_and_lists_an_elements_events(eng, page_as, shot, journey):
    case = journey.register()
    journey.dispatch(case["case_id"])
    dispatcher = page_as("dispatcher")
    dispatcher.goto(f"/cases/{case['case_id']}")
    dispatcher.wait_for_selector('#case-diagram [data-element-id="dispatch"]')
    marked = dispatcher.evaluate(
        """() => ['dispatch', 'sign_for'].map((id) =>
            document.querySelector(`#case-diagram [data-element-id="${id}"]`).getAttribute('class'))"""
    )
    assert "completed" in marked[0] and "current" in marked[1]
    dispatcher.evaluate("document.querySelector('#case-diagram').scrollIntoView()")
    box = dispatcher.locator('#case-diagram [data-element-id="sign_for"] .djs-hit').first.bounding_box()
    dispatcher.mouse.click(box["x"] + box["width"] / 2, box["y"] + 8)  # the top edge: no flow crosses it
    dispatcher.wait_for_selector("#diagram-events:not(.d-none)")
    assert "任务“签收”待办理" in dispatcher.locator("#diagram-events").inner_text()
    shot(dispatcher, "01-diagram")


def test_designer_imports_a_file_whose_id_is_taken_and_gets_a_new_process(
    eng, page_as, shot, journey, tmp_path
):
    running = journey.register()["case_id"]
    live = _instance_version(eng, running)
    with eng.db.read() as session:
        exported = session.get(ProcessVersion, live).bpmn_xml
    upload = tmp_path / "case_handling.bpmn"  # what 导出 gave, brought back from another modeler
    upload.write_text(exported, encoding="utf-8")
    count = _versions(eng)

    designer = page_as("designer")
    designer.set_viewport_size({"width": 1280, "height": 900})
    designer.goto("/design/")
    designer.click("text=导入 .bpmn")
    designer.set_input_files("#file", str(upload))
    match = designer.locator('#import-match [data-match="case_handling"]')
    match.wait_for()
    assert "企业诉求办理" in match.inner_text()
    assert match.locator("[data-live]").inner_text() == f"#{live}"
    assert match.locator("[data-running]").inner_text() == "1"
    assert designer.is_checked("#target-new") and designer.is_enabled("#target-draft")
    assert "case_handling_2" in designer.locator('label[for="target-new"]').inner_text()
    assert "企业诉求办理" in designer.locator('label[for="target-draft"]').inner_text()
    shot(designer, "01-match-shown")

    with designer.expect_navigation():
        designer.click("#import-form button[type=submit]")  # keeps the default: a new process
    assert designer.url.endswith("/design/processes/case_handling_2/edit")
    designer.wait_for_selector('[data-element-id="dispatch"]')
    assert "已被占用" in designer.locator(".jn-flashes").inner_text()
    assert designer.locator("#undeployed-badge").is_visible()
    shot(designer, "02-new-process-draft")

    designer.goto("/design/")
    assert designer.locator('[data-process="case_handling_2"] [data-undeployed]').is_visible()
    assert (
        designer.locator(f'[data-process="case_handling"] tr[data-version="{live}"] .badge').inner_text()
        == "在用"
    )
    assert _versions(eng) == count  # nothing deployed, the live process untouched
    assert _instance_version(eng, journey.register()["case_id"]) == live
    assert _instance_version(eng, running) == live
