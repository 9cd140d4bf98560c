#!/usr/bin/env python
"""Benchmark of the timer worker: finding due instances among many open cases, and firing them (1 and 2 workers).

Run from the repository root:

    .venv/bin/python bench/bench_worker.py [--quick | --smoke] [--pg URL] [--no-pg] [--no-sqlite]

--pg is a PostgreSQL URL whose role may CREATE DATABASE (default postgresql://jienan:jienan@127.0.0.1:5432/
postgres); every database the script creates is called jn_wbench_* and dropped at the end. SQLite files live in
a temp dir that is removed at the end. Worker child processes are stopped on exit (also on errors and Ctrl-C).

Prints the machine facts, the query plan of the finding query once per backend, and ONE table. Nothing here
asserts on time: the script exits 0 whether or not the targets are met; the table says which are.

How the data is built, per backend (bench_loop.prepared_engine: migrate, deploy, seed units + users):

- N_DUE REAL cases (1,000; 200 with --quick): registered (urgency 紧急 -> department tier), dispatched with a
  5-working-day limit and signed for through the services on a FixedClock (Tuesday 2026-03-10 09:00 / 10:00
  Asia/Shanghai), so the diagram armed its real timers (yellow warning Monday 2026-03-16 09:00, red deadline
  Tuesday 2026-03-17 18:00, notice two working days later).
- not-due placeholder cases bulk-inserted (SQLAlchemy Core executemany; they bypass the services):
  case_record + case_unit (lead) + human_task (one open task) + a placeholder workflow_instance row
  (status running, state not a real instance: the worker never loads it). 30 % of them have next_timer_at
  between 2 and 120 days after the firing moment, 70 % none (idle on a task without a timer). First 10,000 of
  them (2,000 with --quick), measured; then more up to 100,000 open cases in all (20,000), measured again.
- the clock is then moved to Monday 2026-03-16 09:01, past the yellow moment: exactly the N_DUE real instances
  are due (checked with a COUNT before anything is timed); firing one sets the yellow flag (a flag_changed
  event, notifications) and re-arms the instance for the red deadline, which is not due.

1. engine.worker.due_instances(session, now, limit) with limit=1 (what fire_next asks) and limit=50, each call
   in a write transaction of its own as fire_next opens it (eng.db.transaction(): BEGIN IMMEDIATE on SQLite,
   FOR UPDATE SKIP LOCKED on PostgreSQL); the time is the call (connection checkout, BEGIN, query, ORM load of
   the rows), not the commit. 10 warm-up calls, then 200 samples. With 10,000 and with 99,000 not-due cases.
2. run_pass firing all due timers: one worker process, then two worker processes in parallel on a fresh copy of
   the built database (SQLite file copy / CREATE DATABASE ... TEMPLATE), each with its own Engine on the same
   URL. Rate = timers fired / (last worker's end - first worker's start), both taken in the workers around
   run_pass after the engine is built and the diagram parsed. Afterwards: every due case has exactly one
   flag_changed event at the firing moment and no instance is still due.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import logging
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_loop import DEFAULT_PG  # noqa: E402
from bench_loop import DEPARTMENT_PATH  # noqa: E402
from bench_loop import DEPARTMENT_UNITS  # noqa: E402
from bench_loop import LEADS  # noqa: E402
from bench_loop import OPEN_STATUS_W  # noqa: E402
from bench_loop import STATUS_TASK  # noqa: E402
from bench_loop import Actors  # noqa: E402
from bench_loop import Databases  # noqa: E402
from bench_loop import Table  # noqa: E402
from bench_loop import _choice  # noqa: E402
from bench_loop import _sample_items  # noqa: E402
from bench_loop import code_version  # noqa: E402
from bench_loop import cpu_seconds  # noqa: E402
from bench_loop import drive  # noqa: E402
from bench_loop import enterprise_ids  # noqa: E402
from bench_loop import load_average  # noqa: E402
from bench_loop import log  # noqa: E402
from bench_loop import machine_facts  # noqa: E402
from bench_loop import prepared_engine  # noqa: E402
from bench_loop import register  # noqa: E402
from bench_loop import run_mode  # noqa: E402

from engine.domain.clock import LOCAL_TZ as LOCAL  # noqa: E402

REGISTER_AT = (2026, 3, 10, 9, 0)  # Tuesday: register + dispatch
SIGN_AT = (2026, 3, 10, 10, 0)  # sign for: deadline Tuesday 03-17 18:00, yellow Monday 03-16 09:00
FIRE_AT = (2026, 3, 16, 9, 1)  # past the yellow moment, before the red deadline
SAMPLES = 200
TIMER_SHARE = 0.30  # share of not-due placeholder instances with a (future) timer

_children: list = []  # worker processes still to be stopped on exit


# ----------------------------------------------------------------------------------------------------------
# Databases


class WorkerDatabases(Databases):
    """bench_loop.Databases with jn_wbench_* names and copies (file copy / CREATE DATABASE ... TEMPLATE)."""

    def new(self, backend: str, tag: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / f'{tag}.db'}"
        return self._create(f"jn_wbench_{tag}_{uuid.uuid4().hex[:8]}", "")

    def _create(self, name: str, template: str) -> str:
        from sqlalchemy import text

        with self.admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.pg_created.append(name)
        base, _sep, _db = self.pg_url.rpartition("/")
        return f"{base}/{name}"

    def copy(self, backend: str, url: str, tag: str) -> str:
        """A copy of a database no connection is open to."""
        if backend == "sqlite":
            source = Path(url.removeprefix("sqlite:///"))
            target = self.tmp / f"{tag}.db"
            shutil.copyfile(source, target)
            for suffix in ("-wal", "-shm"):
                if Path(f"{source}{suffix}").exists():
                    shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
            return f"sqlite:///{target}"
        return self._create(f"jn_wbench_{tag}_{uuid.uuid4().hex[:8]}", url.rpartition("/")[2])


def close_sqlite(eng) -> None:
    """Fold the WAL into the database file before it is copied."""
    if eng.db.is_sqlite:
        with eng.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()


def analyze(eng) -> None:
    from sqlalchemy import text

    if eng.db.is_sqlite:
        eng.db.optimize()  # full ANALYZE, as the worker runs it hourly and `jienan init` at start-up
    else:
        with eng.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does shortly after a bulk load


# ----------------------------------------------------------------------------------------------------------
# Data


def local(parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=LOCAL)


def build_due_cases(eng, n: int) -> list[int]:
    """Register, dispatch and sign for n cases through the services on the engine's FixedClock."""
    actors = Actors(eng)
    enterprises = enterprise_ids(eng)
    items = _sample_items(n)
    ids = []
    for i in range(n):
        lead = LEADS[i % len(LEADS)]
        eng.clock.set(local(REGISTER_AT))
        case_id = register(eng, actors, enterprises[i % len(enterprises)], items[i])
        drive(eng, actors, case_id, lead, DEPARTMENT_PATH[:1])  # dispatch: 5 working days
        eng.clock.set(local(SIGN_AT))
        drive(eng, actors, case_id, lead, DEPARTMENT_PATH[1:2])  # sign for: arms yellow, red, notice
        ids.append(case_id)
        if (i + 1) % 250 == 0:
            log(f"    {i + 1}/{n} real cases registered, dispatched, signed")
    return ids


