#!/usr/bin/env python
"""Benchmark of a cluster on this machine: completions per second through nginx with 1, 2 and 3 web processes.

Run from the repository root (needs PostgreSQL and Debian's nginx):

    .venv/bin/python bench/bench_cluster.py --pg postgresql://USER:PASS@127.0.0.1:5432/postgres [--cases 40]
        [--clients 6] [--threads 4]

--pg is a PostgreSQL URL whose role may CREATE DATABASE; the script creates one database jn_cbench_*, migrates,
deploys and seeds it (units and users, no cases), and drops it at the end. For each web-process count it starts
a cluster (bench/cluster.py: gunicorn web processes with --workers 1 --threads N and their own instance folders,
one timer worker, nginx balancing), then `--clients` client threads drive `--cases` new cases each through the
whole loop over the JSON API via nginx (registration, dispatch, sign-for, feedback with a small attachment
uploaded through nginx, verification, revisit, close-out: 7 completions per case) and the time from the first
request to the last answer gives completions/s. Processes are stopped after each row.

Prints ONE table. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.cluster import STEPS_PER_CASE  # noqa: E402
from bench.cluster import Api  # noqa: E402
from bench.cluster import Cluster  # noqa: E402
from bench.cluster import register  # noqa: E402
from bench.cluster import run_loop  # noqa: E402
from engine.context import Engine  # noqa: E402
from engine.context import Settings  # noqa: E402
from engine.demo.seed import seed_demo  # noqa: E402
from engine.storage.db import normalise_url  # noqa: E402
from engine.storage.migrate import upgrade  # noqa: E402
from engine.storage.models import Enterprise  # noqa: E402
from engine.workflow.deploy import deploy_defaults  # noqa: E402


def prepare(admin_url: str, tmp: Path) -> str:
    name = f"jn_cbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = admin_url.rpartition("/")[0] + "/" + name
    upgrade(url)
    eng = Engine(Settings(database_url=url, upload_dir=tmp / "seed"))
    deploy_defaults(eng)
    seed_demo(eng, cases=False)
    eng.dispose()
    return url


def drop(admin_url: str, url: str) -> None:
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


def enterprise(url: str) -> int:
    eng = Engine(Settings(database_url=url, upload_dir=Path(tempfile.gettempdir())))
    with eng.db.read() as session:
        found = session.scalar(select(func.min(Enterprise.enterprise_id)))
    eng.dispose()
    return found


def measure(
    url: str, tmp: Path, webs: int, cases: int, clients: int, threads: int, enterprise_id: int
) -> dict:
    cluster = Cluster(tmp / f"webs{webs}", url, webs=webs, workers=1, threads=threads, worker_interval=1.0)
    with cluster:
        api = Api(cluster.url)
        for user in ("registrar", "dispatcher", "handler_power"):
            api.token(user)
        tag = f"B{webs}-{uuid.uuid4().hex[:6]}"
        run_loop(api, register(api, enterprise_id, tag + "w", 0), api)  # warm-up: every process parses once

        def one(n: int) -> None:
            run_loop(api, register(api, enterprise_id, tag, n), api)

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(cases)))
        elapsed = time.perf_counter() - started
    completions = cases * STEPS_PER_CASE
    return {
        "webs": webs,
        "cases": cases,
        "seconds": elapsed,
        "rate": completions / elapsed,
        "retries": api.retries,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL", ""), help="admin PostgreSQL URL")
    parser.add_argument("--cases", type=int, default=40, help="cases per row (7 completions each)")
    parser.add_argument("--clients", type=int, default=6, help="client threads driving cases at once")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per web process")
    parser.add_argument("--webs", default="1,2,3", help="web-process counts to measure")
    args = parser.parse_args()
    if not args.pg:
        parser.error("--pg (or TEST_DATABASE_URL) is needed: a cluster shares one PostgreSQL")
    with tempfile.TemporaryDirectory(prefix="jn-cbench-") as folder:
        tmp = Path(folder)
        url = prepare(args.pg, tmp)
        try:
            enterprise_id = enterprise(url)
            rows = [
                measure(url, tmp, int(webs), args.cases, args.clients, args.threads, enterprise_id)
                for webs in args.webs.split(",")
            ]
        finally:
            drop(args.pg, url)
    print(
        f"cores: {os.cpu_count()}   clients: {args.clients}   gunicorn: --workers 1 --threads {args.threads}"
    )
    print(
        f"{'web processes':>14} {'cases':>6} {'completions':>12} {'seconds':>8} {'completions/s':>14} {'x 1':>5}"
    )
    base = rows[0]["rate"]
    for row in rows:
        print(
            f"{row['webs']:>14} {row['cases']:>6} {row['cases'] * STEPS_PER_CASE:>12} {row['seconds']:>8.1f}"
            f" {row['rate']:>14.1f} {row['rate'] / base:>5.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
