"""E-mailing notifications through a real SMTP sink on 127.0.0.1 (aiosmtpd): each notification is mailed once by
one of several workers, failures are retried with backoff and given up, a crash repeats at most one mail."""

from __future__ import annotations

import datetime as dt
import email
import smtplib
import socket
import threading
import time
import types

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy import update

from engine.context import Engine
from engine.context import Settings
from engine.mail import SmtpSender
from engine.services import notifications
from engine.storage.models import Notification
from engine.storage.models import User


class Sink:
    """aiosmtpd handler keeping every message it accepts (optionally slow, to make workers overlap)."""

    def __init__(self, delay: float = 0.0):
        self.messages: list[email.message.Message] = []
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # blocks the sink's loop on purpose: a slow server
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def ids(self) -> list[str]:
        return [m["X-Jienan-Test"] or m["Subject"] for m in self.messages]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sink():
    handler = Sink(delay=0.002)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield handler, SmtpSender("127.0.0.1", controller.port, starttls=False, timeout=5)
    controller.stop()


def _queue(eng, count: int) -> list[int]:
    """`count` notifications for users with an address, each with its own title; returns their ids."""
    with eng.db.transaction() as session:
        users = session.scalars(select(User).order_by(User.user_id).limit(5)).all()
        for user in users:
            user.email = f"{user.username}@example.test"
        for n in range(count):
            session.add(
                Notification(
                    user_id=users[n % len(users)].user_id,
                    case_id=None,
                    kind="task",
                    title=f"通知 {n:04d}",
                    body="正文",
                    created_at=eng.now(),
                )
            )
    with eng.db.read() as session:
        return list(
            session.scalars(select(Notification.notification_id).where(Notification.sent_at.is_(None)))
        )


def _row(eng, notification_id: int) -> types.SimpleNamespace:
    """The notification's columns as they are now (read sessions expire their objects when they end)."""
    with eng.db.read() as session:
        row = session.get(Notification, notification_id)
        return types.SimpleNamespace(**{c.key: getattr(row, c.key) for c in Notification.__table__.columns})


def _subjects(sink_handler) -> list[str]:
    return sorted(
        str(email.header.make_header(email.header.decode_header(m["Subject"]))) for m in sink_handler.messages
    )


def test_pending_notifications_are_mailed_once_and_marked_sent(eng, sink):
    handler, sender = sink
    ids = _queue(eng, 30)
    assert notifications.send_pending(eng, sender) == notifications.MAIL_BATCH
    assert notifications.send_pending(eng, sender) == 30 - notifications.MAIL_BATCH
    assert notifications.send_pending(eng, sender) == 0
    assert _subjects(handler) == sorted(f"【解难】通知 {n:04d}" for n in range(30))
    rows = [_row(eng, i) for i in ids]
    assert all(r.sent_at is not None and r.mail_attempts == 1 and r.mail_claim is None for r in rows)


def test_two_workers_at_once_mail_each_notification_exactly_once(database_url, tmp_path, clock, sink):
    """Two worker processes' worth of engines (own pools) call send_pending at the same time until nothing is
    left: on PostgreSQL SKIP LOCKED splits the rows, on SQLite the claim transaction serialises them."""
    handler, sender = sink
    engines = [Engine(eng_settings(database_url, tmp_path / f"w{n}"), clock=clock) for n in range(2)]
    _queue(engines[0], 50)
    start = threading.Barrier(2)
    counts = [0, 0]

    def work(index: int) -> None:
        start.wait()
        while True:
            sent = notifications.send_pending(engines[index], sender, limit=5)
            counts[index] += sent
            if sent == 0:
                return

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    subjects = _subjects(handler)
    assert len(subjects) == 50 and len(set(subjects)) == 50
    assert sum(counts) == 50
    assert min(counts) > 0, counts  # both workers took part


def eng_settings(database_url, upload_dir):
    return Settings(database_url=database_url, upload_dir=upload_dir)


class Failing:
    def __init__(self, error: Exception):
        self.error = error
        self.calls = 0

    def send(self, address, name, subject, body, reference=None):
        self.calls += 1
        raise self.error


