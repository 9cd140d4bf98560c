"""Shared fixtures: a migrated, seeded database per test (SQLite file copy or PostgreSQL template clone),
the engine, the Flask app and client, and action helpers.

Set TEST_DATABASE_URL=postgresql://user@host/postgres to run everything against PostgreSQL: a template
database is built once per session and each test gets its own clone (CREATE DATABASE ... TEMPLATE).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from engine.context import Engine
from engine.context import Settings
from engine.demo.seed import DEMO_PASSWORD
from engine.domain.clock import LOCAL_TZ
from engine.domain.clock import FixedClock

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _pg_admin(url: str):
    from engine.storage.db import normalise_url

    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")


def _with_db(url: str, name: str) -> str:
    base, _sep, _db = url.rpartition("/")
    return f"{base}/{name}"


def _build_template(url: str, upload_dir: Path) -> None:
    from engine.demo.seed import seed_demo
    from engine.storage.migrate import upgrade
    from engine.workflow.deploy import deploy_defaults

    upgrade(url)
    eng = Engine(Settings(database_url=url, upload_dir=upload_dir))
    deploy_defaults(eng)
    seed_demo(eng, cases=False)
    eng.dispose()


@pytest.fixture(scope="session")
def db_template(tmp_path_factory):
    """Build the seeded template database once per session; returns a factory of fresh copies."""
    root = tmp_path_factory.mktemp("db")
    if PG_URL:
        admin = _pg_admin(PG_URL)
        session_tag = uuid.uuid4().hex[:8]
        template = f"jn_tpl_{session_tag}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{template}"'))
        _build_template(_with_db(PG_URL, template), root / "uploads")

        def fresh() -> str:
            name = f"jn_t_{session_tag}_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            return _with_db(PG_URL, name)

        yield fresh
        with admin.connect() as conn:
            names = (
                conn.execute(
                    # Only this session's clones: "_" is a wildcard in LIKE, so an unescaped 'jn_t_%' also
                    # matched every other session's template (jn_tpl_…) on a shared server, and dropped it.
                    text("SELECT datname FROM pg_database WHERE datname LIKE :clones OR datname = :t"),
                    {"clones": f"jn\\_t\\_{session_tag}\\_%", "t": template},
                )
                .scalars()
                .all()
            )
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        template = root / "template.db"
        _build_template(f"sqlite:///{template}", root / "uploads")

        def fresh() -> str:
            copy = root / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(template, copy)
            return f"sqlite:///{copy}"

        yield fresh


@pytest.fixture
def clock():
    """A fixed clock at Tuesday 2026-03-10 09:00 Asia/Shanghai (a working day); tests move it by hand."""
    return FixedClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ))


@pytest.fixture
def database_url(db_template):
    return db_template()


@pytest.fixture
def eng(database_url, tmp_path, clock):
    engine = Engine(
        Settings(database_url=database_url, upload_dir=tmp_path / "uploads", max_upload_bytes=256 * 1024),
        clock=clock,
    )
    yield engine
    engine.dispose()


@pytest.fixture
def app(eng):
    from web import create_app

    application = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False}, engine=eng)
    yield application


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    """Log in and out of the test client as a demo user."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = DEMO_PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def actors(eng):
    """Demo actors by username, e.g. actors("dispatcher"), actors("handler_power")."""
    from engine.services import auth as auth_service

    cache = {}

    def get(username: str):
        if username not in cache:
            cache[username] = auth_service.authenticate(eng, username, DEMO_PASSWORD)
            assert cache[username] is not None, username
        return cache[username]

    return get


@pytest.fixture
def journey(eng, actors):
    """Drives cases through the loop via the service layer: journey.register(...), journey.act(user, case_id, data)."""
    from tests.helpers import Journey

    return Journey(eng, actors)


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
