"""The bell: unread count in the header, the notification list, marking read."""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from engine.services import notifications as notification_service
from engine.services.common import parse_id
from web.helpers import actor
from web.helpers import eng

bp = Blueprint("notifications", __name__)


def init_app(app) -> None:
    @app.context_processor
    def _unread():
        """One indexed count per page, for the bell; nothing for anonymous pages."""
        if not getattr(current_user, "is_authenticated", False):
            return {}
        return {"unread_notifications": notification_service.unread_count(eng(), actor())}


@bp.get("/notifications")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    result = notification_service.list_notifications(
        eng(), actor(), page=request.args.get("page"), unread_only=unread_only
    )
    return render_template("notifications/index.html", result=result, unread_only=unread_only)


@bp.post("/notifications/read")
@login_required
def read():
    notification_service.mark_read(eng(), actor(), request.form.getlist("notification_id") or None)
    target = parse_id(request.form.get("case_id"))
    if target is not None:
        return redirect(url_for("cases.detail", case_id=target))
    return redirect(url_for("notifications.index"))
