"""JSON API for visit campaigns (走访) and rating rounds (测评) under /api/v1, described in web/openapi_visits.py.

Recording a visit is completing its task: POST /api/v1/tasks/{task_id}/complete with the visit's fields,
"answers" and "problems" (or POST /api/v1/visit-tasks/{task_id} here, the same thing)."""

from __future__ import annotations

from flask import Blueprint
from flask import g
from flask import jsonify
from flask import request

from engine.errors import ValidationFailed
from engine.services import ratings as rating_service
from engine.services import tasks as task_service
from engine.services import visit_views
from engine.services import visits as visit_service
from web.api import body
from web.api import token_required
from web.auth import csrf
from web.helpers import eng
from web.visits import export_response

ID = "int(max=2147483647)"
bp = Blueprint("api_visits", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/campaigns")
@token_required
def campaigns():
    return jsonify(visit_views.list_campaigns(eng(), g.actor))


@bp.post("/campaigns")
@token_required
def create_campaign():
    """A new campaign (draft, or launched with "launch": true)."""
    data = body()
    scope = data.get("scope")
    if scope is not None and not isinstance(scope, dict):
        raise ValidationFailed("scope 应为对象", {"scope": "应为 {filters, q} 或 {list}"})
    return jsonify(visit_service.create_campaign(eng(), g.actor, data)), 201


@bp.post("/campaigns/import-list")
@token_required
def read_list():
    """Read an enterprise list (.xlsx) into scope.list rows (nothing saved): send them back in scope.list."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed("请上传 .xlsx 名单（表单字段 file）", {"file": "必填"})
    return jsonify({"list": visit_service.read_enterprise_list(upload.read())})


@bp.get(f"/campaigns/<{ID}:campaign_id>")
@token_required
def campaign(campaign_id: int):
    return jsonify(visit_views.get_campaign(eng(), g.actor, campaign_id, request.args.get("lang", "zh")))


@bp.get(f"/campaigns/<{ID}:campaign_id>/export.xlsx")
@token_required
def export(campaign_id: int):
    """The campaign's enterprises with visitor, status, visit and answers, as .xlsx (same filters as /visit-targets)."""
    return export_response(campaign_id, g.actor)


@bp.post(f"/campaigns/<{ID}:campaign_id>/launch")
@token_required
def launch(campaign_id: int):
    return jsonify(visit_service.launch_campaign(eng(), g.actor, campaign_id))


@bp.post(f"/campaigns/<{ID}:campaign_id>/close")
@token_required
def close(campaign_id: int):
    return jsonify(visit_service.close_campaign(eng(), g.actor, campaign_id))


@bp.delete(f"/campaigns/<{ID}:campaign_id>")
@token_required
def delete(campaign_id: int):
    visit_service.delete_campaign(eng(), g.actor, campaign_id)
    return "", 204


@bp.get("/visit-targets")
@token_required
def targets():
    filters = {k: v for k, v in request.args.items() if k in visit_views.TARGET_FILTERS}
    return jsonify(
        visit_views.list_targets(
            eng(), g.actor, filters, page=request.args.get("page"), per_page=request.args.get("per_page")
        )
    )


@bp.patch(f"/visit-targets/<{ID}:target_id>")
@token_required
def reassign(target_id: int):
    """Change who visits one enterprise: {"user": username} or {"unit": unit code}."""
    return jsonify(visit_service.reassign(eng(), g.actor, target_id, body()))


@bp.get("/visits/coverage")
@token_required
def coverage():
    filters = {k: v for k, v in request.args.items() if k in visit_views.TARGET_FILTERS}
    return jsonify(visit_views.coverage(eng(), g.actor, request.args.get("group", "campaign"), filters))


@bp.get(f"/visits/<{ID}:visit_id>")
@token_required
def visit(visit_id: int):
    return jsonify(visit_views.get_visit(eng(), g.actor, visit_id, request.args.get("lang", "zh")))


@bp.get(f"/enterprises/<{ID}:enterprise_id>/visits")
@token_required
def enterprise_visits(enterprise_id: int):
    return jsonify(visit_views.enterprise_visits(eng(), g.actor, enterprise_id))


@bp.post("/visit-tasks/<task_id>")
@token_required
def record(task_id: str):
    """Record the visit of an open visit task (its date, who went, whom they met, answers, problems)."""
    data = body()
    lock_version = data.pop("lock_version", None)
    if lock_version is not None and (isinstance(lock_version, bool) or not isinstance(lock_version, int)):
        raise ValidationFailed("lock_version 应为整数", {"lock_version": "应为整数"})
    result = task_service.complete_task(
        eng(), g.actor, task_id[:36], data, lock_version=lock_version, kind="visit"
    )
    return jsonify(result), 201


# --- Rating rounds (测评) ---------------------------------------------------------------------------------------


@bp.get("/rating-rounds")
@token_required
def rating_rounds():
    return jsonify(rating_service.list_rounds(eng(), g.actor))


@bp.post("/rating-rounds")
@token_required
def open_rating_round():
    return jsonify(rating_service.open_round(eng(), g.actor, body())), 201


@bp.get(f"/rating-rounds/<{ID}:round_id>")
@token_required
def rating_round(round_id: int):
    return jsonify(rating_service.get_round(eng(), g.actor, round_id))


@bp.post(f"/rating-rounds/<{ID}:round_id>/close")
@token_required
def close_rating_round(round_id: int):
    return jsonify(rating_service.close_round(eng(), g.actor, round_id))


@bp.get("/ratings/<token>")
def rating_form(token: str):
    """An enterprise's rating form by its private link (no account)."""
    return jsonify(rating_service.rating_form(eng(), token[:64]))


@bp.post("/ratings/<token>")
def submit_rating(token: str):
    """An enterprise's ratings by its private link (no account): {"scores": {unit_id: 1–5}, "comments": {…}}."""
    result = rating_service.submit_rating(eng(), token[:64], body(), client=request.remote_addr or "unknown")
    return jsonify(result), 201


@bp.get("/figures/ratings")
@token_required
def rating_figures():
    """Per unit, the ratings given in a period (?period=2026-Q1, or date_from/date_to)."""
    return jsonify(
        rating_service.figures_view(
            eng(),
            g.actor,
            request.args.get("period") or None,
            request.args.get("date_from") or None,
            request.args.get("date_to") or None,
        )
    )
