"""Designers edit task forms (JSON Schema): validated before saving, versioned like processes, live at once."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.errors import NotFound
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.forms.schema import FORM_KEY_RE
from engine.forms.schema import FORMS_DIR
from engine.forms.schema import FormSpec
from engine.forms.schema import form_from_schema
from engine.forms.schema import load_form
from engine.i18n import _
from engine.services.common import Actor
from engine.services.common import require_role
from engine.services.common import user_names
from engine.storage import versions
from engine.storage.models import ActiveVersion
from engine.storage.models import FormVersion
from engine.workflow.specs import content_hash

DESIGNERS = ("designer", "admin")
MAX_SCHEMA = 200_000


def form_keys(session) -> list[str]:
    """Every form: the files shipped in forms/ and those only saved in the database."""
    files = {path.stem for path in FORMS_DIR.glob("*.json")}
    stored = set(session.scalars(select(FormVersion.form_key).distinct()))
    return sorted(files | stored)


def list_forms(eng, actor: Actor) -> list[dict]:
    require_role(actor, *DESIGNERS)
    with eng.db.read() as session:
        live = dict(
            session.execute(
                select(ActiveVersion.key, ActiveVersion.version_id).where(ActiveVersion.kind == "form")
            ).all()
        )
        counts: dict[str, int] = {}
        for key in session.scalars(select(FormVersion.form_key)):
            counts[key] = counts.get(key, 0) + 1
        keys = form_keys(session)
    result = []
    for key in keys:
        form = eng.forms.get(key)
        result.append(
            {
                "key": key,
                "title": form.title,
                "fields": len(form.fields),
                "live_version_id": live.get(key),
                "versions": counts.get(key, 0),
            }
        )
    return result


def form_source(eng, actor: Actor, key: str) -> dict:
    """The live schema as text (pretty JSON), and the saved versions (who, when, note, which is live)."""
    require_role(actor, *DESIGNERS)
    form = eng.forms.get(key)
    with eng.db.read() as session:
        rows = session.scalars(
            select(FormVersion)
            .where(FormVersion.form_key == key)
            .order_by(FormVersion.form_version_id.desc())
        ).all()
        people = user_names(session, [r.created_by for r in rows])
        pointer = session.get(ActiveVersion, ("form", key))
        return {
            "key": key,
            "title": form.title,
            "text": json.dumps(form.schema, ensure_ascii=False, indent=2),
            "live_version_id": pointer.version_id if pointer else None,
            "versions": [
                {
                    "version_id": r.form_version_id,
                    "created_at": r.created_at,
                    "created_by": people.get(r.created_by) or _("系统"),
                    "comment": r.comment or "",
                    "live": pointer is not None and pointer.version_id == r.form_version_id,
                }
                for r in rows
            ],
        }


def parse_schema(key: str, text: str) -> FormSpec:
    """Check a schema text as the engine will use it.

    :raises SpecError: not JSON (with line and column), wrong $id, or form definition problems (each listed).
    """
    if not isinstance(text, str) or not text.strip():
        raise SpecError(_("表单定义为空"), problems=[{"message": _("请填写表单的 JSON Schema")}])
    if len(text) > MAX_SCHEMA:
        raise SpecError(
            _("表单定义过大"),
            problems=[{"message": _("表单定义不能超过 %(limit)s KB", limit=MAX_SCHEMA // 1000)}],
        )
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        message = _(
            "不是有效的 JSON：第 %(line)s 行第 %(column)s 列，%(error)s",
            line=exc.lineno,
            column=exc.colno,
            error=exc.msg,
        )
        raise SpecError(message, problems=[{"message": message, "line": exc.lineno}]) from None
    if not isinstance(schema, dict):
        raise SpecError(_("表单定义应为 JSON 对象"), problems=[{"message": _("最外层应为 { … }")}])
    if schema.get("$id") != key:
        message = _("$id 应为 “%(form)s”（表单标识不能修改）", form=key)
        raise SpecError(message, problems=[{"message": message}])
    return form_from_schema(schema)


def save(eng, actor: Actor, key: str, text: str, comment: str = "") -> dict:
    """Validate and save a new version of the form, live at once. Identical content saves nothing new."""
    require_role(actor, *DESIGNERS)
    if not isinstance(key, str) or not FORM_KEY_RE.match(key):
        raise NotFound(_("没有这个表单"))
    spec = parse_schema(key, text)
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationFailed(_("说明太长"), {"comment": _("说明最多 %(limit)s 字", limit=500)})
    normalized = json.dumps(spec.schema, ensure_ascii=False, indent=2, sort_keys=False)
    digest = content_hash(normalized)
    with eng.db.transaction() as session:
        pointer = session.get(ActiveVersion, ("form", key))
        live = session.get(FormVersion, pointer.version_id) if pointer else None
        if live is not None and live.content_hash == digest:
            return {"key": key, "version_id": live.form_version_id, "changed": False}
        if live is None and normalized == _file_text(key):
            return {"key": key, "version_id": None, "changed": False}
        row = session.scalars(
            select(FormVersion).where(FormVersion.form_key == key, FormVersion.content_hash == digest)
        ).first()
        if row is None:
            row = FormVersion(
                form_key=key,
                content_hash=digest,
                schema_json=normalized,
                created_at=eng.now(),
                created_by=actor.user_id,
                comment=comment or None,
            )
            session.add(row)
            session.flush()
        versions.activate(session, eng, "form", key, row.form_version_id, actor.user_id)
        versions.audit(
            session,
            eng,
            kind="form",
            key=key,
            action="save",
            summary=f"保存表单新版本 #{row.form_version_id}" + (f"：{comment}" if comment else ""),
            actor=actor,
            before=live.form_version_id if live else None,
            after=row.form_version_id,
        )
    eng.forms.invalidate()
    return {"key": key, "version_id": row.form_version_id, "changed": True}


def _file_text(key: str) -> str | None:
    try:
        return json.dumps(load_form(key).schema, ensure_ascii=False, indent=2)
    except SpecError:
        return None


def rollback(eng, actor: Actor, key: str, version_id: int) -> dict:
    require_role(actor, *DESIGNERS)
    with eng.db.transaction() as session:
        row = session.get(FormVersion, int(version_id))
        if row is None or row.form_key != key:
            raise NotFound(_("找不到这个表单版本"))
        pointer = session.get(ActiveVersion, ("form", key))
        before = pointer.version_id if pointer else None
        versions.activate(session, eng, "form", key, row.form_version_id, actor.user_id)
        versions.audit(
            session,
            eng,
            kind="form",
            key=key,
            action="rollback",
            summary=f"恢复表单版本 #{row.form_version_id}",
            actor=actor,
            before=before,
            after=row.form_version_id,
        )
    eng.forms.invalidate()
    return {"key": key, "version_id": int(version_id)}
