// The dashboard (数据看板): KPI cards and charts drawn with ECharts from /figures/data.json.
//
// The page (web/templates/figures/dashboard.html) holds `#dashboard[data-url]` with the translated texts
// this script needs as data-* attributes (data-empty, data-empty-open, data-empty-overdue, data-error,
// data-loading), the KPI cards (`[data-kpi]`) and one empty box per chart (#chart-trend, #chart-units, ...).
// Every bar, point and slice carries the URL of the case list behind it, and a click goes there.
// Each chart box gets data-rendered="1" once drawn (or once it says there is nothing to draw), and
// #dashboard gets data-state="ready" or "error"; the ECharts instances are on window.jnCharts for tests.
import * as echarts from "echarts/core";
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent]);
echarts.use([CanvasRenderer]);

// The app's blue first, then calm colours that stay apart from each other.
const PALETTE = ["#1d5296", "#e8710a", "#2b7a8c", "#8a5cb8", "#6b8f74", "#c2477a", "#b08900", "#5a6b7d"];
const FLAG_COLOURS = { green: "#198754", yellow: "#f0b400", red: "#dc3545", black: "#212529" };

const charts = {};
window.jnCharts = charts;

/** "12.5%", or "—" when there was nothing to divide by. */
function percent(value) {
  return value === null || value === undefined ? "—" : `${value}%`;
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** `url` (a case-list link from the server) with some query parameters replaced. */
function withParams(url, params) {
  const target = new URL(url, window.location.href);
  for (const [key, value] of Object.entries(params)) {
    target.searchParams.set(key, value);
  }
  return target.pathname + target.search;
}

/** The days a trend bucket covers inside the period: "2026-03-05~2026-03-05" or "2026-03-01~2026-03-31". */
function bucketPeriod(bucket, period) {
  let start = bucket;
  let end = bucket;
  if (bucket.length !== 10) {
    const [year, month] = bucket.split("-").map(Number);
    start = `${bucket}-01`;
    end = new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10); // day 0 = the month's last day
  }
  if (start < period.start) start = period.start;
  if (end > period.end) end = period.end;
  return `${start}~${end}`;
}

function chartName(el) {
  return el.id.replace(/^chart-/, "");
}

/** The box says `text` instead of a chart; it counts as drawn. */
function showText(el, text, icon = "bi-inbox") {
  charts[chartName(el)]?.dispose();
  delete charts[chartName(el)];
  el.innerHTML =
    '<div class="jn-chart-empty"><span>' +
    `<i class="bi ${icon}" aria-hidden="true"></i>${escapeHtml(text)}</span></div>`;
  el.style.removeProperty("height");
  el.classList.add("jn-chart-is-empty");
  el.dataset.state = "empty";
  el.dataset.rendered = "1";
  return null;
}

/** Draws `option` into the box and sends a click on any item with a `drill` URL to that case list. */
function draw(el, option, ctx) {
  el.replaceChildren();
  el.classList.remove("jn-chart-is-empty");
  el.dataset.state = "chart";
  const chart = echarts.init(el, null, { renderer: "canvas" });
  const done = () => {
    chart.off("finished", done);
    el.dataset.rendered = "1";
  };
  chart.on("finished", done);
  chart.on("click", (params) => {
    const url = params.data?.drill;
    if (url) window.location.href = url;
  });
  chart.setOption({ ...ctx.base, ...option });
  charts[chartName(el)] = chart;
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => chart.resize()).observe(el);
  }
  return chart;
}

/** Options every chart shares: the palette, the page's font (Chinese faces first), calm animation. */
function baseOption(font) {
  const reduced = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
  return {
    color: PALETTE,
    animation: !reduced,
    animationDuration: 400,
    textStyle: { fontFamily: font, fontSize: 12 },
    tooltip: { confine: true, textStyle: { fontFamily: font, fontSize: 12 } },
  };
}

function legend(ctx, extra = {}) {
  const textStyle = { fontFamily: ctx.font };
  return { top: 0, left: "center", itemWidth: 14, itemHeight: 10, textStyle, ...extra };
}

