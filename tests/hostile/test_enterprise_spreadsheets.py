"""Hostile enterprise-list spreadsheets (the page and the API): a zip bomb, a DTD, absurd widths and cells, too many
rows, a file that is not one — each a clear 422 that changes nothing; and formulas never leave in an export."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from engine.services import enterprise_xlsx
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseChange
from tests.helpers import enterprise_workbook

HEAD = [h for h, _f, _r, _w in enterprise_xlsx.ENTERPRISE_COLUMNS]


def _rewrite(data: bytes, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, change(entry.filename, source.read(entry.filename)))
    return out.getvalue()


def _bomb() -> bytes:
    out = io.BytesIO(enterprise_workbook())
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as stream:
            for _n in range(300):
                stream.write(b"\0" * (1024 * 1024))
    return out.getvalue()


def _with_dtd() -> bytes:
    def change(name, content):
        if name.startswith("xl/worksheets/sheet"):
            return content.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY e "eeeeeeeeee">]><worksheet', 1)
        return content

    return _rewrite(enterprise_workbook(enterprises=[{"企业名称": "x"}]), change)


def _sheet(rows, head=HEAD) -> bytes:
    workbook = Workbook()
    workbook.active.title = "企业名录"
    workbook.active.append(head)
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _blank_rows() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "企业名录"
    sheet.append(HEAD)
    sheet.cell(row=25_000, column=1, value=" ")  # a cell far down: thousands of empty rows before it
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CASES = {
    "zip bomb": (_bomb, "解压后"),
    "DTD in a sheet": (_with_dtd, "DTD"),
    "200 columns": (lambda: _sheet([], HEAD + [f"列{i}" for i in range(200)]), "最多 100 列"),
    "a 20,000-character cell": (lambda: _sheet([["x" * 20_000]]), "超过"),
    "5,001 enterprises": (
        lambda: _sheet([[f"code{i}", f"企业{i}"] for i in range(5001)]),
        "最多导入 5000 行",
    ),
    "thousands of blank rows": (_blank_rows, "多余的空行"),
    "not a zip": (lambda: b"PK\x03\x04broken", "请上传 .xlsx"),
    "a text file": (lambda: "统一社会信用代码,企业名称\n".encode(), "请上传 .xlsx"),
}


def _counts(eng) -> tuple[int, int]:
    with eng.db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Enterprise)),
            session.scalar(select(func.count()).select_from(EnterpriseChange)),
        )


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_enterprise_list_is_a_clear_422_and_changes_nothing(client, auth, eng, name):
    make, text = CASES[name]
    payload = make()
    assert len(payload) < enterprise_xlsx.MAX_BYTES
    auth.login("dispatcher")
    before = _counts(eng)
    page = client.post(
        "/enterprises/import",
        data={"file": (io.BytesIO(payload), "list.xlsx"), "mode": "valid_rows"},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422, page.text[:500]
    assert text in page.text
    token = client.post("/api/v1/auth/token", json={"username": "dispatcher", "password": "jienan2026"}).json[
        "token"
    ]
    api = client.post(
        "/api/v1/enterprises/import",
        headers={"Authorization": f"Bearer {token}"},
        data={"file": (io.BytesIO(payload), "list.xlsx"), "mode": "valid_rows"},
        content_type="multipart/form-data",
    )
    assert api.status_code == 422 and text in str(api.json["error"])
    assert _counts(eng) == before


def test_an_upload_over_the_limit_is_refused_before_it_is_read(client, auth, eng):
    auth.login("dispatcher")
    before = _counts(eng)
    # Encoded in memory: the test client would spool a body this big to a temporary file it never closes.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(b"PK" + b"\0" * (enterprise_xlsx.MAX_BYTES + 10)), "big.xlsx")}
    )
    response = client.post(
        "/enterprises/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 422 and "文件不能超过" in response.text
    assert _counts(eng) == before


def test_names_that_look_like_formulas_leave_as_text(client, auth, eng):
    auth.login("dispatcher")
    data = enterprise_workbook(
        enterprises=[{"统一社会信用代码": "91350400KJHQ23BN88", "企业名称": "@SUM(1)", "地址": "+1"}]
    )
    imported = client.post(
        "/enterprises/import", data={"file": (io.BytesIO(data), "x.xlsx")}, content_type="multipart/form-data"
    )
    assert imported.status_code == 200 and 'data-saved="1"' in imported.text
    export = client.get("/enterprises/export.xlsx?q=SUM")
    workbook = load_workbook(io.BytesIO(export.data))
    export.close()
    row = next(workbook["企业名录"].iter_rows(min_row=2))
    assert row[1].value == "'@SUM(1)" and row[1].data_type == "s" and row[6].value == "'+1"
