"""Visit campaign pages (走访): the campaigns with their coverage, creating one, a campaign's coverage and
enterprises, the visitor's recording page (phone first) and a recorded visit."""

from __future__ import annotations

import io
import tempfile

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required
from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import pairing as pairing_service
from engine.services import tasks as task_service
from engine.services import visit_views
from engine.services import visits as visit_service
from engine.services.common import require_role
from web.enterprises import choices as enterprise_choices
from web.helpers import actor
from web.helpers import eng
from web.i18n import ui_lang

ID = "int(max=2147483647)"
bp = Blueprint("visits", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCOPE_FILTERS = ("area", "size", "sector", "field", "pool", "tag")


@bp.get("/campaigns")
@login_required
def index():
    result = visit_views.list_campaigns(eng(), actor())
    return render_template("visits/index.html", result=result)


def _form_choices() -> dict:
    return {
        "surveys": visit_service.questionnaire_choices(eng(), ui_lang()),
        "levels": [
            lv
            for lv in pairing_service.list_levels(eng(), actor())
            if lv["kind"] != "enterprise" and lv["is_active"]
        ],
        "units": auth_service.list_units(eng()),
        "users": auth_service.list_users(eng()),
        "scope": enterprise_choices(),
    }


def _campaign_data(form, files) -> dict:
    """The new-campaign form as the service takes it (waves as rows, scope by filters or an uploaded list)."""
    waves = []
    for number in range(visit_service.MAX_WAVES):
        start, end = form.get(f"wave-{number}-start", "").strip(), form.get(f"wave-{number}-end", "").strip()
        name = form.get(f"wave-{number}-name", "").strip()
        if start or end or (name and number == 0):
            waves.append({"name": name, "start_date": start, "end_date": end})
    data = {
        "name": form.get("name", ""),
        "description": form.get("description", ""),
        "form_key": form.get("form_key", ""),
        "waves": waves,
        "launch": form.get("launch") == "1",
        "assignment": {
            "mode": form.get("mode", "pairing"),
            "level": form.get("level", ""),
            "user": form.get("user", ""),
            "unit": form.get("unit", ""),
        },
    }
    upload = files.get("list")
    if form.get("scope_mode") == "list":
        if not upload or not upload.filename:
            raise ValidationFailed(_("请上传企业名单"), {"list": _("请选择按模板填写的 .xlsx 名单")})
        data["scope"] = {"list": visit_service.read_enterprise_list(upload.read())}
    else:
        data["scope"] = {
            "q": form.get("q", "").strip(),
            "filters": {k: form.get(k, "").strip() for k in SCOPE_FILTERS if form.get(k, "").strip()},
        }
    return data


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new():
    require_role(actor(), *visit_service.OFFICE)
    errors, values = {}, request.form
    if request.method == "POST":
        try:
            result = visit_service.create_campaign(
                eng(), actor(), _campaign_data(request.form, request.files)
            )
        except ValidationFailed as exc:
            errors = exc.errors or {"": exc.message}
            errors.setdefault("", exc.message)
        else:
            flash(
                _("已创建走访活动“%(name)s”（%(n)s 家企业）", name=result["name"], n=result["targets"]),
                "success",
            )
            return redirect(url_for("visits.campaign", campaign_id=result["campaign_id"]))
    return render_template("visits/new.html", errors=errors, values=values, choices=_form_choices()), (
        422 if errors else 200
    )


@bp.get("/campaigns/template.xlsx")
@login_required
def template():
    """The enterprise list to import: credit code, optional wave (number or name) and visitor's username."""
    require_role(actor(), *visit_service.OFFICE)
    book = Workbook()
    sheet = book.active
    sheet.title = "走访企业名单"
    sheet.append(
        ["统一社会信用代码", "企业名称（仅供核对）", "批次（1、2…或批次名称，可空）", "走访人账号（可空）"]
    )
    for column, width in zip("ABCD", (24, 30, 26, 20), strict=True):
        sheet.column_dimensions[column].width = width
    users = [u["username"] for u in auth_service.list_users(eng())][:200]
    if users:
        lists = book.create_sheet("账号")
        for username in users:
            lists.append([username])
        check = DataValidation(type="list", formula1=f"=账号!$A$1:$A${len(users)}", allow_blank=True)
        sheet.add_data_validation(check)
        check.add("D2:D5000")
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name="走访企业名单模板.xlsx")


