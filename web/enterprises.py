"""The enterprise file (一企一档): search with filters and groups, creation, the file page, editing details and
contacts, pools and tags, key figures by year, and the enterprise list as .xlsx (template, import, export)."""

from __future__ import annotations

import io
import tempfile

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import AREA_KINDS
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import SECTORS
from engine.domain.vocabulary import SIZE_CLASSES
from engine.errors import ValidationFailed
from engine.services import enterprise_catalog
from engine.services import enterprise_xlsx
from engine.services import enterprises as enterprise_service
from engine.services.common import require_role
from engine.services.enterprises import CONTACT_FIELDS
from engine.services.enterprises import ENTERPRISE_FIELDS
from engine.services.enterprises import GROUPS
from engine.services.enterprises import MAX_CONTACTS
from engine.services.enterprises import SEARCH_FILTERS
from web.helpers import actor
from web.helpers import eng
from web.i18n import label
from web.pairing import enterprise_file_extras

bp = Blueprint("enterprises", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def choices() -> dict:
    """What the pickers offer: fields, sectors, size classes and the office's active areas, pools and tags."""
    tags = enterprise_catalog.list_tags(eng(), actor(), active_only=True)
    return {
        "field": FIELDS,
        "size": SIZE_CLASSES,
        "sector": list(SECTORS),
        "field_options": [(v, label("field", v)) for v in FIELDS],
        "size_options": [(v, label("size", v)) for v in SIZE_CLASSES],
        "sector_options": [(v, f"{v} {label('sector', v)}") for v in SECTORS],
        "areas": enterprise_catalog.list_areas(eng(), actor(), active_only=True),
        "pools": [t for t in tags if t["kind"] == "pool"],
        "tags": [t for t in tags if t["kind"] == "tag"],
        "area_kinds": list(AREA_KINDS),
    }


def _search_args() -> tuple[str, dict, str | None]:
    q = request.args.get("q", "").strip()
    filters = {k: request.args.get(k, "").strip() for k in SEARCH_FILTERS if request.args.get(k, "").strip()}
    group = request.args.get("group", "").strip() or None
    return q, filters, group


@bp.get("/enterprises")
@login_required
def index():
    q, filters, group = _search_args()
    try:
        result = enterprise_service.search_enterprises(
            eng(), actor(), q, page=request.args.get("page"), filters=filters, group=group or "area"
        )
        errors = {}
    except ValidationFailed as exc:
        errors = exc.errors or {"": exc.message}
        result = enterprise_service.search_enterprises(eng(), actor(), "", group="area")
        result["items"], result["total"], result["pages"] = [], 0, 1
    return render_template(
        "enterprises/index.html",
        result=result,
        q=q,
        filters=filters,
        group=result.get("group"),
        groups=GROUPS,
        choices=choices(),
        errors=errors,
    ), (422 if errors else 200)


@bp.get("/enterprises/export.xlsx")
@login_required
def export():
    """The enterprises of a search (same filters as the page) in the import's three sheets."""
    q, filters, _group = _search_args()
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        enterprise_xlsx.export(eng(), actor(), q, filters, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    stamp = eng().now().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=f"企业名录-{stamp}.xlsx")


@bp.get("/enterprises/import/template.xlsx")
@login_required
def import_template():
    require_role(actor(), *enterprise_xlsx.IMPORTERS)
    return send_file(
        io.BytesIO(enterprise_xlsx.template(eng())),
        mimetype=XLSX,
        as_attachment=True,
        download_name="企业名录导入模板.xlsx",
    )


@bp.route("/enterprises/import", methods=["GET", "POST"])
@login_required
def import_file():
    """Import the enterprise list: every bad row named; all rows or nothing, the valid rows only, or a check."""
    require_role(actor(), *enterprise_xlsx.IMPORTERS)
    result, errors = None, {}
    mode = request.form.get("mode", "all_or_nothing")
    if request.method == "POST":
        upload = request.files.get("file")
        if not upload or not upload.filename:
            errors = {"file": _("请选择要导入的企业名录（.xlsx）")}
        else:
            with upload.stream:
                data = upload.read(enterprise_xlsx.MAX_BYTES + 1)
            try:
                result = enterprise_xlsx.import_file(eng(), actor(), data, mode=mode)
            except ValidationFailed as exc:
                errors = exc.errors or {"file": exc.message}
    refused = result and result["errors"] and not result["saved"] and result["mode"] != "check"
    status = 422 if errors or refused else 200
    return render_template("enterprises/import.html", result=result, errors=errors, mode=mode), status


def _form_values() -> dict:
    return {k: request.form.get(k, "") for k in ENTERPRISE_FIELDS}


@bp.route("/enterprises/new", methods=["GET", "POST"])
@login_required
def new():
    require_role(actor(), *enterprise_service.CREATORS)
    values, errors = {}, {}
    if request.method == "POST":
        values = _form_values()
        try:
            enterprise = enterprise_service.create_enterprise(eng(), actor(), values)
        except ValidationFailed as exc:
            errors = exc.errors or {"": exc.message}
        else:
            flash(_("企业“%(name)s”已建档", name=enterprise["name"]), "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise["enterprise_id"]))
    return render_template(
        "enterprises/new.html", values=values, errors=errors, choices=choices()
    ), 422 if errors else 200


@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def detail(enterprise_id: int):
    enterprise = enterprise_service.get_enterprise(eng(), actor(), enterprise_id)
    return render_template(
        "enterprises/detail.html",
        enterprise=enterprise,
        choices=choices(),
        join_values={},
        join_errors={},
        year_values={},
        year_errors={},
        today=enterprise_service.enterprise_today(eng()),
        **enterprise_file_extras(enterprise_id),
    )


def _contacts_from_form() -> list[dict]:
    rows = []
    for index in range(MAX_CONTACTS + 2):
        row = {k: request.form.get(f"contacts.{index}.{k}", "") for k in CONTACT_FIELDS}
        rows.append(row)
    return rows


@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
@login_required
def edit(enterprise_id: int):
    """Details, classes and contacts on one form (pools, tags and key figures are on the file page)."""
    require_role(actor(), *enterprise_service.EDITORS)
    enterprise = enterprise_service.get_enterprise(eng(), actor(), enterprise_id)
    errors = {}
    if request.method == "POST":
        values, contacts = _form_values(), _contacts_from_form()
        try:
            result = enterprise_service.update_enterprise(eng(), actor(), enterprise_id, values, contacts)
        except ValidationFailed as exc:
            errors = exc.errors or {"": exc.message}
        else:
            flash(
                _("已保存") if result["changed"] else _("没有修改"),
                "success" if result["changed"] else "info",
            )
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise_id))
    else:
        values = {k: enterprise.get(k) or "" for k in ENTERPRISE_FIELDS if k != "area"}
        values["area"] = str(enterprise["area_id"] or "")
        contacts = [{k: c.get(k) or "" for k in CONTACT_FIELDS} for c in enterprise["contacts"]]
    blank = {k: "" for k in CONTACT_FIELDS}
    shown = [c for c in contacts if any(c.values())]
    shown += [dict(blank) for _i in range(2)] if len(shown) < MAX_CONTACTS else []
    return render_template(
        "enterprises/edit.html",
        enterprise=enterprise,
        values=values,
        contacts=shown[: MAX_CONTACTS + 2],
        errors=errors,
        choices=choices(),
    ), (422 if errors else 200)


