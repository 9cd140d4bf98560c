"""Managers' rule-table pages: the list, the editor (dmn-js) with try-it, example cases, preview and publish,
and each version with what changed and a rollback. The editor talks to the JSON endpoints here."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import RuleError
from engine.errors import ValidationFailed
from engine.services import design as design_service
from engine.services import rules_admin
from engine.services.common import require_role
from web.helpers import actor
from web.helpers import eng

bp = Blueprint("rules", __name__, url_prefix="/rules")


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(_("请求内容应为 JSON 对象"), {"": _("请求格式不对")})
    return body


def _xml(body: dict) -> str:
    if not isinstance(body.get("xml"), str):
        raise ValidationFailed(_("缺少规则表内容"), {"xml": _("缺少规则表内容")})
    return body["xml"]


@bp.get("/")
@login_required
def index():
    require_role(actor(), *rules_admin.MANAGERS)
    return render_template("rules/index.html", tables=rules_admin.tables(eng(), actor()))


@bp.get("/<decision_id>")
@login_required
def edit(decision_id: str):
    source = rules_admin.source(eng(), actor(), decision_id)
    history = design_service.history(eng(), actor(), "rules", decision_id)
    return render_template("rules/editor.html", source=source, history=history)


@bp.post("/<decision_id>/draft")
@login_required
def save_draft(decision_id: str):
    return jsonify(rules_admin.save_draft(eng(), actor(), decision_id, _xml(_body())))


@bp.post("/<decision_id>/draft/discard")
@login_required
def discard_draft(decision_id: str):
    rules_admin.discard_draft(eng(), actor(), decision_id)
    flash(_("草稿已放弃，已打开当前在用版本"), "info")
    return redirect(url_for("rules.edit", decision_id=decision_id))


@bp.post("/<decision_id>/try")
@login_required
def try_it(decision_id: str):
    body = _body()
    try:
        return jsonify(
            rules_admin.try_table(eng(), actor(), decision_id, _xml(body), body.get("inputs") or {})
        )
    except RuleError as exc:
        return jsonify({"ok": False, "message": exc.message, "problems": exc.problems}), 422


@bp.post("/<decision_id>/check")
@login_required
def check(decision_id: str):
    return jsonify(rules_admin.check(eng(), actor(), decision_id, _xml(_body())))


@bp.post("/<decision_id>/preview")
@login_required
def preview(decision_id: str):
    try:
        return jsonify(rules_admin.preview(eng(), actor(), decision_id, _xml(_body())))
    except RuleError as exc:
        return jsonify({"ok": False, "message": exc.message, "problems": exc.problems}), 422


@bp.post("/<decision_id>/publish")
@login_required
def publish(decision_id: str):
    body = _body()
    try:
        result = rules_admin.publish(
            eng(),
            actor(),
            decision_id,
            _xml(body),
            comment=str(body.get("comment") or ""),
            reevaluate=bool(body.get("reevaluate")),
        )
    except RuleError as exc:
        return jsonify({"ok": False, "message": exc.message, "problems": exc.problems}), 422
    return jsonify({"ok": True, **result})


@bp.post("/<decision_id>/examples")
@login_required
def add_example(decision_id: str):
    body = _body()
    result = rules_admin.add_example(
        eng(),
        actor(),
        decision_id,
        str(body.get("label") or ""),
        body.get("inputs") or {},
        body.get("expected") or {},
    )
    return jsonify(result)


@bp.post("/<decision_id>/examples/<int:example_id>/delete")
@login_required
def delete_example(decision_id: str, example_id: int):
    rules_admin.delete_example(eng(), actor(), decision_id, example_id)
    return jsonify({"ok": True})


@bp.get("/<decision_id>/versions/<int:version_id>")
@login_required
def version(decision_id: str, version_id: int):
    rows = rules_admin.version_rows(eng(), actor(), decision_id, version_id)
    return render_template("rules/version.html", version=rows)


@bp.post("/<decision_id>/versions/<int:version_id>/rollback")
@login_required
def rollback(decision_id: str, version_id: int):
    rules_admin.rollback(eng(), actor(), decision_id, version_id, request.form.get("comment", ""))
    flash(_("已恢复为版本 #%(v)s：新的决策将使用这个版本", v=version_id), "success")
    return redirect(url_for("rules.edit", decision_id=decision_id))
