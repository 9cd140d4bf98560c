"""Case list/search, registering a problem (with a new enterprise if needed), and the case page."""

from __future__ import annotations

import io

from flask import Blueprint
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import CATEGORIES
from engine.domain.vocabulary import CHANNELS
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import SIZE_CLASSES
from engine.domain.vocabulary import TIERS
from engine.errors import ValidationFailed
from engine.services import attachments as attachment_service
from engine.services import auth as auth_service
from engine.services import case_list
from engine.services import cases as case_service
from engine.services import enterprise_catalog
from engine.services.case_list import FILTER_KEYS
from engine.services.common import require_role
from engine.services.enterprises import ENTERPRISE_FIELDS
from web.helpers import actor
from web.helpers import describe_data
from web.helpers import eng
from web.helpers import form_options
from web.helpers import uploads_from_request
from web.i18n import local_time
from web.i18n import ui_lang

bp = Blueprint("cases", __name__)


def filter_choices() -> dict:
    tags = enterprise_catalog.list_tags(eng(), actor(), active_only=True)
    return {
        "status": list(CASE_STATUSES),
        "field": FIELDS,
        "category": CATEGORIES,
        "channel": CHANNELS,
        "tier": list(TIERS),
        "flag": ["yellow", "red", "black"],
        "units": auth_service.list_units(eng()),
        "size": SIZE_CLASSES,
        "areas": enterprise_catalog.list_areas(eng(), actor(), active_only=True),
        "pools": [t for t in tags if t["kind"] == "pool"],
        "tags": [t for t in tags if t["kind"] == "tag"],
    }


@bp.get("/cases")
@login_required
def index():
    filters = {k: request.args.get(k, "").strip() for k in FILTER_KEYS if request.args.get(k, "").strip()}
    group = request.args.get("group", "").strip() or None
    try:
        result = case_list.search_cases(eng(), actor(), filters, page=request.args.get("page"), group=group)
        errors = {}
    except ValidationFailed as exc:
        result, errors = {"items": [], "total": 0, "page": 1, "pages": 1}, exc.errors
    status = 422 if errors else 200
    return render_template(
        "cases/index.html",
        result=result,
        filters=filters,
        group=group if not errors else None,
        choices=filter_choices(),
        errors=errors,
    ), status


def _register_page(values: dict, errors: dict, enterprise_values: dict, mode: str, status: int = 200):
    form = eng().forms.get(case_service.REGISTER_FORM)
    return render_template(
        "cases/new.html",
        form=form,
        values=values,
        errors=errors,
        options=form_options(form),
        lang=ui_lang(),
        enterprise_values=enterprise_values,
        mode=mode,
        fields=FIELDS,
    ), status


