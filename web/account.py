"""My account: change my password, see where I am signed in and which tokens act for me, and end any of them."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from engine.errors import ValidationFailed
from engine.services import sessions as session_service
from web.helpers import actor
from web.helpers import eng

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(errors: dict | None = None, status: int = 200):
    tokens = session_service.my_tokens(eng(), actor(), current_user.session_token)
    return render_template("account/index.html", tokens=tokens, errors=errors or {}), status


@bp.get("/")
@login_required
def index():
    return _page()


@bp.post("/password")
@login_required
def password():
    try:
        ended = session_service.change_password(
            eng(),
            actor(),
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
            keep_token=current_user.session_token,
        )
    except ValidationFailed as exc:
        return _page(exc.errors, 422)
    flash(_("密码已修改；其他 %(n)s 处登录已退出", n=ended), "success")
    return redirect(url_for("account.index"))


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    session_service.revoke(eng(), actor(), token_id)
    flash(_("已结束这次登录或令牌"), "success")
    return redirect(url_for("account.index"))
