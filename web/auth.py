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
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from flask_wtf.csrf import CSRFProtect

from engine.services import auth as auth_service
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

    def __init__(self, actor: Actor):
        self.actor = actor

    def get_id(self) -> str:
        return str(self.actor.user_id)

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
    def _load(user_id: str):
        try:
            actor = auth_service.load_actor(eng(), int(user_id))
        except ValueError:
            return None
        return WebUser(actor) if actor else None


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
        actor = auth_service.authenticate(eng(), username, request.form.get("password", ""))
        if actor is None:
            error = _("用户名或密码不正确")
        else:
            session.clear()
            login_user(WebUser(actor))
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=username), status


@bp.post("/logout")
@login_required
def logout():
    lang = session.get("lang")
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