@bp.get("/cases/export.xlsx")
@login_required
def export():
    """The case list with the same filters as the page, as a printable .xlsx ledger (streamed to a temp file)."""
    import tempfile

    from engine.services import ledger

    filters = {k: request.args.get(k, "").strip() for k in FILTER_KEYS if request.args.get(k, "").strip()}
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        ledger.export_cases(eng(), actor(), filters, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    stamp = eng().now().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return send_file(
        spool,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"诉求台账-{stamp}.xlsx",
    )


@bp.get("/cases/import/template.xlsx")
@login_required
def import_template():
    import io

    from engine.services import imports

    require_role(actor(), "registrar", "dispatcher")
    return send_file(
        io.BytesIO(imports.template()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="走访调查表模板.xlsx",
    )


@bp.route("/cases/import", methods=["GET", "POST"])
@login_required
def import_cases():
    """Import problems from a visit spreadsheet: every bad row reported; all valid rows or nothing registered."""
    from engine.services import imports

    require_role(actor(), "registrar", "dispatcher")
    result, errors = None, {}
    values = {"batch": request.form.get("batch", ""), "mode": request.form.get("mode", "all_or_nothing")}
    if request.method == "POST":
        upload = request.files.get("file")
        data = b""
        if upload:
            with upload.stream:
                data = upload.read(imports.MAX_BYTES + 1)
        if not upload or not upload.filename:
            errors = {"file": _("请选择要导入的走访调查表（.xlsx）")}
        else:
            try:
                result = imports.import_rows(
                    eng(),
                    actor(),
                    data,
                    batch=values["batch"],
                    all_or_nothing=values["mode"] != "valid_rows",
                )
            except ValidationFailed as exc:
                errors = exc.errors or {"file": exc.message}
    status = 422 if errors or (result and result["errors"] and not result["imported"]) else 200
    return render_template("cases/import.html", result=result, errors=errors, values=values), status


@bp.get("/cases/duplicates.json")
@login_required
def duplicates():
    """Likely duplicates of the problem being registered (the register page asks as the registrar types)."""
    from engine.services import duplicates as duplicate_service

    found = duplicate_service.find_duplicates(
        eng(),
        actor(),
        enterprise_id=request.args.get("enterprise_id") or None,
        credit_code=request.args.get("credit_code", ""),
        category=request.args.get("category", ""),
        title=request.args.get("title", ""),
        description=request.args.get("description", ""),
    )
    for item in found:
        item["url"] = url_for("cases.detail", case_id=item["case_id"])
        item["link_url"] = url_for("cases.link_report", case_id=item["case_id"])
        item["created_at"] = local_time(item["created_at"])
    return jsonify(found)


@bp.post("/cases/<int:case_id>/link-report")
@login_required
def link_report(case_id: int):
    """The registrar says the new report repeats this case: it is recorded there and no case is created."""
    from engine.services import duplicates as duplicate_service

    try:
        result = duplicate_service.link_report(
            eng(), actor(), case_id, request.form.get("channel", ""), request.form.get("description", "")
        )
    except ValidationFailed as exc:
        flash(next(iter(exc.errors.values()), exc.message), "danger")
        return redirect(url_for("cases.new"))
    flash(_("已作为同一问题的再次反映记入诉求 %(no)s，没有新建诉求", no=result["case_no"]), "success")
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.get("/cases/new")
@login_required
def new():
    require_role(actor(), "registrar", "dispatcher")
    values = eng().forms.get(case_service.REGISTER_FORM).defaults({})
    if request.args.get("enterprise_id"):
        values["enterprise_id"] = request.args.get("enterprise_id")
    return _register_page(values, {}, {}, "existing")


@bp.post("/cases/new")
@login_required
def create():
    require_role(actor(), "registrar", "dispatcher")
    form = eng().forms.get(case_service.REGISTER_FORM)
    mode = "new" if request.form.get("enterprise_mode") == "new" else "existing"
    new_enterprise = None
    raw = request.form.copy()
    if mode == "new":
        new_enterprise = {k: request.form.get(f"enterprise.{k}", "") for k in ENTERPRISE_FIELDS}
        raw.poplist("enterprise_id")
    for key in list(raw.keys()):
        if key.startswith("enterprise.") or key == "enterprise_mode":
            raw.poplist(key)
    try:
        result = case_service.register_case(
            eng(), actor(), raw, uploads=uploads_from_request(form), new_enterprise=new_enterprise
        )
    except ValidationFailed as exc:
        enterprise_values = {k: request.form.get(f"enterprise.{k}", "") for k in ENTERPRISE_FIELDS}
        return _register_page(
            form.raw_values(raw), exc.errors or {"": exc.message}, enterprise_values, mode, 422
        )
    flash(
        _(
            "诉求 %(no)s 已登记：%(tier)s，时限 %(days)s 个工作日",
            no=result["case_no"],
            tier=_tier(result["tier"]),
            days=result["time_limit_days"],
        ),
        "success",
    )
    return redirect(url_for("cases.detail", case_id=result["case_id"]))


def _tier(tier):
    from web.i18n import label

    return label("tier", tier)


@bp.get("/cases/<int:case_id>")
@login_required
def detail(case_id: int):
    case = case_service.get_case(eng(), actor(), case_id)
    units = {u["code"]: u["name"] for u in auth_service.list_units(eng())}
    return render_template(
        "cases/detail.html",
        case=case,
        lang=ui_lang(),
        describe=lambda data: describe_data(data or {}, lang=ui_lang(), units=units),
    )


@bp.get("/cases/<int:case_id>/diagram.json")
@login_required
def diagram(case_id: int):
    """The case's diagram with its completed path, current tasks and each element's events (case page viewer)."""
    from engine.services import design as design_service

    result = design_service.case_diagram(eng(), actor(), case_id)
    for events in result["events"].values():
        for event in events:
            event["at"] = local_time(event["at"])  # shown as every other time on the page (Asia/Shanghai)
    live = result["live_version_id"]
    if actor().has_role(*design_service.DESIGNERS) and live != result["version_id"]:
        result["migrate_url"] = url_for("design.migrate", case_id=case_id, to=live)
    return jsonify(result)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    meta, content = attachment_service.open_attachment(eng(), actor(), attachment_id)
    inline = meta["content_type"].startswith(("image/", "application/pdf"))
    return send_file(
        io.BytesIO(content),
        mimetype=meta["content_type"],
        as_attachment=not inline,
        download_name=meta["filename"],
    )
