"""/healthz for load balancers and monitoring: database reachable, schema current, timer workers beating."""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify

from engine.services import health as health_service
from web.helpers import eng

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 while this process can serve (status "ok", or "degraded" when no worker beat recently); 503 when the
    database cannot be reached or its schema is older than this code. No login: it tells nothing about cases."""
    report = health_service.health(eng())
    response = jsonify(report)
    response.status_code = 200 if report["ok"] else 503
    response.headers["Cache-Control"] = "no-store"
    return response
