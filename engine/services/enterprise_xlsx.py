"""The enterprise list (企业名录) as an .xlsx workbook: the import template (with drop-down lists of the office's
areas, pools and tags), importing it with every row checked, and exporting any search of the enterprises.

One workbook, three sheets, the same for template, import and export (so an export can be edited and imported
back): 企业名录 (one row per enterprise), 企业库与标签 (one row per enterprise in a pool or with a tag) and 年度数据
(one row per enterprise and year). An import creates the enterprises whose credit code is new and changes the
others — only the cells that are filled in (a blank cell leaves a value as it was) — adds pool and tag
memberships (it never takes an enterprise out of one) and enters key figures by year. Every row is checked and
each problem named with its sheet, row and column; the user chooses all rows or nothing, or the valid rows only,
or only a check. The archive is opened by engine.services.xlsx (zip bombs, DTDs, bounds), and an export writes
text through spreadsheet_text so a name starting with "=" is not a formula.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from copy import copy

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import func
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.domain.text import spreadsheet_text
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import SECTORS
from engine.domain.vocabulary import SIZE_CLASSES
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import enterprises as enterprise_service
from engine.services import xlsx
from engine.services.common import Actor
from engine.services.common import require_role
from engine.services.enterprise_catalog import find_tag
from engine.services.enterprise_catalog import unique_or_conflict
from engine.storage.models import Area
from engine.storage.models import Case
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag
from engine.storage.models import EnterpriseYear

IMPORTERS = ("dispatcher", "manager", "admin")
MAX_BYTES = xlsx.MAX_BYTES
MAX_ROWS = {"企业名录": 5000, "企业库与标签": 10000, "年度数据": 10000}
ENTERPRISES, MEMBERSHIPS, YEARS = "企业名录", "企业库与标签", "年度数据"
CODE = "统一社会信用代码"
# (heading, field, required, width)
ENTERPRISE_COLUMNS = [
    (CODE, "credit_code", True, 22),
    ("企业名称", "name", True, 30),
    ("所属领域", "field", False, 10),
    ("行业门类", "sector", False, 22),
    ("企业规模", "size_class", False, 10),
    ("乡镇街道", "area", False, 14),
    ("地址", "address", False, 30),
    ("联系人", "contact_name", False, 10),
    ("联系电话", "contact_phone", False, 14),
]
MEMBERSHIP_COLUMNS = [
    (CODE, None, True, 22),
    ("企业库/标签", "tag", True, 16),
    ("批次", "batch", False, 12),
    ("日期", "since", False, 12),
    ("备注", "note", False, 30),
]
YEAR_COLUMNS = [
    (CODE, None, True, 22),
    ("年份", "year", True, 8),
    ("产值（万元）", "output_value", False, 14),
    ("营业收入（万元）", "revenue", False, 14),
    ("从业人数", "employees", False, 10),
]
SHEETS = {ENTERPRISES: ENTERPRISE_COLUMNS, MEMBERSHIPS: MEMBERSHIP_COLUMNS, YEARS: YEAR_COLUMNS}
# Export only (ignored by an import). Further contacts stay on the page: people's phone numbers, not a list to
# hand on; the main contact is in the sheet as it is in the template.
EXPORT_EXTRA = [("诉求总数", 10), ("更新时间", 17)]
CHUNK = 500


def _sector_label(code: str) -> str:
    return f"{code} {SECTORS[code][0]}"


# ---------------------------------------------------------------------------------------------------------
# Template


def template(eng) -> bytes:
    """The import template: the three sheets' headings (required ones in red), drop-down lists of the fields,
    sectors, size classes and the office's active areas, pools and tags, and how to fill it in."""
    with eng.db.read() as session:
        areas = session.scalars(
            select(Area.name).where(Area.is_active.is_(True)).order_by(Area.sort_order, Area.area_id)
        ).all()
        tags = session.scalars(
            select(EnterpriseTag.name)
            .where(EnterpriseTag.is_active.is_(True))
            .order_by(EnterpriseTag.kind, EnterpriseTag.sort_order, EnterpriseTag.tag_id)
        ).all()
    choices = {
        "所属领域": list(FIELDS),
        "行业门类": [_sector_label(code) for code in SECTORS],
        "企业规模": list(SIZE_CLASSES),
        "乡镇街道": list(areas),
        "企业库/标签": list(tags),
    }
    workbook = Workbook()
    sheets = {}
    for title, columns in SHEETS.items():
        sheet = workbook.active if not sheets else workbook.create_sheet(title)
        sheet.title = title
        _headings(sheet, columns)
        sheets[title] = sheet
    for title, columns in SHEETS.items():
        sheet = sheets[title]
        for index, (heading, _field, required, _width) in enumerate(columns, start=1):
            letter = get_column_letter(index)
            if heading == CODE:  # text, so that an all-digit code does not turn into a rounded number
                sheet.column_dimensions[letter].number_format = "@"
            values = choices.get(heading)
            if not values:
                continue
            listing = workbook.create_sheet(f"_{heading.replace('/', '_')}")
            for value in values:
                listing.append([value])
            listing.sheet_state = "hidden"
            check = DataValidation(
                type="list",
                formula1=f"='{listing.title}'!$A$1:$A${len(values)}",
                allow_blank=not required,
            )
            check.error, check.errorTitle = f"请从下拉列表中选择{heading}", "取值不在列表中"
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}{MAX_ROWS[title] + 1}")
    notes = workbook.create_sheet("填写说明", 3)
    for line in [
        "“企业名录”每行一家企业；红色列名为必填。以统一社会信用代码识别企业：新的代码新建企业档案，已有的代码修改该企业。",
        "修改已有企业时，只有填写了的单元格会改动原有内容；留空的单元格保持原样。",
        "所属领域、行业门类、企业规模、乡镇街道请从下拉列表中选择（乡镇街道由活动办在“企业分类管理”中维护）。",
        "“企业库与标签”每行把一家企业加入一个企业库或标签（如重点企业库、挂牌服务）；分批次的企业库须填写批次，"
        "记日期的可填写日期（YYYY-MM-DD，留空为导入当天）。导入只会加入或修改，不会移出；移出请在企业档案页面操作。",
        "“年度数据”每行一家企业一个年度的产值、营业收入（万元）和从业人数，可只填其中一项；同一年度再次导入会覆盖。",
        f"一次最多导入企业 {MAX_ROWS[ENTERPRISES]} 行、企业库与标签 {MAX_ROWS[MEMBERSHIPS]} 行、年度数据 {MAX_ROWS[YEARS]} 行；"
        "单元格请填写数值或文字，不要使用公式。",
        "导入前可选择“只检查不导入”查看每一行的问题。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _headings(sheet, columns) -> None:
    sheet.append([heading for heading, _f, _r, _w in columns])
    for index, (_heading, _field, required, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = PatternFill("solid", fgColor="DDE6F2")
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A2"


# ---------------------------------------------------------------------------------------------------------
# Reading a file


@dataclasses.dataclass
class Row:
    sheet: str
    number: int
    values: dict  # heading -> cell value ("" when empty)
    formulas: list[str]


def read_file(data: bytes) -> dict[str, list[Row]]:
    """The non-empty rows of each sheet (企业名录 required; the other two optional).

    :raises ValidationFailed: not an .xlsx, too big, a DTD, too many rows or columns, or a required column missing.
    """
    with xlsx.open_workbook(data) as workbook:
        sheets = {title: workbook[title] for title in SHEETS if title in workbook.sheetnames}
        if not sheets:  # none of the template's sheets: the first one, renamed, holds the enterprises
            sheets = {ENTERPRISES: workbook.worksheets[0]}
        return {title: _read_sheet(title, sheet) for title, sheet in sheets.items()}


def _read_sheet(title: str, sheet) -> list[Row]:
    columns = SHEETS[title]
    rows = sheet.iter_rows()
    header = next(rows, None)
    xlsx.check_row(1, header or ())
    headings = [str(c.value).strip() if c.value is not None else "" for c in header or []]
    missing = [h for h, _f, required, _w in columns if required and h not in headings]
    if missing:
        raise ValidationFailed(
            _("缺少必需的列"),
            {
                "file": _(
                    "“%(sheet)s”缺少列：%(columns)s（请使用系统提供的模板）",
                    sheet=title,
                    columns="、".join(missing),
                )
            },
        )
    positions = {h: headings.index(h) for h, _f, _r, _w in columns if h in headings}
    limit = MAX_ROWS[title]
    result = []
    for number, row in enumerate(rows, start=2):
        xlsx.check_row(number, row)
        cells = {h: (row[i] if i < len(row) else None) for h, i in positions.items()}
        formulas = [h for h, c in cells.items() if c is not None and c.data_type == "f"]
        values = {h: ("" if c is None or c.value is None else c.value) for h, c in cells.items()}
        if all(str(v).strip() == "" for v in values.values()):
            if number > limit * 4:  # thousands of blank rows: not a filled-in template
                raise ValidationFailed(
                    _("行数过多"),
                    {
                        "file": _(
                            "“%(sheet)s”超过 %(limit)s 行，请删去多余的空行", sheet=title, limit=limit * 4
                        )
                    },
                )
            continue
        if len(result) >= limit:
            raise ValidationFailed(
                _("行数过多"),
                {"file": _("“%(sheet)s”一次最多导入 %(limit)s 行，请拆成多个文件", sheet=title, limit=limit)},
            )
        result.append(Row(title, number, values, formulas))
    return result


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# ---------------------------------------------------------------------------------------------------------
# Importing


class _Rollback(Exception):
    """Ends the import's transaction without saving (a check, or all-or-nothing with a bad row)."""


def import_file(
    eng, actor: Actor, data: bytes, *, mode: str = "all_or_nothing", source: str = "file"
) -> dict:
    """Import an enterprise workbook in one transaction.

    mode: "all_or_nothing" (any bad row: nothing saved), "valid_rows" (the good rows saved, the bad ones reported)
    or "check" (nothing saved, every row's problems reported). Returns {saved, mode, rows: {sheet: n}, created,
    updated, unchanged, memberships, years, errors: [{sheet, row, column, message}]}.
    :raises ValidationFailed: the file itself (not an .xlsx, a zip bomb, a DTD, too many rows, a missing column).
    """
    require_role(actor, *IMPORTERS)
    if mode not in ("all_or_nothing", "valid_rows", "check"):
        raise ValidationFailed(_("导入方式有误"), {"mode": _("应为 all_or_nothing、valid_rows 或 check")})
    sheets = read_file(data)
    counted = {title: len(rows) for title, rows in sheets.items()}
    if not any(counted.values()):
        raise ValidationFailed(_("表格中没有数据行"), {"file": _("表格中没有数据行")})
    report = {
        "saved": False,
        "mode": mode,
        "rows": counted,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "memberships": 0,
        "years": 0,
        "errors": [],
    }
    try:
        with unique_or_conflict(), eng.db.transaction() as session:
            importer = _Importer(session, eng, actor, source, report)
            importer.enterprises(sheets.get(ENTERPRISES, []))
            importer.memberships(sheets.get(MEMBERSHIPS, []))
            importer.years(sheets.get(YEARS, []))
            if mode == "check" or (report["errors"] and mode == "all_or_nothing"):
                raise _Rollback
            report["saved"] = True
    except _Rollback:
        pass
    return report


class _Importer:
    """The rows of one import, checked and saved inside one transaction (each check raises before it writes)."""

    def __init__(self, session, eng, actor: Actor, source: str, report: dict):
        self.session, self.eng, self.actor, self.source, self.report = session, eng, actor, source, report
        self.by_code: dict[str, Enterprise] = {}
        self.failed: dict[str, int] = {}  # credit code -> the enterprise row that did not pass

    def error(self, row: Row, column: str, message: str) -> None:
        self.report["errors"].append(
            {"sheet": row.sheet, "row": row.number, "column": column, "message": message}
        )

    def formulas(self, row: Row) -> bool:
        for heading in row.formulas:
            self.error(row, heading, _("请填写数值或文字，不要使用公式"))
        return bool(row.formulas)

    def fields_to_columns(self, row: Row, exc: ValidationFailed, columns) -> None:
        by_field = {field: heading for heading, field, _r, _w in columns if field}
        for field, message in (exc.errors or {"": exc.message}).items():
            self.error(row, by_field.get(field, field or CODE), message)

    def code_of(self, row: Row) -> str:
        return enterprise_service.normalise_credit_code(_text(row.values.get(CODE, "")))

    def enterprises(self, rows: list[Row]) -> None:
        codes = {self.code_of(r) for r in rows} - {""}
        for start in range(0, len(codes), CHUNK):
            chunk = list(codes)[start : start + CHUNK]
            for enterprise in self.session.scalars(
                select(Enterprise).where(Enterprise.credit_code.in_(chunk))
            ):
                self.by_code[enterprise.credit_code] = enterprise
        seen: dict[str, int] = {}
        for row in rows:
            code = self.code_of(row)
            if code in seen:
                self.error(row, CODE, _("与第 %(row)s 行是同一家企业", row=seen[code]))
                continue
            if code:
                seen[code] = row.number
            if self.formulas(row):
                self.failed[code] = row.number
                continue
            given = {
                field: _text(row.values.get(h, ""))
                for h, field, _r, _w in ENTERPRISE_COLUMNS
                if h in row.values
            }
            given = {k: v for k, v in given.items() if v != ""}
            existing = self.by_code.get(code)
            try:
                if existing is None:
                    self.by_code[code] = enterprise_service.add_enterprise(
                        self.session, self.eng, self.actor, given, source=self.source
                    )
                    self.report["created"] += 1
                else:
                    given["credit_code"] = code
                    changed = enterprise_service.change_enterprise(
                        self.session, self.eng, self.actor, existing, given, source=self.source
                    )
                    self.report["updated" if changed else "unchanged"] += 1
            except ValidationFailed as exc:
                self.failed[code] = row.number
                self.fields_to_columns(row, exc, ENTERPRISE_COLUMNS)

    def enterprise_for(self, row: Row) -> Enterprise | None:
        """The enterprise a membership or year row names (on file, or new in this file); reports why not."""
        code = self.code_of(row)
        if not code:
            self.error(row, CODE, _("必填"))
            return None
        if code in self.failed:
            self.error(row, CODE, _("该企业在“企业名录”第 %(row)s 行未通过检查", row=self.failed[code]))
            return None
        enterprise = self.by_code.get(code)
        if enterprise is None:
            enterprise = self.session.scalars(
                select(Enterprise).where(Enterprise.credit_code == code)
            ).first()
            if enterprise is not None:
                self.by_code[code] = enterprise
        if enterprise is None:
            self.error(
                row,
                CODE,
                _("企业档案中没有信用代码为 %(code)s 的企业，请在“企业名录”中一并填写", code=code[:18]),
            )
        return enterprise

    def memberships(self, rows: list[Row]) -> None:
        for row in rows:
            if self.formulas(row):
                continue
            enterprise = self.enterprise_for(row)
            name = _text(row.values.get("企业库/标签", ""))
            tag = find_tag(self.session, name) if name else None
            if not name:
                self.error(row, "企业库/标签", _("必填"))
            elif tag is None:
                self.error(row, "企业库/标签", _("没有这个企业库或标签：%(name)s", name=name[:100]))
            if enterprise is None or tag is None:
                continue
            try:
                changed = enterprise_service.add_membership(
                    self.session,
                    self.eng,
                    self.actor,
                    enterprise,
                    tag,
                    batch=_text(row.values.get("批次", "")),
                    since=row.values.get("日期") or None,
                    note=_text(row.values.get("备注", "")),
                    source=self.source,
                )
            except ValidationFailed as exc:
                self.fields_to_columns(row, exc, MEMBERSHIP_COLUMNS)
                continue
            self.report["memberships"] += int(changed)

    def years(self, rows: list[Row]) -> None:
        seen: dict[tuple, int] = {}
        for row in rows:
            if self.formulas(row):
                continue
            enterprise = self.enterprise_for(row)
            errors: dict[str, str] = {}
            year = enterprise_service.check_year(self.eng, _text(row.values.get("年份", "")), errors)
            values = {field: row.values.get(h, "") for h, field, _r, _w in YEAR_COLUMNS[2:]}
            values = {k: (_text(v) if not isinstance(v, (int, float)) else v) for k, v in values.items()}
            clean = enterprise_service.check_year_values(values, errors)
            if enterprise is not None and year is not None:
                key = (enterprise.enterprise_id, year)
                if key in seen:
                    errors["year"] = _("与第 %(row)s 行是同一企业同一年度", row=seen[key])
                seen.setdefault(key, row.number)
            if errors:
                self.fields_to_columns(row, ValidationFailed("", errors), YEAR_COLUMNS)
                continue
            if enterprise is None:
                continue
            saved = enterprise_service.save_year(
                self.session, self.eng, self.actor, enterprise, year, clean, self.source
            )
            self.report["years"] += int(saved)


# ---------------------------------------------------------------------------------------------------------
# Exporting


def export(eng, actor: Actor, q: str, filters: dict | None, out) -> int:
    """Write the enterprises matching a search (as enterprise_service.search_enterprises) into `out` (a binary
    file), in the import's three sheets. Returns the number of enterprises.

    :raises PermissionDenied: a unit's handler (the list holds contacts). :raises ValidationFailed: bad filters.
    """
    enterprise_service.require_exporter(actor)
    with eng.db.read() as session:  # bad filters refused before a workbook is begun
        enterprise_service.enterprise_query(session, q, filters)
    workbook = Workbook(write_only=True)
    sheets = {title: workbook.create_sheet(title) for title in SHEETS}
    for title, sheet in sheets.items():
        columns = SHEETS[title] + (
            [(h, None, False, w) for h, w in EXPORT_EXTRA] if title == ENTERPRISES else []
        )
        for index, (_h, _f, _r, width) in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        heading_cells = []
        for heading, _field, required, _width in columns:
            cell = WriteOnlyCell(sheet, value=heading)
            cell.font = Font(bold=True, color="C00000" if required else "000000")
            cell.fill = PatternFill("solid", fgColor="DDE6F2")
            heading_cells.append(cell)
        sheet.append(heading_cells)
    text_cell = WriteOnlyCell(sheets[ENTERPRISES])
    text_cell.number_format = "@"
    count = 0
    with eng.db.read() as session:
        query, _f = enterprise_service.enterprise_query(session, q, filters)
        areas = dict(session.execute(select(Area.area_id, Area.name)).all())
        tags = {t.tag_id: t for t in session.scalars(select(EnterpriseTag))}
        last_id = None
        while True:  # keyset pagination: each chunk a fresh, bounded query
            chunk_query = query.order_by(Enterprise.enterprise_id).limit(CHUNK)
            if last_id is not None:
                chunk_query = chunk_query.where(Enterprise.enterprise_id > last_id)
            rows = session.scalars(chunk_query).all()
            if not rows:
                break
            ids = [e.enterprise_id for e in rows]
            cases = dict(
                session.execute(
                    select(Case.enterprise_id, func.count())
                    .where(Case.enterprise_id.in_(ids))
                    .group_by(Case.enterprise_id)
                ).all()
            )
            for e in rows:
                values = [
                    e.credit_code,
                    e.name,
                    e.field,
                    _sector_label(e.sector) if e.sector in SECTORS else None,
                    e.size_class,
                    areas.get(e.area_id),
                    e.address,
                    e.contact_name,
                    e.contact_phone,
                    cases.get(e.enterprise_id, 0),
                    _local(e.updated_at or e.created_at),
                ]
                sheets[ENTERPRISES].append(_cells(sheets[ENTERPRISES], values, text_cell))
                count += 1
            for m in session.scalars(
                select(EnterpriseMembership)
                .where(EnterpriseMembership.enterprise_id.in_(ids), EnterpriseMembership.removed_at.is_(None))
                .order_by(EnterpriseMembership.enterprise_id, EnterpriseMembership.tag_id)
            ):
                code = next(e.credit_code for e in rows if e.enterprise_id == m.enterprise_id)
                values = [
                    code,
                    tags[m.tag_id].name,
                    m.batch,
                    m.since.isoformat() if m.since else None,
                    m.note,
                ]
                sheets[MEMBERSHIPS].append(_cells(sheets[MEMBERSHIPS], values, text_cell))
            codes = {e.enterprise_id: e.credit_code for e in rows}
            for y in session.scalars(
                select(EnterpriseYear)
                .where(EnterpriseYear.enterprise_id.in_(ids))
                .order_by(EnterpriseYear.enterprise_id, EnterpriseYear.year)
            ):
                values = [codes[y.enterprise_id], y.year, y.output_value, y.revenue, y.employees]
                sheets[YEARS].append(_cells(sheets[YEARS], values, text_cell))
            last_id = ids[-1]
            session.expunge_all()
    workbook.save(out)
    return count


def _cells(sheet, values: list, text_cell) -> list:
    cells = []
    for value in values:
        if isinstance(value, str):
            value = spreadsheet_text(value)
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell._style = copy(text_cell._style)  # text stays text when the file is edited and imported back
        elif isinstance(value, dt.datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        cells.append(cell)
    return cells


def _local(value):
    """Excel has no time zones: Beijing wall-clock time, without tzinfo."""
    if value is None:
        return None
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
