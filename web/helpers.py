"""Small things every blueprint uses: the engine, the acting user, form options, uploads from a request."""

from __future__ import annotations

from flask import current_app
from flask import request
from flask import url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from engine.context import Engine
from engine.services import auth as auth_service
from engine.services import enterprises as enterprise_service
from engine.services.attachments import Upload
from engine.services.common import MAX_ID
from engine.services.common import Actor


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in every route (create_app installs it under that name): a record id. A number beyond MAX_ID
    names no row, so it is answered 404 here, whatever the method, instead of reaching the database, which
    cannot compare a column with it. (Refusing it as a mismatch would let another method's rule for the same
    path answer 405.)"""

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            raise NotFound()
        return super().to_python(value)


def eng() -> Engine:
    return current_app.extensions["jienan"]


def actor() -> Actor:
    return current_user.actor


def uploads_from_request(form=None) -> list[Upload]:
    """Files sent for the form's file fields (other file inputs are ignored); without a form, every file sent
    (the service keeps those its form takes)."""
    result = []
    for name in form.file_fields if form is not None else request.files.keys():
        for storage in request.files.getlist(name):
            if storage and storage.filename:
                try:
                    result.append(Upload(field=name, filename=storage.filename, content=storage.read()))
                finally:
                    storage.close()
    return result


# Tasks with a page of their own (the quarterly evaluation's review and interviews, a campaign's visit); a case's
# tasks use tasks.show.
TASK_PAGES = {"evaluation": "evaluation.task", "visit": "visits.record"}


def task_page(task: dict) -> str | None:
    """The own page of a programme task, or None for a case's task."""
    endpoint = TASK_PAGES.get(task["kind"])
    return url_for(endpoint, task_id=task["task_id"]) if endpoint else None


def after_submit(result: dict) -> str:
    """Where a completed task leads: the evaluation's board, the case (more to do there) or the inbox."""
    if result["kind"] == "evaluation":
        return url_for("evaluation.board", quarter=result["quarter"])
    if result["kind"] == "visit":
        return url_for("visits.campaign", campaign_id=result["campaign_id"])
    if result["next_tasks"]:
        return url_for("cases.detail", case_id=result["case_id"])
    return url_for("tasks.inbox")


def form_options(form, attachments: list[dict] | None = None) -> dict:
    """Choices the form macro needs for pickers, loaded only for the widgets the form has."""
    widgets = {f.widget for f in form.fields}
    options: dict = {"accept": ",".join(eng().settings.allowed_upload_types)}
    if widgets & {"unit", "units"}:
        options["units"] = auth_service.list_units(eng())
    if "user" in widgets:
        roles = {f.role for f in form.fields if f.widget == "user"}
        options["users"] = {role: auth_service.list_users(eng(), role) for role in roles}
    if "enterprise" in widgets:
        options["enterprises"] = enterprise_service.enterprise_choices(eng())
    if attachments:
        options["attachments"] = attachments
    return options


def describe_data(
    data: dict, exclude=(), lang: str = "zh", units: dict | None = None, people: dict | None = None
) -> list[tuple[str, str]]:
    """(label, shown value) for the values earlier forms put into a case, labelled as those forms label them."""
    if people is None:
        people = {u["username"]: u["display_name"] for u in auth_service.list_users(eng())}

    fields = {}
    for form in eng().forms.all().values():
        for spec in form.fields:
            fields.setdefault(spec.name, spec)
    rows = []
    for name, value in data.items():
        spec = fields.get(name)
        if (
            spec is None
            or name in exclude
            or value in (None, "", [])
            or spec.widget in ("file", "enterprise")
        ):
            continue
        values = value if isinstance(value, list) else [value]
        labels = spec.labels_en if lang == "en" else spec.labels_zh
        shown = []
        for item in values:
            key = "true" if item is True else "false" if item is False else str(item)
            if spec.widget in ("unit", "units") and units:
                shown.append(units.get(key, key))
            elif spec.widget == "user" and people:
                shown.append(people.get(key, key))
            elif spec.type == "boolean":
                shown.append(dict(spec.choices(lang)).get(key, key))
            else:
                shown.append(labels.get(key) or key)
        rows.append((spec.label(lang), "、".join(shown)))
    return rows
