"""Uploaded spreadsheets are checked as archives before openpyxl parses them: a zip bomb, a DTD in the sheet XML,
absurdly wide rows and huge cells are each a clear 422 and register nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import ValidationFailed
from engine.services import imports
from engine.services import xlsx
from engine.storage.models import Case

HEAD = [h for h, _f, _r in imports.COLUMNS]


def _workbook(rows=(), head=HEAD) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = imports.SHEET
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rewrite(data: bytes, change) -> bytes:
    """The same archive with each entry's bytes passed through change(name, content)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, change(entry.filename, source.read(entry.filename)))
    return out.getvalue()


def _bomb() -> bytes:
    """A real workbook plus one entry of 300 MB of zeros: a few hundred KB on the wire."""
    data = _workbook()
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as stream:
            chunk = b"\0" * (1024 * 1024)
            for _n in range(300):
                stream.write(chunk)
    return out.getvalue()


def _with_dtd() -> bytes:
    def change(name, content):
        if name == "xl/worksheets/sheet1.xml":
            return content.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY e "eeeeeeeeee">]><worksheet', 1)
        return content

    return _rewrite(_workbook(), change)


def _post(client, data: bytes):
    return client.post(
        "/cases/import",
        data={"file": (io.BytesIO(data), "visit.xlsx")},
        content_type="multipart/form-data",
    )


def _count(eng) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(Case))


CASES = {
    "zip bomb": (_bomb, "解压后"),
    "DTD in the sheet": (_with_dtd, "DTD"),
    "200 columns": (lambda: _workbook(head=HEAD + [f"列{i}" for i in range(200)]), "最多 100 列"),
    "a 20,000-character cell": (lambda: _workbook(rows=[["x" * 20_000] + [""] * (len(HEAD) - 1)]), "超过"),
    "not a zip": (lambda: b"PK\x03\x04broken", "请上传 .xlsx"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_spreadsheet_is_a_clear_422_and_registers_nothing(client, auth, eng, name):
    make, text = CASES[name]
    payload = make()
    assert len(payload) < imports.MAX_BYTES
    auth.login("registrar")
    before = _count(eng)
    response = _post(client, payload)
    assert response.status_code == 422, response.text[:500]
    assert text in response.text
    assert _count(eng) == before


def test_the_bomb_is_refused_from_the_directory_without_unpacking():
    payload = _bomb()
    assert len(payload) < 1024 * 1024
    with pytest.raises(ValidationFailed) as refused:
        xlsx.check_archive(payload)
    assert "解压后" in refused.value.errors["file"]
