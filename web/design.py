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
from engine.services.common import parse_id
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
    result = design_service.discard_draft(eng(), actor(), process_id)
    if result["live_version_id"] is None:  # an imported process never deployed: nothing is left of it
        flash(_("草稿已放弃；这个流程从未部署，已从流程库中移除"), "info")
        return redirect(url_for("design.library"))
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
    old, new = parse_id(request.args.get("old")), parse_id(request.args.get("new"))
    if old is None or new is None:
        raise ValidationFailed(_("请选择要比较的两个版本"), {"old": _("版本号应为整数")})
    return render_template("design/diff.html", diff=design_service.diff_versions(eng(), actor(), old, new))


def _upload() -> tuple[str, bytes]:
    """The chosen .bpmn file: (name, content). :raises ValidationFailed: no file, or more than 2 MB."""
    upload = request.files.get("file")
    data = b""
    if upload:
        with upload.stream:  # big uploads are spooled to a temporary file: close it
            data = upload.read(MAX_UPLOAD + 1)
    if not upload or not upload.filename:
        raise ValidationFailed(_("请选择要导入的 .bpmn 文件"))
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed(_("文件过大：流程图不能超过 2 MB"))
    return upload.filename, data


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    """Import a .bpmn as a draft: a new process by default, or the draft of the process with the same id when
    the designer chooses so. Nothing goes live here; the modeler's 校验 and 部署 do that."""
    require_role(actor(), *design_service.DESIGNERS)
    if request.method == "GET":
        return render_template("design/import.html", target="new", message=None, problems=[])
    target = request.form.get("target", "new")
    try:
        result = design_service.import_file(eng(), actor(), *_upload(), target=target)
    except SpecError as exc:
        message, problems = exc.message, exc.problems
    except ValidationFailed as exc:
        message, problems = exc.message, [{"message": m} for m in exc.errors.values()]
    else:
        flash(_imported(result), "success")
        return redirect(url_for("design.edit", process_id=result["process_id"]))
    return render_template("design/import.html", target=target, message=message, problems=problems), 422


def _imported(result: dict) -> str:
    name, process_id = result["name"], result["process_id"]
    if result["target"] == "draft":
        return _(
            "已导入为流程“%(name)s”（%(id)s）的草稿；在用版本和运行中的诉求都没有改变，校验并部署后新诉求才会使用它",
            name=name,
            id=process_id,
        )
    if result["renamed_from"]:
        return _(
            "已导入为新流程“%(name)s”的草稿，标识为 %(id)s（文件中的标识 %(old)s 已被占用）；已有流程没有改变",
            name=name,
            id=process_id,
            old=result["renamed_from"],
        )
    return _("已导入为新流程“%(name)s”（%(id)s）的草稿；校验并部署后才能使用", name=name, id=process_id)


@bp.post("/import/inspect.json")
@login_required
def import_inspect():
    """As soon as a file is picked, the import page shows which process its id matches and offers the choice."""
    require_role(actor(), *design_service.DESIGNERS)
    found = design_service.inspect_import(eng(), actor(), *_upload())
    match = found["match"]
    return jsonify(
        {
            "process_id": found["process_id"],
            "new_process_id": found["new_process_id"],
            "match": match["process_id"] if match else None,
            "html": render_template("design/import_match.html", found=found),
            "labels": {
                "new": _("作为新流程导入，标识为 %(id)s", id=found["new_process_id"]),
                "draft": _("作为“%(name)s”（%(id)s）的草稿导入", name=match["name"], id=match["process_id"])
                if match
                else _("作为同标识流程的草稿导入（没有同标识的流程）"),
            },
        }
    )


@bp.route("/cases/<int:case_id>/migrate", methods=["GET", "POST"])
@login_required
def migrate(case_id: int):
    target = parse_id(request.values.get("to"))
    if target is None:
        raise ValidationFailed(_("请选择目标版本"), {"to": _("版本号应为整数")})
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
