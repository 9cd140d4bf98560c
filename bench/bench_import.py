"""Visit-spreadsheet import benchmark: 5,000 rows checked and registered as cases (each starting the loop), on
SQLite and PostgreSQL. Prints the machine facts and one table; never asserts on time, always exits 0.

    .venv/bin/python bench/bench_import.py            # 5,000 rows
    .venv/bin/python bench/bench_import.py --quick    # 500 rows
    .venv/bin/python bench/bench_import.py --smoke    # 20 rows: only checks that it still runs (CI)
    options: --pg URL   --no-pg   --no-sqlite   --keep
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_loop import Actors  # noqa: E402
from bench.bench_loop import Databases  # noqa: E402
from bench.bench_loop import Table  # noqa: E402
from bench.bench_loop import log  # noqa: E402
from bench.bench_loop import prepared_engine  # noqa: E402
from bench.bench_loop import run_per_backend  # noqa: E402


def spreadsheet(eng, n: int) -> bytes:
    from openpyxl import Workbook
    from sqlalchemy import select

    from engine.domain.vocabulary import CATEGORIES
    from engine.domain.vocabulary import URGENCIES
    from engine.services import imports
    from engine.storage.models import Enterprise

    with eng.db.read() as session:
        codes = list(session.scalars(select(Enterprise.credit_code).limit(50)))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(imports.SHEET)
    sheet.append([h for h, _f, _r in imports.COLUMNS])
    for i in range(n):
        sheet.append(
            [
                codes[i % len(codes)],
                "",
                "走访",
                "工业",
                CATEGORIES[i % len(CATEGORIES)],
                URGENCIES[i % 2],
                f"走访发现的问题 {i}",
                f"企业在走访中反映的第 {i} 个困难，需要协调解决。",
                "联系人",
                "13800000000",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def bench(table: Table, databases: Databases, backend: str, n: int, tmp: Path) -> None:
    from engine.services import imports

    eng = prepared_engine(databases.new(backend, f"import_{backend}"), tmp / f"uploads_{backend}")
    actor = Actors(eng)("registrar")
    data = spreadsheet(eng, n)
    started = time.perf_counter()
    checked = imports.check_rows(eng, actor, data)
    check_s = time.perf_counter() - started
    started = time.perf_counter()
    result = imports.import_rows(eng, actor, data, batch="bench", all_or_nothing=True)
    import_s = time.perf_counter() - started
    log(f"  {backend}: {result['imported']} imported, {len(checked['errors'])} row errors")
    table.add(f"check {n:,} rows (read + validate, nothing saved)", backend, f"{check_s:.1f} s", "-", n)
    table.add(
        f"import {n:,} rows (check + register {result['imported']:,} cases in one transaction)",
        backend,
        f"{import_s:.1f} s",
        "-",
        n,
    )
    table.add("  cases registered per second", backend, f"{result['imported'] / import_s:,.0f}", "-", n)
    eng.dispose()


def main(argv=None) -> int:
    return run_per_backend(__doc__, argv, smoke=20, quick=500, full=5_000, what="rows", bench=bench)


if __name__ == "__main__":
    raise SystemExit(main())
