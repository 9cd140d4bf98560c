"""The official holiday schedules (法定节假日安排) admins enter: the years and where their working days come from,
one year's schedule entered on the page or imported from .xlsx / .csv, its history, the import templates."""

from __future__ import annotations

import io
import re

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import ValidationFailed
from engine.services import holidays as holiday_service
from web.helpers import actor
from web.helpers import eng

bp = Blueprint("holidays", __name__, url_prefix="/admin/calendar")
# Fields a message can point at on the year page; every other key of ValidationFailed.errors names a row.
FIELDS = ("year", "reference", "file")


@bp.get("")
@login_required
def index():
    return render_template("holidays/index.html", overview=holiday_service.overview(eng(), actor()))


@bp.get("/open")
@login_required
def open_year():
    """The "other year" box of the list: to that year's page (the page checks the year)."""
    value = request.args.get("year", "").strip()
    if not re.fullmatch(r"[0-9]{1,4}", value):  # not str.isdigit: "²" is a digit int() refuses
        flash(_("请输入四位数的年份，如 2031"), "warning")
        return redirect(url_for("holidays.index"))
    return redirect(url_for("holidays.year", year=int(value)))


@bp.get("/<int:year>")
@login_required
def year(year: int):
    return _year_page(year)


@bp.post("/<int:year>")
@login_required
def save(year: int):
    values = {k: request.form.get(k, "") for k in ("reference", "holidays_text", "workdays_text")}
    try:
        result = holiday_service.save_from_text(
            eng(), actor(), year, values["reference"], values["holidays_text"], values["workdays_text"]
        )
    except ValidationFailed as exc:
        return _year_page(year, values, exc, "form")
    return _saved(year, result)


@bp.post("/<int:year>/import")
@login_required
def import_file(year: int):
    values = {"import_reference": request.form.get("reference", "")}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        message = _("请选择要导入的 .xlsx 或 .csv 文件")
        return _year_page(year, values, ValidationFailed(message, {"file": message}), "file")
    with upload.stream:
        data = upload.read(holiday_service.MAX_BYTES + 1)
    try:
        result = holiday_service.import_file(
            eng(), actor(), year, values["import_reference"], upload.filename, data
        )
    except ValidationFailed as exc:
        return _year_page(year, values, exc, "file")
    return _saved(year, result)


@bp.post("/<int:year>/remove")
@login_required
def remove(year: int):
    result = holiday_service.remove_schedule(eng(), actor(), year)
    flash(
        _("已撤销 %(year)s 年的录入；重算了 %(n)s 件诉求的期限", year=year, n=result["recomputed"]), "warning"
    )
    return redirect(url_for("holidays.year", year=year))


@bp.get("/template.<any(xlsx, csv):kind>")
@login_required
def template(kind: str):
    holiday_service.overview(eng(), actor())  # admins only, like the page that links here
    data = holiday_service.template_xlsx() if kind == "xlsx" else holiday_service.template_csv()
    mimetype = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if kind == "xlsx"
        else "text/csv; charset=utf-8"
    )
    return send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=f"节假日安排模板.{kind}"
    )


def _saved(year: int, result: dict):
    if not result["changed"]:
        flash(_("与已录入的安排相同，未作修改"), "info")
    else:
        flash(
            _(
                "已保存 %(year)s 年节假日安排：放假 %(off)s 天，调休上班 %(work)s 天；重算了 %(n)s 件诉求的期限",
                year=year,
                off=result["holidays"],
                work=result["workdays"],
                n=result["recomputed"],
            ),
            "success",
        )
    return redirect(url_for("holidays.year", year=year))


def _year_page(year: int, values: dict | None = None, error: ValidationFailed | None = None, where=None):
    detail = holiday_service.year_detail(eng(), actor(), year)
    errors = dict(error.errors) if error else {}
    if error and not errors:
        errors[""] = error.message
    shown = {
        "reference": detail["reference"],
        "holidays_text": detail["holidays_text"],
        "workdays_text": detail["workdays_text"],
        "import_reference": detail["reference"],
        **(values or {}),
    }
    rows = [(place, message) for place, message in errors.items() if place not in FIELDS]
    return render_template(
        "holidays/year.html",
        detail=detail,
        values=shown,
        errors=errors,
        row_errors=rows,
        summary=error.message if error else None,
        where=where,
        missing=holiday_service.missing_years(eng()),
    ), (422 if error else 200)
