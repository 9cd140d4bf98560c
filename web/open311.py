"""Open311 GeoReport v2 (JSON) over our cases, so existing Open311 clients can submit and follow problems.

Services are the problem categories; a service request is a case registered through the normal loop (triage,
dispatch, …) with channel "Open311". Every call needs `api_key`: a long-lived API token an administrator issues to
the client (/admin/tokens) for a registrar account; a client sees the requests it submitted. Errors use the
GeoReport error format: [{"code": …, "description": …}].
"""

from __future__ import annotations

import functools

from flask import Blueprint
from flask import g
from flask import jsonify
from flask import request

from engine.errors import JienanError
from engine.services import auth as auth_service
from engine.services import open311 as open311_service
from web.auth import csrf
from web.helpers import eng

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    return jsonify([{"code": exc.code, "description": exc.description}]), exc.code


@bp.errorhandler(JienanError)
def _engine_error(exc: JienanError):
    detail = "；".join(f"{k}：{v}" for k, v in getattr(exc, "errors", {}).items())
    description = exc.message + (f"（{detail}）" if detail else "")
    status = 400 if exc.http_status == 422 else exc.http_status
    return jsonify([{"code": status, "description": description}]), status


def _json_only(fmt: str) -> None:
    if fmt != "json":
        raise Open311Error(400, "本服务只提供 JSON 格式：请把地址结尾改为 .json")


def api_key_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = (request.values.get("api_key") or "").strip()
        if not key:
            raise Open311Error(401, "缺少 api_key：请向系统管理员申请接口令牌")
        actor = auth_service.actor_for_token(eng(), key)
        if actor is None:
            raise Open311Error(401, "api_key 无效或已过期")
        g.actor = actor
        return view(*args, **kwargs)

    return wrapper


@bp.get("/services.<fmt>")
@api_key_required
def services(fmt: str):
    _json_only(fmt)
    return jsonify(open311_service.services())


@bp.get("/services/<code>.<fmt>")
@api_key_required
def service_definition(code: str, fmt: str):
    _json_only(fmt)
    return jsonify(open311_service.service_definition(code))


@bp.post("/requests.<fmt>")
@api_key_required
def create_request(fmt: str):
    _json_only(fmt)
    return jsonify([open311_service.submit_request(eng(), g.actor, request.values)]), 201


@bp.get("/requests.<fmt>")
@api_key_required
def list_requests(fmt: str):
    _json_only(fmt)
    return jsonify(open311_service.list_requests(eng(), g.actor, request.args))


@bp.get("/requests/<request_id>.<fmt>")
@api_key_required
def get_request(request_id: str, fmt: str):
    _json_only(fmt)
    return jsonify([open311_service.get_request(eng(), g.actor, request_id)])