/** Room for unit names left of horizontal bars: two lines of about 7 characters on a phone. */
function nameAxis(el, rows) {
  return {
    type: "category",
    inverse: true, // first row on top
    data: rows.map((r) => r.label),
    axisTick: { show: false },
    axisLabel: { width: el.clientWidth >= 520 ? 132 : 86, overflow: "break", lineHeight: 14, interval: 0 },
  };
}

// ---------------------------------------------------------------------------------------------------
// KPI cards

function fillKpis(root, data) {
  const { total: t, live, labels, drill } = data;
  const red = live.flags.find((flag) => flag.key === "red");
  const cards = {
    collected: [t.collected, `${labels.closures} ${t.closures}`, drill.collected],
    closed: [t.closed, `${labels.closure_rate} ${percent(t.closure_rate)}`, drill.closed],
    resolved: [percent(t.resolution_rate), `${t.resolved} / ${t.collected}`, drill.resolved],
    on_time: [percent(t.on_time_rate), `${t.on_time} / ${t.closed}`, drill.on_time],
    satisfied: [percent(t.satisfaction_rate), `${t.satisfied} / ${t.revisits}`, drill.satisfied],
    overdue: [live.overdue, red ? `${red.label} ${red.count}` : "", live.overdue_drill],
  };
  for (const card of root.querySelectorAll("[data-kpi]")) {
    const kpi = cards[card.dataset.kpi];
    if (!kpi) continue;
    const [value, note, url] = kpi;
    card.querySelector("[data-value]").textContent = String(value);
    card.querySelector("[data-note]").textContent = note || "\u00a0";
    if (url) card.href = url;
  }
  root.querySelector("#kpi-overdue")?.classList.toggle("jn-kpi-alert", live.overdue > 0);
}

// ---------------------------------------------------------------------------------------------------
// Charts. Each takes its box and the context {data, base, font, texts}.

/** Collected (bars) and closures (line) per month, or per day for a period of up to two months. */
function drawTrend(el, ctx) {
  const { data } = ctx;
  const rows = data.trend;
  if (!rows.some((r) => r.collected || r.closures)) return showText(el, ctx.texts.empty);
  const daily = rows[0].bucket.length === 10;
  const point = (measure) => (r) => ({
    value: r[measure],
    drill: withParams(data.drill[measure], { period: bucketPeriod(r.bucket, data.period) }),
  });
  return draw(
    el,
    {
      legend: legend(ctx),
      grid: { top: 32, left: 8, right: 12, bottom: 8 },
      tooltip: { ...ctx.base.tooltip, trigger: "axis" },
      xAxis: {
        type: "category",
        data: rows.map((r) => (daily ? r.bucket.slice(5) : r.bucket)),
        axisTick: { alignWithLabel: true },
      },
      yAxis: { type: "value", minInterval: 1, boundaryGap: [0, "10%"] },
      series: [
        {
          name: data.labels.collected,
          type: "bar",
          barMaxWidth: 28,
          itemStyle: { color: PALETTE[0] },
          cursor: "pointer",
          data: rows.map(point("collected")),
        },
        {
          name: data.labels.closures,
          type: "line",
          symbolSize: daily ? 4 : 7,
          itemStyle: { color: PALETTE[1] },
          cursor: "pointer",
          data: rows.map(point("closures")),
        },
      ],
    },
    ctx,
  );
}

/** A donut of collected per row (categories, channels), largest first. */
function drawPie(el, ctx, rows) {
  const items = rows.filter((r) => r.collected > 0).sort((a, b) => b.collected - a.collected);
  if (!items.length) return showText(el, ctx.texts.empty);
  // Names go left and right of the ring, in what is left of the box's width.
  const outer = 0.5 * (Math.min(el.clientWidth, el.clientHeight) / 2);
  const nameWidth = Math.max(56, Math.floor(el.clientWidth / 2 - outer - 18));
  return draw(
    el,
    {
      tooltip: { ...ctx.base.tooltip, trigger: "item", formatter: "{b}<br>{a}：{c}（{d}%）" },
      series: [
        {
          name: ctx.data.labels.collected,
          type: "pie",
          radius: ["30%", "50%"],
          center: ["50%", "52%"],
          avoidLabelOverlap: true,
          minShowLabelAngle: 4,
          cursor: "pointer",
          itemStyle: { borderColor: "#fff", borderWidth: 1 },
          // One slice: its name in the hole rather than squeezed under the ring.
          label:
            items.length === 1
              ? { position: "center", formatter: "{b}\n{c}", fontSize: 14, lineHeight: 20 }
              : {
                  formatter: "{b}\n{c}",
                  // Names at the box's edges, wrapped to a width that fits: long (English) names stay inside.
                  alignTo: "edge",
                  edgeDistance: 4,
                  width: nameWidth,
                  overflow: "break",
                  lineHeight: 15,
                },
          labelLine: { length: 8, length2: 6 },
          data: items.map((r) => ({ name: r.label, value: r.collected, drill: r.drill })),
        },
      ],
    },
    ctx,
  );
}