def add_placeholders(eng, n: int, fire_at: dt.datetime, rng: random.Random) -> int:
    """Bulk-insert n open, not-due cases (bypassing the services). Returns how many got a future timer."""
    from sqlalchemy import func
    from sqlalchemy import select
    from sqlalchemy import text

    from engine.storage.models import Case
    from engine.storage.models import CaseUnit
    from engine.storage.models import Enterprise
    from engine.storage.models import HumanTask
    from engine.storage.models import ProcessVersion
    from engine.storage.models import Unit
    from engine.storage.models import User
    from engine.storage.models import WorkflowInstance

    with eng.db.read() as session:
        units = dict(session.execute(select(Unit.code, Unit.unit_id)).all())
        users = dict(session.execute(select(User.username, User.user_id)).all())
        version_id = session.scalar(select(func.max(ProcessVersion.version_id)))
        enterprises = session.execute(select(Enterprise.enterprise_id, Enterprise.name)).all()
        first_case = (session.scalar(select(func.max(Case.case_id))) or 0) + 1
        first_instance = (session.scalar(select(func.max(WorkflowInstance.instance_id))) or 0) + 1
    descriptions = [item["description"] for item in _sample_items(50)]
    cases, case_units, instances, tasks = [], [], [], []
    timed = 0
    for i in range(n):
        case_id, instance_id = first_case + i, first_instance + i
        enterprise_id, enterprise_name = rng.choice(enterprises)
        status = _choice(rng, OPEN_STATUS_W)
        created = fire_at - dt.timedelta(days=rng.uniform(0.5, 60))
        lead = rng.choice(DEPARTMENT_UNITS) if status != "dispatching" else None
        signed = created + dt.timedelta(hours=4) if status not in ("dispatching", "signing") else None
        deadline = signed + dt.timedelta(days=7) if signed else None
        description = rng.choice(descriptions)
        title = description[:40]
        case_no = f"JNW{case_id:09d}"
        cases.append(
            {
                "case_id": case_id,
                "case_no": case_no,
                "enterprise_id": enterprise_id,
                "enterprise_name": enterprise_name,
                "title": title,
                "description": description,
                "channel": "走访",
                "field": "工业",
                "category": "水电气",
                "urgency": "一般",
                "library": "general",
                "tier": "department",
                "time_limit_days": 10,
                "status": status,
                "current_task": STATUS_TASK[status][1],
                "round_no": 1,
                "returns_count": 0,
                "lead_unit_id": units[lead] if lead else None,
                "registrar_id": users["registrar"],
                "signed_at": signed,
                "deadline_at": deadline,
                "notice_count": 0,
                "extensions_count": 0,
                "created_at": created,
                "updated_at": created,
                "search_text": f"{case_no} {enterprise_name} {title}".lower(),
                "search_grams": "",
            }
        )
        if lead:
            case_units.append({"case_id": case_id, "unit_id": units[lead], "relation": "lead"})
        next_timer = None
        if rng.random() < TIMER_SHARE:
            next_timer = fire_at + dt.timedelta(days=rng.uniform(2, 120))
            timed += 1
        instances.append(
            {
                "instance_id": instance_id,
                "case_id": case_id,
                "round_no": 1,
                "version_id": version_id,
                "status": "running",
                "state": '{"format":"bench-placeholder"}',
                "next_timer_at": next_timer,
                "lock_version": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        name, task_title, form_key, role = STATUS_TASK[status]
        tasks.append(
            {
                "task_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "instance_id": instance_id,
                "case_id": case_id,
                "task_name": name,
                "title": task_title,
                "form_key": form_key,
                "role": role,
                "unit_id": units[lead] if role == "handler" and lead else None,
                "assignee_id": users["registrar"] if role == "registrar" else None,
                "created_at": created,
                "due_at": deadline if role == "handler" else None,
                "case_no": case_no,
                "case_title": title,
                "enterprise_name": enterprise_name,
                "field": "工业",
                "category": "水电气",
                "channel": "走访",
                "urgency": "一般",
                "tier": "department",
                "round_no": 1,
            }
        )
    chunk = 5000
    with eng.db.engine.begin() as conn:
        for table, rows in (
            (Case.__table__, cases),
            (CaseUnit.__table__, case_units),
            (WorkflowInstance.__table__, instances),
            (HumanTask.__table__, tasks),
        ):
            for start in range(0, len(rows), chunk):
                conn.execute(table.insert(), rows[start : start + chunk])
        if conn.dialect.name == "postgresql":
            for table, column in (("case_record", "case_id"), ("workflow_instance", "instance_id")):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({column}) FROM {table}))"
                    )
                )
    analyze(eng)
    return timed


