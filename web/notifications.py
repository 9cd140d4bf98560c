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
    ids = [int(i) for i in request.form.getlist("notification_id") if i.isdigit()] or None
    notification_service.mark_read(eng(), actor(), ids)
    target = request.form.get("case_id")
    if target and target.isdigit():
        return redirect(url_for("cases.detail", case_id=int(target)))
    return redirect(url_for("notifications.index"))
