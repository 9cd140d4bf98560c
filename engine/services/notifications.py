"""In-app notifications (the bell): who gets one, listing and reading them, and e-mailing pending ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import smtplib
import time
import uuid

from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import or_
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


MAIL_BATCH = 20  # rows one worker claims at a time
MAIL_LEASE = dt.timedelta(
    minutes=10
)  # a claim another worker respects; a crashed worker's rows wait this long
MAIL_ATTEMPTS = 8  # failures before a mail is given up (mail_failed_at)
MAIL_FIRST_RETRY = dt.timedelta(minutes=1)  # then 2, 4, 8 … minutes
MAIL_MAX_RETRY = dt.timedelta(hours=6)


def mail_backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failure: doubling from a minute, at most six hours."""
    return min(MAIL_FIRST_RETRY * 2 ** max(0, attempts - 1), MAIL_MAX_RETRY)


@dataclasses.dataclass(frozen=True)
class Mail:
    """One claimed notification, with what sending it needs (read inside the claim, sent outside it)."""

    notification_id: int
    address: str
    name: str
    subject: str
    body: str


def mail_lease(eng) -> dt.timedelta:
    """How long a claim holds (settings.mail_lease_seconds): another worker leaves the rows alone that long, and
    a crashed worker's rows wait that long before they are mailed by another."""
    return dt.timedelta(seconds=eng.settings.mail_lease_seconds)


def claim_mail(eng, claim: str, limit: int = MAIL_BATCH) -> list[Mail]:
    """Claim up to `limit` notifications due to be e-mailed (one transaction) and return them.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED, so two workers claiming at the same moment
    get different rows; on SQLite the write transaction (BEGIN IMMEDIATE) serialises claimers. A claim pushes
    mail_next_at one lease ahead: no other worker takes the row before then, and if this worker dies before
    recording the outcome the row is claimed again after the lease.
    """
    now = eng.now()
    with eng.db.transaction() as session:
        query = (
            select(Notification.notification_id)
            .join(User, User.user_id == Notification.user_id)
            .where(
                Notification.sent_at.is_(None),
                Notification.mail_failed_at.is_(None),
                or_(Notification.mail_next_at.is_(None), Notification.mail_next_at <= now),
                User.email.is_not(None),
                User.email != "",
            )
            .order_by(Notification.notification_id)
            .limit(limit)
        )
        if not eng.db.is_sqlite:
            query = query.with_for_update(of=Notification, skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        session.execute(
            update(Notification)
            .where(Notification.notification_id.in_(ids))
            .values(
                mail_claim=claim,
                mail_next_at=now + mail_lease(eng),
                mail_attempts=Notification.mail_attempts + 1,
            )
        )
        rows = session.execute(
            select(Notification, User.email, User.display_name)
            .join(User, User.user_id == Notification.user_id)
            .where(Notification.notification_id.in_(ids))
            .order_by(Notification.notification_id)
        ).all()
        return [Mail(n.notification_id, email, name, n.title, n.body or n.title) for n, email, name in rows]


def record_mail_sent(eng, notification_id: int) -> None:
    """The mail went out: mark it sent (one transaction, right after sending, so a crash repeats one mail at
    most)."""
    with eng.db.transaction() as session:
        session.execute(
            update(Notification)
            .where(Notification.notification_id == notification_id)
            .values(sent_at=eng.now(), mail_claim=None, mail_next_at=None, mail_error=None)
        )


def record_mail_failed(eng, notification_id: int, error: str, permanent: bool = False) -> None:
    """Sending failed: retry later with exponential backoff, or give up after MAIL_ATTEMPTS (or at once when
    the server refused the address)."""
    now = eng.now()
    with eng.db.transaction() as session:
        row = session.get(Notification, notification_id)
        if row is None or row.sent_at is not None:
            return
        row.mail_claim = None
        row.mail_error = error[:300]
        if permanent or row.mail_attempts >= MAIL_ATTEMPTS:
            row.mail_failed_at = now
            row.mail_next_at = None
        else:
            row.mail_next_at = now + mail_backoff(row.mail_attempts)


def release_mail(eng, claim: str, notification_ids: list[int]) -> None:
    """Give back claimed rows not tried (the server is down, or the worker is stopping): due again at once, and
    the claim does not count as an attempt."""
    if not notification_ids:
        return
    with eng.db.transaction() as session:
        session.execute(
            update(Notification)
            .where(
                Notification.notification_id.in_(notification_ids),
                Notification.mail_claim == claim,
                Notification.sent_at.is_(None),
            )
            .values(mail_claim=None, mail_next_at=None, mail_attempts=Notification.mail_attempts - 1)
        )


def _permanent(error: Exception) -> bool:
    """The server refused the recipient for good (5xx on RCPT): retrying will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return False


def _server_down(error: Exception) -> bool:
    """No point trying the rest of the batch now: the server cannot be reached or hung up."""
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    # SMTPException is an OSError too: only a socket-level error (refused, unreachable, timed out) counts here.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def send_pending(eng, sender, limit: int = MAIL_BATCH, should_stop=None) -> int:
    """E-mail notifications not yet sent to users who have an address. Returns how many were sent.

    Unlike a use case this is several transactions on purpose: the claim, then one small transaction per mail
    after it is sent. Talking to the SMTP server happens outside any transaction (a slow server holds no
    locks and no connection), and a worker killed between sending a mail and recording it sends at most that
    one mail again once its claim lapses. `should_stop()` (the worker's SIGTERM flag) ends the batch early; the
    rest of the claim is given back (as it is when half the claim's lease has passed).
    """
    if sender is None:
        return 0
    claim = uuid.uuid4().hex
    batch = claim_mail(eng, claim, limit)
    # A batch that takes half its lease (a slow server) stops there: the claim must not lapse while this worker
    # is still sending, or another would take the rest too.
    give_back_after = time.monotonic() + eng.settings.mail_lease_seconds / 2
    sent = 0
    for index, mail in enumerate(batch):
        if (should_stop is not None and should_stop()) or time.monotonic() > give_back_after:
            release_mail(eng, claim, [m.notification_id for m in batch[index:]])
            break
        try:
            sender.send(
                mail.address,
                mail.name,
                mail.subject,
                mail.body,
                reference=f"notification-{mail.notification_id}",
            )
        except Exception as error:  # a mail server problem must not stop the worker: retried with backoff
            log.warning("sending notification %s failed: %s", mail.notification_id, error)
            record_mail_failed(
                eng, mail.notification_id, f"{type(error).__name__}: {error}", _permanent(error)
            )
            if _server_down(error):
                release_mail(eng, claim, [m.notification_id for m in batch[index + 1 :]])
                break
            continue
        record_mail_sent(eng, mail.notification_id)
        sent += 1
    return sent
