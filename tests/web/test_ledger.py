"""The ledger export: the case list's filters, one row per case, what a unit may see, bad filters."""

from __future__ import annotations

import io

from openpyxl import load_workbook


def _rows(response):
    data = response.data
    response.close()  # the body is a spooled temporary file: closed with the response, as a server does
    sheet = load_workbook(io.BytesIO(data), read_only=True)["诉求台账"]
    rows = list(sheet.iter_rows(values_only=True))
    return rows[1], rows[2:]


def test_ledger_export_opens_in_openpyxl_with_the_filtered_rows(client, auth, journey):
    first = journey.register(title="急需仓储用房", category="用地")["case_id"]
    second = journey.register(title="用电增容", category="水电气")["case_id"]
    journey.dispatch(second, lead="power", co_units=["market"])
    auth.login("dispatcher")
    response = client.get("/cases/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    headings, rows = _rows(response)
    assert headings[0] == "诉求编号" and "统一社会信用代码" in headings and "满意度" in headings
    assert len(rows) == 2
    by_title = {row[headings.index("诉求标题")]: row for row in rows}
    power = by_title["用电增容"]
    assert power[headings.index("牵头单位")] and power[headings.index("协办单位")]
    assert power[headings.index("当前状态")] == "待签收" and power[headings.index("办理时限（工作日）")] == 5
    assert power[headings.index("统一社会信用代码")]
    _, only_land = _rows(client.get("/cases/export.xlsx?category=用地"))
    assert [r[headings.index("诉求标题")] for r in only_land] == ["急需仓储用房"]
    assert first and client.get("/cases/export.xlsx?date_from=bad").status_code == 422


def test_a_units_handler_exports_only_its_own_cases(client, auth, journey):
    mine = journey.register(title="用电增容")["case_id"]
    journey.register(title="别人的诉求")
    journey.dispatch(mine, lead="power")
    auth.login("handler_power")
    _, rows = _rows(client.get("/cases/export.xlsx"))
    assert len(rows) == 1 and "用电增容" in rows[0]
