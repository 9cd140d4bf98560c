"""The enterprise list as .xlsx: the template's drop-downs come from the office's lists; an import creates, changes
(only the cells filled in), adds to pools and enters key figures, every bad row named with its sheet, row and
column; all or nothing, valid rows only, or a check; an export imports back unchanged."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import enterprise_catalog as catalog
from engine.services import enterprise_xlsx
from engine.services import enterprises as service
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseChange
from engine.storage.models import EnterpriseYear
from tests.helpers import enterprise_workbook

NEW_A, NEW_B = "91350400KJHQ23BN88", "91350400FX50AKTB6E"


def _count(eng, model=Enterprise) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _file(eng, actors, code):
    with eng.db.read() as session:
        enterprise_id = session.scalar(select(Enterprise.enterprise_id).where(Enterprise.credit_code == code))
    return service.get_enterprise(eng, actors("dispatcher"), enterprise_id) if enterprise_id else None


def _code_of(eng, name="杭叉集团") -> str:
    with eng.db.read() as session:
        return session.scalar(select(Enterprise.credit_code).where(Enterprise.name == name))


def test_the_template_offers_the_offices_lists(eng, actors):
    catalog.save_area(eng, actors("manager"), {"name": "东霞镇", "kind": "town"})
    workbook = load_workbook(io.BytesIO(enterprise_xlsx.template(eng)))
    assert workbook.sheetnames[:4] == ["企业名录", "企业库与标签", "年度数据", "填写说明"]
    areas = [row[0] for row in workbook["_乡镇街道"].iter_rows(values_only=True)]
    assert areas[:3] == ["列东街道", "玉泉街道", "青山湖科技城"] and areas[-1] == "东霞镇"
    tags = [row[0] for row in workbook["_企业库_标签"].iter_rows(values_only=True)]
    assert tags[:3] == ["重点企业库", "潜力企业库", "挂牌服务"]
    sheet = workbook["企业名录"]
    checks = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert any("_乡镇街道" in formula for formula in checks.values())
    assert sheet.column_dimensions["A"].number_format == "@"  # the credit code stays text
    assert sheet.max_row == 1  # rows appended by a tool land in row 2


def test_an_import_creates_changes_adds_to_pools_and_enters_figures(eng, actors, clock):
    code = _code_of(eng)
    data = enterprise_workbook(
        enterprises=[
            {"统一社会信用代码": NEW_A, "企业名称": "三明新材料有限公司", "乡镇街道": "列东街道", "企业规模": "规上",
             "行业门类": "C 制造业", "所属领域": "工业", "联系人": "周工", "联系电话": "13800000001"},
            {"统一社会信用代码": code, "企业规模": "限上"},  # only this cell changes
        ],
        memberships=[
            {"统一社会信用代码": NEW_A, "企业库/标签": "挂牌服务", "批次": "第二批", "日期": dt.datetime(2026, 3, 2)},
            {"统一社会信用代码": NEW_A, "企业库/标签": "srdi"},
        ],
        years=[{"统一社会信用代码": NEW_A, "年份": 2025, "产值（万元）": 1234.5, "从业人数": 88}],
    )  # fmt: skip
    report = enterprise_xlsx.import_file(eng, actors("dispatcher"), data)
    assert report["errors"] == [] and report["saved"]
    assert (report["created"], report["updated"], report["memberships"], report["years"]) == (1, 1, 2, 1)
    new = _file(eng, actors, NEW_A)
    assert (new["area"], new["size_class"], new["sector"], new["contact_phone"]) == (
        "列东街道",
        "规上",
        "C",
        "13800000001",
    )
    assert {(t["name"], t["batch"], t["since"]) for t in new["tags"]} == {
        ("挂牌服务", "第二批", dt.date(2026, 3, 2)),
        ("专精特新", None, None),
    }
    assert new["years"] == [{"year": 2025, "output_value": 1234.5, "revenue": None, "employees": 88}]
    old = _file(eng, actors, code)
    assert (old["size_class"], old["area"], old["name"]) == ("限上", "青山湖科技城", "杭叉集团")
    assert (
        old["changes"][0]["source"] == "file" and old["changes"][0]["summary"] == "修改：企业规模 规上 → 限上"
    )
    again = enterprise_xlsx.import_file(eng, actors("dispatcher"), data)
    assert (again["created"], again["updated"], again["unchanged"], again["memberships"], again["years"]) == (
        0, 0, 2, 0, 0,
    )  # fmt: skip


def _bad_file(eng):
    return enterprise_workbook(
        enterprises=[
            {"统一社会信用代码": NEW_A, "企业名称": "好企业"},
            {"统一社会信用代码": NEW_B, "企业名称": "坏企业", "企业规模": "特大"},
            {"统一社会信用代码": NEW_A, "企业名称": "重复"},
            {"统一社会信用代码": "123", "企业名称": "短码企业"},
        ],
        memberships=[
            {"统一社会信用代码": NEW_A, "企业库/标签": "挂牌服务"},  # no batch
            {"统一社会信用代码": NEW_B, "企业库/标签": "重点企业库"},  # its enterprise failed
            {"统一社会信用代码": NEW_A, "企业库/标签": "不存在的库"},
            {"统一社会信用代码": "91350400C6BGCUDE3L", "企业库/标签": "重点企业库"},  # not on file
        ],
        years=[
            {"统一社会信用代码": NEW_A, "年份": 2030, "从业人数": 5},
            {"统一社会信用代码": NEW_A, "年份": 2025, "产值（万元）": "很多"},
            {"统一社会信用代码": NEW_A, "年份": 2024, "从业人数": 5},
        ],
    )


def test_every_bad_row_is_named_and_all_or_nothing_saves_nothing(eng, actors):
    before = _count(eng), _count(eng, EnterpriseChange)
    report = enterprise_xlsx.import_file(eng, actors("dispatcher"), _bad_file(eng))
    assert not report["saved"] and (_count(eng), _count(eng, EnterpriseChange)) == before
    found = {(e["sheet"], e["row"], e["column"]) for e in report["errors"]}
    assert found == {
        ("企业名录", 3, "企业规模"),
        ("企业名录", 4, "统一社会信用代码"),
        ("企业名录", 5, "统一社会信用代码"),
        ("企业库与标签", 2, "批次"),
        ("企业库与标签", 3, "统一社会信用代码"),
        ("企业库与标签", 4, "企业库/标签"),
        ("企业库与标签", 5, "统一社会信用代码"),
        ("年度数据", 2, "年份"),
        ("年度数据", 3, "产值（万元）"),
    }
    messages = {(e["sheet"], e["row"]): e["message"] for e in report["errors"]}
    assert messages[("企业名录", 4)] == "与第 2 行是同一家企业"
    assert messages[("企业库与标签", 3)] == "该企业在“企业名录”第 3 行未通过检查"
    assert "请填写批次" in messages[("企业库与标签", 2)]


def test_valid_rows_only_saves_the_good_ones_and_a_check_saves_nothing(eng, actors):
    checked = enterprise_xlsx.import_file(eng, actors("dispatcher"), _bad_file(eng), mode="check")
    assert not checked["saved"] and checked["created"] == 1 and _file(eng, actors, NEW_A) is None
    report = enterprise_xlsx.import_file(eng, actors("dispatcher"), _bad_file(eng), mode="valid_rows")
    assert report["saved"] and report["created"] == 1 and report["years"] == 1 and len(report["errors"]) == 9
    assert _file(eng, actors, NEW_A)["years"][0]["year"] == 2024 and _file(eng, actors, NEW_B) is None


def test_formulas_are_refused_and_only_the_office_imports(eng, actors):
    data = enterprise_workbook(enterprises=[{"统一社会信用代码": NEW_A, "企业名称": "=1+1"}])
    report = enterprise_xlsx.import_file(eng, actors("dispatcher"), data)
    assert [e["message"] for e in report["errors"]] == ["请填写数值或文字，不要使用公式"]
    for username in ("registrar", "handler_power", "leader"):
        with pytest.raises(PermissionDenied):
            enterprise_xlsx.import_file(eng, actors(username), data)
    with pytest.raises(ValidationFailed, match="导入方式"):
        enterprise_xlsx.import_file(eng, actors("dispatcher"), data, mode="sometimes")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "不是 Excel 文件"),
        (enterprise_workbook(), "没有数据行"),
        (enterprise_workbook(sheets=["年度数据"]), "没有数据行"),
    ],
)
def test_a_file_that_is_not_an_enterprise_list_is_refused(eng, actors, data, message):
    with pytest.raises(ValidationFailed) as refused:
        enterprise_xlsx.import_file(eng, actors("dispatcher"), data)
    assert message in str(refused.value.message) + " ".join(refused.value.errors.values())


def test_a_missing_column_is_named(eng, actors):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "企业名录"
    workbook.active.append(["企业名称", "地址"])
    workbook.active.append(["某公司", "某路"])
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(ValidationFailed) as refused:
        enterprise_xlsx.import_file(eng, actors("dispatcher"), out.getvalue())
    assert "缺少列：统一社会信用代码" in refused.value.errors["file"]


def test_an_export_imports_back_unchanged_and_neutralises_formulas(eng, actors):
    dispatcher = actors("dispatcher")
    senyuan_id = service.search_enterprises(eng, dispatcher, "森源")["items"][0]["enterprise_id"]
    service.update_enterprise(eng, dispatcher, senyuan_id, {"address": '=HYPERLINK("http://evil")'})
    out = io.BytesIO()
    count = enterprise_xlsx.export(eng, dispatcher, "", {}, out)
    assert count == 18
    workbook = load_workbook(io.BytesIO(out.getvalue()))
    rows = list(workbook["企业名录"].iter_rows(values_only=True))
    assert rows[0][:2] == ("统一社会信用代码", "企业名称") and rows[0][-2:] == ("诉求总数", "更新时间")
    senyuan = next(r for r in rows if r[1] == "森源电缆")
    assert senyuan[6] == '\'=HYPERLINK("http://evil")'  # text, not a formula
    memberships = list(workbook["企业库与标签"].iter_rows(values_only=True))
    assert (_code_of(eng), "挂牌服务", "第一批", "2026-01-15", None) in memberships
    years = list(workbook["年度数据"].iter_rows(values_only=True))
    assert len(years) == 1 + _count(eng, EnterpriseYear)
    # Imported back (after the formula's apostrophe is taken out as a user would), nothing changes.
    workbook["企业名录"].cell(row=rows.index(senyuan) + 1, column=7).value = None
    edited = io.BytesIO()
    workbook.save(edited)
    report = enterprise_xlsx.import_file(eng, dispatcher, edited.getvalue(), mode="check")
    assert report["errors"] == [] and (report["created"], report["updated"], report["memberships"], report["years"]) == (
        0, 0, 0, 0,
    )  # fmt: skip
    assert report["unchanged"] == 18


def test_an_export_follows_the_search_and_handlers_may_not_take_it(eng, actors):
    out = io.BytesIO()
    assert enterprise_xlsx.export(eng, actors("dispatcher"), "", {"pool": "plaque"}, out) == 4
    with pytest.raises(PermissionDenied):
        enterprise_xlsx.export(eng, actors("handler_power"), "", {}, io.BytesIO())
