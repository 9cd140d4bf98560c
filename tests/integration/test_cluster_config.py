"""What several machines on one PostgreSQL need of the configuration: one secret key everywhere (refused start
without it), a bounded connection pool (and PgBouncer's transaction mode), JSON logs on request; and the
stale-page look-up of a finished task through an indexed column, backfilled by its migration."""

from __future__ import annotations

import io
import json
import logging

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.pool import NullPool

import web
from engine import config
from engine.config import ConfigurationError
from engine.config import pool_from_env
from engine.errors import Conflict
from engine.services import tasks
from engine.storage.db import PoolSettings
from engine.storage.db import make_engine
from engine.storage.migrate import MIGRATIONS_DIR
from engine.storage.migrate import alembic_config
from engine.storage.models import Base
from tests.conftest import PG_URL
from web import create_app

SECRET = "0123456789abcdef" * 4
SECRET_VARIABLES = ("JIENAN_SECRET_KEY", "SECRET_KEY", "JIENAN_SECRET_KEY_FILE")


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(web, "INSTANCE_DIR", tmp_path)  # the app's instance folder
    return monkeypatch


def _app(env, database_url, tmp_path):
    env.setenv("DATABASE_URL", database_url)
    env.setenv("JIENAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    app = create_app()
    app.extensions["jienan"].dispose()
    return app


def test_postgresql_without_a_secret_key_refuses_to_start(env, tmp_path):
    with pytest.raises(ConfigurationError, match="JIENAN_SECRET_KEY") as refused:
        _app(env, "postgresql://nobody@127.0.0.1:1/none", tmp_path)
    assert "same" in str(refused.value)  # says why: every machine needs the same key
    env.setenv("JIENAN_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        _app(env, "postgresql://nobody@127.0.0.1:1/none", tmp_path)


def test_a_configured_key_is_used_by_every_process(env, tmp_path):
    env.setenv("JIENAN_SECRET_KEY", SECRET)
    one = _app(env, "postgresql://nobody@127.0.0.1:1/none", tmp_path / "one")
    two = _app(env, "postgresql://nobody@127.0.0.1:1/none", tmp_path / "two")
    assert one.config["SECRET_KEY"] == two.config["SECRET_KEY"] == SECRET
    env.delenv("JIENAN_SECRET_KEY")
    key_file = tmp_path / "key"
    key_file.write_text(SECRET[::-1] + "\n")
    env.setenv("JIENAN_SECRET_KEY_FILE", str(key_file))
    assert _app(env, "postgresql://nobody@127.0.0.1:1/none", tmp_path).config["SECRET_KEY"] == SECRET[::-1]


def test_the_embedded_set_up_still_starts_without_a_key(env, tmp_path):
    app = _app(env, f"sqlite:///{tmp_path}/jienan.db", tmp_path)
    assert len(app.config["SECRET_KEY"]) >= 32
    (tmp_path / "secret_key").write_text("written-by-jienan-init")  # what `jienan init` leaves in instance/
    assert (
        _app(env, f"sqlite:///{tmp_path}/jienan.db", tmp_path).config["SECRET_KEY"]
        == "written-by-jienan-init"
    )
    env.setenv("JIENAN_SECRET_KEY", "dev")  # one machine: a short configured key is its owner's business
    assert _app(env, f"sqlite:///{tmp_path}/jienan.db", tmp_path).config["SECRET_KEY"] == "dev"


def test_pool_size_and_overflow_come_from_the_environment(env):
    env.setenv("JIENAN_DB_POOL_SIZE", "3")
    env.setenv("JIENAN_DB_MAX_OVERFLOW", "2")
    env.setenv("JIENAN_DB_POOL_TIMEOUT", "7.5")
    env.setenv("JIENAN_DB_PGBOUNCER", "1")
    pool = pool_from_env()
    assert pool == PoolSettings(size=3, overflow=2, timeout=7.5, recycle=1800, pgbouncer=True)
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none", pool)
    assert engine.pool.size() == 3 and engine.pool._max_overflow == 2 and engine.pool._timeout == 7.5
    assert isinstance(make_engine("postgresql://x@127.0.0.1:1/y", PoolSettings(size=0)).pool, NullPool)
    env.setenv("JIENAN_DB_POOL_SIZE", "lots")
    with pytest.raises(ConfigurationError, match="JIENAN_DB_POOL_SIZE"):
        pool_from_env()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only")
def test_pgbouncer_mode_never_prepares_statements_on_the_server(database_url):
    """psycopg prepares a statement on the server after 5 runs; behind PgBouncer in transaction mode the next
    run may land on another server connection that never saw it. In PgBouncer mode nothing is prepared."""
    for pgbouncer, expect_prepared in ((False, True), (True, False)):
        engine = make_engine(database_url, PoolSettings(size=1, overflow=0, pgbouncer=pgbouncer))
        with engine.connect() as conn:
            for _ in range(8):
                conn.execute(text("SELECT 1 + :n"), {"n": 1})
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        engine.dispose()
        assert (prepared > 0) is expect_prepared, (pgbouncer, prepared)


def test_json_logs_on_request(env):
    env.setenv("JIENAN_LOG_FORMAT", "json")
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        config.configure_logging()
        config.configure_logging()  # again: still one handler of ours
        ours = [h for h in root.handlers if getattr(h, "jienan", False)]
        assert len(ours) == 1
        stream = io.StringIO()
        ours[0].setStream(stream)
        logging.getLogger("engine.worker").info("已触发 %d 个定时器", 3)
        line = json.loads(stream.getvalue().strip().splitlines()[-1])
        assert line["message"] == "已触发 3 个定时器" and line["level"] == "INFO"
        assert line["logger"] == "engine.worker" and "time" in line and "pid" in line
        env.setenv("JIENAN_LOG_FORMAT", "xml")
        with pytest.raises(ConfigurationError, match="text or json"):
            config.configure_logging()
    finally:
        for handler in root.handlers[:]:
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])


