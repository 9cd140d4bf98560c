"""Importing a visit spreadsheet: the template, bad files and rows reported, all-or-nothing or valid rows only,
each imported case in the loop with its batch."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.services import imports
from engine.storage.models import Case
from engine.storage.models import Enterprise

HEAD = [h for h, _f, _r in imports.COLUMNS]


def _xlsx(rows, head=HEAD) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = imports.SHEET
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _credit_code(eng, journey):
    with eng.db.read() as session:
        return session.get(Enterprise, journey.enterprise_id()).credit_code


def _row(code, title="缺少仓储用地", **over):
    row = dict(
        zip(
            HEAD,
            [
                code,
                "杭叉集团",
                "走访",
                "工业",
                "用地",
                "一般",
                title,
                "企业扩产缺少仓储用地。",
                "王工",
                "13800000000",
            ],
            strict=True,
        )
    )
    row.update(over)
    return [row[h] for h in HEAD]


def _post(client, data: bytes, **form):
    return client.post(
        "/cases/import",
        data={"file": (io.BytesIO(data), "visit.xlsx"), **form},
        content_type="multipart/form-data",
    )


def _count(eng):
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_the_template_downloads_and_imports_as_is(client, auth, eng, journey):
    auth.login("registrar")
    template = client.get("/cases/import/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data))[imports.SHEET]
    assert [c.value for c in sheet[1]] == HEAD and sheet.data_validations.dataValidation
    sheet.append(_row(_credit_code(eng, journey)))
    out = io.BytesIO()
    sheet.parent.save(out)
    response = _post(client, out.getvalue(), batch="2026年3月第一轮走访")
    assert response.status_code == 200 and "已登记 1 件诉求" in response.text
    with eng.db.read() as session:
        case = session.scalars(select(Case)).one()
        assert (
            case.batch == "2026年3月第一轮走访" and case.status == "dispatching" and case.tier == "department"
        )
        case_no = case.case_no
    listing = client.get("/cases?batch=2026年3月第一轮走访")
    assert case_no in listing.text


def test_bad_rows_are_each_reported_and_nothing_is_registered_when_asked(client, auth, eng, journey):
    code = _credit_code(eng, journey)
    rows = [
        _row(code),
        _row("91350400G4EFFB420Q"),  # a valid code, but no such enterprise in the files
        _row(code, **{"紧急程度": "非常急"}),
        _row(code, **{"问题摘要": ""}),
        _row(code, **{"问题描述": '=HYPERLINK("http://x")'}),
    ]
    auth.login("registrar")
    response = _post(client, _xlsx(rows))
    assert response.status_code == 422 and "没有登记任何诉求" in response.text
    for row_number, text in ((3, "企业档案中没有"), (4, "紧急程度"), (5, "问题摘要"), (6, "公式")):
        assert f"<td>{row_number}</td>" in response.text and text in response.text
    assert _count(eng) == 0
    partly = _post(client, _xlsx(rows), mode="valid_rows")
    assert (
        partly.status_code == 200
        and "已登记 1 件诉求（共 5 行）" in partly.text
        and "这些行没有登记" in partly.text
    )
    assert _count(eng) == 1


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        (b"name,title\n1,2\n", "请上传 .xlsx 格式"),
        (_xlsx([], head=["企业", "问题"]), "缺少列"),
        (_xlsx([]), "没有数据行"),
    ],
)
def test_bad_files_are_refused(client, auth, eng, payload, text):
    auth.login("registrar")
    response = _post(client, payload)
    assert response.status_code == 422 and text in response.text
    assert _count(eng) == 0


def test_too_many_rows_are_refused(client, auth, eng, journey, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    code = _credit_code(eng, journey)
    auth.login("registrar")
    response = _post(client, _xlsx([_row(code, title=f"问题{i}") for i in range(4)]))
    assert response.status_code == 422 and "一次最多导入 3 行" in response.text
    assert _count(eng) == 0


def test_only_registrars_and_dispatchers_import(client, auth):
    auth.login("handler_power")
    assert client.get("/cases/import").status_code == 403
