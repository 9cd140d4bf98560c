"""JSON API under /api/v1 with bearer tokens: the same actions as the pages, described at /api/v1/openapi.json."""

from __future__ import annotations

import functools

from flask import Blueprint
from flask import g
from flask import jsonify
from flask import request
from flask import url_for

from engine.errors import JienanError
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import case_list
from engine.services import cases as case_service
from engine.services import figures as figure_service
from engine.services import holidays as holiday_service
from engine.services import notifications as notification_service
from engine.services import sessions as session_service
from engine.services import tasks as task_service
from engine.services.attachments import Upload
from engine.services.attachments import upload_attachment
from web import openapi_fair
from web import openapi_visits
from web.auth import csrf
from web.helpers import eng
from web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class Unauthorized(JienanError):
    http_status = 401


def token_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "缺少访问令牌：请在 Authorization 头中使用 Bearer 令牌（POST /api/v1/auth/token 获取）"
            )
        actor = auth_service.actor_for_token(eng(), token.strip())
        if actor is None:
            raise Unauthorized("访问令牌无效或已过期，请重新获取")
        g.actor = actor
        g.token = token.strip()
        return view(*args, **kwargs)

    return wrapper


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed("请求体应为 JSON 对象（Content-Type: application/json）")
    return data


def _is_integer(value) -> bool:
    """A JSON integer: true and false are not numbers here, though Python counts them as ints."""
    return isinstance(value, int) and not isinstance(value, bool)


@bp.get("/openapi.json")
def openapi():
    return jsonify(
        openapi_visits.extend(
            openapi_fair.extend(
                openapi_document(
                    url_for("api.openapi", _external=False).rsplit("/", 1)[0],
                    eng().forms.get(case_service.REGISTER_FORM).schema,
                )
            )
        )
    )


@bp.post("/auth/token")
def token():
    data = body()
    actor = session_service.log_in(
        eng(), str(data.get("username", "")), str(data.get("password", "")), request.remote_addr or "unknown"
    )
    if actor is None:
        raise Unauthorized("用户名或密码不正确")
    issued = auth_service.issue_login_token(eng(), actor)
    return jsonify(
        {
            "token": issued["token"],
            "token_type": "Bearer",
            "expires_at": issued["expires_at"],
            "user": {
                "username": actor.username,
                "display_name": actor.display_name,
                "roles": sorted(actor.roles),
                "unit": actor.unit_code,
            },
        }
    )


@bp.post("/auth/logout")
@token_required
def logout():
    """The bearer token used for this call ends now."""
    session_service.end_session(eng(), g.token)
    return "", 204


@bp.get("/auth/tokens")
@token_required
def my_tokens():
    return jsonify({"items": session_service.my_tokens(eng(), g.actor, g.token)})


@bp.delete("/auth/tokens/<int:token_id>")
@token_required
def revoke_token(token_id: int):
    session_service.revoke(eng(), g.actor, token_id)
    return "", 204


@bp.post("/auth/service-tokens")
@token_required
def service_token():
    data = body()
    days = data.get("days")
    if days is not None and not _is_integer(days):
        raise ValidationFailed("有效期应为整数天数", {"days": "应为整数"})
    issued = auth_service.issue_service_token(
        eng(), g.actor, str(data.get("username", "")), str(data.get("name", "")), days
    )
    return jsonify(
        {"token": issued["token"], "token_id": issued["token_id"], "expires_at": issued["expires_at"]}
    ), 201


@bp.get("/cases")
@token_required
def list_cases():
    filters = {k: v for k, v in request.args.items() if k in case_list.FILTER_KEYS}
    return jsonify(
        case_list.search_cases(
            eng(),
            g.actor,
            filters,
            page=request.args.get("page"),
            per_page=request.args.get("per_page"),
            group=request.args.get("group") or None,
        )
    )


@bp.get("/figures/placements")
@token_required
def placements():
    """Board placements (家次) and interviews per unit over a period (period=2026 or date_from/date_to)."""
    args = {k: v.strip() for k, v in request.args.items() if v and v.strip()}
    return jsonify(
        figure_service.placements_view(
            eng(), g.actor, args.get("period"), args.get("date_from"), args.get("date_to")
        )
    )


