"""Which version of a process or rule table is live, and the audit of every change to it.

Versions are immutable rows (process_version, rule_version). The live one is named in active_version; without a
pointer the newest row is live (databases deployed before pointers existed). Deploying content that an earlier
version already has makes that version live again instead of storing a copy, so a rollback is a pointer move.
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.storage.models import ActiveVersion
from engine.storage.models import DesignAudit
from engine.storage.models import DesignDraft
from engine.storage.models import ProcessVersion
from engine.storage.models import RuleVersion

_MODELS = {
    "process": (ProcessVersion, ProcessVersion.version_id, ProcessVersion.process_id),
    "rules": (RuleVersion, RuleVersion.rule_version_id, RuleVersion.decision_id),
}


def active_version(session: Session, kind: str, key: str):
    """The live ProcessVersion ("process") or RuleVersion ("rules") for this key, or None if never deployed."""
    model, id_column, key_column = _MODELS[kind]
    pointer = session.get(ActiveVersion, (kind, key))
    if pointer is not None:
        version = session.get(model, pointer.version_id)
        if version is not None:
            return version
    return session.scalars(select(model).where(key_column == key).order_by(id_column.desc()).limit(1)).first()


def active_version_id(session: Session, kind: str, key: str) -> int | None:
    """The id of the live version (as `active_version` finds it), read in one statement without its content."""
    live = session.scalar(_LIVE_ID[kind], {"kind": kind, "key": key})
    if live is not None:
        return live
    version = active_version(session, kind, key)  # a pointer to a missing version: as active_version decides
    if version is None:
        return None
    return version.version_id if kind == "process" else version.rule_version_id


def _live_id_statement(kind: str):
    """The live version's id: the one the pointer names, else the newest (built once per kind)."""
    _model, id_column, key_column = _MODELS[kind]
    pointer = (
        select(ActiveVersion.version_id)
        .where(ActiveVersion.kind == bindparam("kind"), ActiveVersion.key == bindparam("key"))
        .scalar_subquery()
    )
    return (
        select(id_column)
        .where(key_column == bindparam("key"), or_(id_column == pointer, pointer.is_(None)))
        .order_by(id_column.desc())
        .limit(1)
    )


_LIVE_ID = {kind: _live_id_statement(kind) for kind in _MODELS}


def activate(session: Session, eng, kind: str, key: str, version_id: int, user_id: int | None) -> None:
    pointer = session.get(ActiveVersion, (kind, key))
    if pointer is None:
        session.add(
            ActiveVersion(
                kind=kind, key=key, version_id=version_id, activated_at=eng.now(), activated_by=user_id
            )
        )
    else:
        pointer.version_id = version_id
        pointer.activated_at = eng.now()
        pointer.activated_by = user_id


def audit(
    session: Session,
    eng,
    *,
    kind: str,
    key: str,
    action: str,
    summary: str,
    actor=None,
    before: int | None = None,
    after: int | None = None,
    data: dict | None = None,
) -> DesignAudit:
    """Append one design change (never updated afterwards). `actor` is a services Actor or None (the system)."""
    row = DesignAudit(
        at=eng.now(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.display_name if actor else None,
        kind=kind,
        key=key,
        action=action,
        summary=summary[:500],
        before_version=before,
        after_version=after,
        data=data,
    )
    session.add(row)
    return row


def keep_draft(
    session: Session, eng, kind: str, key: str, content: str, base_version_id, user_id
) -> DesignDraft:
    """Store (or overwrite) the one draft of a process, rule table or form; the live version is untouched."""
    draft = session.get(DesignDraft, (kind, key))
    if draft is None:
        draft = DesignDraft(kind=kind, key=key, base_version_id=base_version_id)
        session.add(draft)
    draft.content, draft.updated_at, draft.updated_by = content, eng.now(), user_id
    return draft


def drop_draft(session: Session, kind: str, key: str) -> None:
    draft = session.get(DesignDraft, (kind, key))
    if draft is not None:
        session.delete(draft)
