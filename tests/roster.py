"""Builders for pairing tests: a roster .xlsx as the template lays it out, and hostile variants of one."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

from engine.demo.seed import demo_credit_code
from engine.services import pairing_import

HEAD = [heading for heading, _field, _required in pairing_import.COLUMNS]


def roster_row(enterprise: str = "杭叉集团", level: str = "助企干部", **over) -> list:
    """One roster row by column heading: 统一社会信用代码 from the demo enterprise's name, then what `over` says
    (keys are the row fields: unit, name, title, phone, account, note, credit_code)."""
    values = {"credit_code": demo_credit_code(enterprise), "enterprise": enterprise, "level": level}
    values.update(over)
    by_heading = {
        "统一社会信用代码": values["credit_code"],
        "企业名称": values["enterprise"],
        "包联层级": values["level"],
        "单位": values.get("unit", ""),
        "姓名": values.get("name", ""),
        "职务": values.get("title", ""),
        "联系电话": values.get("phone", ""),
        "系统账号": values.get("account", ""),
        "备注": values.get("note", ""),
    }
    return [by_heading[h] for h in HEAD]


def roster_xlsx(rows, head=HEAD) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = pairing_import.SHEET
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def with_entity_declaration(data: bytes) -> bytes:
    """The same workbook with a DTD and an entity declared in its sheet XML (an XXE / billion-laughs attempt)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(
                    b"<worksheet",
                    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><worksheet',
                    1,
                )
                assert b"<!DOCTYPE" in content
            target.writestr(entry.filename, content)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A real roster plus one entry of 100 MB of zeros: about 100 KB on the wire."""
    out = io.BytesIO(roster_xlsx([roster_row(name="王芳")]))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as stream:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(100):
                stream.write(chunk)
    return out.getvalue()