/** Closure and on-time rates per unit as horizontal bars, best first; the box grows with the units
 * (and scrolls inside its card when there are many). */
function drawUnits(el, ctx) {
  const { data } = ctx;
  const rate = (value) => value ?? -1;
  const rows = data.units
    .filter((r) => r.collected > 0)
    .sort(
      (a, b) =>
        rate(b.closure_rate) - rate(a.closure_rate) ||
        rate(b.on_time_rate) - rate(a.on_time_rate) ||
        b.collected - a.collected ||
        a.label.localeCompare(b.label, "zh-CN"),
    );
  if (!rows.length) return showText(el, ctx.texts.empty);
  el.style.height = `${Math.max(200, rows.length * 48 + 56)}px`;
  const bar = (measure, color) => ({
    name: data.labels[measure],
    type: "bar",
    barMaxWidth: 16,
    barGap: "15%",
    itemStyle: { color },
    cursor: "pointer",
    label: { show: true, position: "right", formatter: (p) => percent(p.value), fontSize: 11 },
    data: rows.map((r) => ({ value: r[measure], drill: r.drill })),
  });
  const tooltip = (items) => {
    const row = rows[items[0].dataIndex];
    const counts = [`${data.labels.collected}：${row.collected}`, `${data.labels.closed}：${row.closed}`];
    return [
      `<b>${escapeHtml(row.label)}</b>`,
      escapeHtml(counts.join("　")),
      ...items.map((p) => `${p.marker}${escapeHtml(p.seriesName)}：${percent(p.value)}`),
    ].join("<br>");
  };
  return draw(
    el,
    {
      legend: legend(ctx),
      grid: { top: 28, left: 4, right: 44, bottom: 4 },
      tooltip: { ...ctx.base.tooltip, trigger: "axis", axisPointer: { type: "shadow" }, formatter: tooltip },
      xAxis: {
        type: "value",
        max: 100,
        interval: el.clientWidth >= 520 ? 25 : 50,
        axisLabel: { formatter: "{value}%" },
      },
      yAxis: nameAxis(el, rows),
      series: [bar("closure_rate", PALETTE[0]), bar("on_time_rate", PALETTE[2])],
    },
    ctx,
  );
}