def test_a_finished_task_is_found_through_the_indexed_column(eng, journey, actors):
    case = journey.register()
    done = journey.task("dispatcher", case["case_id"])["task_id"]
    journey.dispatch(case["case_id"])
    with pytest.raises(Conflict, match="已被处理"):
        tasks.get_task(eng, actors("dispatcher"), done)
    query = "SELECT event_id FROM case_event WHERE task_id = :task AND kind = 'task_completed' LIMIT 1"
    with eng.db.engine.connect() as conn:
        if eng.db.is_sqlite:
            plan = " ".join(str(r) for r in conn.execute(text("EXPLAIN QUERY PLAN " + query), {"task": done}))
        else:
            conn.execute(text("SET enable_seqscan = off"))  # on a tiny table the planner would scan anyway
            plan = " ".join(r[0] for r in conn.execute(text("EXPLAIN " + query), {"task": done}))
    assert "ix_case_event_task" in plan, plan


def test_the_migration_fills_the_column_from_older_events(eng, journey, database_url):
    case = journey.register()
    journey.dispatch(case["case_id"])
    with eng.db.engine.connect() as conn:
        expected = conn.execute(
            text("SELECT event_id, task_id FROM case_event WHERE task_id IS NOT NULL ORDER BY event_id")
        ).all()
    assert expected
    eng.db.dispose()
    ours = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision("f6a7b8c9d0e1")
    command.downgrade(alembic_config(database_url), ours.down_revision)
    command.upgrade(alembic_config(database_url), "head")
    with eng.db.engine.connect() as conn:
        filled = conn.execute(
            text("SELECT event_id, task_id FROM case_event WHERE task_id IS NOT NULL ORDER BY event_id")
        ).all()
    assert filled == expected


def test_the_new_tables_match_their_migration(eng):
    ours = {"notification", "attachment", "attachment_blob", "case_event", "worker_heartbeat"}
    with eng.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def table_of(item):
        item = item[0] if isinstance(item, list) else item
        for part in item[1:]:
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if isinstance(part, str) and part in ours:
                return part
            if getattr(part, "name", None) in ours:
                return part.name
        return None

    assert [d for d in diff if table_of(d) in ours] == []
