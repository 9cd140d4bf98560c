"""Pairing pages (包联): my enterprises, the roster and its import, the levels, the people, the figures."""

from __future__ import annotations

import io

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import pairing as pairing_service
from engine.services import pairing_import
from engine.services import pairing_views
from engine.services import plans as plan_service
from engine.services import visit_views
from engine.services.common import require_role
from web.helpers import actor
from web.helpers import eng

# Ids in paths are 32-bit: a longer number is no route (404), never an overflow in the database.
ID = "int(max=2147483647)"
bp = Blueprint("pairing", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/pairings/mine")
@login_required
def mine():
    """我包联的企业: the actor's own pairings (as a roster person) or their unit's."""
    scope = request.args.get("scope") or None
    if scope not in (None, *pairing_views.SCOPES):
        scope = None
    result = pairing_views.my_enterprises(
        eng(),
        actor(),
        scope,
        q=request.args.get("q", ""),
        only_open=request.args.get("open") == "1",
        page=request.args.get("page"),
    )
    return render_template("pairing/mine.html", result=result)


@bp.get("/pairings")
@login_required
def index():
    filters = {k: request.args.get(k, "") for k in pairing_service.PAIRING_FILTERS}
    try:
        result = pairing_service.list_pairings(eng(), actor(), filters, page=request.args.get("page"))
        errors = {}
    except ValidationFailed as exc:
        result = {"items": [], "total": 0, "page": 1, "pages": 1, "filters": {}}
        errors = exc.errors
    return render_template(
        "pairing/index.html",
        result=result,
        errors=errors,
        levels=pairing_service.list_levels(eng(), actor()),
        units=auth_service.list_units(eng()),
        can_edit=pairing_service.can_edit(actor()),
    ), 422 if errors else 200


@bp.post(f"/pairings/<{ID}:pairing_id>/delete")
@login_required
def remove(pairing_id: int):
    row = pairing_service.remove_pairing(eng(), actor(), pairing_id)
    flash(
        _("已删除包联：%(level)s · %(who)s", level=row["level_name"], who=pairing_service.describe(row)),
        "success",
    )
    if request.form.get("back") == "enterprise":
        return redirect(url_for("enterprises.detail", enterprise_id=row["enterprise_id"]) + "#pairing")
    return redirect(url_for("pairing.index"))


@bp.post(f"/enterprises/<{ID}:enterprise_id>/pairings")
@login_required
def add(enterprise_id: int):
    values = {k: request.form.get(k, "") for k in pairing_service.ROW_FIELDS if k != "credit_code"}
    try:
        row = pairing_service.add_pairing(eng(), actor(), enterprise_id, values)
    except ValidationFailed as exc:
        flash(_("没有保存：%(problems)s", problems="；".join(exc.errors.values()) or exc.message), "danger")
    else:
        flash(
            _("已添加包联：%(level)s · %(who)s", level=row["level_name"], who=pairing_service.describe(row)),
            "success",
        )
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise_id) + "#pairing")


@bp.get("/pairings/import/template.xlsx")
@login_required
def import_template():
    require_role(actor(), *pairing_service.EDITORS)
    return send_file(
        io.BytesIO(pairing_import.template(eng())),
        mimetype=XLSX,
        as_attachment=True,
        download_name="包联名册模板.xlsx",
    )


@bp.route("/pairings/import", methods=["GET", "POST"])
@login_required
def import_roster():
    """Import the roster: every bad row reported with its number; all rows saved, or none."""
    require_role(actor(), *pairing_service.EDITORS)
    result, errors = None, {}
    if request.method == "POST":
        upload = request.files.get("file")
        data = b""
        if upload:
            with upload.stream:
                data = upload.read(pairing_import.MAX_BYTES + 1)
        if not upload or not upload.filename:
            errors = {"file": _("请选择要导入的包联名册（.xlsx）")}
        else:
            try:
                result = pairing_import.import_file(eng(), actor(), data, upload.filename)
            except ValidationFailed as exc:
                errors = exc.errors or {"file": exc.message}
    status = 422 if errors or (result and result["errors"]) else 200
    return render_template("pairing/import.html", result=result, errors=errors), status


