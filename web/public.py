"""Public pages (no login): an enterprise submits a problem, follows it by its private link and answers the
revisit. A hidden honeypot field and a minimum fill time stop simple bots; submissions are rate-limited per
address; CSRF protects the forms as everywhere else."""

from __future__ import annotations

import secrets
import time

from flask import Blueprint
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from engine.domain.vocabulary import CATEGORIES
from engine.domain.vocabulary import FIELDS
from engine.errors import ValidationFailed
from engine.services import public as public_service
from web.helpers import eng

bp = Blueprint("public", __name__, url_prefix="/public")
MIN_FILL_SECONDS = 3


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="public-form")


def _stamp() -> str:
    """A signed stamp for the form being served: when it was served, and a one-time id."""
    return _signer().dumps({"t": time.time(), "n": secrets.token_hex(16)})


def _stamp_id(stamp: str) -> str | None:
    """The stamp's one-time id, or None when it is forged, expired or was filled faster than a person can."""
    try:
        payload = _signer().loads(stamp, max_age=public_service.STAMP_DAYS * 24 * 3600)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
        return None
    if time.time() - float(payload.get("t") or 0) < MIN_FILL_SECONDS:
        return None
    return payload["n"]


def _form(values: dict, errors: dict, status: int = 200):
    return (
        render_template(
            "public/submit.html",
            values=values,
            errors=errors,
            fields=FIELDS,
            categories=CATEGORIES,
            stamp=_stamp(),
        ),
        status,
    )


@bp.get("/submit")
def submit_form():
    return _form({}, {})


@bp.post("/submit")
def submit():
    values = {
        k: request.form.get(k, "")
        for k in (
            "name",
            "credit_code",
            "field",
            "category",
            "title",
            "description",
            "contact_name",
            "contact_phone",
        )
    }
    stamp = _stamp_id(request.form.get("stamp", ""))
    if request.form.get("website") or stamp is None:
        # A bot filled the hidden field or answered faster than a person can: same page, nothing stored.
        return _form(values, {"": _("提交未成功，请稍候再试")}, 422)
    if values["category"] not in CATEGORIES:
        values["category"] = "其他"
    try:
        result = public_service.submit(eng(), values, client=request.remote_addr or "unknown", stamp=stamp)
    except ValidationFailed as exc:
        return _form(values, exc.errors or {"": exc.message}, 422)
    return redirect(url_for("public.track", token=result["token"], new=1))


@bp.get("/track/<token>")
def track(token: str):
    return render_template(
        "public/track.html", case=public_service.track(eng(), token), token=token, errors={}
    )


@bp.post("/track/<token>/revisit")
def revisit(token: str):
    data = {k: request.form.get(k) for k in ("solved", "satisfaction", "revisit_comment")}
    try:
        public_service.answer_revisit(eng(), token, data)
    except ValidationFailed as exc:
        case = public_service.track(eng(), token)
        return render_template("public/track.html", case=case, token=token, errors=exc.errors), 422
    return redirect(url_for("public.track", token=token, answered=1))
