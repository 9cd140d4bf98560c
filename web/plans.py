"""Per-enterprise plans (一企一策): the list with progress, a new plan, one plan with its items and their updates."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import enterprises as enterprise_service
from engine.services import plans as plan_service
from engine.services.common import require_role
from web.helpers import actor
from web.helpers import eng
from web.i18n import ui_lang

# Ids in paths are 32-bit: a longer number is no route (404), never an overflow in the database.
ID = "int(max=2147483647)"
bp = Blueprint("plans", __name__)


def _labels(table: dict) -> dict:
    index = 1 if ui_lang() == "en" else 0
    return {code: names[index] for code, names in table.items()}


@bp.app_context_processor
def _plan_labels():
    return {
        "plan_statuses": _labels(plan_service.PLAN_STATUSES),
        "item_statuses": _labels(plan_service.ITEM_STATUSES),
    }


@bp.get("/plans")
@login_required
def index():
    filters = {k: request.args.get(k, "") for k in plan_service.FILTERS}
    try:
        result = plan_service.list_plans(eng(), actor(), filters, page=request.args.get("page"))
        errors = {}
    except ValidationFailed as exc:
        result, errors = {"items": [], "total": 0, "page": 1, "pages": 1, "filters": {}}, exc.errors
    return render_template(
        "plans/index.html",
        result=result,
        errors=errors,
        units=auth_service.list_units(eng()),
        can_edit=plan_service.can_edit(actor()),
    ), 422 if errors else 200


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
def new():
    require_role(actor(), *plan_service.EDITORS)
    values = {k: request.values.get(k, "") for k in ("enterprise_id", "title", "goal")}
    errors = {}
    if request.method == "POST":
        try:
            plan = plan_service.create_plan(eng(), actor(), values)
        except ValidationFailed as exc:
            errors = exc.errors or {"": exc.message}
        else:
            flash(_("已制定一企一策“%(title)s”，请逐项添加措施", title=plan["title"]), "success")
            return redirect(url_for("plans.detail", plan_id=plan["plan_id"]) + "#add-item")
    return render_template(
        "plans/new.html",
        values=values,
        errors=errors,
        enterprises=enterprise_service.enterprise_choices(eng(), limit=2000),
    ), 422 if errors else 200


@bp.get(f"/plans/<{ID}:plan_id>")
@login_required
def detail(plan_id: int):
    return _plan_page(plan_id)


def _plan_page(plan_id: int, form: str | None = None, values: dict | None = None, errors: dict | None = None):
    plan = plan_service.get_plan(eng(), actor(), plan_id)
    return render_template(
        "plans/detail.html",
        plan=plan,
        units=auth_service.list_units(eng()) if plan["can_edit"] else [],
        form=form,
        values=values or {},
        errors=errors or {},
    ), 422 if errors else 200


def _item_values(editor: bool) -> dict:
    fields = plan_service.ITEM_FIELDS if editor else plan_service.OWNER_FIELDS
    values = {k: request.form.get(k, "") for k in fields if k != "case_ids" and k in request.form}
    if editor and request.form.get("has_cases") == "1":
        values["case_ids"] = request.form.getlist("case_ids")
    return values


@bp.post(f"/plans/<{ID}:plan_id>")
@login_required
def update(plan_id: int):
    values = {k: request.form.get(k, "") for k in ("title", "goal", "status") if k in request.form}
    try:
        plan_service.update_plan(eng(), actor(), plan_id, values)
    except ValidationFailed as exc:
        return _plan_page(plan_id, "plan", values, exc.errors or {"": exc.message})
    flash(_("已保存"), "success")
    return redirect(url_for("plans.detail", plan_id=plan_id))


@bp.post(f"/plans/<{ID}:plan_id>/items")
@login_required
def add_item(plan_id: int):
    values = _item_values(editor=True)
    try:
        plan_service.add_item(eng(), actor(), plan_id, values)
    except ValidationFailed as exc:
        return _plan_page(plan_id, "add", values, exc.errors or {"": exc.message})
    flash(_("已添加措施“%(title)s”", title=values.get("title", "")), "success")
    return redirect(url_for("plans.detail", plan_id=plan_id) + "#items")


@bp.post(f"/plan-items/<{ID}:item_id>")
@login_required
def update_item(item_id: int):
    values = _item_values(editor=plan_service.can_edit(actor()))
    plan_id = request.form.get("plan_id", type=int)
    try:
        result = plan_service.update_item(eng(), actor(), item_id, values)
    except ValidationFailed as exc:
        if plan_id is None:
            raise
        return _plan_page(plan_id, f"item-{item_id}", values, exc.errors or {"": exc.message})
    flash(_("已更新措施") if result["changed"] else _("没有改动"), "success" if result["changed"] else "info")
    return redirect(url_for("plans.detail", plan_id=result["plan_id"]) + f"#item-{item_id}")


@bp.post(f"/plan-items/<{ID}:item_id>/delete")
@login_required
def remove_item(item_id: int):
    result = plan_service.remove_item(eng(), actor(), item_id)
    flash(_("已删除措施"), "success")
    return redirect(url_for("plans.detail", plan_id=result["plan_id"]) + "#items")