def counts(eng, fire_at: dt.datetime) -> dict:
    from sqlalchemy import func
    from sqlalchemy import select

    from engine.storage.models import WorkflowInstance as W

    with eng.db.read() as session:
        return {
            "due": session.scalar(
                select(func.count()).where(W.next_timer_at <= fire_at, W.status == "running")
            ),
            "running": session.scalar(select(func.count()).where(W.status == "running")),
            "with_timer": session.scalar(
                select(func.count()).where(W.next_timer_at.is_not(None), W.status == "running")
            ),
        }


# ----------------------------------------------------------------------------------------------------------
# 1. The finding query


def time_query(eng, limit: int, expect: int, samples: int) -> list[float]:
    from engine.worker import due_instances

    def once() -> float:
        with eng.db.transaction() as session:
            started = perf_counter()
            rows = due_instances(session, eng.now(), limit)
            elapsed = perf_counter() - started
            if len(rows) != expect:
                raise RuntimeError(
                    f"due_instances(limit={limit}) returned {len(rows)} rows, expected {expect}"
                )
        return elapsed

    for _ in range(10):
        once()
    return [once() for _ in range(samples)]


def query_plan(eng, limit: int) -> list[str]:
    """The plan of the exact SQL due_instances sends (captured from the cursor): EXPLAIN QUERY PLAN on SQLite,
    EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (in a transaction that is rolled back)."""
    from sqlalchemy import event

    from engine.worker import due_instances

    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "workflow_instance" in statement and "next_timer_at" in statement:
            captured.append((statement, parameters))

    event.listen(eng.db.engine, "before_cursor_execute", capture)
    try:
        with eng.db.transaction() as session:
            due_instances(session, eng.now(), limit)
    finally:
        event.remove(eng.db.engine, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    lines = [" ".join(statement.split())]
    with eng.db.engine.connect() as conn:
        if eng.db.is_sqlite:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            lines += [f"  {row[-1]}" for row in rows]
        else:
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).all()
            lines += [f"  {row[0]}" for row in rows]
        conn.rollback()
    return lines


