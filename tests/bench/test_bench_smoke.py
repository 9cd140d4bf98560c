"""The benchmark scripts still run: each one's smallest size (--smoke) completes and prints its table.

Nothing here looks at a time. With TEST_DATABASE_URL set the scripts run on PostgreSQL only (its role creates and
drops their jn_bench_* databases), otherwise on SQLite only; rows that check correctness rather than speed (the
per-day totals equal the facts, each due timer fired once) must say yes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
SCRIPTS = [
    "bench_loop.py",
    "bench_worker.py",
    "bench_figures.py",
    "bench_import.py",
    "bench_ledger.py",
    "bench_pairing.py",
    "bench_campaigns.py",
]
HEADER = ("measurement", "backend", "median", "p95", "n", "target", "ok?")
CORRECTNESS_ROWS = ("check:", "each due case fired once")

pytestmark = pytest.mark.slow


def _backend_args() -> tuple[list[str], str]:
    if PG_URL:
        return ["--no-sqlite", "--pg", PG_URL], "postgresql"
    return ["--no-pg"], "sqlite"


def _table(stdout: str) -> list[str]:
    """The lines of the printed table after its header and rule."""
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if tuple(line.split()[:7]) == HEADER:
            return [row for row in lines[index + 2 :] if row.strip()]
    return []


@pytest.mark.parametrize("script", SCRIPTS)
def test_smallest_size_runs_and_prints_its_table(script):
    args, backend = _backend_args()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BENCH_PG_URL")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--smoke", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _table(done.stdout)
    assert rows, f"no table printed:\n{done.stdout[-3000:]}"
    assert any(backend in row.split() for row in rows), f"no {backend} row:\n{done.stdout[-3000:]}"
    problems = [row for row in rows if "skipped (error" in row or "Traceback" in row]
    problems += [
        row
        for row in rows
        if any(row.strip().startswith(label) or label in row for label in CORRECTNESS_ROWS)
        and not row.rstrip().endswith("yes")
    ]
    assert not problems, "\n".join(problems)


def test_compare_runs_against_a_revision():
    """bench/compare.py checks HEAD out into a temporary worktree and compares it with the working tree."""
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    args = ["--no-sqlite", "--pg", PG_URL] if PG_URL else []
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BENCH_PG_URL")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "compare.py"), "HEAD", "--rounds", "2", "--cases", "1", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert _table(done.stdout), done.stdout[-3000:]
    backend = "postgresql" if PG_URL else "sqlite"
    assert f"x of HEAD ({backend}:" in done.stdout, done.stdout[-3000:]
