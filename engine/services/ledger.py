"""The case ledger (诉求台账) as an .xlsx workbook: any filters of the case list, one row per case, formatted for
printing. Written row by row (openpyxl write-only mode, cases read in chunks), so memory stays flat."""

from __future__ import annotations

import datetime as dt
from copy import copy

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.styles import Border
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.styles import Side
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.domain.text import spreadsheet_text
from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import ENUM_LABELS_ZH
from engine.domain.vocabulary import TIERS
from engine.services.case_list import case_query
from engine.services.common import Actor
from engine.services.common import unit_names
from engine.storage.models import Area
from engine.storage.models import Case
from engine.storage.models import CaseUnit
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag

CHUNK = 1000


def _zh(kind: str, value):
    return ENUM_LABELS_ZH[kind].get(value, value) if value else None


# (heading, column width, value from (case, credit code, units, co-units))
COLUMNS = [
    ("诉求编号", 17, lambda c, x: c.case_no),
    ("登记时间", 17, lambda c, x: _local(c.created_at)),
    ("企业名称", 24, lambda c, x: c.enterprise_name),
    ("统一社会信用代码", 21, lambda c, x: x["credit_code"]),
    ("乡镇街道", 12, lambda c, x: x["area"]),
    ("企业规模", 8, lambda c, x: x["size"]),
    ("企业库/标签", 20, lambda c, x: x["tags"]),
    ("反映渠道", 9, lambda c, x: c.channel),
    ("所属领域", 9, lambda c, x: c.field),
    ("问题类别", 11, lambda c, x: c.category),
    ("紧急程度", 9, lambda c, x: c.urgency),
    ("诉求标题", 28, lambda c, x: c.title),
    ("问题描述", 48, lambda c, x: c.description),
    ("办理层级", 10, lambda c, x: TIERS.get(c.tier, (c.tier or "", ""))[0]),
    ("当前状态", 11, lambda c, x: CASE_STATUSES.get(c.status, (c.status, ""))[0]),
    ("当前环节", 14, lambda c, x: c.current_task),
    ("旗帜", 7, lambda c, x: _zh("flag", c.flag)),
    ("牵头单位", 18, lambda c, x: x["units"].get(c.lead_unit_id)),
    ("协办单位", 18, lambda c, x: "、".join(x["co_units"])),
    ("办理时限（工作日）", 10, lambda c, x: c.time_limit_days),
    ("签收时间", 17, lambda c, x: _local(c.signed_at)),
    ("办理期限", 17, lambda c, x: _local(c.deadline_at)),
    ("原办理期限", 17, lambda c, x: _local(c.original_deadline_at)),
    ("延期次数", 8, lambda c, x: c.extensions_count),
    ("退单次数", 8, lambda c, x: c.returns_count),
    ("通报次数", 8, lambda c, x: c.notice_count),
    ("办理轮次", 8, lambda c, x: c.round_no),
    ("办理结果", 11, lambda c, x: _zh("outcome", c.outcome)),
    ("满意度", 9, lambda c, x: _zh("satisfaction", c.satisfaction)),
    ("销号时间", 17, lambda c, x: _local(c.closed_at)),
]


def _local(value):
    """Excel has no time zones: Beijing wall-clock time, without tzinfo."""
    if value is None:
        return None
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


