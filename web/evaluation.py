"""Quarterly evaluation (季度考评): a board page per quarter, starting an ended quarter's evaluation, and the
evaluation's tasks (the manager's review, the supervisors' interviews) with the board they are about."""

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
from engine.services import evaluation as evaluation_service
from engine.services import figures as figure_service
from engine.services import tasks as task_service
from web.helpers import actor
from web.helpers import after_submit
from web.helpers import eng
from web.i18n import period_name
from web.i18n import ui_lang

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")


def _ended_quarters(count: int = 6) -> list[tuple[str, str]]:
    """The last few quarters that have ended (what can be evaluated now)."""
    period = figure_service.quarter_of(figure_service.local_day(eng().now()))
    result = []
    for _n in range(count):
        period = figure_service.previous_quarter(period)
        result.append((period.code, period_name(period.code)))
    return result


@bp.get("/")
@login_required
def index():
    boards = evaluation_service.boards(eng(), actor())
    started = {b["quarter"] for b in boards if b["status"] != "scheduled"}
    startable = [(code, text) for code, text in _ended_quarters() if code not in started]
    return render_template("evaluation/index.html", boards=boards, startable=startable)


@bp.post("/start")
@login_required
def start():
    quarter = request.form.get("quarter", "").strip()
    try:
        result = evaluation_service.start_now(eng(), actor(), quarter)
    except ValidationFailed as exc:
        flash(exc.message, "danger")
        return redirect(url_for("evaluation.index"))
    flash(_("已开始考评，请审定计算结果"), "success")
    return redirect(url_for("evaluation.board", quarter=result["quarter"]))


@bp.get("/<quarter>")
@login_required
def board(quarter: str):
    page = evaluation_service.board(eng(), actor(), quarter)
    return render_template("evaluation/board.html", board=page)


def _task_page(task: dict, values: dict, errors: dict, status: int = 200):
    form = eng().forms.get(task["form_key"]) if task.get("form_key") else None
    page = evaluation_service.board(eng(), actor(), task["quarter"])
    unit = evaluation_service.interview_unit(task["data"])
    return render_template(
        "evaluation/task.html",
        task=task,
        board=page,
        unit=unit,
        form=form,
        values=values,
        errors=errors,
        lang=ui_lang(),
    ), status


@bp.get("/task/<task_id>")
@login_required
def task(task_id: str):
    found = task_service.get_task(eng(), actor(), task_id, kind="evaluation")
    return _task_page(found, found["values"], {})


@bp.post("/task/<task_id>")
@login_required
def submit(task_id: str):
    try:
        result = task_service.complete_task(
            eng(),
            actor(),
            task_id,
            request.form,
            lock_version=request.form.get("_lock_version") or None,
            kind="evaluation",
        )
    except ValidationFailed as exc:
        found = task_service.get_task(eng(), actor(), task_id, kind="evaluation")
        form = eng().forms.get(found["form_key"]) if found.get("form_key") else None
        values = form.raw_values(request.form) if form else {}
        return _task_page(found, values, exc.errors or {"": exc.message}, 422)
    flash(_("已提交“%(title)s”", title=result["title"]), "success")
    return redirect(after_submit(result))