def bench_queries(table: Table, eng, backend: str, label: str, n_due: int, samples: int) -> dict:
    medians = {}
    for limit in (1, 50):
        times = time_query(eng, limit, min(limit, n_due), samples)
        medians[limit] = statistics.median(times)
        table.ms(f"1. due_instances limit={limit}, {label}", backend, times, 10.0, "p95")
    return medians


# ----------------------------------------------------------------------------------------------------------
# 2. Firing: worker processes


def _worker_main(index, url, upload_dir, fire_at_iso, ready, go, results, finish) -> None:
    """One worker process: its own Engine on `url`, clock at the firing moment; run_pass once, timed."""
    from sqlalchemy import select

    from engine import worker
    from engine.context import Engine
    from engine.context import Settings
    from engine.domain.clock import FixedClock
    from engine.services import flow

    logging.getLogger("SpiffWorkflow").setLevel(logging.WARNING)
    failures = []

    class Count(logging.Handler):
        def emit(self, record):
            failures.append(record.getMessage()[:300])

    logging.getLogger("engine.worker").addHandler(Count(logging.ERROR))
    eng = Engine(
        Settings(database_url=url, upload_dir=Path(upload_dir)),
        clock=FixedClock(dt.datetime.fromisoformat(fire_at_iso)),
    )
    try:
        with eng.db.read() as session:  # connect and parse the diagram now, as a running worker has done
            flow.parsed_version(eng, session, flow.latest_version_id(session))
            session.execute(select(1))
        ready.put(index)
        go.wait()
        per_timer = []
        real_fire_next = worker.fire_next

        def timed_fire_next(e):
            started = perf_counter()
            fired = real_fire_next(e)
            if fired:
                per_timer.append(perf_counter() - started)
            return fired

        worker.fire_next = timed_fire_next  # run_pass looks fire_next up in its module on every call
        cpu = time.process_time()
        started = time.monotonic()
        fired = worker.run_pass(eng)
        ended = time.monotonic()
        cpu = time.process_time() - cpu
        worker.fire_next = real_fire_next
        results.put(
            {
                "index": index,
                "fired": fired,
                "start": started,
                "end": ended,
                "cpu": cpu,
                "per_timer": per_timer,
                "failures": failures,
            }
        )
        finish.wait(120)  # keep the PostgreSQL backends alive until the parent has read their CPU time
    finally:
        eng.dispose()


def pg_backends(admin, url: str) -> list[int]:
    from sqlalchemy import text

    if admin is None:
        return []
    with admin.connect() as conn:
        return list(
            conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                {"d": url.rpartition("/")[2]},
            ).scalars()
        )


def run_workers(url: str, upload_dir: Path, fire_at: dt.datetime, n_workers: int, admin) -> dict:
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go, finish = ctx.Event(), ctx.Event()
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(i, url, str(upload_dir), fire_at.isoformat(), ready, go, results, finish),
            daemon=True,
        )
        for i in range(n_workers)
    ]
    _children.extend(procs)
    try:
        for proc in procs:
            proc.start()
        for _ in procs:
            ready.get(timeout=180)
        backends = pg_backends(admin, url)
        cpu_before = cpu_seconds(backends)
        go.set()
        out = [results.get(timeout=3600) for _ in procs]
        backends_after = sorted(set(backends) | set(pg_backends(admin, url)))
        pg_cpu = cpu_seconds(backends_after) - cpu_before
        finish.set()
        for proc in procs:
            proc.join(timeout=60)
    finally:
        stop_children(procs)
    out.sort(key=lambda r: r["index"])
    wall = max(r["end"] for r in out) - min(r["start"] for r in out)
    return {
        "fired": [r["fired"] for r in out],
        "wall": wall,
        "cpu": sum(r["cpu"] for r in out),
        "pg_cpu": pg_cpu,
        "per_timer": [t for r in out for t in r["per_timer"]],
        "failures": [f for r in out for f in r["failures"]],
    }


