"""企业分类管理: the office's areas (乡镇街道) and pools and tags (企业库与标签), which managers edit here."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.domain.vocabulary import AREA_KINDS
from engine.domain.vocabulary import TAG_KINDS
from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import enterprise_catalog as catalog
from engine.services.common import require_role
from web.helpers import actor
from web.helpers import eng

bp = Blueprint("catalog", __name__, url_prefix="/classes")
AREA_TEXT = ("name", "code", "kind", "unit", "sort_order")
TAG_TEXT = ("name", "code", "kind", "description", "date_label", "sort_order")


@bp.get("")
@login_required
def index():
    require_role(actor(), *catalog.EDITORS)
    return render_template(
        "catalog/index.html",
        areas=catalog.list_areas(eng(), actor()),
        tags=catalog.list_tags(eng(), actor()),
        changes=catalog.recent_changes(eng(), actor()),
    )


def _checkboxes(*names: str) -> dict:
    return {name: "1" if request.form.get(name) else "0" for name in names}


@bp.route("/areas/new", methods=["GET", "POST"], defaults={"area_id": None})
@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@login_required
def area(area_id: int | None):
    require_role(actor(), *catalog.EDITORS)
    current = catalog.get_area(eng(), actor(), area_id) if area_id is not None else None
    errors = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in AREA_TEXT} | _checkboxes("is_active")
        try:
            saved = catalog.save_area(eng(), actor(), values, area_id)
        except ValidationFailed as exc:
            errors = exc.errors or {"": exc.message}
        else:
            flash(_("已保存乡镇街道“%(name)s”", name=saved["name"]), "success")
            return redirect(url_for("catalog.index", _anchor="areas"))
    else:
        values = dict(current or {"kind": "street", "is_active": True})
        values["unit"] = (current or {}).get("unit_id") or ""
    return render_template(
        "catalog/area.html",
        area=current,
        values=values,
        errors=errors,
        kinds=list(AREA_KINDS),
        units=auth_service.list_units(eng()),
    ), (422 if errors else 200)


@bp.post("/areas/<int:area_id>/delete")
@login_required
def delete_area(area_id: int):
    catalog.delete_area(eng(), actor(), area_id)
    flash(_("已删除"), "success")
    return redirect(url_for("catalog.index", _anchor="areas"))


@bp.route("/tags/new", methods=["GET", "POST"], defaults={"tag_id": None})
@bp.route("/tags/<int:tag_id>", methods=["GET", "POST"])
@login_required
def tag(tag_id: int | None):
    require_role(actor(), *catalog.EDITORS)
    current = catalog.get_tag(eng(), actor(), tag_id) if tag_id is not None else None
    errors = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in TAG_TEXT} | _checkboxes(
            "is_active", "with_batch", "with_date"
        )
        try:
            saved = catalog.save_tag(eng(), actor(), values, tag_id)
        except ValidationFailed as exc:
            errors = exc.errors or {"": exc.message}
        else:
            flash(_("已保存“%(name)s”", name=saved["name"]), "success")
            return redirect(url_for("catalog.index", _anchor="tags"))
    else:
        kind = request.args.get("kind", "tag")
        defaults = {"kind": kind if kind in TAG_KINDS else "tag", "is_active": True}
        values = dict(current or defaults)
    return render_template(
        "catalog/tag.html", tag=current, values=values, errors=errors, kinds=list(TAG_KINDS)
    ), (422 if errors else 200)


@bp.post("/tags/<int:tag_id>/delete")
@login_required
def delete_tag(tag_id: int):
    catalog.delete_tag(eng(), actor(), tag_id)
    flash(_("已删除"), "success")
    return redirect(url_for("catalog.index", _anchor="tags"))
