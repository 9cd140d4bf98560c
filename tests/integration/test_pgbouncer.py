"""Behind PgBouncer in transaction mode (Debian's pgbouncer, started here on 127.0.0.1): with JIENAN_DB_PGBOUNCER
the loop, the worker and e-mail claims work while many client connections share two server connections; without
it psycopg's server-side prepared statements break, which is why the setting exists."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine.context import Engine
from engine.context import Settings
from engine.services import notifications
from engine.storage.db import PoolSettings
from engine.storage.db import make_engine
from engine.worker import run_pass
from tests.conftest import PG_URL
from tests.helpers import Journey

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="PostgreSQL only"),
    pytest.mark.skipif(not shutil.which("pgbouncer"), reason="needs Debian's pgbouncer"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def bouncer(database_url):
    """PgBouncer in transaction mode with two server connections in front of this test's database; yields the
    URL to give Jienan (no password: PgBouncer logs in to PostgreSQL with the one in its [databases] entry)."""
    server = database_url.split("://", 1)[1]
    credentials, _at, location = server.rpartition("@")
    user, _colon, password = credentials.partition(":")
    hostport, _slash, dbname = location.partition("/")
    host, _colon, port = hostport.partition(":")
    folder = Path(tempfile.mkdtemp(prefix="jn-pgbouncer-"))
    folder.chmod(0o755)  # pgbouncer refuses to run as root: it switches to postgres and must read its config
    listen = _free_port()
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
{dbname} = host={host} port={port or 5432} dbname={dbname} user={user} password={password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
server_reset_query =
query_wait_timeout = 30
ignore_startup_parameters = extra_float_digits,options
logfile = {folder}/pgbouncer.log
"""
    )
    for name in ("pgbouncer.ini",):
        (folder / name).chmod(0o644)
    command = ["pgbouncer", str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", pwd.getpwnam("postgres").pw_name]
        shutil.chown(folder, "postgres")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", listen)) == 0:
                    break
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.1)
        yield f"postgresql://{user}@127.0.0.1:{listen}/{dbname}"
    finally:
        process.terminate()
        process.communicate(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_loop_the_worker_and_mail_work_behind_pgbouncer(bouncer, tmp_path, clock, actors):
    eng = Engine(
        Settings(
            database_url=bouncer,
            upload_dir=tmp_path,
            db_pool=PoolSettings(size=0, pgbouncer=True),  # JIENAN_DB_POOL_SIZE=0, JIENAN_DB_PGBOUNCER=1
        ),
        clock=clock,
    )
    journey = Journey(eng, actors)
    failures = []

    def work(n: int) -> None:
        try:
            for _ in range(2):
                case_id = journey.register()["case_id"]
                journey.dispatch(case_id)
                journey.handle_to_revisit(case_id)
            journey.dispatch(journey.register()["case_id"])  # left unsigned: its sign-for timers come due
        except Exception as error:  # collected: an assert in a thread would be lost
            failures.append(repr(error))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]  # 4 clients, 2 server connections
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    clock.advance(days=10)
    assert run_pass(eng) >= 4  # the unsigned cases' timers, claimed with SKIP LOCKED
    assert notifications.claim_mail(eng, "through-pgbouncer") == []  # nobody has an address: nothing to claim
    eng.dispose()


def test_without_the_setting_prepared_statements_break_behind_pgbouncer(bouncer):
    """What JIENAN_DB_PGBOUNCER prevents: psycopg prepares a statement after 5 runs on the server connection it
    happens to have; the next transaction of another client lands there too and its own preparation clashes."""
    engine = make_engine(bouncer, PoolSettings(size=2, overflow=0, pgbouncer=False))
    with pytest.raises(DBAPIError, match="prepared statement"):
        with engine.connect() as one, engine.connect() as two:
            for _ in range(10):
                for conn in (one, two):
                    conn.execute(text("SELECT 1 + :n"), {"n": 1})
                    conn.commit()
    engine.dispose()