def stop_children(procs=None) -> None:
    for proc in list(procs if procs is not None else _children):
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        if proc in _children:
            _children.remove(proc)


def verify(url: str, upload_dir: Path, fire_at: dt.datetime, case_ids: list[int]) -> dict:
    """After a run: flag_changed events at the firing moment per due case, instances still due, flags."""
    from sqlalchemy import func
    from sqlalchemy import select

    from engine.context import Engine
    from engine.context import Settings
    from engine.storage.models import Case
    from engine.storage.models import CaseEvent
    from engine.storage.models import WorkflowInstance as W

    eng = Engine(Settings(database_url=url, upload_dir=upload_dir))
    try:
        with eng.db.read() as session:
            per_case = dict(
                session.execute(
                    select(CaseEvent.case_id, func.count())
                    .where(CaseEvent.kind == "flag_changed", CaseEvent.at >= fire_at)
                    .group_by(CaseEvent.case_id)
                ).all()
            )
            still_due = session.scalar(
                select(func.count()).where(W.next_timer_at <= fire_at, W.status == "running")
            )
            yellow = session.scalar(
                select(func.count()).where(Case.case_id.in_(case_ids), Case.flag == "yellow")
            )
    finally:
        eng.dispose()
    counted = [per_case.get(c, 0) for c in case_ids]
    return {
        "once": sum(1 for n in counted if n == 1),
        "never": sum(1 for n in counted if n == 0),
        "twice_or_more": sum(1 for n in counted if n > 1),
        "others": sum(n for c, n in per_case.items() if c not in set(case_ids)),
        "still_due": still_due,
        "yellow": yellow,
    }


def report_run(table: Table, backend: str, label: str, run: dict, check: dict, n_due: int) -> None:
    fired = sum(run["fired"])
    rate = fired / run["wall"] if run["wall"] else 0.0
    split = "+".join(str(f) for f in run["fired"])
    note = f", {len(run['failures'])} failures logged" if run["failures"] else ""
    table.add(
        f"2. {label}: run_pass fires {n_due} due timers in {run['wall']:.2f} s{note}",
        backend,
        f"{rate:.0f} /s",
        "",
        split,
        ">= 200 /s",
        "yes" if rate >= 200 else "NO",
    )
    table.ms(f"2.   time per fired timer (fire_next), {label}", backend, run["per_timer"])
    if fired:
        table.add(
            f"2.   CPU ms/timer: workers+postgres, {label}",
            backend,
            f"{run['cpu'] / fired * 1000:.1f}+{run['pg_cpu'] / fired * 1000:.1f}",
            "",
            fired,
            f"({(run['cpu'] + run['pg_cpu']) / run['wall']:.2f} of {os.cpu_count()} cores busy)",
        )
    good = (
        check["once"] == n_due
        and check["never"] == 0
        and check["twice_or_more"] == 0
        and check["others"] == 0
        and check["still_due"] == 0
        and check["yellow"] == n_due
        and fired == n_due
    )
    table.add(
        f"2.   each due case fired once, {label} (twice {check['twice_or_more']}, never {check['never']}, "
        f"still due {check['still_due']})",
        backend,
        f"{check['once']}/{n_due}",
        "",
        fired,
        "each due case once",
        "yes" if good else "NO",
    )
    if run["failures"]:
        log(f"  {backend} {label}: first failure: {run['failures'][0]}")


# ----------------------------------------------------------------------------------------------------------


