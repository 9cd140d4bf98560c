"""Append-only rows queued in the session (engine.storage.append): the transaction sees its own rows, a commit
writes each once and in order, a rollback drops them."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from engine.services.common import record_event
from engine.storage.models import CaseEvent


def _event(session, eng, case_id, title):
    record_event(
        session, eng, case_id=case_id, round_no=1, kind="note", title=title, actor=None, data={"t": title}
    )


def test_queued_rows_are_seen_by_the_transaction_and_written_once_in_order(eng, journey):
    case_id = journey.register()["case_id"]
    notes = select(CaseEvent.title).where(CaseEvent.case_id == case_id, CaseEvent.kind == "note")
    with eng.db.transaction() as session:
        _event(session, eng, case_id, "一")
        _event(session, eng, case_id, "二")
        assert list(session.scalars(notes.order_by(CaseEvent.event_id))) == ["一", "二"]  # an ORM query
        _event(session, eng, case_id, "三")
        counted = select(func.count()).select_from(CaseEvent.__table__).where(CaseEvent.case_id == case_id)
        assert session.scalar(counted) >= 3  # a Core statement sees them too
        _event(session, eng, case_id, "四")
    with eng.db.read() as session:
        assert list(session.scalars(notes.order_by(CaseEvent.event_id))) == ["一", "二", "三", "四"]
        data = session.scalars(select(CaseEvent.data).where(CaseEvent.title == "四")).one()
        assert data == {"t": "四"}


def test_a_rollback_drops_the_queued_rows(eng, journey):
    case_id = journey.register()["case_id"]
    try:
        with eng.db.transaction() as session:
            _event(session, eng, case_id, "不会保存")
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    with eng.db.transaction() as session:
        _event(session, eng, case_id, "保存")
    with eng.db.read() as session:
        titles = session.scalars(select(CaseEvent.title).where(CaseEvent.kind == "note"))
        assert list(titles) == ["保存"]
