"""Inbox (mine / my unit's) and the task page: the form, its submission, and the answers to stale pages."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.domain.vocabulary import FLAGS
from engine.errors import ValidationFailed
from engine.services import auth as auth_service
from engine.services import cases as case_service
from engine.services import holidays as holiday_service
from engine.services import tasks as task_service
from web.helpers import actor
from web.helpers import after_submit
from web.helpers import describe_data
from web.helpers import eng
from web.helpers import form_options
from web.helpers import task_page
from web.helpers import uploads_from_request
from web.i18n import ui_lang

bp = Blueprint("tasks", __name__)


@bp.get("/")
@login_required
def home():
    return redirect(url_for("tasks.inbox"))


@bp.get("/tasks")
@login_required
def inbox():
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "unit"):
        scope = "mine"
    flag = request.args.get("flag") or None
    if flag not in FLAGS:
        flag = None
    result = task_service.list_tasks(eng(), actor(), scope, page=request.args.get("page"), flag=flag)
    # Admins land here: they are the ones who can enter a missing year's holiday schedule.
    missing = holiday_service.missing_years(eng()) if actor().has_role("admin") else []
    return render_template("tasks/inbox.html", result=result, scope=scope, flag=flag, missing=missing)


def _task_page(task: dict, values: dict, errors: dict, status: int = 200):
    form = eng().forms.get(task["form_key"]) if task.get("form_key") else None
    case = case_service.get_case(eng(), actor(), task["case_id"])
    options = form_options(form, case["attachments"]) if form else {}
    units = {u["code"]: u["name"] for u in auth_service.list_units(eng())}
    shown_elsewhere = set(eng().forms.get(case_service.REGISTER_FORM).field_names)
    if form:
        shown_elsewhere.update(form.field_names)
    previous = describe_data(task["data"], exclude=shown_elsewhere, lang=ui_lang(), units=units)
    return render_template(
        "tasks/task.html",
        task=task,
        case=case,
        form=form,
        values=values,
        errors=errors,
        options=options,
        lang=ui_lang(),
        previous=previous,
    ), status


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str):
    task = task_service.get_task(eng(), actor(), task_id)
    own_page = task_page(task)
    if own_page:
        return redirect(own_page)
    return _task_page(task, task["values"], {})


@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id: str):
    try:
        result = task_service.complete_task(
            eng(),
            actor(),
            task_id,
            request.form,
            uploads=uploads_from_request(),
            lock_version=request.form.get("_lock_version") or None,
        )
    except ValidationFailed as exc:
        task = task_service.get_task(eng(), actor(), task_id)
        own_page = task_page(task)
        if own_page:  # shown with its errors on its own page
            return redirect(own_page, code=307)
        form = eng().forms.get(task["form_key"]) if task.get("form_key") else None
        values = form.raw_values(request.form) if form else {}
        return _task_page(task, values, exc.errors or {"": exc.message}, 422)
    flash(_("已提交“%(title)s”", title=result["title"]), "success")
    return redirect(after_submit(result))
