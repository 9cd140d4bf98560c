"""Importing the pairing roster (包联名册) from .xlsx: the template with drop-downs, row-by-row checks with a report,
and the roster saved in one transaction — every row, or nothing when any row is wrong.

A file states who is paired with each enterprise at each level it mentions: for every (enterprise, level) in the
file, the file's rows replace that enterprise's pairings at that level; other levels and enterprises are left as
they are. So a city-leader list and a department's 挂钩 list can be imported separately.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select

from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import programme_log
from engine.services import xlsx
from engine.services.common import Actor
from engine.services.common import require_role
from engine.services.enterprises import normalise_credit_code
from engine.services.pairing import EDITORS
from engine.services.pairing import Lookup
from engine.services.pairing import PersonResolver
from engine.services.pairing import check_row
from engine.services.pairing import pairing_values
from engine.storage.models import Pairing
from engine.storage.models import PairingLevel
from engine.storage.models import Unit

MAX_ROWS = 10_000
MAX_BYTES = xlsx.MAX_BYTES
SHEET = "包联名册"
# heading → row field, required?
COLUMNS = [
    ("统一社会信用代码", "credit_code", True),
    ("企业名称", None, False),
    ("包联层级", "level", True),
    ("单位", "unit", False),
    ("姓名", "name", False),
    ("职务", "title", False),
    ("联系电话", "phone", False),
    ("系统账号", "account", False),
    ("备注", "note", False),
]
HEADING = {field: heading for heading, field, _required in COLUMNS if field}
_DELETE_CHUNK = 500


def template(eng) -> bytes:
    """The roster template: headings, drop-downs of the active levels and units, and instructions."""
    with eng.db.read() as session:
        levels = list(
            session.scalars(
                select(PairingLevel.name)
                .where(PairingLevel.is_active.is_(True))
                .order_by(PairingLevel.sort_order, PairingLevel.level_id)
            )
        )
        kinds = list(
            session.execute(
                select(PairingLevel.name, PairingLevel.kind)
                .where(PairingLevel.is_active.is_(True))
                .order_by(PairingLevel.sort_order, PairingLevel.level_id)
            )
        )
        units = list(
            session.scalars(select(Unit.name).where(Unit.is_active.is_(True)).order_by(Unit.unit_id))
        )
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append([heading for heading, _field, _required in COLUMNS])
    choices = {"包联层级": levels, "单位": units}
    for index, (heading, _field, required) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = PatternFill("solid", fgColor="DDE6F2")
        sheet.column_dimensions[cell.column_letter].width = (
            24 if heading in ("单位", "统一社会信用代码") else 16
        )
        values = choices.get(heading)
        if values:
            listing = workbook.create_sheet(f"_{heading}")
            for value in values:
                listing.append([value])
            listing.sheet_state = "hidden"
            check = DataValidation(
                type="list", formula1=f"='_{heading}'!$A$1:$A${len(values)}", allow_blank=not required
            )
            check.error, check.errorTitle = f"请从下拉列表中选择{heading}", "取值不在列表中"
            sheet.add_data_validation(check)
            check.add(f"{cell.column_letter}2:{cell.column_letter}{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明", 1)
    kind_words = {
        "person": "填姓名（单位可填其所在单位）",
        "unit": "填单位（姓名可填该单位的负责人）",
        "enterprise": "填企业负责人的姓名，单位留空",
    }
    for line in [
        "每行一条包联：一家企业在一个层级上的一位领导、干部或一个单位。红色列名为必填。",
        "企业以统一社会信用代码识别，须已在“企业档案”中登记；企业名称仅供核对。",
        "包联层级、单位请从下拉列表中选择（层级由企业服务办公室在“包联层级”中维护）：",
        *[f"  · {name}：{kind_words.get(kind, '')}" for name, kind in kinds],
        "系统账号：有账号的领导、干部填登录名，导入后其“我包联的企业”即可看到这些企业；没有账号的只填姓名、单位、电话。",
        "同一单位里同名的人视为同一人；不是同一人时请填系统账号或在姓名上加以区分。",
        "导入时，文件中出现的每家企业的每个层级，以文件为准整体替换原有包联；文件中没有的层级和企业不变。",
        f"任何一行有误都不会导入，请按提示改好后整表重新导入。一次最多 {MAX_ROWS} 行，不要使用公式。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_rows(data: bytes) -> list[tuple[int, dict, list[str]]]:
    """(row number, {field: text}, headings holding a formula) of the non-empty rows.

    :raises ValidationFailed: not a readable .xlsx, a column missing, or too many rows."""
    with xlsx.open_workbook(data) as workbook:
        sheet = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
        rows = sheet.iter_rows()
        header = next(rows, None)
        xlsx.check_row(1, header or ())
        headings = [str(c.value).strip() if c.value is not None else "" for c in header or []]
        missing = [h for h, _f, required in COLUMNS if required and h not in headings]
        if missing:
            raise ValidationFailed(
                _("缺少必需的列"),
                {"file": _("缺少列：%(columns)s（请使用系统提供的模板）", columns="、".join(missing))},
            )
        positions = {field: headings.index(h) for h, field, _r in COLUMNS if field and h in headings}
        result = []
        for number, row in enumerate(rows, start=2):
            xlsx.check_row(number, row)
            cells = {field: (row[i] if i < len(row) else None) for field, i in positions.items()}
            formulas = [HEADING[f] for f, c in cells.items() if c is not None and c.data_type == "f"]
            values = {f: ("" if c is None or c.value is None else _text(c.value)) for f, c in cells.items()}
            blank = all(v == "" for v in values.values())
            xlsx.check_count(number, blank, len(result), MAX_ROWS)
            if not blank:
                result.append((number, values, formulas))
        return result


def _check(session, rows) -> tuple[list, list[dict]]:
    lookup = Lookup.load(
        session,
        usernames=[v.get("account") for _n, v, _f in rows],
        credit_codes=[normalise_credit_code(v.get("credit_code", "")) for _n, v, _f in rows],
    )
    good, errors, seen = [], [], {}
    for number, values, formulas in rows:
        row, problems = check_row(values, lookup)
        found = [(h, _("请填写数值或文字，不要使用公式")) for h in formulas]
        found += [(HEADING.get(field, field), message) for field, message in problems.items()]
        if row is not None and not found:
            first = seen.setdefault(row.identity(), number)
            if first != number:
                found.append((HEADING["name"], _("与第 %(row)s 行重复", row=first)))
        if found:
            errors += [{"row": number, "column": column, "message": message} for column, message in found]
        else:
            good.append((number, row))
    return good, errors


def check_file(eng, actor: Actor, data: bytes) -> dict:
    """Every row's problems (row, column, message) without saving anything.

    :raises ValidationFailed: the file itself is unreadable. :raises PermissionDenied: not a data manager."""
    require_role(actor, *EDITORS)
    rows = _read_rows(data)
    with eng.db.read() as session:
        good, errors = _check(session, rows)
    return {"rows": len(rows), "valid": len(good), "errors": errors}


def import_file(eng, actor: Actor, data: bytes, filename: str = "") -> dict:
    """Save the roster in one transaction when every row is right; otherwise save nothing and list the problems.

    Returns {"imported", "rows", "errors", "enterprises", "replaced", "people_created"}.
    :raises ValidationFailed: the file is unreadable or has no rows. :raises PermissionDenied: not a data manager.
    """
    require_role(actor, *EDITORS)
    rows = _read_rows(data)
    if not rows:
        raise ValidationFailed(_("表格中没有数据行"), {"file": _("表格中没有数据行")})
    with eng.db.transaction() as session:
        good, errors = _check(session, rows)
        if errors:
            return {"imported": 0, "rows": len(rows), "errors": errors, "enterprises": 0, "replaced": 0}
        groups = sorted({(row.enterprise_id, row.level.level_id) for _n, row in good})
        replaced = _clear(session, groups)
        resolver = PersonResolver(session, eng, [row.person_name for _n, row in good])
        people = [resolver.person(row) if row.person_name else None for _n, row in good]
        session.flush()  # the new people's ids
        # A Core executemany: the ORM's bulk path sent one INSERT per row on PostgreSQL (5,000 round trips).
        session.execute(
            insert(Pairing.__table__),
            [pairing_values(row, person, eng, actor) for (_n, row), person in zip(good, people, strict=True)],
        )
        enterprises = len({e for e, _l in groups})
        programme_log.record(
            session,
            eng,
            actor,
            subject="pairing",
            action="imported",
            title=f"导入包联名册{('“' + filename[:100] + '”') if filename else ''}：{len(good)} 条包联，涉及 {enterprises} 家企业",
            data={
                "rows": len(good),
                "enterprises": enterprises,
                "replaced": replaced,
                "people_created": resolver.created,
                "levels": sorted({row.level.name for _n, row in good}),
            },
        )
        return {
            "imported": len(good),
            "rows": len(rows),
            "errors": [],
            "enterprises": enterprises,
            "replaced": replaced,
            "people_created": resolver.created,
        }


def _clear(session, groups: list[tuple[int, int]]) -> int:
    """Delete the existing pairings of these (enterprise, level) pairs; returns how many there were."""
    removed = 0
    for start in range(0, len(groups), _DELETE_CHUNK):
        chunk = groups[start : start + _DELETE_CHUNK]
        by_level: dict[int, list[int]] = {}
        for enterprise_id, level_id in chunk:
            by_level.setdefault(level_id, []).append(enterprise_id)
        condition = or_(
            *[
                and_(Pairing.level_id == level_id, Pairing.enterprise_id.in_(ids))
                for level_id, ids in by_level.items()
            ]
        )
        removed += session.execute(delete(Pairing).where(condition)).rowcount or 0
    return removed
