"""Quarterly evaluation (季度考评): the boards per quarter, the manager's review and publication."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask_login import login_required

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")


@bp.get("/")
@login_required
def index():
    return render_template("evaluation/index.html")