def _target_filters() -> dict:
    return {
        k: request.args.get(k, "").strip()
        for k in visit_views.TARGET_FILTERS
        if request.args.get(k, "").strip()
    }


@bp.get(f"/campaigns/<{ID}:campaign_id>")
@login_required
def campaign(campaign_id: int):
    detail = visit_views.get_campaign(eng(), actor(), campaign_id, ui_lang())
    filters = _target_filters() | {"campaign": str(campaign_id)}
    try:
        targets = visit_views.list_targets(eng(), actor(), filters, page=request.args.get("page"))
        errors = {}
    except ValidationFailed as exc:
        targets = {"items": [], "total": 0, "page": 1, "pages": 1, "filters": {}}
        errors = exc.errors or {"": exc.message}
    group = request.args.get("group", "unit")
    if group not in detail["groups"]:
        group = "unit"
    return render_template(
        "visits/campaign.html", c=detail, targets=targets, filters=filters, group=group, errors=errors
    ), (422 if errors else 200)


@bp.get(f"/campaigns/<{ID}:campaign_id>/export.xlsx")
@login_required
def export(campaign_id: int):
    """The campaign's enterprises (the page's filters) with visitor, status, visit and answers, as .xlsx."""
    return export_response(campaign_id, actor())


def export_response(campaign_id: int, who):
    """The .xlsx of a campaign's enterprises for `who`, filtered as the request's arguments say."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        visit_views.export(eng(), who, campaign_id, _target_filters(), spool, ui_lang())
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=f"走访企业-{campaign_id}.xlsx")


@bp.post(f"/campaigns/<{ID}:campaign_id>/launch")
@login_required
def launch(campaign_id: int):
    result = visit_service.launch_campaign(eng(), actor(), campaign_id)
    flash(_("已发布：%(n)s 个走访任务已进入走访人的待办", n=result["tasks"]), "success")
    return redirect(url_for("visits.campaign", campaign_id=campaign_id))


@bp.post(f"/campaigns/<{ID}:campaign_id>/close")
@login_required
def close(campaign_id: int):
    result = visit_service.close_campaign(eng(), actor(), campaign_id)
    flash(_("走访活动已结束，%(n)s 家企业未走访", n=result["withdrawn"]), "success")
    return redirect(url_for("visits.campaign", campaign_id=campaign_id))


@bp.post(f"/campaigns/<{ID}:campaign_id>/delete")
@login_required
def delete(campaign_id: int):
    visit_service.delete_campaign(eng(), actor(), campaign_id)
    flash(_("已删除走访活动草稿"), "success")
    return redirect(url_for("visits.index"))


def _record_page(task_id: str, values: dict, errors: dict, status: int = 200):
    context = visit_views.record_context(eng(), actor(), task_id, ui_lang())
    if context["form_key"] != visit_service.VISIT_FORM:
        return redirect(url_for("visits.supervise", task_id=task_id))
    record_form = eng().forms.get(visit_service.VISIT_FORM)
    survey = eng().forms.get(context["campaign"]["form_key"]) if context["campaign"]["form_key"] else None
    register = eng().forms.get("register_problem")
    problems = values.get("problems") or []
    shown = max(1, len(problems))
    split = {"record": {}, "answers": {}, "problems": {}, "other": {}}
    for key, message in errors.items():
        head, _dot, rest = key.partition(".")
        if head == "answers" and rest:
            split["answers"][rest] = message
        elif head == "problems" and rest:
            number, _dot, field = rest.partition(".")
            split["problems"].setdefault(number, {})[field or ""] = message
        elif key in record_form.field_names:
            split["record"][key] = message
        elif key == "problems":
            split["problems"].setdefault("all", {})[""] = message
        else:
            split["other"][key] = message
    return render_template(
        "visits/record.html",
        t=context,
        record_form=record_form,
        survey=survey,
        register=register,
        values=values,
        problems=problems,
        shown=shown,
        max_problems=visit_service.MAX_PROBLEMS,
        errors=split,
        lang=ui_lang(),
    ), status


@bp.get("/visits/task/<task_id>")
@login_required
def record(task_id: str):
    if len(task_id) > 36:
        abort(404)
    today = visit_service.today(eng()).isoformat()
    return _record_page(task_id, {"visited_on": today, "answers": {}, "problems": []}, {})


@bp.post("/visits/task/<task_id>")
@login_required
def submit(task_id: str):
    if len(task_id) > 36:
        abort(404)
    try:
        result = task_service.complete_task(
            eng(),
            actor(),
            task_id,
            request.form,
            lock_version=request.form.get("_lock_version") or None,
            kind="visit",
        )
    except ValidationFailed as exc:
        values = visit_service.record_fields(request.form)
        return _record_page(task_id, values, exc.errors or {"": exc.message}, 422)
    if result.get("cases"):
        flash(
            _(
                "走访已记录，登记了 %(n)s 个问题：%(nos)s",
                n=len(result["cases"]),
                nos="、".join(c["case_no"] for c in result["cases"]),
            ),
            "success",
        )
    else:
        flash(_("走访已记录"), "success")
    return redirect(url_for("tasks.inbox"))


@bp.route("/visits/supervise/<task_id>", methods=["GET", "POST"])
@login_required
def supervise(task_id: str):
    """The supervision (督办) of an overdue visit: the generic task form, with the visit's context."""
    if len(task_id) > 36:
        abort(404)
    task = task_service.get_task(eng(), actor(), task_id, kind="visit")
    form = eng().forms.get(task["form_key"])
    context = visit_views.record_context(eng(), actor(), task_id, ui_lang())
    errors, values = {}, task["values"]
    if request.method == "POST":
        try:
            task_service.complete_task(
                eng(),
                actor(),
                task_id,
                request.form,
                lock_version=request.form.get("_lock_version") or None,
                kind="visit",
            )
        except ValidationFailed as exc:
            errors, values = exc.errors or {"": exc.message}, form.raw_values(request.form)
        else:
            flash(_("已提交“%(title)s”", title=task["title"]), "success")
            return redirect(url_for("visits.campaign", campaign_id=context["campaign"]["campaign_id"]))
    return render_template(
        "visits/supervise.html", task=task, t=context, form=form, values=values, errors=errors, lang=ui_lang()
    ), (422 if errors else 200)


