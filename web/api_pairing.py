"""JSON API for pairing (包联) and per-enterprise plans (一企一策) under /api/v1, described in web/openapi_pairing.py."""

from __future__ import annotations

from flask import Blueprint
from flask import g
from flask import jsonify
from flask import request
from flask import url_for

from engine.errors import ValidationFailed
from engine.services import pairing as pairing_service
from engine.services import pairing_import
from engine.services import pairing_views
from engine.services import plans as plan_service
from web.api import body
from web.api import token_required
from web.auth import csrf
from web.errors import error_response
from web.helpers import eng

# Ids in paths are 32-bit: a longer number is no route (404), never an overflow in the database.
ID = "int(max=2147483647)"
bp = Blueprint("api_pairing", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/pairing-levels")
@token_required
def levels():
    return jsonify({"items": pairing_service.list_levels(eng(), g.actor)})


@bp.post("/pairing-levels")
@token_required
def create_level():
    return jsonify(pairing_service.save_level(eng(), g.actor, body())), 201


@bp.put(f"/pairing-levels/<{ID}:level_id>")
@token_required
def update_level(level_id: int):
    return jsonify(pairing_service.save_level(eng(), g.actor, body(), level_id))


@bp.get("/pairings")
@token_required
def pairings():
    filters = {k: v for k, v in request.args.items() if k in pairing_service.PAIRING_FILTERS}
    return jsonify(
        pairing_service.list_pairings(
            eng(), g.actor, filters, page=request.args.get("page"), per_page=request.args.get("per_page")
        )
    )


@bp.post("/pairings")
@token_required
def add_pairing():
    data = body()
    try:
        enterprise_id = int(data.pop("enterprise_id"))
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed("请给出 enterprise_id（整数）", {"enterprise_id": "应为整数"}) from None
    wrong = {k: "应为字符串" for k, v in data.items() if v is not None and not isinstance(v, str)}
    if wrong:
        raise ValidationFailed("字段值应为字符串", wrong)
    result = pairing_service.add_pairing(eng(), g.actor, enterprise_id, data)
    return jsonify(result), 201


@bp.delete(f"/pairings/<{ID}:pairing_id>")
@token_required
def remove_pairing(pairing_id: int):
    pairing_service.remove_pairing(eng(), g.actor, pairing_id)
    return "", 204


@bp.post("/pairings/import")
@token_required
def import_roster():
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise ValidationFailed("请以 multipart/form-data 上传名为 file 的 .xlsx 文件", {"file": "缺少文件"})
    try:
        data = storage.read(pairing_import.MAX_BYTES + 1)
    finally:
        storage.close()
    result = pairing_import.import_file(eng(), g.actor, data, storage.filename)
    if result["errors"]:
        return error_response(
            422, f"有 {len(result['errors'])} 处问题，没有导入任何包联", rows=result["errors"]
        )
    return jsonify(result)


@bp.get("/pairings/mine")
@token_required
def mine():
    return jsonify(
        pairing_views.my_enterprises(
            eng(),
            g.actor,
            request.args.get("scope") or None,
            q=request.args.get("q", ""),
            only_open=request.args.get("open") in ("1", "true"),
            page=request.args.get("page"),
            per_page=request.args.get("per_page"),
        )
    )


@bp.get("/pairings/figures")
@token_required
def figures():
    return jsonify(
        pairing_views.figures(
            eng(),
            g.actor,
            by=request.args.get("by", "unit"),
            level=request.args.get("level") or None,
            page=request.args.get("page"),
            per_page=request.args.get("per_page"),
        )
    )


@bp.get("/roster-people")
@token_required
def people():
    filters = {k: v for k, v in request.args.items() if k in ("q", "unit", "account")}
    return jsonify(
        pairing_service.list_people(
            eng(), g.actor, filters, page=request.args.get("page"), per_page=request.args.get("per_page")
        )
    )


@bp.put(f"/roster-people/<{ID}:person_id>/account")
@token_required
def link_account(person_id: int):
    username = body().get("username")
    if username is not None and not isinstance(username, str):
        raise ValidationFailed("username 应为字符串或 null", {"username": "应为字符串或 null"})
    return jsonify(pairing_service.link_account(eng(), g.actor, person_id, username))


@bp.get(f"/enterprises/<{ID}:enterprise_id>/pairings")
@token_required
def enterprise_pairings(enterprise_id: int):
    return jsonify({"items": pairing_service.get_enterprise_pairing(eng(), g.actor, enterprise_id)})


@bp.get("/plans")
@token_required
def plans():
    filters = {k: v for k, v in request.args.items() if k in plan_service.FILTERS}
    return jsonify(
        plan_service.list_plans(
            eng(), g.actor, filters, page=request.args.get("page"), per_page=request.args.get("per_page")
        )
    )


@bp.post("/plans")
@token_required
def create_plan():
    result = plan_service.create_plan(eng(), g.actor, body())
    response = jsonify(plan_service.get_plan(eng(), g.actor, result["plan_id"]))
    response.headers["Location"] = url_for("api_pairing.get_plan", plan_id=result["plan_id"])
    return response, 201


@bp.get(f"/plans/<{ID}:plan_id>")
@token_required
def get_plan(plan_id: int):
    return jsonify(plan_service.get_plan(eng(), g.actor, plan_id))


@bp.patch(f"/plans/<{ID}:plan_id>")
@token_required
def update_plan(plan_id: int):
    plan_service.update_plan(eng(), g.actor, plan_id, body())
    return jsonify(plan_service.get_plan(eng(), g.actor, plan_id))


@bp.post(f"/plans/<{ID}:plan_id>/items")
@token_required
def add_item(plan_id: int):
    result = plan_service.add_item(eng(), g.actor, plan_id, body())
    return jsonify(result), 201


@bp.patch(f"/plan-items/<{ID}:item_id>")
@token_required
def update_item(item_id: int):
    return jsonify(plan_service.update_item(eng(), g.actor, item_id, body()))


@bp.delete(f"/plan-items/<{ID}:item_id>")
@token_required
def remove_item(item_id: int):
    plan_service.remove_item(eng(), g.actor, item_id)
    return "", 204