@bp.get("/pairings/figures")
@login_required
def figures():
    by = request.args.get("by", "unit")
    if by not in pairing_views.BY:
        by = "unit"
    try:
        result = pairing_views.figures(
            eng(), actor(), by=by, level=request.args.get("level") or None, page=request.args.get("page")
        )
    except ValidationFailed:
        flash(_("没有这个包联层级，已显示全部层级"), "warning")
        return redirect(url_for("pairing.figures", by=by))
    return render_template("pairing/figures.html", result=result)


@bp.get("/pairings/levels")
@login_required
def levels():
    return _levels_page()


def _levels_page(values: dict | None = None, errors: dict | None = None, editing: int | None = None):
    return render_template(
        "pairing/levels.html",
        levels=pairing_service.list_levels(eng(), actor()),
        kinds=pairing_service.LEVEL_KINDS,
        can_edit=pairing_service.can_edit(actor()),
        values=values or {},
        errors=errors or {},
        editing=editing,
    ), 422 if errors else 200


LEVEL_FORM = ("code", "name", "name_en", "kind", "sort_order")


@bp.post("/pairings/levels")
@bp.post(f"/pairings/levels/<{ID}:level_id>")
@login_required
def save_level(level_id: int | None = None):
    values = {k: request.form.get(k, "") for k in LEVEL_FORM}
    values["gives_leader"] = request.form.get("gives_leader") == "1"
    values["is_active"] = request.form.get("is_active") == "1"
    if level_id is not None:
        values.pop("code")
    try:
        level = pairing_service.save_level(eng(), actor(), values, level_id)
    except ValidationFailed as exc:
        return _levels_page(values, exc.errors, level_id or 0)
    flash(_("已保存包联层级“%(name)s”", name=level["name"]), "success")
    return redirect(url_for("pairing.levels"))


@bp.get("/pairings/people")
@login_required
def people():
    filters = {k: request.args.get(k, "") for k in ("q", "unit", "account")}
    try:
        result = pairing_service.list_people(eng(), actor(), filters, page=request.args.get("page"))
    except ValidationFailed:
        return redirect(url_for("pairing.people"))
    return render_template(
        "pairing/people.html",
        result=result,
        units=auth_service.list_units(eng()),
        can_edit=pairing_service.can_edit(actor()),
    )


@bp.post(f"/pairings/people/<{ID}:person_id>/account")
@login_required
def link_account(person_id: int):
    try:
        result = pairing_service.link_account(eng(), actor(), person_id, request.form.get("account", ""))
    except ValidationFailed as exc:
        flash(next(iter(exc.errors.values()), exc.message), "danger")
    else:
        if result["username"]:
            flash(_("“%(name)s”已关联账号 %(user)s", name=result["name"], user=result["username"]), "success")
        else:
            flash(_("“%(name)s”已取消关联账号", name=result["name"]), "success")
    return redirect(url_for("pairing.people", q=request.form.get("q", "")))


def enterprise_file_extras(enterprise_id: int) -> dict:
    """What the enterprise file (一企一档) adds from pairing and plans: its pairing, last visit and plans, and what
    the add-a-pairing form needs."""
    extras = pairing_views.enterprise_panel(eng(), actor(), enterprise_id)
    extras["plans"] = plan_service.enterprise_plans(eng(), actor(), enterprise_id)
    extras["visits"] = visit_views.enterprise_visits(eng(), actor(), enterprise_id)
    extras["can_edit_pairing"] = pairing_service.can_edit(actor())
    extras["can_edit_plans"] = plan_service.can_edit(actor())
    if extras["can_edit_pairing"]:
        extras["pairing_levels"] = pairing_service.list_levels(eng(), actor(), include_inactive=False)
        extras["units"] = auth_service.list_units(eng())
    return extras
