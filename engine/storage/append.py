"""Append-only rows (audit events, notifications, figure facts) queued in the session and written with one INSERT
per table run for all of them: before anything in the transaction reads that table, and at commit.

The ORM would build an object per row and, on SQLite, insert them one statement each (it needs every new key
back); nobody needs the keys of these rows, so a transaction writes each table's rows in one go, in the order
they were queued. A query that may read a table with queued rows (an ORM query on its class, or any statement
that is not an ORM one) writes them first, so the transaction always sees its own rows.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session

QUEUE = "append_queue"


def append(session: Session, table: Table, row: dict) -> None:
    """Queue `row` (every column that is not the generated key, in the same order for every row of `table`)."""
    session.info.setdefault(QUEUE, {}).setdefault(table, []).append(row)


def write(session: Session, tables=None) -> None:
    """Write the queued rows (of `tables`, else all) now, after flushing the ORM's pending rows (they may refer
    to them) unless autoflush is off."""
    queued = session.info.get(QUEUE)
    if not queued:
        return
    if session.autoflush:
        session.flush()
    due = [(table, queued.pop(table)) for table in list(queued) if tables is None or table in tables]
    connection = session.connection()  # not session.execute: these statements need no ORM and no hook
    for table, rows in due:
        connection.execute(insert(table), rows)


@event.listens_for(Session, "do_orm_execute")
def _before_reading(state: ORMExecuteState) -> None:
    queued = state.session.info.get(QUEUE)
    if not queued:
        return
    mappers = state.all_mappers
    if not mappers:
        write(state.session)  # not an ORM statement: it may read anything
        return
    touched = [mapper.local_table for mapper in mappers if mapper.local_table in queued]
    if touched:
        write(state.session, touched)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    write(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(QUEUE, None)