@bp.get("/figures")
@token_required
def figures():
    """The figures of a period (period=2026-Q3 or date_from/date_to), overall and per `group`."""
    args = {k: v.strip() for k, v in request.args.items() if v and v.strip()}
    result = figure_service.view(
        eng(),
        g.actor,
        period_code=args.get("period"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        group=args.get("group"),
        filters={k: args[k] for k in figure_service.FILTERS if k in args},
        role=args.get("role", "lead"),
    )
    period = result["period"]
    return jsonify(
        {
            "period": {"code": period.code, "start": period.start.isoformat(), "end": period.end.isoformat()},
            "group": args.get("group"),
            "role": result["role"],
            "filters": result["filters"],
            "total": result["total"],
            "rows": result["rows"],
        }
    )


@bp.post("/cases")
@token_required
def create_case():
    data = body()
    new_enterprise = data.pop("new_enterprise", None)
    if new_enterprise is not None and not isinstance(new_enterprise, dict):
        raise ValidationFailed("new_enterprise 应为对象", {"new_enterprise": "应为对象"})
    key = request.headers.get("Idempotency-Key")
    result = case_service.register_case(
        eng(), g.actor, data, new_enterprise=new_enterprise, idempotency_key=key
    )
    response = jsonify(result)
    response.headers["Location"] = url_for("api.get_case", case_id=result["case_id"])
    if result.get("replayed"):
        response.headers["Idempotent-Replayed"] = "true"
        return response, 200
    return response, 201


@bp.get("/cases/<int:case_id>")
@token_required
def get_case(case_id: int):
    return jsonify(case_service.get_case(eng(), g.actor, case_id))


@bp.get("/tasks")
@token_required
def list_tasks():
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "unit"):
        raise ValidationFailed("scope 应为 mine 或 unit", {"scope": "应为 mine 或 unit"})
    return jsonify(
        task_service.list_tasks(
            eng(),
            g.actor,
            scope,
            page=request.args.get("page"),
            per_page=request.args.get("per_page"),
            flag=request.args.get("flag") or None,
        )
    )


@bp.get("/tasks/<task_id>")
@token_required
def get_task(task_id: str):
    return jsonify(task_service.get_task(eng(), g.actor, task_id))


@bp.post("/tasks/<task_id>/complete")
@token_required
def complete_task(task_id: str):
    data = body()
    form_data = data.get("data", {})
    if not isinstance(form_data, dict):
        raise ValidationFailed("data 应为对象，键为表单字段", {"data": "应为对象"})
    lock_version = data.get("lock_version")
    if lock_version is not None and not _is_integer(lock_version):
        raise ValidationFailed("lock_version 应为整数", {"lock_version": "应为整数"})
    return jsonify(task_service.complete_task(eng(), g.actor, task_id, form_data, lock_version=lock_version))


@bp.post("/attachments")
@token_required
def create_attachment():
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise ValidationFailed("请以 multipart/form-data 上传名为 file 的文件", {"file": "缺少文件"})
    try:
        content = storage.read()
    finally:
        storage.close()
    result = upload_attachment(
        eng(), g.actor, Upload(field="file", filename=storage.filename, content=content)
    )
    return jsonify(result), 201


@bp.get("/notifications")
@token_required
def list_notifications():
    return jsonify(
        notification_service.list_notifications(
            eng(),
            g.actor,
            page=request.args.get("page"),
            per_page=request.args.get("per_page"),
            unread_only=request.args.get("unread") in ("1", "true"),
        )
    )


@bp.post("/notifications/read")
@token_required
def read_notifications():
    ids = body().get("notification_ids")
    if ids is not None and (not isinstance(ids, list) or not all(_is_integer(i) for i in ids)):
        raise ValidationFailed(
            "notification_ids 应为整数列表（省略则全部标为已读）", {"notification_ids": "应为整数列表"}
        )
    return jsonify({"marked": notification_service.mark_read(eng(), g.actor, ids)})


@bp.get("/calendar")
@token_required
def calendar_years():
    """The years around today (and every entered one): where their working days come from (admins)."""
    return jsonify(holiday_service.overview(eng(), g.actor))


@bp.get("/calendar/<int:year>")
@token_required
def calendar_year(year: int):
    return jsonify(holiday_service.year_detail(eng(), g.actor, year))


@bp.put("/calendar/<int:year>")
@token_required
def put_calendar_year(year: int):
    """Enter or replace a year's official schedule; open deadlines it moves are counted again."""
    data = body()
    result = holiday_service.save_from_lists(
        eng(), g.actor, year, data.get("reference"), data.get("holidays"), data.get("workdays")
    )
    return jsonify(result)


@bp.post("/calendar/<int:year>/import")
@token_required
def import_calendar_year(year: int):
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise ValidationFailed(
            "请以 multipart/form-data 上传名为 file 的 .xlsx 或 .csv 文件", {"file": "缺少文件"}
        )
    try:
        data = storage.read(holiday_service.MAX_BYTES + 1)
    finally:
        storage.close()
    result = holiday_service.import_file(
        eng(), g.actor, year, request.form.get("reference", ""), storage.filename, data
    )
    return jsonify(result)


@bp.delete("/calendar/<int:year>")
@token_required
def delete_calendar_year(year: int):
    return jsonify(holiday_service.remove_schedule(eng(), g.actor, year, source="api"))


@bp.errorhandler(PermissionDenied)
def _forbidden(exc):
    return jsonify({"error": {"status": 403, "message": exc.message}}), 403
