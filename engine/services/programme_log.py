"""The append-only record of changes to pairings and plans (programme_event): write one, read a subject's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.services.common import Actor
from engine.storage.models import ProgrammeEvent


def record(
    session: Session,
    eng,
    actor: Actor | None,
    *,
    subject: str,
    action: str,
    title: str,
    subject_id: int | None = None,
    enterprise_id: int | None = None,
    data: dict | None = None,
) -> None:
    """Append one event in the caller's transaction (never updated or deleted afterwards)."""
    session.add(
        ProgrammeEvent(
            at=eng.now(),
            actor_id=actor.user_id if actor else None,
            actor_name=actor.display_name if actor else None,
            subject=subject,
            subject_id=subject_id,
            enterprise_id=enterprise_id,
            action=action,
            title=title[:300],
            data=data,
        )
    )


def history(session: Session, subject: str, subject_id: int | None = None, limit: int = 100) -> list[dict]:
    """The newest events of a subject (one plan, or every event of a kind when `subject_id` is None)."""
    query = select(ProgrammeEvent).where(ProgrammeEvent.subject == subject)
    if subject_id is not None:
        query = query.where(ProgrammeEvent.subject_id == subject_id)
    rows = session.scalars(query.order_by(ProgrammeEvent.event_id.desc()).limit(limit))
    return [
        {
            "event_id": e.event_id,
            "at": e.at,
            "actor": e.actor_name,
            "action": e.action,
            "title": e.title,
            "enterprise_id": e.enterprise_id,
            "data": e.data,
        }
        for e in rows
    ]