def export_cases(eng, actor: Actor, filters: dict, out) -> int:
    """Write the ledger of the cases `actor` may see that match `filters` into `out` (a binary file).

    Returns the number of cases. :raises ValidationFailed: bad filters (as the case list).
    """
    query = case_query(actor, filters or {}, eng.db.engine.dialect.name, eng.now())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("诉求台账")
    _layout(sheet)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    text_style = WriteOnlyCell(sheet)
    text_style.border, text_style.alignment = border, wrap
    date_style = WriteOnlyCell(sheet)
    date_style.border, date_style.alignment, date_style.number_format = border, wrap, "yyyy-mm-dd hh:mm"
    title = WriteOnlyCell(sheet, value=f"企业诉求台账（导出时间 {_local(eng.now()):%Y-%m-%d %H:%M}）")
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    heading_font, heading_fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F2")
    headings = []
    for heading, _width, _value in COLUMNS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font, cell.fill, cell.border = heading_font, heading_fill, border
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        headings.append(cell)
    sheet.append(headings)
    count = 0
    with eng.db.read() as session:
        units = unit_names(session)
        areas = dict(session.execute(select(Area.area_id, Area.name)).all())
        last_id = None
        while True:  # keyset pagination: each chunk is a fresh, bounded query
            chunk_query = query.order_by(Case.case_id).limit(CHUNK)
            if last_id is not None:
                chunk_query = chunk_query.where(Case.case_id > last_id)
            cases = session.scalars(chunk_query).all()
            if not cases:
                break
            ids = [c.case_id for c in cases]
            enterprises = {
                case_id: (code, areas.get(area_id), size, enterprise_id)
                for case_id, code, area_id, size, enterprise_id in session.execute(
                    select(
                        Case.case_id,
                        Enterprise.credit_code,
                        Enterprise.area_id,
                        Enterprise.size_class,
                        Enterprise.enterprise_id,
                    )
                    .join(Enterprise, Enterprise.enterprise_id == Case.enterprise_id)
                    .where(Case.case_id.in_(ids))
                )
            }
            tags = _tags(session, {e[3] for e in enterprises.values()})
            co_units: dict[int, list[str]] = {}
            for case_id, unit_id in session.execute(
                select(CaseUnit.case_id, CaseUnit.unit_id).where(
                    CaseUnit.case_id.in_(ids), CaseUnit.relation == "co"
                )
            ):
                co_units.setdefault(case_id, []).append(units.get(unit_id, ""))
            for case in cases:
                code, area, size, enterprise_id = enterprises.get(case.case_id, (None, None, None, None))
                extra = {
                    "credit_code": code,
                    "area": area,
                    "size": size,
                    "tags": "、".join(tags.get(enterprise_id, [])),
                    "units": units,
                    "co_units": co_units.get(case.case_id, []),
                }
                row = []
                for _heading, _width, value in COLUMNS:
                    shown = value(case, extra)
                    cell = WriteOnlyCell(
                        sheet, value=spreadsheet_text(shown) if isinstance(shown, str) else shown
                    )
                    # Styles are interned per workbook; copying a styled cell's style array is what makes
                    # 50,000 rows fast (setting border/alignment objects per cell hashes them every time).
                    cell._style = copy(
                        (date_style if isinstance(cell.value, dt.datetime) else text_style)._style
                    )
                    row.append(cell)
                sheet.append(row)
                count += 1
            last_id = ids[-1]
            session.expunge_all()
    workbook.save(out)
    return count


def _tags(session, enterprise_ids: set[int]) -> dict[int, list[str]]:
    """The current pools and tags of these enterprises, by name (a pool's batch after it: 挂牌服务（第一批）)."""
    result: dict[int, list[str]] = {}
    if not enterprise_ids:
        return result
    for enterprise_id, name, batch in session.execute(
        select(EnterpriseMembership.enterprise_id, EnterpriseTag.name, EnterpriseMembership.batch)
        .join(EnterpriseTag, EnterpriseTag.tag_id == EnterpriseMembership.tag_id)
        .where(
            EnterpriseMembership.enterprise_id.in_(enterprise_ids),
            EnterpriseMembership.removed_at.is_(None),
        )
        .order_by(EnterpriseTag.kind, EnterpriseTag.sort_order, EnterpriseTag.tag_id)
    ):
        result.setdefault(enterprise_id, []).append(f"{name}（{batch}）" if batch else name)
    return result


def _layout(sheet) -> None:
    for index, (_heading, width, _value) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C3"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "8"  # A3
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
