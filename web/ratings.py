"""Rating pages (测评): the office opens a round and reads the ratings per unit; an enterprise rates the departments
that served it through its private link (no login; a one-time form stamp and a per-address limit, as on the public
submission page)."""

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
from engine.services import ratings as rating_service
from engine.services.common import require_role
from web.enterprises import choices as enterprise_choices
from web.helpers import actor
from web.helpers import eng
from web.public import _stamp
from web.public import _stamp_id

ID = "int(max=2147483647)"
bp = Blueprint("ratings", __name__)
SCOPE_FILTERS = ("area", "size", "sector", "field", "pool", "tag")


@bp.get("/ratings")
@login_required
def index():
    return render_template("ratings/index.html", result=rating_service.list_rounds(eng(), actor()))


@bp.route("/ratings/new", methods=["GET", "POST"])
@login_required
def new():
    require_role(actor(), *rating_service.OFFICE)
    errors, values = {}, request.form
    if request.method == "POST":
        data = {
            "name": request.form.get("name", ""),
            "period_start": request.form.get("period_start", ""),
            "period_end": request.form.get("period_end", ""),
            "closes_on": request.form.get("closes_on", ""),
            "scope": {
                "filters": {
                    k: request.form.get(k, "").strip()
                    for k in SCOPE_FILTERS
                    if request.form.get(k, "").strip()
                }
            },
        }
        try:
            result = rating_service.open_round(eng(), actor(), data)
        except ValidationFailed as exc:
            errors = exc.errors or {}
            errors.setdefault("", exc.message)
        else:
            flash(
                _("已开启测评“%(name)s”：%(n)s 家企业收到测评链接", name=result["name"], n=result["invites"]),
                "success",
            )
            return redirect(url_for("ratings.detail", round_id=result["round_id"]))
    return render_template("ratings/new.html", errors=errors, values=values, choices=enterprise_choices()), (
        422 if errors else 200
    )


@bp.get(f"/ratings/<{ID}:round_id>")
@login_required
def detail(round_id: int):
    return render_template("ratings/detail.html", r=rating_service.get_round(eng(), actor(), round_id))


@bp.post(f"/ratings/<{ID}:round_id>/close")
@login_required
def close(round_id: int):
    rating_service.close_round(eng(), actor(), round_id)
    flash(_("测评已结束，链接不再接受评价"), "success")
    return redirect(url_for("ratings.detail", round_id=round_id))


def _rate_page(token: str, values: dict, errors: dict, status: int = 200):
    form = rating_service.rating_form(eng(), token[:64])
    return render_template(
        "ratings/rate.html", f=form, token=token, values=values, errors=errors, stamp=_stamp()
    ), status


@bp.get("/rate/<token>")
def rate(token: str):
    return _rate_page(token, {}, {})


@bp.post("/rate/<token>")
def submit(token: str):
    form = rating_service.rating_form(eng(), token[:64])
    data = {
        "scores": {str(u["unit_id"]): request.form.get(f"score-{u['unit_id']}", "") for u in form["units"]},
        "comments": {
            str(u["unit_id"]): request.form.get(f"comment-{u['unit_id']}", "") for u in form["units"]
        },
    }
    stamp = _stamp_id(request.form.get("stamp", ""))
    if request.form.get("website") or stamp is None:
        return _rate_page(token, request.form, {"": _("提交未成功，请稍候再试")}, 422)
    try:
        rating_service.submit_rating(
            eng(), token[:64], data, client=request.remote_addr or "unknown", stamp=stamp
        )
    except ValidationFailed as exc:
        return _rate_page(token, request.form, exc.errors or {"": exc.message}, 422)
    return redirect(url_for("ratings.rate", token=token, thanks=1))