def bench_backend(table: Table, dbs: WorkerDatabases, backend: str, sizes: dict, plans: list[str]) -> None:
    from engine.domain.clock import FixedClock

    tmp = dbs.tmp
    upload_dir = tmp / "uploads"
    n_due, small, big = sizes["due"], sizes["small"], sizes["big"]
    fire_at = local(FIRE_AT)
    url = dbs.new(backend, "built")
    log(f"{backend}: preparing database (migrate, deploy, seed users)")
    eng = prepared_engine(url, upload_dir)
    eng.clock = FixedClock(local(REGISTER_AT))
    try:
        started = perf_counter()
        case_ids = build_due_cases(eng, n_due)
        log(f"  {backend}: {n_due} real cases through the services in {perf_counter() - started:.1f} s")
        rng = random.Random(2026)
        started = perf_counter()
        add_placeholders(eng, small, fire_at, rng)
        log(f"  {backend}: {small} not-due placeholder cases in {perf_counter() - started:.1f} s")
        eng.clock.set(fire_at)
        facts = counts(eng, fire_at)
        log(f"  {backend}: {facts}")
        if facts["due"] != n_due:
            raise RuntimeError(f"{facts['due']} instances due at {fire_at}, expected exactly {n_due}")
        label = f"{n_due:,} due + {facts['running'] - n_due:,} not due"
        small_medians = bench_queries(table, eng, backend, label, n_due, sizes["samples"])
        started = perf_counter()
        add_placeholders(eng, big - small, fire_at, rng)
        log(f"  {backend}: +{big - small} not-due placeholder cases in {perf_counter() - started:.1f} s")
        facts = counts(eng, fire_at)
        log(f"  {backend}: {facts}")
        if facts["due"] != n_due:
            raise RuntimeError(f"{facts['due']} instances due at {fire_at}, expected exactly {n_due}")
        label = f"{n_due:,} due + {facts['running'] - n_due:,} not due"
        big_medians = bench_queries(table, eng, backend, label, n_due, sizes["samples"])
        for limit in (1, 50):
            ratio = big_medians[limit] / small_medians[limit]
            table.add(
                f"1.   limit={limit}: median with {big:,} / with {small:,} not due",
                backend,
                f"{ratio:.2f}x",
                "",
                "",
                "~ 1x (<= 1.5x)",
                "yes" if ratio <= 1.5 else "NO",
            )
        plans.append(
            f"{backend}, {facts['running']:,} running instances ({facts['with_timer']:,} with a timer, "
            f"{n_due:,} due), due_instances(limit=50):"
        )
        plans.extend(query_plan(eng, 50))
        plans.append("")
    finally:
        close_sqlite(eng)

    copy = dbs.copy(backend, url, "copy")  # the same due set, for the two-worker run
    admin = dbs.admin() if backend == "postgresql" else None
    for label, target_url, workers in (("1 worker", url, 1), ("2 workers (2 processes)", copy, 2)):
        log(f"  {backend}: {label} firing {n_due} due timers")
        run = run_workers(target_url, upload_dir, fire_at, workers, admin)
        check = verify(target_url, upload_dir, fire_at, case_ids)
        log(f"  {backend}: {label}: fired {run['fired']} in {run['wall']:.2f} s; check {check}")
        report_run(table, backend, label, run, check, n_due)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 due among 20,000 open cases")
    parser.add_argument(
        "--smoke", action="store_true", help="10 due among 410 open cases: checks that it still runs"
    )
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG), help="PostgreSQL admin URL"
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    logging.getLogger("SpiffWorkflow").setLevel(logging.WARNING)
    if args.smoke:
        sizes = dict(due=10, small=200, big=400, samples=5)
    elif args.quick:
        sizes = dict(due=200, small=2_000, big=19_800, samples=SAMPLES)
    else:
        sizes = dict(due=1_000, small=10_000, big=99_000, samples=SAMPLES)

    tmp = Path(tempfile.mkdtemp(prefix="jienan-wbench-"))
    dbs = WorkerDatabases(tmp, None if args.no_pg else args.pg, keep=False)
    atexit.register(stop_children)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    table = Table()
    plans: list[str] = []
    load_start = load_average()
    code = code_version()
    pg_version = None if args.no_pg else dbs.pg_version()
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if pg_version else [])
    started = perf_counter()
    try:
        for backend in backends:
            bench_backend(table, dbs, backend, sizes, plans)
        if not pg_version and not args.no_pg:
            table.skipped("1-2 on PostgreSQL", "postgresql", "server not reachable")
    finally:
        stop_children()
        dbs.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(machine_facts(pg_version, load_start, code)))
    print(
        f"run:       {run_mode(args)}, {perf_counter() - started:.0f} s, "
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {sizes['due']:,} due among "
        f"{sizes['due'] + sizes['big']:,} open cases"
    )
    print()
    print("query plans:")
    print("\n".join(plans))
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
