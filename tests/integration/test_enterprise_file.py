"""The enterprise file through its services: the office's areas, pools and tags; an enterprise's classes, contacts,
pools and key figures with their record; search with filters and groups; the case ledger's enterprise filters."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import case_list
from engine.services import enterprise_catalog as catalog
from engine.services import enterprises as service
from engine.services import ledger
from engine.storage.models import DesignAudit
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseChange
from engine.storage.models import EnterpriseMembership

VALID_CODE = "91350400C8A15L85RH"  # a valid unified social credit code no demo enterprise has


def _detached(session, row):
    session.expunge(row)  # the read session's rollback would expire it otherwise
    return row


def _enterprise(eng, name="杭叉集团") -> Enterprise:
    with eng.db.read() as session:
        return _detached(session, session.scalars(select(Enterprise).where(Enterprise.name == name)).one())


def _area(eng, code):
    with eng.db.read() as session:
        return _detached(session, catalog.find_area(session, code))


def _tag(eng, code):
    with eng.db.read() as session:
        return _detached(session, catalog.find_tag(session, code))


def _changes(eng, enterprise_id) -> list[EnterpriseChange]:
    with eng.db.read() as session:
        rows = session.scalars(
            select(EnterpriseChange)
            .where(EnterpriseChange.enterprise_id == enterprise_id)
            .order_by(EnterpriseChange.change_id)
        ).all()
        return [_detached(session, row) for row in rows]


# ---------------------------------------------------------------------------------------------------------
# Schema and demo data


def test_the_tables_match_their_migration(eng):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.storage.models import Base

    ours = {
        "area",
        "enterprise_tag",
        "enterprise",
        "enterprise_membership",
        "enterprise_contact",
        "enterprise_year",
        "enterprise_change",
        "figure_fact",
    }
    with eng.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def table_of(item):
        item = item[0] if isinstance(item, list) else item
        for part in item[1:]:
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if isinstance(part, str) and part in ours:
                return part
            if getattr(part, "name", None) in ours:
                return part.name
        return None

    assert [d for d in diff if table_of(d) in ours] == []


def test_the_demo_office_has_areas_pools_and_classified_enterprises(eng, actors):
    areas = catalog.list_areas(eng, actors("manager"))
    assert [a["name"] for a in areas][:3] == ["列东街道", "玉泉街道", "青山湖科技城"]
    assert next(a for a in areas if a["code"] == "liedong")["unit"] == "列东街道"
    tags = catalog.list_tags(eng, actors("manager"))
    plaque = next(t for t in tags if t["code"] == "plaque")
    assert plaque["kind"] == "pool" and plaque["with_batch"] and plaque["date_label"] == "挂牌日期"
    assert [t["kind"] for t in tags] == ["pool"] * 3 + ["tag"] * 3  # pools first
    file = service.get_enterprise(eng, actors("dispatcher"), _enterprise(eng).enterprise_id)
    assert (file["area"], file["size_class"], file["sector"]) == ("青山湖科技城", "规上", "C")
    assert {(t["name"], t["batch"]) for t in file["tags"]} >= {("挂牌服务", "第一批"), ("重点企业库", None)}
    assert [y["year"] for y in file["years"]] == [2025, 2024] and file["contacts"][0][
        "position"
    ] == "副总经理"
    left = service.get_enterprise(eng, actors("dispatcher"), _enterprise(eng, "药益宝公司").enterprise_id)
    assert [t["name"] for t in left["past_tags"]] == ["潜力企业库"]


# ---------------------------------------------------------------------------------------------------------
# The office's lists


def test_a_manager_adds_an_area_and_a_pool_and_every_change_is_kept(eng, actors):
    manager = actors("manager")
    area = catalog.save_area(eng, manager, {"name": "东霞镇", "kind": "town", "unit": "liedong"})
    assert area["code"].startswith("area-") and area["unit"] == "列东街道" and area["is_active"]
    pool = catalog.save_tag(
        eng,
        manager,
        {"name": "亿元企业库", "code": "yiyuan", "kind": "pool", "with_date": True, "date_label": "入库日期"},
    )
    assert pool["kind"] == "pool" and pool["with_date"] and not pool["with_batch"]
    catalog.save_area(eng, manager, {"is_active": False}, area["area_id"])
    assert area["area_id"] not in [a["area_id"] for a in catalog.list_areas(eng, manager, active_only=True)]
    with eng.db.read() as session:
        kept = session.scalars(
            select(DesignAudit.summary)
            .where(DesignAudit.kind.in_(("area", "enterprise_tag")))
            .order_by(DesignAudit.audit_id)
        ).all()
    assert kept == [
        "新增乡镇街道“东霞镇”（页面）",
        "新增企业库“亿元企业库”（页面）",
        "修改乡镇街道“东霞镇”（页面）",
    ]
    assert [c["summary"] for c in catalog.recent_changes(eng, manager)][0] == "修改乡镇街道“东霞镇”（页面）"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "列东街道"}, "name"),  # taken
        ({"name": "新区", "code": "liedong"}, "code"),  # taken
        ({"name": "新区", "code": "含 空格"}, "code"),
        ({"name": "新区", "code": "123"}, "code"),  # looks like an id
        ({"name": "新区", "kind": "city"}, "kind"),
        ({"name": "新区", "unit": "nobody"}, "unit"),
        ({"name": "新区", "sort_order": "first"}, "sort_order"),
        ({"name": "新区", "is_active": "maybe"}, "is_active"),
        ({"name": "新" * 101}, "name"),
        ({"name": ["新区"]}, "name"),
    ],
)
def test_a_bad_area_is_refused_with_the_field_named(eng, actors, data, field):
    before = len(catalog.list_areas(eng, actors("manager")))
    with pytest.raises(ValidationFailed) as caught:
        catalog.save_area(eng, actors("manager"), data)
    assert field in caught.value.errors
    assert len(catalog.list_areas(eng, actors("manager"))) == before


def test_unknown_fields_and_other_roles_are_refused(eng, actors):
    with pytest.raises(ValidationFailed) as caught:
        catalog.save_tag(eng, actors("manager"), {"name": "x", "colour": "red"})
    assert "colour" in caught.value.errors
    for username in ("dispatcher", "registrar", "handler_power"):
        with pytest.raises(PermissionDenied):
            catalog.save_area(eng, actors(username), {"name": "新区"})
        with pytest.raises(PermissionDenied):
            catalog.delete_tag(eng, actors(username), 1)


def test_only_what_nothing_refers_to_can_be_deleted(eng, actors, journey):
    manager = actors("manager")
    used = _area(eng, "qingshanhu")
    with pytest.raises(Conflict, match="不能删除"):
        catalog.delete_area(eng, manager, used.area_id)
    with pytest.raises(Conflict, match="不能删除"):
        catalog.delete_tag(eng, manager, _tag(eng, "potential").tag_id)  # 药益宝 was in it once
    empty = catalog.save_area(eng, manager, {"name": "空镇", "code": "empty"})
    catalog.delete_area(eng, manager, empty["area_id"])
    with pytest.raises(NotFound):
        catalog.get_area(eng, manager, empty["area_id"])
    # An area that figures were recorded with stays, even once no enterprise is in it any more.
    fresh = catalog.save_area(eng, manager, {"name": "临时区", "code": "tmp"})
    dispatcher = actors("dispatcher")
    enterprise = _enterprise(eng, "森源电缆")
    service.update_enterprise(eng, dispatcher, enterprise.enterprise_id, {"area": "tmp"})
    journey.register(enterprise_id=enterprise.enterprise_id)
    service.update_enterprise(eng, dispatcher, enterprise.enterprise_id, {"area": "yuquan"})
    with pytest.raises(Conflict, match="统计"):
        catalog.delete_area(eng, manager, fresh["area_id"])


# ---------------------------------------------------------------------------------------------------------
# An enterprise's details and classes


def test_an_enterprise_is_created_with_its_classes_and_the_record_says_so(eng, actors):
    created = service.create_enterprise(
        eng,
        actors("registrar"),
        {
            "name": "三明新材料有限公司",
            "credit_code": VALID_CODE.lower(),
            "area": "列东街道",  # by name, as a spreadsheet gives it
            "size_class": "规下",
            "sector": "C 制造业",
            "field": "工业",
        },
    )
    assert (created["area"], created["size_class"], created["sector"]) == ("列东街道", "规下", "C")
    assert created["credit_code"] == VALID_CODE
    [change] = _changes(eng, created["enterprise_id"])
    assert (
        change.action == "created"
        and change.after["area"] == "列东街道"
        and change.after["sector"] == "C 制造业"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"area": "火星街道"}, "area"),
        ({"size_class": "大型"}, "size_class"),
        ({"sector": "Z"}, "sector"),
        ({"sector": "CC"}, "sector"),
        ({"field": "农业"}, "field"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"credit_code": "91350400MA2XN7YJ7X"}, "credit_code"),  # check digit
        ({"name": {"zh": "x"}}, "name"),
        ({"address": "路" * 201}, "address"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_saved(eng, actors, data, field):
    enterprise = _enterprise(eng)
    with pytest.raises(ValidationFailed) as caught:
        service.update_enterprise(eng, actors("dispatcher"), enterprise.enterprise_id, data)
    assert field in caught.value.errors
    assert (
        _enterprise(eng).area_id == enterprise.area_id and len(_changes(eng, enterprise.enterprise_id)) == 1
    )


def test_changing_classes_records_before_and_after_and_leaves_other_fields(eng, actors):
    enterprise = _enterprise(eng)
    result = service.update_enterprise(
        eng,
        actors("dispatcher"),
        enterprise.enterprise_id,
        {"area": "liedong", "size_class": None},
        source="api",
    )
    assert result["changed"] == ["area", "size_class"] and result["area"] == "列东街道"
    assert result["size_class"] is None and result["name"] == "杭叉集团" and result["sector"] == "C"
    change = _changes(eng, enterprise.enterprise_id)[-1]
    assert change.summary == "修改：乡镇街道 青山湖科技城 → 列东街道；企业规模 规上 → （空）"
    assert (change.before, change.after, change.source) == (
        {"area": "青山湖科技城", "size_class": "规上"},
        {"area": "列东街道", "size_class": None},
        "api",
    )
    again = service.update_enterprise(
        eng, actors("dispatcher"), enterprise.enterprise_id, {"area": "列东街道"}
    )
    assert again["changed"] == [] and len(_changes(eng, enterprise.enterprise_id)) == 2


def test_a_switched_off_area_is_kept_but_not_given(eng, actors):
    manager, dispatcher = actors("manager"), actors("dispatcher")
    area = _area(eng, "qingshanhu")
    catalog.save_area(eng, manager, {"is_active": False}, area.area_id)
    enterprise = _enterprise(eng)  # in 青山湖科技城
    service.update_enterprise(
        eng, dispatcher, enterprise.enterprise_id, {"area": str(area.area_id), "address": "新址"}
    )
    with pytest.raises(ValidationFailed, match="企业信息有误") as caught:
        service.update_enterprise(
            eng, dispatcher, _enterprise(eng, "森源电缆").enterprise_id, {"area": "青山湖科技城"}
        )
    assert "已停用" in caught.value.errors["area"]


def test_contacts_are_replaced_checked_and_recorded(eng, actors):
    enterprise = _enterprise(eng, "森源电缆")
    contacts = [
        {"name": "孙强", "position": "法定代表人", "phone": "13900000001"},
        {"name": "", "position": "", "phone": "", "note": ""},  # a blank row of the form
        {"name": "李会计", "position": "财务负责人", "phone": "0377-6000001", "note": "周一至周五"},
    ]
    result = service.update_enterprise(eng, actors("registrar"), enterprise.enterprise_id, {}, contacts)
    assert result["changed"] == ["contacts"]
    file = service.get_enterprise(eng, actors("registrar"), enterprise.enterprise_id)
    assert [(c["name"], c["position"]) for c in file["contacts"]] == [
        ("孙强", "法定代表人"),
        ("李会计", "财务负责人"),
    ]
    assert _changes(eng, enterprise.enterprise_id)[-1].summary == "联系人改为：孙强、李会计"
    with pytest.raises(ValidationFailed) as caught:
        service.update_enterprise(
            eng,
            actors("registrar"),
            enterprise.enterprise_id,
            {"address": "改了"},
            [{"name": "", "phone": "13900000002"}, {"name": "x", "phone": "??"}, {"name": "y", "age": 3}],
        )
    assert set(caught.value.errors) == {"contacts.0.name", "contacts.1.phone", "contacts.2"}
    assert _enterprise(eng, "森源电缆").address is None  # nothing saved, not even the good field
    with pytest.raises(ValidationFailed, match="联系人"):
        service.update_enterprise(
            eng, actors("registrar"), enterprise.enterprise_id, {}, [{"name": "x"}] * 11
        )


def test_handlers_may_look_but_not_change(eng, actors):
    handler = actors("handler_power")
    enterprise = _enterprise(eng)
    assert service.get_enterprise(eng, handler, enterprise.enterprise_id)["name"] == "杭叉集团"
    with pytest.raises(PermissionDenied):
        service.update_enterprise(eng, handler, enterprise.enterprise_id, {"address": "x"})
    with pytest.raises(PermissionDenied):
        service.set_year(eng, handler, enterprise.enterprise_id, 2025, {"employees": 1})
    with pytest.raises(PermissionDenied):
        service.join_tag(eng, handler, enterprise.enterprise_id, "srdi")
    with pytest.raises(PermissionDenied):
        service.join_tag(
            eng, actors("registrar"), enterprise.enterprise_id, "srdi"
        )  # pools are the office's call
    with pytest.raises(NotFound):
        service.get_enterprise(eng, handler, 10**12)


# ---------------------------------------------------------------------------------------------------------
# Pools and tags


def test_joining_a_pool_in_batches_and_leaving_it_keeps_the_history(eng, actors, clock):
    dispatcher = actors("dispatcher")
    enterprise = _enterprise(eng, "森源电缆")
    with pytest.raises(ValidationFailed) as caught:
        service.join_tag(eng, dispatcher, enterprise.enterprise_id, "plaque")
    assert "请填写批次" in caught.value.errors["batch"]
    result = service.join_tag(eng, dispatcher, enterprise.enterprise_id, "挂牌服务", batch="第二批")
    plaque = next(t for t in result["tags"] if t["code"] == "plaque")
    assert (plaque["batch"], plaque["since"]) == ("第二批", dt.date(2026, 3, 10))  # the date: today
    again = service.join_tag(
        eng, dispatcher, enterprise.enterprise_id, "plaque", "第三批", "2026-03-02", "改批次"
    )
    assert again["changed"]
    assert next(t for t in again["tags"] if t["code"] == "plaque")["batch"] == "第三批"
    assert not service.join_tag(
        eng, dispatcher, enterprise.enterprise_id, "plaque", "第三批", "2026-03-02", "改批次"
    )["changed"]
    clock.advance(days=5)
    service.leave_tag(eng, dispatcher, enterprise.enterprise_id, "plaque")
    file = service.get_enterprise(eng, dispatcher, enterprise.enterprise_id)
    assert "plaque" not in [t["code"] for t in file["tags"]]
    assert [(t["name"], t["batch"]) for t in file["past_tags"]] == [("挂牌服务", "第三批")]
    assert [c["summary"] for c in file["changes"]][:4] == [
        "移出企业库：挂牌服务（第三批，2026-03-02）",
        "修改企业库“挂牌服务”：第二批，2026-03-10 → 第三批，2026-03-02",
        "加入企业库：挂牌服务（第二批，2026-03-10）",
        "建档：森源电缆（演示数据）",
    ]
    with pytest.raises(NotFound):
        service.leave_tag(eng, dispatcher, enterprise.enterprise_id, "plaque")
    service.join_tag(eng, dispatcher, enterprise.enterprise_id, "plaque", "第四批")  # may join again
    with eng.db.read() as session:
        rows = session.scalar(
            select(func.count()).where(
                EnterpriseMembership.enterprise_id == enterprise.enterprise_id,
                EnterpriseMembership.tag_id == _tag(eng, "plaque").tag_id,
            )
        )
    assert rows == 2


@pytest.mark.parametrize(
    ("tag", "batch", "since", "field"),
    [
        ("srdi", "第一批", None, "batch"),  # a tag without batches
        ("srdi", None, "2026-01-01", "since"),  # nor dates
        ("key", None, "2026-13-01", "since"),
        ("key", None, "2027-01-01", "since"),  # after today
        ("plaque", "批" * 51, None, "batch"),
    ],
)
def test_a_membership_that_does_not_fit_its_pool_is_refused(eng, actors, tag, batch, since, field):
    enterprise = _enterprise(eng, "森源电缆")
    with pytest.raises(ValidationFailed) as caught:
        service.join_tag(eng, actors("dispatcher"), enterprise.enterprise_id, tag, batch, since)
    assert field in caught.value.errors


def test_a_switched_off_or_unknown_tag_cannot_be_given(eng, actors):
    catalog.save_tag(eng, actors("manager"), {"is_active": False}, _tag(eng, "foreign").tag_id)
    enterprise = _enterprise(eng, "森源电缆")
    with pytest.raises(ValidationFailed, match="加入企业库或标签的信息有误"):
        service.join_tag(eng, actors("dispatcher"), enterprise.enterprise_id, "foreign")
    with pytest.raises(ValidationFailed, match="没有这个企业库或标签"):
        service.join_tag(eng, actors("dispatcher"), enterprise.enterprise_id, "nonsense")


# ---------------------------------------------------------------------------------------------------------
# Key figures by year


def test_key_figures_by_year_are_entered_replaced_and_deleted(eng, actors):
    registrar = actors("registrar")
    enterprise = _enterprise(eng, "森源电缆")
    result = service.set_year(
        eng, registrar, enterprise.enterprise_id, "2024", {"output_value": "51,000.5", "employees": 301}
    )
    assert result == {
        "year": 2024,
        "changed": True,
        "output_value": 51000.5,
        "revenue": None,
        "employees": 301,
    }
    service.set_year(eng, registrar, enterprise.enterprise_id, 2024, {"output_value": 52000})
    years = {y["year"]: y for y in service.get_enterprise(eng, registrar, enterprise.enterprise_id)["years"]}
    assert years[2024] == {"year": 2024, "output_value": 52000.0, "revenue": None, "employees": None}
    assert _changes(eng, enterprise.enterprise_id)[-1].summary == "2024年度数据：产值（万元） 52000.00"
    service.delete_year(eng, registrar, enterprise.enterprise_id, 2024)
    with pytest.raises(NotFound):
        service.delete_year(eng, registrar, enterprise.enterprise_id, 2024)


@pytest.mark.parametrize(
    ("year", "values", "field"),
    [
        (1900, {"employees": 1}, "year"),
        (2027, {"employees": 1}, "year"),  # not over yet
        ("20x4", {"employees": 1}, "year"),
        (2025, {}, "output_value"),  # nothing given
        (2025, {"output_value": -1}, "output_value"),
        (2025, {"output_value": "1.234"}, "output_value"),
        (2025, {"revenue": "NaN"}, "revenue"),
        (2025, {"revenue": "1e20"}, "revenue"),
        (2025, {"employees": 2.5}, "employees"),
        (2025, {"employees": True}, "employees"),
        (2025, {"profit": 3}, "profit"),
    ],
)
def test_bad_key_figures_are_named(eng, actors, year, values, field):
    with pytest.raises(ValidationFailed) as caught:
        service.set_year(eng, actors("registrar"), _enterprise(eng).enterprise_id, year, values)
    assert field in caught.value.errors


# ---------------------------------------------------------------------------------------------------------
# Search, groups and the case ledger


def test_search_filters_by_class_and_counts_per_group(eng, actors):
    dispatcher = actors("dispatcher")
    big = service.search_enterprises(
        eng, dispatcher, filters={"size": "规上", "area": "qingshanhu"}, group="pool"
    )
    names = {e["name"] for e in big["items"]}
    assert names == {"杭叉集团", "美临塑业", "西子联合电梯部件产业园", "临安奥星电子有限公司"}
    pools = {g["label"]: g["count"] for g in big["groups"]}
    assert pools == {"重点企业库": 4, "潜力企业库": 0, "挂牌服务": 2}
    by_area = service.search_enterprises(eng, dispatcher, group="area")
    counts = {g["label"]: g["count"] for g in by_area["groups"]}
    assert counts["青山湖科技城"] == 5 and counts[None] == 0 and sum(counts.values()) == by_area["total"]
    by_size = {
        g["key"]: g["count"] for g in service.search_enterprises(eng, dispatcher, group="size")["groups"]
    }
    assert by_size["none"] == 1  # 济源经开区玉川大道沿线企业 has no size class
    unclassified = service.search_enterprises(eng, dispatcher, filters={"size": "none"})
    assert [e["name"] for e in unclassified["items"]] == ["济源经开区玉川大道沿线企业"]
    tagged = service.search_enterprises(eng, dispatcher, filters={"tag": "hitech", "sector": "C"})
    assert {e["name"] for e in tagged["items"]} == {"杭叉集团", "森源电缆", "药益宝公司"}
    assert service.search_enterprises(eng, dispatcher, filters={"pool": "no-such-pool"})["total"] == 0
    assert service.search_enterprises(eng, dispatcher, filters={"area": "9" * 30})["total"] == 0
    assert service.search_enterprises(eng, dispatcher, "%")["total"] == 0  # a wildcard is a character
    with pytest.raises(ValidationFailed):
        service.search_enterprises(eng, dispatcher, filters={"size": "huge"})
    with pytest.raises(ValidationFailed):
        service.search_enterprises(eng, dispatcher, group="colour")


def test_the_case_ledger_filters_and_groups_by_the_enterprise_now(eng, actors, journey):
    dispatcher = actors("dispatcher")
    a = journey.register(title="叉车厂用电", enterprise_id=_enterprise(eng).enterprise_id)
    b = journey.register(title="电缆厂用地", enterprise_id=_enterprise(eng, "森源电缆").enterprise_id)
    found = case_list.search_cases(eng, dispatcher, {"area": "qingshanhu"}, group="area")
    assert [c["case_id"] for c in found["items"]] == [a["case_id"]]
    assert {g["label"]: g["count"] for g in found["groups"]}["青山湖科技城"] == 1
    assert [c["case_id"] for c in case_list.search_cases(eng, dispatcher, {"pool": "key"})["items"]] == [
        a["case_id"]
    ]
    tagged = case_list.search_cases(eng, dispatcher, {"tag": str(_tag(eng, "hitech").tag_id), "size": "规上"})
    assert {c["case_id"] for c in tagged["items"]} == {a["case_id"], b["case_id"]}
    grouped = case_list.search_cases(eng, dispatcher, {}, group="pool")
    assert {g["label"]: g["count"] for g in grouped["groups"]} == {
        "重点企业库": 1,
        "潜力企业库": 0,
        "挂牌服务": 1,
    }
    # The ledger follows the enterprise as it is now.
    service.update_enterprise(eng, dispatcher, _enterprise(eng).enterprise_id, {"area": "liedong"})
    assert case_list.search_cases(eng, dispatcher, {"area": "qingshanhu"})["total"] == 0
    assert case_list.search_cases(eng, dispatcher, {"area": "none"})["total"] == 0
    with pytest.raises(ValidationFailed):
        case_list.search_cases(eng, dispatcher, {"size": "大"})
    with pytest.raises(ValidationFailed):
        case_list.search_cases(eng, dispatcher, {}, group="unit")


def test_the_ledger_export_shows_the_enterprise_classes(eng, actors, journey):
    journey.register(title="叉车厂用电")
    out = io.BytesIO()
    ledger.export_cases(eng, actors("dispatcher"), {}, out)
    rows = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True))
    headings, row = rows[1], rows[2]
    assert row[headings.index("乡镇街道")] == "青山湖科技城" and row[headings.index("企业规模")] == "规上"
    assert row[headings.index("企业库/标签")] == "重点企业库、挂牌服务（第一批）、高新技术企业"


def test_a_handler_sees_only_its_units_cases_in_the_groups(eng, actors, journey):
    case = journey.register(title="叉车厂用电")
    journey.dispatch(case["case_id"], lead="power")
    other = journey.register(title="另一件")
    journey.dispatch(other["case_id"], lead="land")
    grouped = case_list.search_cases(eng, actors("handler_power"), {}, group="area")
    assert sum(g["count"] for g in grouped["groups"]) == 1


def test_a_name_taken_meanwhile_is_a_conflict_not_a_crash(eng, actors, monkeypatch):
    """Two managers saving the same new name at once: the check passes for both, the unique index refuses one."""
    monkeypatch.setattr(catalog, "_unique", lambda *args: None)  # as if the other save had not committed yet
    before = len(catalog.list_areas(eng, actors("manager")))
    with pytest.raises(Conflict, match="其他人刚刚"):
        catalog.save_area(eng, actors("manager"), {"name": "列东街道"})
    assert len(catalog.list_areas(eng, actors("manager"))) == before