@bp.post("/enterprises/<int:enterprise_id>/tags")
@login_required
def join(enterprise_id: int):
    """Put the enterprise in a pool or give it a tag (or change its batch and date there)."""
    values = {k: request.form.get(k, "").strip() for k in ("tag", "batch", "since", "note")}
    try:
        result = enterprise_service.join_tag(
            eng(),
            actor(),
            enterprise_id,
            values["tag"] or None,
            values["batch"],
            values["since"],
            values["note"],
        )
    except ValidationFailed as exc:
        return _detail_with(enterprise_id, join_values=values, join_errors=exc.errors or {"": exc.message})
    flash(
        _("已保存企业库/标签") if result["changed"] else _("没有修改"),
        "success" if result["changed"] else "info",
    )
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise_id, _anchor="tags"))


@bp.post("/enterprises/<int:enterprise_id>/tags/<int:tag_id>/remove")
@login_required
def leave(enterprise_id: int, tag_id: int):
    enterprise_service.leave_tag(eng(), actor(), enterprise_id, tag_id)
    flash(_("已移出，移出记录保留在档案中"), "success")
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise_id, _anchor="tags"))


@bp.post("/enterprises/<int:enterprise_id>/years")
@login_required
def save_year(enterprise_id: int):
    values = {k: request.form.get(k, "").strip() for k in ("year", "output_value", "revenue", "employees")}
    try:
        enterprise_service.set_year(
            eng(), actor(), enterprise_id, values["year"], {k: values[k] for k in values if k != "year"}
        )
    except ValidationFailed as exc:
        return _detail_with(enterprise_id, year_values=values, year_errors=exc.errors or {"": exc.message})
    flash(_("已保存 %(year)s 年度数据", year=values["year"]), "success")
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise_id, _anchor="years"))


@bp.post("/enterprises/<int:enterprise_id>/years/<int:year>/delete")
@login_required
def delete_year(enterprise_id: int, year: int):
    enterprise_service.delete_year(eng(), actor(), enterprise_id, year)
    flash(_("已删除 %(year)s 年度数据", year=year), "success")
    return redirect(url_for("enterprises.detail", enterprise_id=enterprise_id, _anchor="years"))


def _detail_with(enterprise_id: int, **forms):
    enterprise = enterprise_service.get_enterprise(eng(), actor(), enterprise_id)
    context = {"join_values": {}, "join_errors": {}, "year_values": {}, "year_errors": {}} | forms
    return render_template(
        "enterprises/detail.html",
        enterprise=enterprise,
        choices=choices(),
        today=enterprise_service.enterprise_today(eng()),
        **context,
    ), 422
