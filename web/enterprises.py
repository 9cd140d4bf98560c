"""Enterprise search, creation and the enterprise file (一企一档)."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.domain.vocabulary import FIELDS
from engine.errors import ValidationFailed
from engine.services import enterprises as enterprise_service
from engine.services.common import require_role
from engine.services.enterprises import ENTERPRISE_FIELDS
from web.helpers import actor
from web.helpers import eng
from web.pairing import enterprise_file_extras

bp = Blueprint("enterprises", __name__)


@bp.get("/enterprises")
@login_required
def index():
    q = request.args.get("q", "")
    result = enterprise_service.search_enterprises(eng(), actor(), q, page=request.args.get("page"))
    return render_template("enterprises/index.html", result=result, q=q)


@bp.route("/enterprises/new", methods=["GET", "POST"])
@login_required
def new():
    require_role(actor(), "registrar", "dispatcher", "admin")
    values, errors = {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ENTERPRISE_FIELDS}
        try:
            enterprise = enterprise_service.create_enterprise(eng(), actor(), values)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(_("企业“%(name)s”已建档", name=enterprise["name"]), "success")
            return redirect(url_for("enterprises.detail", enterprise_id=enterprise["enterprise_id"]))
    return render_template(
        "enterprises/new.html", values=values, errors=errors, fields=FIELDS
    ), 422 if errors else 200


@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def detail(enterprise_id: int):
    enterprise = enterprise_service.get_enterprise(eng(), actor(), enterprise_id)
    return render_template(
        "enterprises/detail.html", enterprise=enterprise, **enterprise_file_extras(enterprise_id)
    )
