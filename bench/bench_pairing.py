"""Pairing benchmark: a 5,000-row roster import, and "my enterprises" of a unit paired with 1,000 enterprises, on
SQLite and PostgreSQL. Prints the machine facts and one table; never asserts on time, always exits 0.

    .venv/bin/python bench/bench_pairing.py            # 5,000 roster rows, a unit with 1,000 enterprises
    .venv/bin/python bench/bench_pairing.py --quick    # 1,000 rows, a unit with 200 enterprises
    options: --pg URL   --no-pg   --keep

The roster: 2,000 enterprises (n/2.5), each with a helping unit (经济和信息化局 for the first n/5, the other
departments for the rest) and its head, the enterprise's own head, and a cadre (500 distinct) or a city leader (38
enterprises, the `leader` account). The enterprises' cases (3 each: open or closed, some flagged, some from visits)
are inserted straight into the case table — only the read model matters here, the loop is measured elsewhere.
"""

from __future__ import annotations

import io
import statistics
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

DEPARTMENTS = [
    "市电业局（供电公司）",
    "市场监督管理局",
    "城市管理局",
    "交通运输局",
    "自然资源和规划局",
    "生态环境局",
]
SAMPLES = 25


def enterprises(eng, count: int) -> list[tuple[str, str]]:
    """`count` enterprises on file (inserted in one statement); returns (name, credit code)."""
    from sqlalchemy import insert

    from engine.demo.seed import demo_credit_code
    from engine.storage.models import Enterprise

    rows = [(f"压测企业{i:05d}有限公司", demo_credit_code(f"bench-{i}")) for i in range(count)]
    now = eng.now()
    with eng.db.transaction() as session:
        session.execute(
            insert(Enterprise),
            [{"name": n, "credit_code": c, "field": "工业", "created_at": now} for n, c in rows],
        )
    return rows


def cases(eng, per_enterprise: int = 3) -> int:
    """Open and closed cases of every bench enterprise: a third flagged, one in three from a visit."""
    import datetime as dt

    from sqlalchemy import insert
    from sqlalchemy import select

    from engine.storage.models import Case
    from engine.storage.models import Enterprise

    now = eng.now()
    with eng.db.transaction() as session:
        found = session.execute(
            select(Enterprise.enterprise_id, Enterprise.name).where(Enterprise.name.like("压测企业%"))
        ).all()
        rows = []
        for index, (enterprise_id, name) in enumerate(found):
            for k in range(per_enterprise):
                number = index * per_enterprise + k
                rows.append(
                    {
                        "case_no": f"BENCH{number:08d}",
                        "enterprise_id": enterprise_id,
                        "enterprise_name": name,
                        "title": f"压测问题 {number}",
                        "description": "压测",
                        "channel": "走访" if k == 0 else "电话",
                        "field": "工业",
                        "category": "用地",
                        "urgency": "一般",
                        "library": "general",
                        "status": "closed" if k == 2 else "handling",
                        "flag": ["red", "yellow", None][number % 3] if k != 2 else None,
                        "deadline_at": now + dt.timedelta(days=number % 20),
                        "round_no": 1,
                        "returns_count": 0,
                        "notice_count": 0,
                        "extensions_count": 0,
                        "created_at": now - dt.timedelta(hours=number % 500),
                        "updated_at": now,
                        "search_text": "",
                        "search_grams": "",
                    }
                )
        session.execute(insert(Case), rows)
    return len(rows)


def roster(firms: list[tuple[str, str]], n: int, unit_share: int) -> bytes:
    """A roster of exactly `n` rows over the firms: helping unit + its head, enterprise head, cadre or leader."""
    from openpyxl import Workbook

    from engine.services import pairing_import

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(pairing_import.SHEET)
    sheet.append([h for h, _f, _r in pairing_import.COLUMNS])
    rows = []
    for i, (name, code) in enumerate(firms):
        unit = "经济和信息化局" if i < unit_share else DEPARTMENTS[i % len(DEPARTMENTS)]
        rows.append([code, name, "帮扶单位挂钩", unit, f"{unit[:2]}联络员{i % 40}", "副局长", "", "", ""])
        rows.append([code, name, "企业负责人", "", f"负责人{i}", "总经理", "13800000000", "", ""])
        if i < 38:
            rows.append([code, name, "市级领导结对", "", "张明", "副市长", "", "leader", ""])
        else:
            rows.append([code, name, "助企干部", "", f"干部{i % 500}", "科员", "", "", ""])
    for row in rows[:n]:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _timed(call, samples: int = SAMPLES) -> tuple[list[float], object]:
    result = None
    for _ in range(3):  # warm up
        result = call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return times, result


