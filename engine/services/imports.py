"""Importing problems from a visit spreadsheet (走访调查表): the template, row-by-row validation with a report, and
registration of the valid rows (or of nothing at all, if the user asks) in one transaction, each case starting
the loop like any other, all carrying the batch name (交办批次)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from engine.domain.vocabulary import CATEGORIES
from engine.domain.vocabulary import CHANNELS
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import URGENCIES
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import cases as case_service
from engine.services import xlsx
from engine.services.common import Actor
from engine.services.common import require_role
from engine.services.enterprises import normalise_credit_code
from engine.storage.models import Enterprise

MAX_ROWS = 5000
MAX_BYTES = xlsx.MAX_BYTES
SHEET = "走访调查表"
# heading → register-form field (None: used to find the enterprise)
COLUMNS = [
    ("统一社会信用代码", None, True),
    ("企业名称", None, False),
    ("反映渠道", "channel", True),
    ("所属领域", "field", True),
    ("问题类别", "category", True),
    ("紧急程度", "urgency", True),
    ("问题摘要", "title", True),
    ("问题描述", "description", True),
    ("联系人", "contact_name", False),
    ("联系电话", "contact_phone", False),
]
CHOICES = {"反映渠道": CHANNELS, "所属领域": FIELDS, "问题类别": CATEGORIES, "紧急程度": URGENCIES}


def template() -> bytes:
    """The visit-spreadsheet template: headings, drop-down lists for coded columns, and instructions."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append([heading for heading, _field, _required in COLUMNS])
    for index, (heading, _field, required) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = PatternFill("solid", fgColor="DDE6F2")
        sheet.column_dimensions[cell.column_letter].width = 40 if heading == "问题描述" else 18
        if heading in CHOICES:
            listing = workbook.create_sheet(f"_{heading}")
            for value in CHOICES[heading]:
                listing.append([value])
            listing.sheet_state = "hidden"
            check = DataValidation(
                type="list",
                formula1=f"='_{heading}'!$A$1:$A${len(CHOICES[heading])}",
                allow_blank=not required,
            )
            check.error, check.errorTitle = f"请从下拉列表中选择{heading}", "取值不在列表中"
            sheet.add_data_validation(check)
            check.add(f"{cell.column_letter}2:{cell.column_letter}{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明", 1)
    for line in [
        "每行一个问题；红色列名为必填。",
        "企业以统一社会信用代码识别，须已在“企业档案”中登记；企业名称仅供核对。",
        "反映渠道、所属领域、问题类别、紧急程度请从下拉列表中选择。",
        f"一次最多导入 {MAX_ROWS} 行；单元格请填写数值或文字，不要使用公式。",
        "导入时可填写交办批次名称，批次可在台账和统计中筛选。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 90
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _read_rows(data: bytes) -> list[tuple[int, dict]]:
    """(spreadsheet row number, {heading: text}) of the non-empty rows. :raises ValidationFailed: bad file."""
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
        positions = {h: headings.index(h) for h, _f, _r in COLUMNS if h in headings}
        result = []
        for number, row in enumerate(rows, start=2):
            xlsx.check_row(number, row)
            cells = {h: (row[i] if i < len(row) else None) for h, i in positions.items()}
            formulas = [h for h, c in cells.items() if c is not None and c.data_type == "f"]
            values = {h: ("" if c is None or c.value is None else c.value) for h, c in cells.items()}
            blank = all(str(v).strip() == "" for v in values.values())
            xlsx.check_count(number, blank, len(result), MAX_ROWS)
            if not blank:
                result.append((number, values, formulas))
        return result


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def check_rows(eng, actor: Actor, data: bytes) -> dict:
    """Every row's problems (row number, column, message) and the rows that are fine, without saving anything."""
    require_role(actor, "registrar", "dispatcher")
    rows = _read_rows(data)
    form = eng.forms.get(case_service.REGISTER_FORM)
    with eng.db.read() as session:
        codes = [normalise_credit_code(_text(v.get("统一社会信用代码", ""))) for _n, v, _f in rows]
        known = dict(
            session.execute(
                select(Enterprise.credit_code, Enterprise.enterprise_id).where(
                    Enterprise.credit_code.in_(set(codes))
                )
            ).all()
        )
    good, errors = [], []
    for (number, values, formulas), code in zip(rows, codes, strict=True):
        problems = [(h, _("请填写数值或文字，不要使用公式")) for h in formulas]
        enterprise_id = known.get(code)
        if not code:
            problems.append(("统一社会信用代码", _("必填")))
        elif enterprise_id is None:
            problems.append(
                ("统一社会信用代码", _("企业档案中没有信用代码为 %(code)s 的企业，请先登记企业", code=code))
            )
        raw = {field: _text(values.get(h, "")) for h, field, _r in COLUMNS if field}
        raw = {k: v for k, v in raw.items() if v != ""}
        raw["enterprise_id"] = enterprise_id or 0
        parsed = None
        try:
            parsed = form.parse_submission(raw)
        except ValidationFailed as exc:
            by_field = {field: heading for heading, field, _r in COLUMNS if field}
            for field, message in exc.errors.items():
                if field != "enterprise_id":
                    problems.append((by_field.get(field, field), message))
        if problems:
            errors += [{"row": number, "column": column, "message": message} for column, message in problems]
        else:
            good.append({"row": number, "data": parsed})
    return {"rows": len(rows), "valid": good, "errors": errors}


def import_rows(eng, actor: Actor, data: bytes, *, batch: str = "", all_or_nothing: bool = True) -> dict:
    """Register the valid rows as cases (one transaction), or none when any row is bad and `all_or_nothing`."""
    require_role(actor, "registrar", "dispatcher")
    batch = (batch or "").strip()
    if len(batch) > 100:
        raise ValidationFailed(_("批次名称太长"), {"batch": _("最多 %(limit)s 个字", limit=100)})
    checked = check_rows(eng, actor, data)
    if not checked["rows"]:
        raise ValidationFailed(_("表格中没有数据行"), {"file": _("表格中没有数据行")})
    if checked["errors"] and all_or_nothing:
        return {"imported": 0, "cases": [], **{k: checked[k] for k in ("rows", "errors")}}
    form = eng.forms.get(case_service.REGISTER_FORM)
    created = []
    with eng.db.transaction() as session:
        for item in checked["valid"]:
            data_row = item["data"]
            enterprise = session.get(Enterprise, data_row["enterprise_id"])
            case = case_service.create_case(
                session, eng, actor, form, enterprise, data_row, batch=batch or None
            )
            created.append({"row": item["row"], "case_id": case.case_id, "case_no": case.case_no})
    return {"imported": len(created), "cases": created, "rows": checked["rows"], "errors": checked["errors"]}
