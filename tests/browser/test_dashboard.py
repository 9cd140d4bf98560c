"""The dashboard (数据看板) in Chromium: KPI cards and ECharts charts drawn from /figures/data.json for a known
set of cases, a click on a bar lands on the case list behind it, a handler sees only their own unit, and an
empty period or a failed load says so.

Screenshots: test-artifacts/browser/test_manager_*-01-desktop.png, -02-phone.png, test_handler_*-01-handler.png."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.storage.models import Unit
from engine.worker import run_pass
from tests.browser.test_editor_bundles import DIST

pytestmark = pytest.mark.skipif(
    not (DIST / "dashboard.js").is_file(), reason="dashboard bundle not built: run `npm run build`"
)

CHARTS = ("trend", "units", "categories", "tiers", "channels", "flags", "overdue")
POWER = "市电业局（供电公司）"
MARKET = "市场监督管理局"
ECON = "经济和信息化局"

# How many distinct colours a chart's canvas has and how many of its pixels are not (near) white.
CANVAS_STATS = """el => {
  const canvas = el.querySelector('canvas');
  if (!canvas) return null;
  const {width, height} = canvas;
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const colours = new Set();
  let inked = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b, a] = [pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]];
    if (a > 0 && (r < 235 || g < 235 || b < 235)) inked++;
    colours.add((r << 24) | (g << 16) | (b << 8) | a);
  }
  return {width, height, colours: colours.size, inked};
}"""

# The centre of one bar of the units chart, in page coordinates (ECharts' own layout of that bar).
BAR_CENTRE = """([series, name]) => {
  const chart = window.jnCharts.units;
  const index = chart.getOption().yAxis[0].data.indexOf(name);
  const layout = chart.getModel().getSeriesByIndex(series).getData().getItemLayout(index);
  const box = chart.getDom().getBoundingClientRect();
  return {x: box.left + layout.x + layout.width / 2, y: box.top + layout.y + layout.height / 2, index};
}"""


@pytest.fixture
def quarter(eng, journey, clock):
    """Four cases registered Tue 2026-03-10, looked at a week later (Wed 03-18):

    A  power, handled, revisited, closed: the only closed case
    B  market, signed for and left past its deadline (Tue 03-17 18:00): overdue, red flag
    C  econ (融资, by phone), dispatched on 03-18, not yet signed for
    D  resolved on the spot (政策咨询), waiting for its revisit
    """
    a = journey.register(title="园区变电站增容")
    journey.dispatch(a["case_id"], lead="power")
    journey.handle_to_revisit(a["case_id"], lead="power")
    journey.revisit(a["case_id"], "satisfied")
    journey.act("dispatcher", a["case_id"], {"closing_summary": "已解决，销号。"})

    b = journey.register(title="厂房用地手续办理缓慢", category="用地")
    journey.dispatch(b["case_id"], lead="market", time_limit_days=5)
    journey.act("handler_market", b["case_id"], {"sign_decision": "sign"})

    c = journey.register(title="贷款贴息申报咨询", category="融资", channel="电话", field="三产")

    d = journey.register(title="惠企政策申报口径", category="政策咨询", urgency="一般", channel="电话")
    journey.act("registrar", d["case_id"], {"on_site_result": "resolved", "on_site_actions": "当场答复。"})

    clock.set(dt.datetime(2026, 3, 18, 9, 0, tzinfo=LOCAL_TZ))
    run_pass(eng)  # B turns red
    journey.dispatch(c["case_id"], lead="econ")
    with eng.db.read() as session:
        units = dict(session.execute(select(Unit.name, Unit.unit_id)).all())
    return {"A": a, "B": b, "C": c, "D": d, "units": units}


def open_dashboard(page, query: str = "?period=2026-Q1") -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/dashboard{query}")
    page.wait_for_selector("#dashboard[data-state]", state="attached")
    state = page.locator("#dashboard").get_attribute("data-state")
    assert state == "ready", f"the dashboard did not load its figures ({state}); JavaScript errors: {errors}"
    for name in CHARTS:
        page.wait_for_selector(f"#chart-{name}[data-rendered='1']", state="attached")
    assert not errors, f"JavaScript errors: {errors}"


def chart_option(page, name: str) -> dict:
    """What a chart shows: its categories (or slice names) and every series' values."""
    return page.evaluate(
        """name => {
          const option = window.jnCharts[name].getOption();
          const values = d => (d && typeof d === 'object' ? d.value : d);
          return {
            categories: (option.yAxis?.[0]?.type === 'category' ? option.yAxis[0] : option.xAxis?.[0])?.data
              ?? null,
            series: option.series.map(s => ({
              name: s.name ?? null,
              names: s.data.map(d => d.name ?? null),
              values: s.data.map(values),
              drills: s.data.map(d => d.drill),
            })),
          };
        }""",
        name,
    )