def bench(table: Table, databases: Databases, backend: str, n: int, tmp: Path) -> None:
    from engine.services import pairing
    from engine.services import pairing_import
    from engine.services import pairing_views

    eng = prepared_engine(databases.new(backend, f"pairing_{backend}"), tmp / f"uploads_{backend}")
    actors = Actors(eng)
    firms = enterprises(eng, int(n / 2.5))
    unit_share = n // 5
    log(f"  {backend}: {len(firms):,} enterprises, {cases(eng):,} cases inserted")
    data = roster(firms, n, unit_share)
    manager = actors("manager")

    started = time.perf_counter()
    checked = pairing_import.check_file(eng, manager, data)
    check_s = time.perf_counter() - started
    started = time.perf_counter()
    result = pairing_import.import_file(eng, manager, data, "bench.xlsx")
    import_s = time.perf_counter() - started
    assert not result["errors"], result["errors"][:3]
    started = time.perf_counter()
    again = pairing_import.import_file(eng, manager, data, "bench.xlsx")
    again_s = time.perf_counter() - started
    log(f"  {backend}: imported {result['imported']:,}, then replaced {again['replaced']:,}")
    table.add(f"check a {n:,}-row roster (nothing saved)", backend, f"{check_s:.2f} s", "-", checked["rows"])
    table.add(
        f"import it ({result['people_created']:,} people created, {result['enterprises']:,} enterprises)",
        backend,
        f"{import_s:.2f} s",
        "-",
        result["imported"],
    )
    table.add("import it again (every pairing replaced)", backend, f"{again_s:.2f} s", "-", again["imported"])
    if backend == "sqlite":
        eng.db.optimize()

    econ = actors("handler_econ")
    times, mine = _timed(lambda: pairing_views.my_enterprises(eng, econ, "unit"))
    table.ms(
        f"my enterprises, a unit with {mine['paired']:,} enterprises (page 1 of {mine['pages']})",
        backend,
        times,
    )
    times, _r = _timed(lambda: pairing_views.my_enterprises(eng, econ, "unit", only_open=True, page=10))
    table.ms("  the same, only those with open problems, page 10", backend, times)
    times, _r = _timed(lambda: pairing_views.my_enterprises(eng, econ, "unit", q="00999"))
    table.ms("  the same, searching a name", backend, times)
    leader = actors("leader")
    times, mine = _timed(lambda: pairing_views.my_enterprises(eng, leader))
    table.ms(f"my enterprises, a leader with {mine['paired']} enterprises", backend, times)

    from web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False}, engine=eng)
    client = app.test_client()
    client.post("/login", data={"username": "handler_econ", "password": "jienan2026"})
    times, response = _timed(lambda: client.get("/pairings/mine?scope=unit"))
    assert response.status_code == 200
    table.ms("  the page /pairings/mine (service + template, test client)", backend, times)

    for by in ("unit", "person"):
        times, _r = _timed(lambda by=by: pairing_views.figures(eng, manager, by=by))
        table.ms(f"pairing figures by {by} (all {len(firms):,} enterprises)", backend, times)
    times, listed = _timed(lambda: pairing.list_pairings(eng, manager))
    table.ms(f"roster list, page 1 of {listed['total']:,} pairings", backend, times)
    log(f"  {backend}: my enterprises median {statistics.median(times) * 1000:.1f} ms")
    eng.dispose()


def main(argv=None) -> int:
    return run_per_backend(__doc__, argv, smoke=50, quick=1_000, full=5_000, what="roster rows", bench=bench)


if __name__ == "__main__":
    raise SystemExit(main())
