"""Figures (统计) and the dashboard (数据看板): tables with each figure's definition, charts, and drill-down links
to the case list behind any number."""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from engine.domain.vocabulary import CATEGORIES
from engine.domain.vocabulary import CHANNELS
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import SIZE_CLASSES
from engine.domain.vocabulary import TIERS
from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import enterprise_catalog
from engine.services import figures as figure_service
from engine.services import holidays as holiday_service
from engine.services import ratings as rating_service
from engine.services import visit_views
from web.helpers import actor
from web.helpers import eng
from web.i18n import label
from web.i18n import period_name

bp = Blueprint("figures", __name__)

# What each figure counts, written on the figures page and the dashboard.
DEFINITIONS = {
    "collected": _l(
        "收集问题：期内登记的问题数（按单位统计时为期内交办给该单位的问题，按层级统计时为期内进入该层级的问题）。来源：登记、派单、升级时记录的事实。"
    ),
    "closed": _l("已办结：上述问题中到目前为止已销号的数量（“销号”事件）。"),
    "closure_rate": _l("办结率 = 已办结 ÷ 收集问题。"),
    "resolved": _l(
        "已解决：已办结且承办单位办理结果为“已解决”的问题数（“办理反馈”提交的结果，经回访后销号）。"
    ),
    "resolution_rate": _l("问题解决率 = 已解决 ÷ 收集问题。"),
    "on_time_rate": _l(
        "按时办结率 = 按时办结 ÷ 已办结。按时：最后一次提交办理结果的时间不晚于当时有效的办理期限（含批准的延期）；当场办结或无办理期限的问题视为按时。"
    ),
    "satisfaction_rate": _l(
        "满意率 = 回访满意（非常满意、满意、基本满意）次数 ÷ 回访次数。每轮办理的回访各计一次。"
    ),
    "returns": _l("退回次数：承办单位退回派单的次数，计入退回时的牵头单位。"),
    "extensions": _l("延期次数：获批的延期次数，计入当时的牵头单位。"),
    "reopen_rate": _l("重办率 = 回访不满意而重新办理的次数 ÷ 回访次数。"),
    "avg_days": _l(
        "平均办结用时 = 已办结问题从登记（单位：交办；层级：进入该层级）到销号的工作日数之和 ÷ 已办结，按国家法定节假日和调休计算工作日。"
    ),
    "closures": _l("销号数（趋势图）：当天销号的问题数，按销号日期统计。"),
    "classes": _l(
        "乡镇街道、企业规模、企业库和标签：按问题登记时企业所属的分类统计，之后企业改划、出入库不改变已登记问题的归属。一家企业可同时在几个企业库或标签中，按企业库或标签分组时一个问题会计入每一行。"
    ),
}

GROUP_LABELS = {
    "unit": (_l("按单位"), _l("单位")),
    "field": (_l("按领域"), _l("领域")),
    "category": (_l("按类别"), _l("类别")),
    "channel": (_l("按渠道"), _l("渠道")),
    "tier": (_l("按层级"), _l("层级")),
    "batch": (_l("按批次"), _l("交办批次")),
    "area": (_l("按乡镇街道"), _l("乡镇街道")),
    "size": (_l("按企业规模"), _l("企业规模")),
    "pool": (_l("按企业库"), _l("企业库")),
    "tag": (_l("按标签"), _l("标签")),
}
# The label kind web.i18n.label uses for a group's keys.
GROUP_KINDS = {"tier": "tier", "field": "field", "category": "category", "channel": "channel", "size": "size"}
# Groupings whose keys are ids: the service names them (units, areas, pools and tags as they are called now).
NAMED_GROUPS = ("unit", "area", "pool", "tag")


def _args() -> dict:
    """Period, grouping, role and filters from the query string (blank values dropped)."""
    args = {k: v.strip() for k, v in request.args.items() if v and v.strip()}
    return {
        "period_code": args.get("period"),
        "date_from": args.get("date_from"),
        "date_to": args.get("date_to"),
        "role": args.get("role", "lead"),
        "filters": {k: args[k] for k in figure_service.FILTERS if k in args},
    }


def _quick_periods() -> list[tuple[str, str]]:
    today = figure_service.local_day(eng().now())
    this_q = figure_service.quarter_of(today)
    last_q = figure_service.previous_quarter(this_q)
    month = f"{today.year}-{today.month:02d}"
    return [
        (this_q.code, _("本季度")),
        (last_q.code, _("上季度")),
        (month, _("本月")),
        (str(today.year), _("本年")),
        (str(today.year - 1), _("上年")),
    ]


def drill_url(period, measure: str, role: str, filters: dict, **dims) -> str:
    """The case list behind one figure."""
    params = {k: v for k, v in (filters | dims).items() if v not in (None, "")}
    return url_for("cases.index", figure=measure, period=period.code, role=role, **params)


def _row_label(group: str | None, row: dict) -> str:
    if group in NAMED_GROUPS:
        return row.get("label") or row["key"]
    if group in GROUP_KINDS:
        return label(GROUP_KINDS[group], row["key"])
    return row["key"]


