"""Importing the pairing roster (包联名册) from .xlsx: the template, every bad row named, all rows or nothing, a file
replacing the pairings of the (enterprise, level) pairs it mentions, people matched by account or name in a unit."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import pairing
from engine.services import pairing_import
from engine.services import pairing_views
from engine.storage.models import Pairing
from engine.storage.models import ProgrammeEvent
from engine.storage.models import RosterPerson
from tests.roster import HEAD
from tests.roster import roster_row
from tests.roster import roster_xlsx
from tests.roster import with_entity_declaration
from tests.roster import zip_bomb


def _state(eng):
    with eng.db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Pairing)),
            session.scalar(select(func.count()).select_from(RosterPerson)),
        )


def _rows_of(eng, enterprise: str, user="manager", *, actors):
    return [
        (r["level_code"], r["unit_name"], (r["person"] or r["contact"] or {}).get("name"))
        for r in pairing.list_pairings(eng, actors(user), {"q": enterprise}, per_page=200)["items"]
    ]


def test_the_template_offers_the_levels_and_units_as_drop_downs(eng):
    workbook = load_workbook(io.BytesIO(pairing_import.template(eng)))
    sheet = workbook[pairing_import.SHEET]
    assert [c.value for c in sheet[1]] == HEAD
    levels = [r[0].value for r in workbook["_包联层级"].iter_rows()]
    assert levels[:3] == ["市级领导结对", "县级领导包保", "帮扶单位挂钩"] and len(levels) == 6
    assert "经济和信息化局" in [r[0].value for r in workbook["_单位"].iter_rows()]
    formulas = sorted(v.formula1 for v in sheet.data_validations.dataValidation)
    assert formulas == ["='_包联层级'!$A$1:$A$6", "='_单位'!$A$1:$A$20"]
    notes = " ".join(str(r[0].value) for r in workbook["填写说明"].iter_rows())
    assert "整体替换" in notes and "系统账号" in notes


def test_a_good_roster_is_saved_with_its_people_and_accounts(eng, actors):
    data = roster_xlsx(
        [
            roster_row("美临塑业", "县级领导包保", name="张明", title="副市长", account="leader"),
            roster_row("美临塑业", "帮扶单位挂钩", unit="人力资源和社会保障局", name="冯局", title="局长"),
            roster_row("美临塑业", "企业负责人", name="美总", phone="13800000001"),
            roster_row("药益宝公司", "助企干部", unit="市场监督管理局", name="郑好", phone="13900000009"),
            roster_row("药益宝公司", "属地镇街服务", unit="列东街道"),
        ]
    )
    result = pairing_import.import_file(eng, actors("dispatcher"), data, "三月名册.xlsx")
    assert result == {
        "imported": 5,
        "rows": 5,
        "errors": [],
        "enterprises": 2,
        "replaced": 1,  # 美临塑业 was paired with the hr unit at 帮扶单位挂钩: replaced by the file's row
        "people_created": 2,  # 冯局, 郑好 (张明 is on the roster already, by his account)
    }
    assert sorted(_rows_of(eng, "美临塑业", actors=actors)) == [
        ("county_leader", None, "张明"),
        ("enterprise_head", None, "美总"),
        ("helping_unit", "人力资源和社会保障局", "冯局"),
    ]
    # the leader account's roster person is one person, paired at two levels now
    mine = pairing_views.my_enterprises(eng, actors("leader"))
    assert sorted(i["name"] for i in mine["items"]) == sorted(["杭叉集团", "森源电缆", "美临塑业"])
    # a cadre without an account: their unit sees the pairing
    assert [i["name"] for i in pairing_views.my_enterprises(eng, actors("handler_market"))["items"]] == [
        "药益宝公司"
    ]
    with eng.db.read() as session:
        event = session.execute(
            select(ProgrammeEvent.title, ProgrammeEvent.data).where(ProgrammeEvent.action == "imported")
        ).one()
    assert event.title == "导入包联名册“三月名册.xlsx”：5 条包联，涉及 2 家企业"
    assert event.data["replaced"] == 1


def test_a_file_replaces_only_the_levels_it_mentions(eng, actors):
    before = sorted(_rows_of(eng, "杭叉集团", actors=actors))
    data = roster_xlsx(
        [
            roster_row("杭叉集团", "助企干部", name="陈刚", unit="经济和信息化局"),
            roster_row("杭叉集团", "助企干部", name="新干部", unit="经济和信息化局"),
        ]
    )
    result = pairing_import.import_file(eng, actors("manager"), data)
    assert result["replaced"] == 1 and result["imported"] == 2
    after = sorted(_rows_of(eng, "杭叉集团", actors=actors))
    assert [r for r in before if r[0] != "cadre"] == [r for r in after if r[0] != "cadre"]
    assert sorted(r[2] for r in after if r[0] == "cadre") == ["新干部", "陈刚"]
    # 陈刚 of 经信局 was on the roster already: matched by name within his unit, not created again
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).where(RosterPerson.name == "陈刚")) == 1
    # 王芳 no longer paired with 杭叉集团 at this level
    assert "杭叉集团" not in [
        i["name"] for i in pairing_views.my_enterprises(eng, actors("registrar"))["items"]
    ]


def test_one_bad_row_saves_nothing_and_every_problem_is_named(eng, actors):
    before = _state(eng)
    data = roster_xlsx(
        [
            roster_row("杭叉集团", "助企干部", name="好人"),
            roster_row("杭叉集团", "不存在的层级", name="甲"),
            roster_row("杭叉集团", "帮扶单位挂钩"),
            roster_row("杭叉集团", "助企干部", name="乙", account="nobody", phone="abc"),
            roster_row("杭叉集团", "企业负责人", name="丙", unit="列东街道"),
            roster_row("杭叉集团", "助企干部", credit_code="91350400MA00000000"),
            roster_row("杭叉集团", "助企干部", name="好人"),
            ["", "", "", "", "", "", "", "", ""],  # blank rows are skipped
            roster_row("杭叉集团", "助企干部", name="=1+1"),
            roster_row("杭叉集团", "助企干部", name="李四", account="registrar"),  # 王芳's account
        ]
    )
    result = pairing_import.import_file(eng, actors("manager"), data)
    assert result["imported"] == 0 and result["rows"] == 9
    found = {(e["row"], e["column"]) for e in result["errors"]}
    assert found >= {
        (3, "包联层级"),
        (4, "单位"),
        (5, "系统账号"),
        (5, "联系电话"),
        (6, "单位"),
        (7, "统一社会信用代码"),
        (8, "姓名"),  # the same pairing as row 2
        (10, "姓名"),  # a formula
        (11, "系统账号"),
    }
    assert (2, "姓名") not in found
    messages = {(e["row"], e["column"]): e["message"] for e in result["errors"]}
    assert messages[(8, "姓名")] == "与第 2 行重复"
    assert messages[(10, "姓名")] == "请填写数值或文字，不要使用公式"
    assert "请先登记企业" in messages[(7, "统一社会信用代码")]
    assert messages[(11, "系统账号")] == "账号 registrar 在名册中是“王芳”，与本行姓名不符"
    assert _state(eng) == before
    checked = pairing_import.check_file(eng, actors("manager"), data)
    assert checked["valid"] == 1 and len(checked["errors"]) == len(result["errors"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a spreadsheet", "请上传 .xlsx"),
        (roster_xlsx([], head=["企业名称", "姓名"]), "缺少列"),
        (roster_xlsx([]), "没有数据行"),
        (with_entity_declaration(roster_xlsx([roster_row(name="王芳")])), "DTD"),
        (zip_bomb(), "解压后"),
        (roster_xlsx([["x"] * 150]), "最多 100 列"),
        (roster_xlsx([roster_row(name="长" * 20_000)]), "超过"),
    ],
    ids=["not-xlsx", "no-columns", "empty", "entity", "zip-bomb", "wide", "huge-cell"],
)
def test_a_hostile_or_broken_file_is_refused_before_anything_is_saved(eng, actors, data, message):
    before = _state(eng)
    with pytest.raises(ValidationFailed) as caught:
        pairing_import.import_file(eng, actors("manager"), data)
    assert message in " ".join(caught.value.errors.values())
    assert _state(eng) == before


def test_too_many_rows_are_refused(eng, actors, monkeypatch):
    monkeypatch.setattr(pairing_import, "MAX_ROWS", 3)
    data = roster_xlsx([roster_row(name=f"人{i}") for i in range(4)])
    with pytest.raises(ValidationFailed) as caught:
        pairing_import.import_file(eng, actors("manager"), data)
    assert "一次最多导入 3 行" in caught.value.errors["file"]


@pytest.mark.parametrize("user", ["handler_econ", "registrar", "leader"])
def test_only_data_managers_import(eng, actors, user):
    with pytest.raises(PermissionDenied):
        pairing_import.import_file(eng, actors(user), roster_xlsx([roster_row(name="王芳")]))
