"""Ledger export benchmark: the .xlsx of 50,000 cases on SQLite and PostgreSQL (target ≤ 30 s, memory bounded).

Cases are bulk-generated (bench_loop.generate_cases), then `engine.services.ledger.export_cases` writes the
workbook of all of them (as a dispatcher, who sees every case) into a temporary file. Prints the machine facts and
one table; never asserts on time, always exits 0. Memory: the peak of Python allocations during the export
(tracemalloc) and the process's resident set before/after, so "bounded" is visible rather than assumed.

    .venv/bin/python bench/bench_ledger.py           # 50,000 cases per backend
    .venv/bin/python bench/bench_ledger.py --quick   # 5,000
    .venv/bin/python bench/bench_ledger.py --smoke   # 200: only checks that it still runs (CI)
    options: --pg URL   --no-pg   --no-sqlite   --keep
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_loop import Actors  # noqa: E402
from bench.bench_loop import Databases  # noqa: E402
from bench.bench_loop import Table  # noqa: E402
from bench.bench_loop import generate_cases  # noqa: E402
from bench.bench_loop import log  # noqa: E402
from bench.bench_loop import prepared_engine  # noqa: E402
from bench.bench_loop import run_per_backend  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bench_export(table: Table, databases: Databases, backend: str, n: int, tmp: Path) -> None:
    from engine.services.ledger import export_cases

    url = databases.new(backend, f"ledger_{backend}")
    eng = prepared_engine(url, tmp / f"uploads_{backend}")
    started = time.perf_counter()
    generate_cases(eng, n)
    log(f"  {backend}: {n:,} cases generated in {time.perf_counter() - started:.1f} s")
    actor = Actors(eng)("dispatcher")
    out_path = tmp / f"ledger_{backend}.xlsx"
    before = rss_mb()
    started = time.perf_counter()
    with open(out_path, "wb") as out:
        rows = export_cases(eng, actor, {}, out)
    elapsed = time.perf_counter() - started
    after = rss_mb()
    # A second export under tracemalloc (which slows Python several times) for the allocation peak only.
    tracemalloc.start()
    with open(out_path, "wb") as out:
        export_cases(eng, actor, {}, out)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size_mb = out_path.stat().st_size / 1024 / 1024
    ok = "yes" if elapsed <= 30 else "NO"
    table.add(
        f"ledger export of {rows:,} cases ({size_mb:.1f} MB xlsx)",
        backend,
        f"{elapsed:.1f} s",
        "-",
        1,
        "<= 30 s",
        ok,
    )
    table.add(
        f"  Python allocations peak during export (RSS {before:.0f} → {after:.0f} MB)",
        backend,
        f"{peak / 1024 / 1024:.1f} MB",
        "-",
        1,
        "bounded",
        "",
    )
    table.add("  rows per second", backend, f"{rows / elapsed:,.0f}", "-", rows)
    eng.dispose()


def main(argv=None) -> int:
    return run_per_backend(
        __doc__, argv, smoke=200, quick=5_000, full=50_000, what="cases", bench=bench_export
    )


if __name__ == "__main__":
    raise SystemExit(main())
