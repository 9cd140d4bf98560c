"""The enterprise file's part of the JSON API (/api/v1, same blueprint and bearer tokens as web/api.py):
enterprises with their classes, contacts, pools and tags and key figures by year, the enterprise list as .xlsx
(export, import), and the areas, pools and tags managers edit. Described by web/openapi_enterprises.py."""

from __future__ import annotations

import tempfile

from flask import g
from flask import jsonify
from flask import request
from flask import send_file
from flask import url_for

from engine.domain.clock import LOCAL_TZ
from engine.errors import ValidationFailed
from engine.services import enterprise_catalog as catalog
from engine.services import enterprise_xlsx
from engine.services import enterprises as enterprise_service
from web.api import body
from web.api import bp
from web.api import token_required
from web.helpers import eng

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/enterprises")
@token_required
def list_enterprises():
    """Search by q, area, size, sector, field, pool and tag; `group` adds counts per area (size, …)."""
    filters = {k: v for k, v in request.args.items() if k in enterprise_service.SEARCH_FILTERS}
    return jsonify(
        enterprise_service.search_enterprises(
            eng(),
            g.actor,
            request.args.get("q", ""),
            page=request.args.get("page"),
            per_page=request.args.get("per_page"),
            filters=filters,
            group=request.args.get("group") or None,
        )
    )


@bp.post("/enterprises")
@token_required
def create_enterprise():
    result = enterprise_service.create_enterprise(eng(), g.actor, body(), source="api")
    response = jsonify(result)
    response.headers["Location"] = url_for("api.get_enterprise", enterprise_id=result["enterprise_id"])
    return response, 201


@bp.get("/enterprises/<int:enterprise_id>")
@token_required
def get_enterprise(enterprise_id: int):
    return jsonify(enterprise_service.get_enterprise(eng(), g.actor, enterprise_id))


@bp.patch("/enterprises/<int:enterprise_id>")
@token_required
def update_enterprise(enterprise_id: int):
    """Change the fields given (null clears one); `contacts`, when given, replaces the further contacts."""
    data = dict(body())
    given = "contacts" in data
    contacts = data.pop("contacts", None)
    if given and contacts is None:
        contacts = []  # "contacts": null clears them
    return jsonify(
        enterprise_service.update_enterprise(eng(), g.actor, enterprise_id, data, contacts, source="api")
    )


@bp.put("/enterprises/<int:enterprise_id>/years/<int:year>")
@token_required
def put_year(enterprise_id: int, year: int):
    return jsonify(enterprise_service.set_year(eng(), g.actor, enterprise_id, year, body(), source="api"))


@bp.delete("/enterprises/<int:enterprise_id>/years/<int:year>")
@token_required
def delete_year(enterprise_id: int, year: int):
    enterprise_service.delete_year(eng(), g.actor, enterprise_id, year, source="api")
    return "", 204


@bp.post("/enterprises/<int:enterprise_id>/memberships")
@token_required
def join(enterprise_id: int):
    """Put the enterprise in a pool or give it a tag: {"tag": id or code, "batch"?, "since"?, "note"?}."""
    data = body()
    unknown = set(data) - {"tag", "batch", "since", "note"}
    if unknown:
        raise ValidationFailed(
            "有不认识的字段", {str(k)[:50]: "可用字段：tag、batch、since、note" for k in unknown}
        )
    if not isinstance(data.get("tag"), (str, int)) or isinstance(data.get("tag"), bool):
        raise ValidationFailed("请给出企业库或标签（编号或编码）", {"tag": "必填，编号或编码"})
    result = enterprise_service.join_tag(
        eng(),
        g.actor,
        enterprise_id,
        data["tag"],
        data.get("batch"),
        data.get("since"),
        data.get("note"),
        "api",
    )
    return jsonify(result), 200


@bp.delete("/enterprises/<int:enterprise_id>/memberships/<tag>")
@token_required
def leave(enterprise_id: int, tag: str):
    return jsonify(enterprise_service.leave_tag(eng(), g.actor, enterprise_id, tag[:100], source="api"))


@bp.get("/enterprises/export.xlsx")
@token_required
def export_enterprises():
    filters = {k: v for k, v in request.args.items() if k in enterprise_service.SEARCH_FILTERS}
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        enterprise_xlsx.export(eng(), g.actor, request.args.get("q", ""), filters, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    stamp = eng().now().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=f"enterprises-{stamp}.xlsx")


@bp.post("/enterprises/import")
@token_required
def import_enterprises():
    """An enterprise workbook (multipart `file`, `mode`): 200 with the report when saved or only checked; 422 with
    the report when a bad row stopped an all-or-nothing import (nothing saved)."""
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise ValidationFailed("请以 multipart/form-data 上传名为 file 的 .xlsx 文件", {"file": "缺少文件"})
    try:
        data = storage.read(enterprise_xlsx.MAX_BYTES + 1)
    finally:
        storage.close()
    report = enterprise_xlsx.import_file(
        eng(), g.actor, data, mode=request.form.get("mode", "all_or_nothing"), source="api"
    )
    if report["errors"] and not report["saved"] and report["mode"] != "check":
        message = f"有 {len(report['errors'])} 处问题，没有导入任何内容"
        return jsonify({"error": {"status": 422, "message": message}, "report": report}), 422
    return jsonify(report)


# ---------------------------------------------------------------------------------------------------------
# The office's lists


@bp.get("/areas")
@token_required
def list_areas():
    active = request.args.get("active") in ("1", "true")
    return jsonify({"items": catalog.list_areas(eng(), g.actor, active_only=active)})


@bp.post("/areas")
@token_required
def create_area():
    result = catalog.save_area(eng(), g.actor, body(), source="api")
    return jsonify(result), 201


@bp.get("/areas/<int:area_id>")
@token_required
def get_area(area_id: int):
    return jsonify(catalog.get_area(eng(), g.actor, area_id))


@bp.patch("/areas/<int:area_id>")
@token_required
def update_area(area_id: int):
    return jsonify(catalog.save_area(eng(), g.actor, body(), area_id, source="api"))


@bp.delete("/areas/<int:area_id>")
@token_required
def delete_area(area_id: int):
    catalog.delete_area(eng(), g.actor, area_id, source="api")
    return "", 204


@bp.get("/enterprise-tags")
@token_required
def list_tags():
    active = request.args.get("active") in ("1", "true")
    kind = request.args.get("kind") or None
    return jsonify({"items": catalog.list_tags(eng(), g.actor, kind, active_only=active)})


@bp.post("/enterprise-tags")
@token_required
def create_tag():
    result = catalog.save_tag(eng(), g.actor, body(), source="api")
    return jsonify(result), 201


@bp.get("/enterprise-tags/<int:tag_id>")
@token_required
def get_tag(tag_id: int):
    return jsonify(catalog.get_tag(eng(), g.actor, tag_id))


@bp.patch("/enterprise-tags/<int:tag_id>")
@token_required
def update_tag(tag_id: int):
    return jsonify(catalog.save_tag(eng(), g.actor, body(), tag_id, source="api"))


@bp.delete("/enterprise-tags/<int:tag_id>")
@token_required
def delete_tag(tag_id: int):
    catalog.delete_tag(eng(), g.actor, tag_id, source="api")
    return "", 204
