"""One place maps errors to answers: an error page for browsers, JSON under /api/, never a 500 for a user mistake."""

from __future__ import annotations

import logging

from flask import jsonify
from flask import make_response
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import JienanError
from engine.errors import RateLimited
from engine.errors import SpecError
from engine.errors import ValidationFailed

log = logging.getLogger(__name__)
PAGES = {400, 403, 404, 409, 413, 422, 429, 500}


def wants_json() -> bool:
    """The API and the pages' own JSON endpoints (…/data.json) answer errors in JSON."""
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(status: int, message: str, **extra):
    if wants_json():
        body = {"error": {"status": status, "message": message, **extra}}
        return jsonify(body), status
    template = f"errors/{status if status in PAGES else 400}.html"
    return render_template(template, message=message, status=status, **extra), status


def init_app(app) -> None:
    @app.errorhandler(JienanError)
    def _engine_error(exc: JienanError):
        extra = {}
        if isinstance(exc, ValidationFailed):
            extra["fields"] = exc.errors
        if isinstance(exc, SpecError) and exc.problems:
            extra["problems"] = exc.problems
        response = error_response(exc.http_status, exc.message, **extra)
        if isinstance(exc, RateLimited) and exc.retry_after:
            response = make_response(response)
            response.headers["Retry-After"] = str(int(exc.retry_after))
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return error_response(400, _("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        messages = {
            404: _("页面不存在"),
            405: _("不支持这种请求方式"),
            413: _("上传的内容太大，请压缩或分开上传"),
            401: _("请先登录"),
        }
        return error_response(exc.code or 400, messages.get(exc.code, exc.description or ""))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, _("系统出错了，我们已记录此问题，请稍后重试"))
