"""The enterprise file (一企一档) as the office uses it: the programme office adds a pool and an area; a caseworker on
a phone reclassifies an enterprise, adds a contact and lists it in a batch; the enterprise list is imported from
the template and the figures read by area and pool."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.browser.test_journey import submit

pytestmark = pytest.mark.browser


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def test_the_office_defines_a_pool_and_a_caseworker_files_an_enterprise_on_a_phone(page_as, shot):
    manager = page_as("manager")
    manager.goto("/enterprises")
    manager.click("#manage-classes")
    assert manager.locator("#area-table").inner_text().count("街道") >= 2
    manager.click("#new-pool")
    manager.fill("#f-name", "亿元企业库")
    assert manager.locator("#f-kind-pool").is_checked()
    manager.check("#f-with_date")
    manager.fill("#f-date_label", "入库日期")
    manager.fill("#f-description", "年产值亿元以上的企业")
    submit(manager, "#tag-form")
    assert "已保存“亿元企业库”" in manager.locator("main").inner_text()
    manager.click("#new-area")
    manager.fill("#f-name", "东霞镇")
    manager.select_option("#f-kind", "town")
    submit(manager, "#area-form")
    rows = manager.locator("#tag-table").inner_text()
    assert "亿元企业库" in rows and "入库日期" in rows
    assert "新增企业库“亿元企业库”" in manager.locator("#class-changes").inner_text()
    shot(manager, "01-classes-desktop")

    phone = page_as("dispatcher", phone=True)
    phone.goto("/enterprises")
    phone.fill('#enterprise-filters input[name="q"]', "森源")
    phone.locator("#enterprise-filters button[type=submit]").click()
    phone.wait_for_load_state("domcontentloaded")
    phone.click("#enterprise-list a")
    assert phone.locator("#enterprise-name").inner_text() == "森源电缆"
    assert "玉泉街道" in phone.locator("#enterprise-classes").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "02-file-phone")

    phone.click("#edit-enterprise")
    phone.select_option("#f-area", label="东霞镇")
    phone.select_option("#f-size_class", "规上")
    phone.fill("#c-0-name", "孙强")
    phone.fill("#c-0-position", "法定代表人")
    phone.fill("#c-0-phone", "13900000001")
    no_sideways_scroll(phone)
    shot(phone, "03-edit-phone")
    submit(phone, "#enterprise-form")
    assert "东霞镇" in phone.locator("#enterprise-classes").inner_text()
    assert "孙强" in phone.locator("#contacts").inner_text()

    # The batch field follows the pool chosen: 挂牌服务 is listed in batches, 专精特新 is not.
    phone.select_option("#join-tag", label="专精特新")
    assert phone.locator("#join-batch-group").is_hidden() and phone.locator("#join-date-group").is_hidden()
    phone.select_option("#join-tag", label="挂牌服务")
    assert phone.locator("#join-batch-group").is_visible()
    assert phone.locator("#join-since-label").inner_text() == "挂牌日期"
    submit(phone, "#join-form", expect=422)  # no batch
    assert "请填写批次" in phone.locator("#join-form").inner_text()
    phone.fill("#join-batch", "第三批")
    submit(phone, "#join-form")
    assert "挂牌服务 · 第三批" in phone.locator("#enterprise-classes").inner_text()
    phone.locator("#changes summary").click()
    changes = phone.locator("#changes").inner_text()
    assert "乡镇街道 玉泉街道 → 东霞镇" in changes and "加入企业库：挂牌服务（第三批，2026-03-10）" in changes
    no_sideways_scroll(phone)
    shot(phone, "04-listed-phone")

    phone.goto("/enterprises")
    phone.select_option('#enterprise-filters select[name="pool"]', label="挂牌服务")
    phone.locator("#enterprise-filters button[type=submit]").click()
    phone.wait_for_load_state("domcontentloaded")
    assert phone.locator("#enterprise-total").inner_text() == "5"
    phone.click('#enterprise-groups a:has-text("按企业规模")')
    assert "规上" in phone.locator("#enterprise-groups").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "05-search-phone")


def test_the_office_imports_its_enterprise_list_and_reads_figures_by_area(page_as, shot, journey, tmp_path):
    office = page_as("dispatcher")
    office.goto("/enterprises")
    office.click("#import-enterprises")
    with office.expect_download() as download:
        office.click("#enterprise-template")
    assert download.value.suggested_filename == "企业名录导入模板.xlsx"
    download.value.save_as(tmp_path / "template.xlsx")
    template = load_workbook(tmp_path / "template.xlsx")
    assert template.sheetnames[:3] == ["企业名录", "企业库与标签", "年度数据"]
    # Filled in as the office would: two enterprises, one pool listing, one year's figures — one mistake.
    template["企业名录"].append(
        ["91350400KJHQ23BN88", "三明新材料有限公司", "工业", "C 制造业", "规上", "列东街道"]
    )
    template["企业名录"].append(
        ["91350400FX50AKTB6E", "列东商贸有限公司", "三产", "F 批发和零售业", "限上", "列东街道"]
    )
    template["企业库与标签"].append(["91350400KJHQ23BN88", "挂牌服务", None, "2026-03-02"])
    template["年度数据"].append(["91350400KJHQ23BN88", 2025, 26800, 26100, 150])
    path = tmp_path / "企业名录.xlsx"
    template.save(path)

    office.check("#mode-check")
    office.set_input_files("#file", str(path))
    submit(office, "#enterprise-import", expect=200)
    errors = office.locator("#row-errors").inner_text()
    assert "企业库与标签" in errors and "请填写批次" in errors
    assert office.locator("#import-result").get_attribute("data-saved") == "0"
    shot(office, "06-import-checked")

    fixed = load_workbook(path)
    fixed["企业库与标签"]["C2"] = "第二批"
    fixed.save(path)
    office.check("#mode-all")
    office.set_input_files("#file", str(path))
    submit(office, "#enterprise-import", expect=200)
    result = office.locator("#import-result")
    assert result.get_attribute("data-saved") == "1"
    assert "新建 2 家" in result.inner_text() and "年度数据 1 条" in result.inner_text()
    shot(office, "07-import-done")

    office.goto("/enterprises?q=三明新材料")
    office.click("#enterprise-list a")
    assert "挂牌服务 · 第二批" in office.locator("#enterprise-classes").inner_text()
    assert "26,800.00" in office.locator("#year-table").inner_text()
    shot(office, "08-imported-file")

    enterprise_id = int(office.url.rstrip("/").rsplit("/", 1)[1])
    journey.register(enterprise_id=enterprise_id, title="新材料厂扩产用地")
    journey.register(title="叉车厂用电")

    manager = page_as("manager")
    manager.goto("/figures?group=area&period=2026-Q1")
    table = manager.locator("#figure-table").inner_text()
    assert "列东街道" in table and "青山湖科技城" in table
    manager.click('#figure-table tr:has-text("列东街道") a >> nth=0')
    manager.wait_for_load_state("domcontentloaded")
    assert manager.locator("#case-total").inner_text() == "1"
    assert "新材料厂扩产用地" in manager.locator("main").inner_text()
    shot(manager, "09-drill-down")
    manager.goto("/figures?group=pool&period=2026-Q1")
    pools = manager.locator("#figure-table").inner_text()
    assert "挂牌服务" in pools and "重点企业库" in pools
    shot(manager, "10-figures-by-pool")

    phone = page_as("manager", phone=True)
    phone.goto("/cases?group=area")
    assert "列东街道" in phone.locator("#case-groups").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "11-ledger-groups-phone")
    phone.click('button[name="lang"][value="en"]')
    phone.wait_for_load_state("domcontentloaded")
    phone.goto(f"/enterprises/{enterprise_id}")
    assert "Key figures by year" in phone.locator("main").inner_text()
    no_sideways_scroll(phone)
    shot(phone, "12-file-english-phone")