/** Collected and closed per tier as vertical bars; a closed bar opens the closed cases. */
function drawTiers(el, ctx) {
  const { data } = ctx;
  const rows = data.tiers.filter((r) => r.collected > 0 || r.closed > 0);
  if (!rows.length) return showText(el, ctx.texts.empty);
  const bar = (measure, color) => ({
    name: data.labels[measure],
    type: "bar",
    barMaxWidth: 28,
    itemStyle: { color },
    cursor: "pointer",
    label: { show: true, position: "top", fontSize: 11 },
    data: rows.map((r) => ({ value: r[measure], drill: withParams(r.drill, { figure: measure }) })),
  });
  return draw(
    el,
    {
      legend: legend(ctx),
      grid: { top: 36, left: 8, right: 8, bottom: 8 },
      tooltip: { ...ctx.base.tooltip, trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: {
        type: "category",
        data: rows.map((r) => r.label),
        axisLabel: { interval: 0, width: 72, overflow: "break" },
      },
      yAxis: { type: "value", minInterval: 1, boundaryGap: [0, "10%"] },
      series: [bar("collected", PALETTE[0]), bar("closed", PALETTE[4])],
    },
    ctx,
  );
}

/** Open cases by flag right now, as a green/yellow/red donut. */
function drawFlags(el, ctx) {
  const flags = ctx.data.live.flags.filter((f) => f.count > 0);
  if (!flags.length) return showText(el, ctx.texts.emptyOpen, "bi-flag");
  return draw(
    el,
    {
      legend: legend(ctx, { top: "auto", bottom: 0 }),
      tooltip: { ...ctx.base.tooltip, trigger: "item", formatter: "{b}：{c}（{d}%）" },
      series: [
        {
          type: "pie",
          radius: ["36%", "62%"],
          center: ["50%", "46%"],
          cursor: "pointer",
          itemStyle: { borderColor: "#fff", borderWidth: 1 },
          label: { formatter: "{c}", fontSize: 13, fontWeight: "bold" },
          labelLine: { length: 6, length2: 6 },
          data: flags.map((f) => ({
            name: f.label,
            value: f.count,
            drill: f.drill,
            itemStyle: { color: FLAG_COLOURS[f.key] },
          })),
        },
      ],
    },
    ctx,
  );
}

/** Overdue open cases per unit right now, most first. */
function drawOverdue(el, ctx) {
  const label = ctx.data.labels.overdue;
  const rows = ctx.data.live.overdue_by_unit.filter((r) => r.count > 0);
  if (!rows.length) return showText(el, ctx.texts.emptyOverdue, "bi-check2-circle");
  el.style.height = `${Math.max(160, rows.length * 34 + 40)}px`;
  return draw(
    el,
    {
      grid: { top: 8, left: 4, right: 32, bottom: 4 },
      tooltip: {
        ...ctx.base.tooltip,
        trigger: "item",
        formatter: (p) => `${escapeHtml(p.name)}<br>${escapeHtml(label)}：${p.value}`,
      },
      xAxis: { type: "value", minInterval: 1, boundaryGap: [0, "15%"] },
      yAxis: nameAxis(el, rows),
      series: [
        {
          name: label,
          type: "bar",
          barMaxWidth: 18,
          itemStyle: { color: FLAG_COLOURS.red },
          cursor: "pointer",
          label: { show: true, position: "right" },
          data: rows.map((r) => ({ value: r.count, drill: r.drill })),
        },
      ],
    },
    ctx,
  );
}

const CHARTS = {
  trend: drawTrend,
  categories: (el, ctx) => drawPie(el, ctx, ctx.data.categories),
  tiers: drawTiers,
  units: drawUnits,
  channels: (el, ctx) => drawPie(el, ctx, ctx.data.channels),
  flags: drawFlags,
  overdue: drawOverdue,
};

// ---------------------------------------------------------------------------------------------------

function render(root, data) {
  const font = window.getComputedStyle(document.body).fontFamily;
  const ctx = { data, font, base: baseOption(font), texts: root.dataset };
  const period = document.getElementById("period-label");
  if (period) period.textContent = data.period.label;
  fillKpis(root, data);
  for (const [name, drawChart] of Object.entries(CHARTS)) {
    const el = root.querySelector(`#chart-${name}`);
    if (!el) continue;
    try {
      drawChart(el, ctx);
    } catch (error) {
      // One chart failing must not take the others with it.
      console.error(`dashboard: chart ${name}`, error);
      showText(el, ctx.texts.error, "bi-exclamation-triangle");
    }
  }
  root.dataset.state = "ready";
}

function showError(root) {
  const alert = document.createElement("div");
  alert.className = "alert alert-danger d-flex align-items-center gap-2";
  alert.setAttribute("role", "alert");
  alert.innerHTML =
    '<i class="bi bi-exclamation-triangle-fill" aria-hidden="true"></i>' +
    `<div>${escapeHtml(root.dataset.error)}</div>`;
  root.prepend(alert);
  for (const el of root.querySelectorAll(".jn-chart")) el.replaceChildren();
  root.dataset.state = "error";
}

async function init() {
  const root = document.querySelector("#dashboard[data-url]");
  if (!root) return;
  const loading =
    '<div class="jn-chart-empty"><span class="spinner-border spinner-border-sm me-2" aria-hidden="true">' +
    `</span>${escapeHtml(root.dataset.loading)}</div>`;
  for (const el of root.querySelectorAll(".jn-chart")) el.innerHTML = loading;
  let data;
  try {
    const response = await fetch(root.dataset.url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    data = await response.json();
  } catch (error) {
    console.error("dashboard: loading the figures failed", error);
    showError(root);
    return;
  }
  render(root, data);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}
