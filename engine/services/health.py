"""Is this installation healthy: the database answers, its schema is what this code expects, and a timer worker
beat recently. Workers write their heartbeat here; /healthz and monitoring read it."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from engine.storage.migrate import known_revisions
from engine.storage.models import WorkerHeartbeat

# A worker beats at least this often while it runs (every pass, and during a long pass); /healthz calls the
# workers stale when the newest beat is older than settings.worker_stale_seconds.
BEAT_EVERY = 15.0
FORGET_AFTER = dt.timedelta(days=1)  # rows of workers gone this long are deleted when a worker starts


def _wall() -> dt.datetime:
    """Heartbeats age in real time, not on the engine's injectable business clock."""
    return dt.datetime.now(dt.UTC)


def register_worker(eng) -> str:
    """A new worker's heartbeat row (and the rows of long-gone workers removed). Returns its id."""
    hostname = socket.gethostname()[:60]
    worker_id = f"{hostname}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    now = _wall()
    with eng.db.transaction() as session:
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER))
        session.add(
            WorkerHeartbeat(
                worker_id=worker_id,
                hostname=hostname,
                pid=os.getpid(),
                started_at=now,
                beat_at=now,
                fired=0,
                mailed=0,
            )
        )
    return worker_id


def beat(eng, worker_id: str, fired: int = 0, mailed: int = 0, stopped: bool = False) -> None:
    """Record that the worker is alive, adding what it did since the last beat."""
    now = _wall()
    values = {
        "beat_at": now,
        "fired": WorkerHeartbeat.fired + fired,
        "mailed": WorkerHeartbeat.mailed + mailed,
    }
    if stopped:
        values["stopped_at"] = now
    with eng.db.transaction() as session:
        session.execute(
            update(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id).values(**values)
        )


class Beater:
    """Beats for a worker at most every BEAT_EVERY seconds, carrying the counts gathered in between."""

    def __init__(self, eng, worker_id: str):
        self.eng, self.worker_id = eng, worker_id
        self.fired = self.mailed = 0
        self.at = float("-inf")

    def add(self, fired: int = 0, mailed: int = 0) -> None:
        self.fired += fired
        self.mailed += mailed
        if time.monotonic() - self.at >= BEAT_EVERY:
            self.flush()

    def flush(self, stopped: bool = False) -> None:
        beat(self.eng, self.worker_id, self.fired, self.mailed, stopped)
        self.fired = self.mailed = 0
        self.at = time.monotonic()


def _schema(session) -> dict:
    """The database's migration revision against the newest this code knows."""
    current = session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    revisions, head = known_revisions()
    if current == [head]:
        state = "current"
    elif any(revision not in revisions for revision in current):
        state = (
            "newer"  # migrated by newer code (a rolling upgrade): this code keeps working on additive changes
        )
    else:
        state = "behind"  # this code expects tables or columns the database does not have yet: `jienan init`
    return {"state": state, "database": current[0] if len(current) == 1 else current, "code": head}


def health(eng) -> dict:
    """What /healthz reports. `ok` is False when the database cannot be reached or its schema is older than
    this code (a load balancer should stop sending requests here); stale workers make `status` "degraded"
    (web requests still work, but no timer fires and no mail goes out)."""
    now = _wall()
    stale = dt.timedelta(seconds=eng.settings.worker_stale_seconds)
    try:
        eng.db.ping()
    except Exception as error:  # any failure to talk to the database is the answer here, not a 500
        return {"ok": False, "status": "down", "database": {"ok": False, "error": type(error).__name__}}
    try:
        with eng.db.read() as session:
            schema = _schema(session)
            running = session.scalar(
                select(func.count()).where(
                    WorkerHeartbeat.stopped_at.is_(None), WorkerHeartbeat.beat_at >= now - stale
                )
            )
            last = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    except Exception as error:
        # Reachable, but not migrated (no alembic_version or tables yet): `jienan init` is what it needs.
        code = known_revisions()[1]
        return {
            "ok": False,
            "status": "down",
            "database": {"ok": True},
            "schema": {"state": "behind", "database": None, "code": code, "error": type(error).__name__},
        }
    age = round((now - last).total_seconds(), 1) if last else None
    workers = {
        "running": running,
        "last_heartbeat_age_seconds": age,
        "stale_after_seconds": stale.total_seconds(),
    }
    ok = schema["state"] != "behind"
    status = "down" if not ok else ("ok" if running else "degraded")
    return {"ok": ok, "status": status, "database": {"ok": True}, "schema": schema, "workers": workers}
