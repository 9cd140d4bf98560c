"""Database engine and sessions: one `transaction()` per service call, commit on success, rollback on error."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from collections.abc import Iterator

from sqlalchemy import DateTime
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from engine.errors import Conflict
from engine.i18n import _


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclasses.dataclass(frozen=True)
class PoolSettings:
    """How many PostgreSQL connections one process may hold (each web process and worker has its own pool).

    size: kept open; overflow: opened beyond that under load and closed again; size 0: no pool in the process,
    a connection per transaction (when PgBouncer pools). pgbouncer: PgBouncer in transaction mode in front, so
    no server-side prepared statements (psycopg prepares a statement after 5 runs by default, and the next
    transaction may land on another server connection that does not know it).
    """

    size: int = 5
    overflow: int = 5
    timeout: float = 30.0  # seconds a request waits for a free connection before failing
    recycle: int = 1800  # seconds after which a connection is replaced (firewalls drop idle ones)
    pgbouncer: bool = False


def make_engine(url: str, pool: PoolSettings | None = None) -> SAEngine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    pool = pool or PoolSettings()
    options: dict = {"pool_pre_ping": True}
    if pool.pgbouncer:
        options["connect_args"] = {"prepare_threshold": None}
    if pool.size <= 0:
        options["poolclass"] = NullPool
    else:
        options.update(
            pool_size=pool.size,
            max_overflow=max(0, pool.overflow),
            pool_timeout=pool.timeout,
            pool_recycle=pool.recycle,
        )
    engine = create_engine(url, **options)
    _strip_nul_bytes(engine)
    return engine


def _without_nul(params):
    if isinstance(params, dict):
        return {
            k: v.replace("\x00", "") if isinstance(v, str) and "\x00" in v else v for k, v in params.items()
        }
    if isinstance(params, list | tuple):
        return type(params)(_without_nul(p) if isinstance(p, dict | list | tuple) else p for p in params)
    return params


def _strip_nul_bytes(engine: SAEngine) -> None:
    """PostgreSQL text cannot hold a NUL character (SQLite can): one pasted into any field would be a 500. It
    carries no meaning in text, so it is dropped from every bound string on the way in."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _before(conn, cursor, statement, parameters, context, executemany):
        return statement, _without_nul(parameters)


def _configure_sqlite(engine: SAEngine) -> None:
    """WAL for concurrent readers; BEGIN IMMEDIATE for writers so two submits serialise instead of deadlocking."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Owns the SQLAlchemy engine and hands out transactional sessions."""

    def __init__(self, url: str, pool: PoolSettings | None = None):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, pool)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_bind = self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        self._write = sessionmaker(bind=write_bind, expire_on_commit=False)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._local = threading.local()
        self._refreshers: list[Callable[[], object]] = []

    def add_refresher(self, refresh: Callable[[], object]) -> None:
        """Run `refresh()` before each unit of work a thread starts (never inside one).

        Caches that re-read their own rows now and then (the entered holiday schedules, the live forms) do it
        here, with a connection of their own, instead of in the middle of a request that already holds one: a
        request then never needs two connections at once, which behind PgBouncer in transaction mode with a small
        pool could leave every request waiting for a second connection none will give back.
        """
        self._refreshers.append(refresh)

    def in_unit_of_work(self) -> bool:
        """True inside transaction() or read() on this thread: a cache should use what it has."""
        return getattr(self._local, "depth", 0) > 0

    @contextlib.contextmanager
    def _unit(self) -> Iterator[None]:
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0 and not getattr(local, "refreshing", False):
            local.refreshing = True  # a refresher's own read() does not run the refreshers again
            try:
                for refresh in self._refreshers:
                    refresh()
            finally:
                local.refreshing = False
        local.depth = depth + 1
        try:
            yield
        finally:
            local.depth = depth

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends normally, rolls back on any exception."""
        with self._unit():
            session = self._write()
            try:
                yield session
                session.commit()
            except StaleDataError:
                session.rollback()
                raise Conflict(_("其他人刚刚处理了这件诉求，您的提交未保存，请刷新后查看")) from None
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (never commits)."""
        with self._unit():
            session = self._read()
            try:
                yield session
            finally:
                session.rollback()
                session.close()

    def ping(self) -> None:
        """Reach the database (SELECT 1) without the refreshers. :raises: whatever the driver raises."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def optimize(self) -> None:
        """Refresh planner statistics (SQLite has no autovacuum/autoanalyze; PostgreSQL does this itself)."""
        if self.is_sqlite:
            with self.engine.begin() as conn:
                # A full ANALYZE (about a second per 100,000 cases): sampled statistics mislead the planner
                # into scanning the least selective index.
                conn.exec_driver_sql("ANALYZE")

    def dispose(self) -> None:
        self.engine.dispose()
