"""The enterprise file's pages: search with filters and groups, the file, editing, pools, key figures, the import
and export, the class lists managers edit, and the ledger's and figures' enterprise filters — each permission-
checked, and bad input a 4xx that changes nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.storage.models import Area
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseChange
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag
from tests.helpers import enterprise_workbook


def _id(eng, model, column, value) -> int:
    key = {Enterprise: Enterprise.enterprise_id, Area: Area.area_id, EnterpriseTag: EnterpriseTag.tag_id}[
        model
    ]
    with eng.db.read() as session:
        return session.scalar(select(key).where(column == value))


def _enterprise_id(eng, name="杭叉集团") -> int:
    return _id(eng, Enterprise, Enterprise.name, name)


def _count(eng, model) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_search_filters_and_groups(client, auth, eng):
    auth.login("registrar")
    page = client.get("/enterprises")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="enterprise-groups"' in text and "青山湖科技城" in text and "企业分类管理" not in text
    key = _id(eng, EnterpriseTag, EnterpriseTag.code, "key")
    page = client.get(f"/enterprises?pool={key}&size=规上&group=area")
    text = page.get_data(as_text=True)
    assert 'id="enterprise-total">5<' in text and "杭叉集团" in text and "森源电缆" not in text
    page = client.get("/enterprises?size=none")
    assert "济源经开区玉川大道沿线企业" in page.get_data(as_text=True)
    assert client.get("/enterprises?size=巨型").status_code == 422
    assert client.get("/enterprises?group=colour").status_code == 422
    assert client.get("/enterprises?area=99999999999999999999").status_code == 200  # matches nothing


def test_the_file_shows_classes_pools_contacts_figures_and_record(client, auth, eng):
    auth.login("dispatcher")
    text = client.get(f"/enterprises/{_enterprise_id(eng)}").get_data(as_text=True)
    for shown in ("青山湖科技城", "规上", "挂牌服务", "第一批", "赵立新", "副总经理", "1,710,000.00", "建档"):
        assert shown in text, shown
    assert 'id="join-form"' in text and 'id="year-form"' in text and "nonce=" in text
    assert client.get("/enterprises/999999").status_code == 404


def test_a_handler_sees_the_file_but_cannot_change_it(client, auth, eng):
    auth.login("handler_power")
    enterprise_id = _enterprise_id(eng)
    text = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    assert 'id="join-form"' not in text and 'id="edit-enterprise"' not in text
    assert 'id="export-enterprises"' not in client.get("/enterprises").get_data(as_text=True)
    for method, path in [
        ("get", f"/enterprises/{enterprise_id}/edit"),
        ("post", f"/enterprises/{enterprise_id}/tags"),
        ("post", f"/enterprises/{enterprise_id}/years"),
        ("get", "/enterprises/import"),
        ("get", "/enterprises/export.xlsx"),
        ("get", "/enterprises/import/template.xlsx"),
        ("get", "/classes"),
        ("get", "/classes/areas/new"),
    ]:
        assert getattr(client, method)(path).status_code == 403, path


def test_editing_details_and_contacts_on_the_page(client, auth, eng):
    auth.login("registrar")
    enterprise_id = _enterprise_id(eng, "森源电缆")
    page = client.get(f"/enterprises/{enterprise_id}/edit")
    assert page.status_code == 200 and 'name="contacts.0.name"' in page.get_data(as_text=True)
    form = {
        "name": "森源电缆",
        "area": str(_id(eng, Area, Area.code, "liedong")),
        "size_class": "规上",
        "sector": "C",
        "field": "工业",
        "contacts.0.name": "孙强",
        "contacts.0.position": "法定代表人",
        "contacts.0.phone": "13900000001",
    }
    with eng.db.read() as session:
        form["credit_code"] = session.get(Enterprise, enterprise_id).credit_code
    response = client.post(f"/enterprises/{enterprise_id}/edit", data=form)
    assert response.status_code == 302
    text = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    assert "列东街道" in text and "孙强" in text and "法定代表人" in text
    changes = _count(eng, EnterpriseChange)
    bad = client.post(
        f"/enterprises/{enterprise_id}/edit",
        data=form | {"contacts.1.phone": "13900000002", "size_class": "巨型"},
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "企业规模应为" in text and "请填写联系人姓名" in text
    assert _count(eng, EnterpriseChange) == changes


def test_creating_an_enterprise_with_classes_and_a_bad_one(client, auth, eng):
    auth.login("registrar")
    page = client.get("/enterprises/new")
    assert "行业门类" in page.get_data(as_text=True)
    before = _count(eng, Enterprise)
    bad = client.post("/enterprises/new", data={"name": "新企业", "credit_code": "123", "area": "999"})
    assert bad.status_code == 422 and _count(eng, Enterprise) == before
    assert "没有这个乡镇街道" in bad.get_data(as_text=True)
    good = client.post(
        "/enterprises/new",
        data={"name": "新企业", "credit_code": "91350400KJHQ23BN88", "area": str(_id(eng, Area, Area.code, "yuquan")),
              "size_class": "规下", "sector": "F"},
    )  # fmt: skip
    assert good.status_code == 302 and _count(eng, Enterprise) == before + 1


def test_pools_and_key_figures_on_the_file_page(client, auth, eng):
    auth.login("dispatcher")
    enterprise_id = _enterprise_id(eng, "森源电缆")
    plaque = _id(eng, EnterpriseTag, EnterpriseTag.code, "plaque")
    missing = client.post(f"/enterprises/{enterprise_id}/tags", data={"tag": str(plaque)})
    assert missing.status_code == 422 and "请填写批次" in missing.get_data(as_text=True)
    assert (
        client.post(
            f"/enterprises/{enterprise_id}/tags", data={"tag": str(plaque), "batch": "第二批"}
        ).status_code
        == 302
    )
    text = client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    assert "第二批" in text and "2026-03-10" in text
    assert client.post(f"/enterprises/{enterprise_id}/tags/{plaque}/remove").status_code == 302
    assert client.post(f"/enterprises/{enterprise_id}/tags/{plaque}/remove").status_code == 404
    assert "曾经加入" in client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    bad = client.post(f"/enterprises/{enterprise_id}/years", data={"year": "2025", "output_value": "-5"})
    assert bad.status_code == 422 and "0 到 999,999,999,999.99" in bad.get_data(as_text=True)
    ok = client.post(f"/enterprises/{enterprise_id}/years", data={"year": "2024", "employees": "290"})
    assert ok.status_code == 302
    assert 'data-year="2024"' in client.get(f"/enterprises/{enterprise_id}").get_data(as_text=True)
    assert client.post(f"/enterprises/{enterprise_id}/years/2024/delete").status_code == 302
    assert client.post(f"/enterprises/{enterprise_id}/years/2024/delete").status_code == 404
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(EnterpriseMembership).where(
            EnterpriseMembership.enterprise_id == enterprise_id, EnterpriseMembership.tag_id == plaque)) == 1  # fmt: skip


def test_import_and_export_on_the_pages(client, auth, eng):
    auth.login("dispatcher")
    template = client.get("/enterprises/import/template.xlsx")
    assert (
        template.status_code == 200 and load_workbook(io.BytesIO(template.data)).sheetnames[0] == "企业名录"
    )
    template.close()
    data = enterprise_workbook(
        enterprises=[
            {"统一社会信用代码": "91350400KJHQ23BN88", "企业名称": "导入企业", "乡镇街道": "玉泉街道"}
        ],
        memberships=[{"统一社会信用代码": "91350400KJHQ23BN88", "企业库/标签": "不存在"}],
    )
    before = _count(eng, Enterprise)
    refused = client.post("/enterprises/import", data={"file": (io.BytesIO(data), "list.xlsx"), "mode": "all_or_nothing"},
                          content_type="multipart/form-data")  # fmt: skip
    assert refused.status_code == 422 and _count(eng, Enterprise) == before
    assert "没有这个企业库或标签：不存在" in refused.get_data(as_text=True)
    partly = client.post("/enterprises/import", data={"file": (io.BytesIO(data), "list.xlsx"), "mode": "valid_rows"},
                         content_type="multipart/form-data")  # fmt: skip
    assert partly.status_code == 200 and _count(eng, Enterprise) == before + 1
    assert 'data-saved="1"' in partly.get_data(as_text=True)
    assert client.post("/enterprises/import", data={}).status_code == 422
    export = client.get("/enterprises/export.xlsx?area=玉泉街道")
    names = [
        r[1]
        for r in load_workbook(io.BytesIO(export.data))["企业名录"].iter_rows(min_row=2, values_only=True)
    ]
    export.close()  # the body is a spooled temporary file: closed with the response, as a server does
    assert "导入企业" in names and "杭叉集团" not in names


def test_a_manager_keeps_the_class_lists(client, auth, eng):
    auth.login("manager")
    text = client.get("/classes").get_data(as_text=True)
    assert "列东街道" in text and "挂牌服务" in text and 'id="new-pool"' in text
    assert client.get("/classes/tags/new?kind=pool").status_code == 200
    created = client.post(
        "/classes/tags/new", data={"name": "亿元企业库", "kind": "pool", "with_date": "1", "date_label": "入库日期", "is_active": "1"}
    )  # fmt: skip
    assert created.status_code == 302
    tag_id = _id(eng, EnterpriseTag, EnterpriseTag.name, "亿元企业库")
    with eng.db.read() as session:
        tag = session.get(EnterpriseTag, tag_id)
        assert tag.with_date and not tag.with_batch and tag.sort_order == 6  # after the demo's six (0–5)
    duplicate = client.post(
        "/classes/areas/new", data={"name": "列东街道", "kind": "street", "is_active": "1"}
    )
    assert duplicate.status_code == 422 and "已有同名" in duplicate.get_data(as_text=True)
    area_id = _id(eng, Area, Area.code, "liedong")
    off = client.post(
        f"/classes/areas/{area_id}", data={"name": "列东街道", "kind": "street", "code": "liedong"}
    )
    assert off.status_code == 302  # the box unticked: switched off
    with eng.db.read() as session:
        assert session.get(Area, area_id).is_active is False
    assert client.post(f"/classes/areas/{area_id}/delete").status_code == 409
    assert client.post(f"/classes/tags/{tag_id}/delete").status_code == 302
    assert "亿元企业库" in client.get("/classes").get_data(as_text=True)  # in the record of changes
    assert client.get("/classes/areas/999").status_code == 404


def test_the_ledger_and_the_figures_filter_and_group_by_class(client, auth, eng, journey):
    journey.register(title="叉车厂用电")
    auth.login("dispatcher")
    qingshanhu = _id(eng, Area, Area.code, "qingshanhu")
    text = client.get(f"/cases?area={qingshanhu}&group=pool").get_data(as_text=True)
    assert 'id="case-total">1<' in text and 'data-group="pool"' in text and "重点企业库" in text
    assert client.get("/cases?size=巨型").status_code == 422
    assert 'id="case-total">0<' in client.get("/cases?area=none").get_data(as_text=True)
    figures = client.get("/figures?group=area&period=2026-Q1").get_data(as_text=True)
    assert "青山湖科技城" in figures and f"area={qingshanhu}" in figures  # drill-down links carry the id
    assert client.get("/figures?group=pool&period=2026-Q1&size=规上").status_code == 200
    assert client.get("/figures?period=2026-Q1&area=火星").status_code == 422
    data = client.get(f"/figures/data.json?period=2026-Q1&area={qingshanhu}").json
    assert data["total"]["collected"] == 1
    drill = client.get(f"/cases?figure=collected&period=2026-Q1&area={qingshanhu}").get_data(as_text=True)
    assert 'id="case-total">1<' in drill


def test_the_pages_in_english(client, auth, eng):
    auth.login("manager")
    client.post("/lang", data={"lang": "en", "next": "/enterprises"})
    text = client.get("/enterprises").get_data(as_text=True)
    assert "Enterprise classes" in text and "By area" in text and "Above designated size" in text
    file = client.get(f"/enterprises/{_enterprise_id(eng)}").get_data(as_text=True)
    assert "Key figures by year" in file and "Pools and tags" in file
    assert "Development zone" in client.get("/classes").get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/enterprises/0",
        "/enterprises/1/years/99999999999/delete",
        "/classes/tags/0",
        "/enterprises/1/tags/0/remove",
    ],
)
def test_odd_ids_are_a_clear_4xx(client, auth, path):
    auth.login("manager")
    response = client.post(path) if path.endswith(("delete", "remove")) else client.get(path)
    assert 400 <= response.status_code < 500