def assert_drawn(page, name: str, min_colours: int = 6) -> None:
    stats = page.locator(f"#chart-{name}").evaluate(CANVAS_STATS)
    assert stats is not None, f"#chart-{name} has no canvas"
    assert stats["width"] > 100 and stats["height"] > 100, stats
    assert stats["colours"] >= min_colours and stats["inked"] > 500, f"#chart-{name} looks blank: {stats}"


def test_manager_sees_the_charts_and_drills_into_a_unit(page_as, shot, quarter):
    page = page_as("manager")
    open_dashboard(page)
    assert page.locator("#period-label").inner_text() == "2026年第1季度"

    kpis = {
        key: page.locator(f"#kpi-{key} [data-value]").inner_text()
        for key in ("collected", "closed", "resolved", "on_time", "satisfied", "overdue")
    }
    # D was resolved on the spot but waits for its revisit: collected 4, closed 1 (A), resolved 1 (A).
    assert kpis == {
        "collected": "4",
        "closed": "1",
        "resolved": "25%",
        "on_time": "100%",
        "satisfied": "100%",
        "overdue": "1",
    }
    assert "figure=collected" in page.locator("#kpi-collected").get_attribute("href")
    assert "overdue=1" in page.locator("#kpi-overdue").get_attribute("href")

    units = chart_option(page, "units")
    assert units["categories"][0] == POWER  # 100% closed, first
    assert set(units["categories"]) == {POWER, MARKET, ECON}
    assert units["series"][0]["values"][0] == 100
    trend = chart_option(page, "trend")
    assert trend["categories"] == ["2026-01", "2026-02", "2026-03"]
    assert trend["series"][0]["values"] == [0, 0, 4] and trend["series"][1]["values"] == [0, 0, 1]
    flags = chart_option(page, "flags")["series"][0]
    assert dict(zip(flags["names"], flags["values"], strict=True)) == {"绿旗": 2, "红旗": 1}
    overdue = chart_option(page, "overdue")
    assert overdue["categories"] == [MARKET] and overdue["series"][0]["values"] == [1]
    assert page.locator("#chart-categories").get_attribute("data-state") == "chart"

    for name in ("trend", "units"):
        assert_drawn(page, name)
    for name in ("categories", "tiers", "channels", "flags", "overdue"):
        assert_drawn(page, name, min_colours=3)
    shot(page, "01-desktop")

    # A click on power's closure-rate bar opens the cases behind it: A only.
    page.locator("#chart-units").scroll_into_view_if_needed()
    point = page.evaluate(BAR_CENTRE, [0, POWER])
    with page.expect_navigation():
        page.mouse.click(point["x"], point["y"])
    url = urlparse(page.url)
    query = parse_qs(url.query)
    assert url.path == "/cases"
    assert query["figure"] == ["collected"] and query["period"] == ["2026-Q1"]
    assert query["unit"] == [str(quarter["units"][POWER])]
    listed = page.locator("main table").inner_text()
    assert quarter["A"]["case_no"] in listed and quarter["B"]["case_no"] not in listed

    phone = page_as("manager", phone=True)
    open_dashboard(phone)
    for name in ("trend", "units"):
        assert_drawn(phone, name)
    # One chart per row, nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    widths = [phone.locator(f"#chart-{name}").bounding_box()["width"] for name in CHARTS]
    assert all(300 < w <= 390 for w in widths), widths
    shot(phone, "02-phone")


def test_handler_sees_only_their_unit(page_as, shot, quarter):
    page = page_as("handler_power")
    open_dashboard(page)
    assert page.locator("#kpi-collected [data-value]").inner_text() == "1"
    assert chart_option(page, "units")["categories"] == [POWER]
    assert page.locator("#chart-overdue").get_attribute("data-state") == "empty"
    assert "当前没有超期问题" in page.locator("#chart-overdue").inner_text()
    assert_drawn(page, "units")
    shot(page, "01-handler")


def test_an_empty_period_and_a_failed_load_say_so(page_as, quarter):
    page = page_as("manager")
    open_dashboard(page, "?period=2025-Q1")
    for name in ("trend", "units", "categories", "tiers", "channels"):
        box = page.locator(f"#chart-{name}")
        assert box.get_attribute("data-state") == "empty" and "该期间没有数据" in box.inner_text()
    assert page.locator("#kpi-collected [data-value]").inner_text() == "0"

    page.route("**/figures/data.json*", lambda route: route.fulfill(status=500, body="{}"))
    page.goto("/dashboard?period=2026-Q1")
    alert = page.locator("#dashboard .alert-danger")
    alert.wait_for()
    assert "统计数据加载失败" in alert.inner_text()