def _choices() -> dict:
    tags = enterprise_catalog.list_tags(eng(), actor(), active_only=True)
    return {
        "field": FIELDS,
        "category": CATEGORIES,
        "channel": CHANNELS,
        "tier": list(TIERS),
        "units": auth_service.list_units(eng()),
        "size": SIZE_CLASSES,
        "areas": enterprise_catalog.list_areas(eng(), actor(), active_only=True),
        "pools": [t for t in tags if t["kind"] == "pool"],
        "tags": [t for t in tags if t["kind"] == "tag"],
    }


@bp.get("/figures")
@login_required
def index():
    args = _args()
    group = request.args.get("group", "unit").strip() or "unit"
    try:
        result = figure_service.view(eng(), actor(), group=group, **args)
        errors = {}
    except ValidationFailed as exc:
        errors = exc.errors or {"": exc.message}
        args = {"period_code": None, "date_from": None, "date_to": None, "role": "lead", "filters": {}}
        group = group if group in figure_service.GROUPS else "unit"
        result = figure_service.view(eng(), actor(), group=group, **args)
    for row in result["rows"]:
        row["label"] = _row_label(group, row)
    placements = figure_service.placements_view(
        eng(), actor(), args["period_code"], args["date_from"], args["date_to"]
    )
    visits = visit_views.coverage(eng(), actor(), "unit", {"campaign_status": "running"})
    rated = rating_service.figures_view(
        eng(), actor(), args["period_code"], args["date_from"], args["date_to"]
    )
    status = 422 if errors else 200
    return render_template(
        "figures/index.html",
        visits=visits,
        rated=rated,
        result=result,
        group=group,
        groups=GROUP_LABELS,
        args=args,
        errors=errors,
        quick=_quick_periods(),
        choices=_choices(),
        definitions=DEFINITIONS,
        drill_url=drill_url,
        placements=placements,
    ), status


@bp.get("/dashboard")
@login_required
def dashboard():
    args = _args()
    errors = {}
    try:
        figure_service.parse_period(args["period_code"], args["date_from"], args["date_to"])
    except ValidationFailed as exc:
        errors = exc.errors or {"": exc.message}
        args = {"period_code": None, "date_from": None, "date_to": None, "role": "lead", "filters": {}}
    figure_service.require_viewer(actor())  # before the page; its data comes from data.json
    return render_template(
        "figures/dashboard.html",
        args=args,
        errors=errors,
        quick=_quick_periods(),
        choices=_choices(),
        definitions=DEFINITIONS,
        data_url=url_for("figures.data", **request.args.to_dict()) if not errors else url_for("figures.data"),
        missing=holiday_service.missing_years(eng()),
    ), (422 if errors else 200)


@bp.get("/figures/data.json")
@login_required
def data():
    """Everything the dashboard draws, with drill-down links. Errors are JSON (web.errors)."""
    args = _args()
    result = figure_service.dashboard_view(eng(), actor(), **args)
    period, role, filters = result["period"], result["role"], result["filters"]
    shown = args["filters"]  # as asked (a handler's own unit is added by the service, not repeated in links)

    def rows(group: str, measure: str = "collected") -> list[dict]:
        out = []
        for row in result["groups"][group]:
            item = dict(row)
            item["label"] = _row_label(group, row)
            item["drill"] = drill_url(period, measure, role, shown, **{group: row["key"]})
            out.append(item)
        return out

    live = result["live"]
    return jsonify(
        {
            "period": {
                "code": period.code,
                "label": period_name(period.code),
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
            },
            "role": role,
            "filters": filters,
            "total": result["total"],
            "drill": {m: drill_url(period, m, role, shown) for m in figure_service.MEASURES},
            "trend": result["trend"],
            "units": rows("unit"),
            "categories": rows("category"),
            "fields": rows("field"),
            "channels": rows("channel"),
            "tiers": rows("tier"),
            "live": {
                "flags": [
                    {
                        "key": flag,
                        "label": {
                            "green": _("绿旗"),
                            "yellow": _("黄旗"),
                            "red": _("红旗"),
                            "black": _("黑旗"),
                        }[flag],
                        "count": count,
                        "drill": url_for("cases.index", flag=flag, open=1, **_unit_arg(filters))
                        if flag != "green"
                        else url_for("cases.index", open=1, **_unit_arg(filters)),
                    }
                    for flag, count in live["flags"].items()
                ],
                "overdue": live["overdue"],
                "overdue_drill": url_for("cases.index", overdue=1, **_unit_arg(filters)),
                "overdue_by_unit": [
                    item | {"drill": url_for("cases.index", overdue=1, unit=item["key"])}
                    for item in live["overdue_by_unit"]
                ],
            },
            "labels": {
                "collected": _("收集问题"),
                "closures": _("销号数"),
                "closed": _("已办结"),
                "closure_rate": _("办结率"),
                "resolution_rate": _("问题解决率"),
                "on_time_rate": _("按时办结率"),
                "satisfaction_rate": _("满意率"),
                "reopen_rate": _("重办率"),
                "overdue": _("当前超期"),
            },
        }
    )


def _unit_arg(filters: dict) -> dict:
    return {"unit": filters["unit"]} if "unit" in filters else {}