def test_a_failing_mail_is_retried_with_backoff_then_given_up(eng, clock):
    [first, *_rest] = _queue(eng, 1)
    sender = Failing(smtplib.SMTPDataError(451, b"try later"))
    waits = []
    for attempt in range(1, notifications.MAIL_ATTEMPTS + 1):
        assert notifications.send_pending(eng, sender) == 0
        row = _row(eng, first)
        assert row.mail_attempts == attempt and "try later" in row.mail_error
        if attempt < notifications.MAIL_ATTEMPTS:
            waits.append(row.mail_next_at - clock.now())
            assert notifications.send_pending(eng, sender) == 0 and sender.calls == attempt  # not due yet
            clock.set(row.mail_next_at)
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) <= notifications.MAIL_MAX_RETRY
    row = _row(eng, first)
    assert row.mail_failed_at is not None and row.sent_at is None
    clock.advance(days=2)
    notifications.send_pending(eng, sender)
    assert sender.calls == notifications.MAIL_ATTEMPTS  # given up: never tried again


def test_a_refused_address_is_given_up_at_once(eng):
    [first] = _queue(eng, 1)
    refused = smtplib.SMTPRecipientsRefused({"x@example.test": (550, b"no such user")})
    notifications.send_pending(eng, Failing(refused))
    assert _row(eng, first).mail_failed_at is not None


def test_a_server_that_is_down_costs_one_attempt_not_the_whole_batch(eng):
    ids = _queue(eng, 5)
    sender = SmtpSender("127.0.0.1", _free_port(), starttls=False, timeout=2)  # nobody listens there
    assert notifications.send_pending(eng, sender) == 0
    rows = [_row(eng, i) for i in ids]
    assert [r.mail_attempts for r in rows] == [1, 0, 0, 0, 0]
    assert rows[0].mail_next_at is not None and all(r.mail_next_at is None for r in rows[1:])


def test_a_crashed_worker_repeats_at_most_the_mail_it_was_sending(eng, clock, sink):
    """A worker claims a batch, sends one mail and dies before recording it: the other rows are not taken by
    anyone while its claim lasts, and after the lease every row is mailed; only that one mail twice."""
    handler, sender = sink
    ids = _queue(eng, 4)
    claimed = notifications.claim_mail(eng, "dead-worker")
    assert [m.notification_id for m in claimed] == ids
    first = claimed[0]
    sender.send(first.address, first.name, first.subject, first.body, f"notification-{first.notification_id}")
    assert notifications.send_pending(eng, sender) == 0  # claimed rows are not taken while the claim lasts
    clock.set(clock.now() + notifications.mail_lease(eng) + dt.timedelta(seconds=1))
    assert notifications.send_pending(eng, sender) == 4
    subjects = _subjects(handler)
    assert len(subjects) == 5 and len(set(subjects)) == 4
    message_ids = [
        m["Message-ID"] for m in handler.messages
    ]  # the repeat can be recognised by its Message-ID
    assert (
        len(set(message_ids)) == 4
        and message_ids.count(f"<notification-{first.notification_id}@localhost>") == 2
    )
    assert all(_row(eng, i).sent_at is not None for i in ids)


def test_a_stopping_worker_gives_back_what_it_did_not_send(eng, sink):
    handler, sender = sink
    ids = _queue(eng, 6)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 2  # stop after two mails

    assert notifications.send_pending(eng, sender, should_stop=should_stop) == 2
    rows = [_row(eng, i) for i in ids]
    assert [r.sent_at is not None for r in rows] == [True, True, False, False, False, False]
    assert all(r.mail_attempts == 0 and r.mail_next_at is None and r.mail_claim is None for r in rows[2:])
    assert notifications.send_pending(eng, sender) == 4


def test_users_without_an_address_are_not_claimed(eng):
    with eng.db.transaction() as session:
        session.execute(update(User).values(email=None))
        user_id = session.scalar(select(User.user_id).limit(1))
        session.add(Notification(user_id=user_id, kind="task", title="t", created_at=eng.now()))
    assert notifications.claim_mail(eng, "c") == []


class Slow:
    """A server that takes its time: each mail moves the (test's) monotonic clock on by a minute."""

    def __init__(self, monkeypatch):
        self.now = 0.0
        self.calls = 0
        monkeypatch.setattr(notifications.time, "monotonic", lambda: self.now)

    def send(self, address, name, subject, body, reference=None):
        self.calls += 1
        self.now += 60


def test_a_batch_slower_than_half_its_lease_gives_the_rest_back(eng, monkeypatch):
    """A lease of 5 minutes and a minute per mail: after 3 mails the claim is half gone, the rest is released
    (not counted as an attempt) so no other worker can take a row this one is still about to send."""
    ids = _queue(eng, 6)
    slow = Slow(monkeypatch)
    assert notifications.send_pending(eng, slow) == 3
    rows = [_row(eng, i) for i in ids]
    assert [r.sent_at is not None for r in rows] == [True] * 3 + [False] * 3
    assert all(r.mail_claim is None and r.mail_attempts == 0 and r.mail_next_at is None for r in rows[3:])