@bp.get(f"/visits/<{ID}:visit_id>")
@login_required
def visit(visit_id: int):
    return render_template("visits/visit.html", v=visit_views.get_visit(eng(), actor(), visit_id, ui_lang()))


@bp.route(f"/campaigns/<{ID}:campaign_id>/targets/<{ID}:target_id>/visitor", methods=["GET", "POST"])
@login_required
def reassign(campaign_id: int, target_id: int):
    """Change who visits one enterprise (the programme office)."""
    require_role(actor(), *visit_service.OFFICE)
    found = visit_views.list_targets(eng(), actor(), {"campaign": campaign_id, "target": target_id})
    if not found["items"]:
        abort(404)
    errors = {}
    if request.method == "POST":
        try:
            result = visit_service.reassign(
                eng(),
                actor(),
                target_id,
                {"user": request.form.get("user"), "unit": request.form.get("unit")},
            )
        except ValidationFailed as exc:
            errors = exc.errors or {"": exc.message}
        else:
            flash(_("已更换走访人：%(name)s", name=result["visitor"]), "success")
            return redirect(url_for("visits.campaign", campaign_id=campaign_id, _anchor="enterprises"))
    return render_template(
        "visits/reassign.html",
        t=found["items"][0],
        users=auth_service.list_users(eng()),
        units=auth_service.list_units(eng()),
        errors=errors,
    ), (422 if errors else 200)
