"""Process designers' pages: the library, the modeler (bpmn-js), validation, deploy, import/export, diffs,
rollback and moving a running case. The modeler talks to the JSON endpoints here with the page's CSRF token."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import JienanError
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.services import design as design_service
from engine.services import forms_admin
from engine.services.common import require_role
from web.helpers import actor
from web.helpers import eng
from web.helpers import form_options
from web.i18n import ui_lang

bp = Blueprint("design", __name__, url_prefix="/design")

MAX_UPLOAD = 2 * 1024 * 1024


def _json_xml() -> str:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise ValidationFailed(_('请求内容应为 JSON：{"xml": "…"}'), {"xml": _("缺少流程图内容")})
    return body["xml"]


@bp.get("/")
@login_required
def library():
    require_role(actor(), *design_service.DESIGNERS)
    return render_template("design/library.html", library=design_service.library(eng(), actor()))


@bp.get("/processes/<process_id>/edit")
@login_required
def edit(process_id: str):
    source = design_service.editor_source(eng(), actor(), process_id)
    return render_template(
        "design/modeler.html",
        source=source,
        forms=design_service.form_choices(eng()),
        decisions=design_service.decision_choices(eng(), actor()),
    )


@bp.post("/processes/<process_id>/draft")
@login_required
def save_draft(process_id: str):
    return jsonify(design_service.save_draft(eng(), actor(), process_id, _json_xml()))


@bp.post("/processes/<process_id>/draft/discard")
@login_required
def discard_draft(process_id: str):
    design_service.discard_draft(eng(), actor(), process_id)
    flash(_("草稿已放弃，已打开当前在用版本"), "info")
    return redirect(url_for("design.edit", process_id=process_id))


@bp.post("/validate")
@login_required
def validate():
    return jsonify(design_service.validate(eng(), actor(), _json_xml()))


@bp.post("/processes/<process_id>/deploy")
@login_required
def deploy(process_id: str):
    body = request.get_json(silent=True) or {}
    try:
        result = design_service.deploy(
            eng(), actor(), _json_xml(), body.get("comment") or "", expected_process=process_id
        )
    except SpecError as exc:
        return jsonify({"ok": False, "message": exc.message, "problems": exc.problems}), 422
    return jsonify({"ok": True, **result})


@bp.get("/versions/<int:version_id>")
@login_required
def version(version_id: int):
    found = design_service.process_version(eng(), actor(), version_id)
    library = design_service.library(eng(), actor())
    process = next(p for p in library["processes"] if p["process_id"] == found["process_id"])
    return render_template("design/version.html", version=found, process=process)


@bp.get("/versions/<int:version_id>.bpmn")
@login_required
def export(version_id: int):
    found = design_service.process_version(eng(), actor(), version_id)
    filename = f"{found['process_id']}-v{version_id}.bpmn"
    return Response(
        found["xml"],
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/versions/<int:version_id>/rollback")
@login_required
def rollback(version_id: int):
    result = design_service.rollback(eng(), actor(), version_id, request.form.get("comment", ""))
    flash(_("已恢复为版本 #%(v)s：新诉求将使用这个版本", v=version_id), "success")
    return redirect(url_for("design.library", _anchor=result["process_id"]))


@bp.get("/diff")
@login_required
def diff():
    try:
        old, new = int(request.args.get("old", "")), int(request.args.get("new", ""))
    except ValueError:
        raise ValidationFailed(_("请选择要比较的两个版本"), {"old": _("版本号应为整数")}) from None
    return render_template("design/diff.html", diff=design_service.diff_versions(eng(), actor(), old, new))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    require_role(actor(), *design_service.DESIGNERS)
    problems, message = [], None
    if request.method == "POST":
        upload = request.files.get("file")
        data = b""
        if upload:
            with upload.stream:  # big uploads are spooled to a temporary file: close it
                data = upload.read(MAX_UPLOAD + 1)
        if not upload or not upload.filename:
            message = _("请选择要导入的 .bpmn 文件")
        elif len(data) > MAX_UPLOAD:
            message = _("文件过大：流程图不能超过 2 MB")
        else:
            try:
                result = design_service.import_file(
                    eng(), actor(), upload.filename, data, request.form.get("comment", "")
                )
            except SpecError as exc:
                message, problems = exc.message, exc.problems
            except ValidationFailed as exc:
                message = next(iter(exc.errors.values()), exc.message)
            else:
                flash(_("已导入并部署为版本 #%(v)s", v=result["version_id"]), "success")
                return redirect(url_for("design.library", _anchor=result["process_id"]))
    status = 422 if message else 200
    return render_template("design/import.html", message=message, problems=problems), status


@bp.route("/cases/<int:case_id>/migrate", methods=["GET", "POST"])
@login_required
def migrate(case_id: int):
    try:
        target = int(request.values.get("to", ""))
    except ValueError:
        raise ValidationFailed(_("请选择目标版本"), {"to": _("版本号应为整数")}) from None
    if request.method == "POST":
        try:
            design_service.migrate_case(eng(), actor(), case_id, target)
        except JienanError as exc:
            flash(exc.message, "danger")
        else:
            flash(_("诉求已迁移到版本 #%(v)s", v=target), "success")
        return redirect(url_for("cases.detail", case_id=case_id))
    check = design_service.migration_check(eng(), actor(), case_id, target)
    return render_template("design/migrate.html", check=check)


# ------------------------------------------------------------------------------------------------ forms


@bp.get("/forms")
@login_required
def forms():
    return render_template("design/forms.html", forms=forms_admin.list_forms(eng(), actor()))


@bp.get("/forms/<key>")
@login_required
def form_editor(key: str):
    return render_template("design/form_editor.html", source=forms_admin.form_source(eng(), actor(), key))


def _form_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise ValidationFailed(_('请求内容应为 JSON：{"text": "…"}'), {"text": _("缺少表单定义")})
    return body


@bp.post("/forms/<key>/preview")
@login_required
def form_preview(key: str):
    """The form as caseworkers will see it, rendered by the same macro, or every problem in its definition."""
    require_role(actor(), *forms_admin.DESIGNERS)
    try:
        spec = forms_admin.parse_schema(key, _form_body()["text"])
    except SpecError as exc:
        return jsonify({"ok": False, "message": exc.message, "problems": exc.problems})
    html = render_template(
        "design/form_preview.html", form=spec, lang=ui_lang(), options=form_options(spec, [])
    )
    return jsonify({"ok": True, "html": html, "problems": []})


@bp.post("/forms/<key>")
@login_required
def form_save(key: str):
    body = _form_body()
    try:
        result = forms_admin.save(eng(), actor(), key, body["text"], str(body.get("comment") or ""))
    except SpecError as exc:
        return jsonify({"ok": False, "message": exc.message, "problems": exc.problems}), 422
    return jsonify({"ok": True, **result})


@bp.post("/forms/<key>/versions/<int:version_id>/rollback")
@login_required
def form_rollback(key: str, version_id: int):
    forms_admin.rollback(eng(), actor(), key, version_id)
    flash(_("已恢复表单版本 #%(v)s", v=version_id), "success")
    return redirect(url_for("design.form_editor", key=key))
