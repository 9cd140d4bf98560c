"""Administration pages: long-lived API tokens for other systems, and everyone's live logins (to end them)."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import holidays as holiday_service
from engine.services import sessions as session_service
from engine.services.common import require_role
from web.helpers import actor
from web.helpers import eng

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    require_role(actor(), "admin")
    issued, errors, values = None, {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("username", "name", "days")}
        try:
            days = int(values["days"]) if values["days"] else None
        except ValueError:
            errors = {"days": _("有效期应为整数天数")}
        else:
            try:
                issued = auth_service.issue_service_token(
                    eng(), actor(), values["username"], values["name"], days
                )
            except ValidationFailed as exc:
                errors = exc.errors
    return render_template(
        "admin/tokens.html",
        tokens=auth_service.list_tokens(eng(), actor()),
        sessions=session_service.live_sessions(eng(), actor()),
        users=auth_service.list_users(eng()),
        issued=issued,
        errors=errors,
        values=values,
        missing=holiday_service.missing_years(eng()),
    ), 422 if errors else 200


@bp.post("/sessions/<int:token_id>/revoke")
@login_required
def end_session(token_id: int):
    require_role(actor(), "admin")
    session_service.revoke(eng(), actor(), token_id)
    flash(_("已结束这次登录"), "success")
    return redirect(url_for("admin.tokens"))


@bp.post("/users/<username>/sessions/revoke")
@login_required
def end_user_sessions(username: str):
    ended = session_service.revoke_all(eng(), actor(), username)
    flash(_("已结束 %(user)s 的 %(n)s 处登录", user=username, n=ended), "success")
    return redirect(url_for("admin.tokens"))


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    auth_service.revoke_token(eng(), actor(), token_id)
    flash(_("令牌已吊销"), "success")
    return redirect(url_for("admin.tokens"))
