"""Login, logout and language choice; the Flask-Login user wraps the engine's Actor."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from flask_wtf.csrf import CSRFProtect

from engine.errors import RateLimited
from engine.services import sessions as session_service
from engine.services.common import Actor
from web.helpers import eng

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class WebUser:
    """Flask-Login's view of an Actor."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, actor: Actor, session_token: str):
        self.actor = actor
        self.session_token = session_token

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookie: the server-side session token, checked on every request.
        return self.session_token

    def has_role(self, *roles: str) -> bool:
        return self.actor.has_role(*roles)

    @property
    def display_name(self) -> str:
        return self.actor.display_name

    @property
    def unit_name(self) -> str | None:
        return self.actor.unit_name

    @property
    def username(self) -> str:
        return self.actor.username


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)

    @login_manager.user_loader
    def _load(session_token: str):
        actor = session_service.session_actor(eng(), session_token)
        return WebUser(actor, session_token) if actor else None


def _client() -> str:
    """What a person sees in their session list: browser and address."""
    agent = (request.user_agent.string or "")[:150]
    return f"{agent} · {request.remote_addr or ''}"


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return url_for("tasks.inbox")
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("tasks.inbox")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            actor = session_service.log_in(
                eng(), username, request.form.get("password", ""), request.remote_addr or "unknown"
            )
        except RateLimited as exc:  # the login page again, saying how long to wait
            page = render_template("auth/login.html", error=exc.message, username=username)
            return page, 429, {"Retry-After": str(exc.retry_after or 60)}
        if actor is None:
            error = _("用户名或密码不正确")
        else:
            session.clear()
            token = session_service.start_session(eng(), actor, _client())
            login_user(WebUser(actor, token))
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=username), status


@bp.post("/logout")
@login_required
def logout():
    lang = session.get("lang")
    session_service.end_session(eng(), current_user.session_token)
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已退出登录"), "info")
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang")
    if lang in ("zh", "en"):
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")))
