"""In-app notifications (the bell): who gets one, listing and reading them, and e-mailing pending ones."""

from __future__ import annotations

import logging

from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.common import parse_id
from engine.storage import append
from engine.storage.models import Case
from engine.storage.models import Notification
from engine.storage.models import User
from engine.storage.models import UserRole

log = logging.getLogger(__name__)


def users_with_role(session: Session, role: str, unit_id: int | None = None) -> list[int]:
    return list(session.scalars(_with_role(role, unit_id)))


def _with_role(role: str, unit_id: int | None = None):
    query = (
        select(User.user_id)
        .join(UserRole, UserRole.user_id == User.user_id)
        .where(UserRole.role == role, User.is_active.is_(True))
    )
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    return query


def audience_users(session: Session, case: Case, audience: str) -> list[int]:
    """User ids behind an audience word of the script API, for this case."""
    if audience in ("handler", "unit"):
        return users_with_role(session, "handler", case.lead_unit_id) if case.lead_unit_id else []
    if audience == "registrar":
        return [case.registrar_id] if case.registrar_id else []
    if audience == "leader":
        return (
            [case.responsible_leader_id] if case.responsible_leader_id else users_with_role(session, "leader")
        )
    return users_with_role(session, audience)


def notify_audiences(
    session: Session, eng, case: Case, audiences, *, kind: str, title: str, body: str | None = None
) -> None:
    """Notify the users behind these audience words (each once, as `audience_users` names them) about the case,
    in one INSERT … SELECT after the notifications queued before it."""
    parts = []
    for audience in audiences:
        if audience in ("handler", "unit"):
            if case.lead_unit_id:
                parts.append(_with_role("handler", case.lead_unit_id))
        elif audience == "registrar" or (audience == "leader" and case.responsible_leader_id):
            user_id = case.registrar_id if audience == "registrar" else case.responsible_leader_id
            if user_id:
                parts.append(select(literal(user_id, User.user_id.type).label("user_id")))
        else:
            parts.append(_with_role(audience))
    if not parts:
        return
    recipients = (union(*parts) if len(parts) > 1 else parts[0]).subquery()
    table = Notification.__table__
    values = [
        literal(value, table.c[name].type)
        for name, value in (
            ("case_id", case.case_id),
            ("kind", kind),
            ("title", title[:200]),
            ("body", body),
            ("created_at", eng.now()),
        )
    ]
    append.write(session, [table])
    session.connection().execute(
        insert(table).from_select(
            ["user_id", "case_id", "kind", "title", "body", "created_at"],
            select(recipients.c.user_id, *values),
        )
    )


def notify(
    session: Session, eng, user_ids, *, case_id: int | None, kind: str, title: str, body: str | None = None
):
    """Queue one notification per user (inside the caller's transaction)."""
    now = eng.now()
    for user_id in dict.fromkeys(u for u in user_ids if u):
        append.append(
            session,
            Notification.__table__,
            {
                "user_id": user_id,
                "case_id": case_id,
                "kind": kind,
                "title": title[:200],
                "body": body,
                "created_at": now,
                "read_at": None,
                "sent_at": None,
            },
        )


def notify_role(
    session: Session,
    eng,
    role: str,
    unit_id: int | None,
    *,
    case_id: int | None,
    kind: str,
    title: str,
    body: str | None = None,
) -> None:
    """Notify everyone active with `role` (in `unit_id`, when given), as `notify(users_with_role(...))` would, in
    one INSERT … SELECT, after the notifications queued before it."""
    append.write(session, [Notification.__table__])
    params = {"role": role, "case_id": case_id, "kind": kind, "title": title[:200], "body": body}
    params.update(created_at=eng.now(), unit_id=unit_id)
    session.connection().execute(_NOTIFY_ROLE[unit_id is not None], params)


def _notify_role_statement(in_unit: bool):
    """INSERT … SELECT of one notification per active user with the role (in the unit): built once."""
    table = Notification.__table__
    values = [
        bindparam(name, type_=table.c[name].type)
        for name in ("case_id", "kind", "title", "body", "created_at")
    ]
    recipients = (
        select(User.user_id, *values)
        .join(UserRole, UserRole.user_id == User.user_id)
        .where(UserRole.role == bindparam("role"), User.is_active.is_(True))
    )
    if in_unit:
        recipients = recipients.where(User.unit_id == bindparam("unit_id"))
    return insert(table).from_select(
        ["user_id", "case_id", "kind", "title", "body", "created_at"], recipients
    )


_NOTIFY_ROLE = {False: _notify_role_statement(False), True: _notify_role_statement(True)}


def unread_count(eng, actor: Actor) -> int:
    with eng.db.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        )


def list_notifications(eng, actor: Actor, page=1, per_page=20, unread_only: bool = False) -> dict:
    page, per_page = paginate(page, per_page)
    query = select(Notification).where(Notification.user_id == actor.user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    with eng.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(Notification.notification_id.desc()).offset((page - 1) * per_page).limit(per_page)
        ).all()
        return {
            "items": [
                {
                    "notification_id": n.notification_id,
                    "case_id": n.case_id,
                    "kind": n.kind,
                    "title": n.title,
                    "body": n.body,
                    "created_at": n.created_at,
                    "read_at": n.read_at,
                }
                for n in rows
            ],
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
        }


def mark_read(eng, actor: Actor, notification_ids: list | None = None) -> int:
    """Mark the actor's notifications read (all of them when no ids are given). Returns how many changed.

    Ids come as a request gives them (ints, or digits from a form); one that cannot name a notification (see
    `parse_id`) marks nothing.
    """
    if notification_ids is not None:
        notification_ids = [i for i in map(parse_id, notification_ids) if i is not None]
    with eng.db.transaction() as session:
        statement = update(Notification).where(
            Notification.user_id == actor.user_id, Notification.read_at.is_(None)
        )
        if notification_ids is not None:
            statement = statement.where(Notification.notification_id.in_(notification_ids))
        return session.execute(statement.values(read_at=eng.now())).rowcount


def send_pending(eng, sender, limit: int = 100) -> int:
    """E-mail notifications not yet sent to users who have an address; marks them sent. Returns how many."""
    if sender is None:
        return 0
    sent = 0
    with eng.db.transaction() as session:
        rows = session.execute(
            select(Notification, User.email, User.display_name)
            .join(User, User.user_id == Notification.user_id)
            .where(Notification.sent_at.is_(None), User.email.is_not(None))
            .order_by(Notification.notification_id)
            .limit(limit)
        ).all()
        for notification, email, name in rows:
            try:
                sender.send(email, name, notification.title, notification.body or notification.title)
            except Exception:  # a mail server problem must not stop the worker; retried next pass
                log.exception("sending notification %s failed", notification.notification_id)
                break
            notification.sent_at = eng.now()
            sent += 1
    return sent
