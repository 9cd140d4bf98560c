"""The worker as a process and what watches it: SIGTERM ends `jienan worker` cleanly (exit 0, heartbeat marked
stopped, JSON logs when asked); /healthz and `jienan health` report the database, the schema and the workers."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy import text

from engine import cli
from engine.context import Engine
from engine.context import Settings
from engine.services import health
from engine.storage.migrate import known_revisions
from engine.storage.models import WorkerHeartbeat
from engine.worker import StopFlag
from engine.worker import run_worker
from web import create_app

ROOT = Path(__file__).resolve().parents[2]


def test_sigterm_stops_a_running_worker_process_cleanly(database_url, tmp_path):
    """`jienan worker` as systemd runs it: SIGTERM ends it with exit status 0 and its heartbeat says stopped."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIENAN_INSTANCE_DIR": str(tmp_path),
        "JIENAN_LOG_FORMAT": "json",
    }
    env.pop("JIENAN_SMTP_HOST", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    eng = Engine(Settings(database_url=database_url, upload_dir=tmp_path / "uploads"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and health.health(eng)["workers"]["running"] == 0:
            assert worker.poll() is None, worker.communicate()[1]
            time.sleep(0.2)
        assert health.health(eng)["workers"]["running"] == 1
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert any("SIGTERM received" in line["message"] for line in lines)
        assert {"time", "level", "logger", "message", "pid"} <= set(lines[0])
        with eng.db.read() as session:
            beat = session.scalars(select(WorkerHeartbeat)).one()
            assert beat.stopped_at is not None
        assert health.health(eng)["workers"]["running"] == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
        eng.dispose()


def test_health_reports_database_schema_and_workers(eng):
    report = health.health(eng)
    assert report["ok"] and report["status"] == "degraded"  # no worker has beaten yet
    assert report["schema"] == {
        "state": "current",
        "database": known_revisions()[1],
        "code": known_revisions()[1],
    }
    assert report["workers"]["running"] == 0 and report["workers"]["last_heartbeat_age_seconds"] is None
    beater = health.Beater(eng, health.register_worker(eng))
    beater.add(fired=3)
    report = health.health(eng)
    assert report["status"] == "ok" and report["workers"]["running"] == 1
    assert report["workers"]["last_heartbeat_age_seconds"] < 60
    with eng.db.read() as session:
        assert session.get(WorkerHeartbeat, beater.worker_id).fired == 3


def test_a_worker_run_once_beats_and_records_its_stop(eng):
    assert run_worker(eng, once=True, stop=StopFlag()) == 0
    with eng.db.read() as session:
        beat = session.scalars(select(WorkerHeartbeat)).one()
        assert beat.stopped_at is not None and beat.beat_at is not None
    assert health.health(eng)["workers"]["running"] == 0


def test_healthz_is_503_when_the_schema_is_behind_the_code(client, eng):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json["database"]["ok"] is True
    assert answer.headers["Cache-Control"] == "no-store"
    with eng.db.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'e8f9a0b1c2d3'"))
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json["schema"]["state"] == "behind"
    with eng.db.transaction() as session:  # migrated by newer code (a rolling upgrade): still serving
        session.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    assert client.get("/healthz").json["schema"]["state"] == "newer"
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_when_the_database_cannot_be_reached(tmp_path):
    broken = Engine(Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/x.db", upload_dir=tmp_path))
    app = create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=broken)
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503 and answer.json == {
        "ok": False,
        "status": "down",
        "database": {"ok": False, "error": "OperationalError"},
    }
    broken.dispose()


def test_healthz_says_an_empty_database_needs_its_migrations(tmp_path):
    empty = Engine(Settings(database_url=f"sqlite:///{tmp_path}/empty.db", upload_dir=tmp_path))
    app = create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=empty)
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.json["database"] == {"ok": True} and answer.json["schema"]["state"] == "behind"
    empty.dispose()


def test_the_health_command_exits_1_when_not_ok(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        assert cli.main(["health"]) == 0  # reachable and current; no worker yet is "degraded", still ok
        assert json.loads(capsys.readouterr().out)["status"] == "degraded"
        monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # nobody listens there
        assert cli.main(["health"]) == 1
        assert json.loads(capsys.readouterr().out)["status"] == "down"
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
