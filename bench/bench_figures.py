"""Figures (统计) and dashboard benchmark: 1,000,000 generated cases, on SQLite and PostgreSQL.

Target: median and p95 <= 200 ms for every figures/dashboard query, for a quarter (2026-Q3) and a year (2025).
Prints the machine facts and ONE table (measurement, backend, median, p95, n, target, ok?); nothing asserts on
time, the script exits 0 either way.

    .venv/bin/python bench/bench_figures.py                 # 1,000,000 cases per backend (~40 minutes)
    .venv/bin/python bench/bench_figures.py --quick         # 20,000 cases
    .venv/bin/python bench/bench_figures.py --smoke         # 800 cases: only checks that it still runs (CI)
    options: --cases N   --pg URL   --no-pg   --no-sqlite   --keep   --explain

--pg is a PostgreSQL URL whose role may CREATE DATABASE (default as bench_loop); the databases are called
jn_bench_* and dropped at the end unless --keep. --explain prints, after the table, the plans of the slowest
statements of every query over target (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).

The data is generated with bulk SQL and BYPASSES the services (read path only):

- bench_loop.generate_cases makes the cases (case_record, case_unit, enterprise, and for the open ones a
  placeholder workflow_instance and a human_task row), created 2023-01-01 … 2026-11-20 (a year ≈ 260,000 cases,
  a quarter ≈ 65,000), ~88% closed, ~30% with a co-handling unit and ~30% in one of 12 交办批次 (one per
  four months). On PostgreSQL its rows go in with COPY. The case rows get handled_at (the unit's result, which
  decides on-time) and extensions_count here.
- every generated enterprise gets one of the demo office's six areas (5% none), a size class (规上 35%, 限上
  15%, 规下 40%, none 10%) and each of the demo's three pools and three tags with its share (~0.6 per
  enterprise); every fact of its cases carries them, as credit() records the enterprise's classes.
- figure_fact rows are derived from each case the way engine/services/figures.py credits them: parties "case",
  "tier" and "unit" (lead, and co when there is one), each with collected on its cohort day; reopened earlier
  rounds (revisits + reopened); returns (case, tier, lead) and approved extensions (all but co); when closed:
  closed, resolved, on_time, close_days (working days from the party's day to the close day), closures (dated
  the close day) and the final revisit (revisits, satisfied). Zero amounts are not written (as credit() skips
  them): ~25 rows per case. Loaded with COPY (PostgreSQL) or one executemany transaction with
  journal_mode=OFF / synchronous=OFF (SQLite, a connection of its own; the benchmark then runs with the
  engine's own settings, WAL), indexes dropped during the load and rebuilt after it.
- figure_daily is built from figure_fact in SQL: the facts summed per party, day, unit, role and attributes
  into a temporary table, then one INSERT … SELECT … GROUP BY per (dim, key, key2) shape that
  figures.daily_keys() gives (single dimensions and the pairs "lead*category", "category*lead", …; the shapes
  are read off daily_keys itself, so the SQL follows the engine). The dimension values are those on the facts,
  as the live path writes them; a fact adds to each of its tags' rows (a join with the tags values). Checked:
  figures._from_daily must equal figures._from_facts for 2026-Q3 for 23 groupings and single filters; with at most 50,000 cases the table must also equal figures.rebuild_daily.

Then ANALYZE (VACUUM ANALYZE on PostgreSQL, eng.db.optimize() on SQLite). Each query is run twice to warm up and
then timed 20 times, each sample in its own eng.db.read() session (session, connection checkout and rollback
included).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import itertools
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_loop import Databases  # noqa: E402
from bench.bench_loop import Table  # noqa: E402
from bench.bench_loop import generate_cases  # noqa: E402
from bench.bench_loop import log  # noqa: E402
from bench.bench_loop import pct  # noqa: E402
from bench.bench_loop import prepared_engine  # noqa: E402
from bench.bench_loop import run_per_backend  # noqa: E402
from engine.domain.clock import LOCAL_TZ  # noqa: E402

FULL, QUICK, SMOKE = 1_000_000, 20_000, 800
DATA_START = dt.datetime(2023, 1, 1, 8, 0, tzinfo=LOCAL_TZ)
DATA_NOW = dt.datetime(2026, 11, 20, 20, 0, tzinfo=LOCAL_TZ)  # "now" of the data: the last cases, live()
QUARTER, YEAR = "2026-Q3", "2025"
TARGET_MS = 200
WARMUP, SAMPLES = 2, 20
N_BATCHES, BATCH_SHARE, CO_SHARE = 12, 0.30, 0.30
SEED = 2026
FACT_COLUMNS = (
    "fact_id", "case_id", "measure", "party", "day", "amount", "unit_id", "role", "tier", "field", "category",
    "channel", "batch", "area_id", "size_class", "tags", "at",
)  # fmt: skip
# The enterprises' classes: one of the demo office's areas (5% none), a size class, and each pool or tag with its
# share of the enterprises (the demo's three pools and three tags: ~0.6 per enterprise).
SIZE_W = {"规上": 35, "限上": 15, "规下": 40, None: 10}
TAG_SHARE = {"key": 0.15, "potential": 0.10, "plaque": 0.08, "srdi": 0.08, "hitech": 0.12, "foreign": 0.05}
FACT_INDEXES = {
    "ix_figure_fact_case": "case_id, party, measure",
    "ix_figure_fact_day": "party, measure, day",
    "ix_figure_fact_batch": "batch, day",
}
EXPLAIN = False  # --explain


# ----------------------------------------------------------------------------------------------------------
# Data


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL_TZ).date()


def p_closed(age_days: float) -> float:
    """~88% of all cases closed: old ones mostly, the last weeks' much less."""
    return 0.90 if age_days > 90 else 0.75 if age_days > 30 else 0.45 if age_days > 7 else 0.1


def batch_names() -> list[tuple[dt.datetime, str]]:
    span = (DATA_NOW - DATA_START) / N_BATCHES
    starts = [DATA_START + span * k for k in range(N_BATCHES)]
    return [(start, f"第{k + 1}批交办（{start:%Y年%m月}）") for k, start in enumerate(starts)]


BATCHES = batch_names()


def pick_batch(rng: random.Random, created: dt.datetime) -> str | None:
    """About 30% of the cases came in a 交办批次: the one of the four months they were registered in."""
    if rng.random() >= BATCH_SHARE:
        return None
    name = BATCHES[0][1]
    for start, label in BATCHES:
        if created >= start:
            name = label
    return name


def complete_case_rows(rows: list[dict], rng: random.Random) -> None:
    """What generate_cases leaves out and the figures read: the unit's result time and approved extensions."""
    for case in rows:
        closed_at, signed = case["closed_at"], case["signed_at"]
        handled = None
        if closed_at is not None and signed is not None:
            handled = max(signed, closed_at - dt.timedelta(days=rng.uniform(0.2, 3)))
        case["handled_at"] = handled
        case["extensions_count"] = int(signed is not None and rng.random() < 0.04)


def make_loader(backend: str):
    """generate_cases' insert_rows: COPY on PostgreSQL, chunked INSERTs with a big page cache on SQLite."""
    rng = random.Random(SEED + 1)

    def insert_rows(conn, table, rows):
        if table.name == "case_record":
            complete_case_rows(rows, rng)
        if not rows:
            return
        if backend == "sqlite":
            # a 1 GB page cache for this connection only (the engine is disposed after the load)
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
            for start in range(0, len(rows), 5000):
                conn.execute(table.insert(), rows[start : start + 5000])
            return
        columns = list(rows[0])
        defaults = {  # what SQLAlchemy fills in client-side for an INSERT (the columns have no server default)
            c.name: c.default.arg
            for c in table.columns
            if c.name not in columns and c.default is not None and c.default.is_scalar
        }
        names = ", ".join(f'"{c}"' for c in [*columns, *defaults])
        tail = list(defaults.values())
        with (
            conn.connection.dbapi_connection.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns] + tail)

    return insert_rows


def working_day_index(start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Working days up to each day, so that working_days_between(a, b) = index[b] - index[a]."""
    from engine.domain.calendar import is_working_day

    index, count, day = {}, 0, start
    while day <= end:
        count += is_working_day(day)
        index[day] = count
        day += dt.timedelta(days=1)
    return index


def enterprise_classes(enterprise_id: int, classes: dict) -> tuple:
    """(area id, size class, tags ",3,7,") of a generated enterprise: the same for every fact of its cases."""
    rng = random.Random(SEED * 1_000_003 + enterprise_id)
    area = rng.choice(classes["areas"]) if rng.random() >= 0.05 else None
    size = rng.choices(list(SIZE_W), weights=list(SIZE_W.values()))[0]
    ids = sorted(tag_id for code, tag_id in classes["tags"].items() if rng.random() < TAG_SHARE.get(code, 0))
    return area, size, ("," + ",".join(map(str, ids)) + ",") if ids else None


def office_classes(eng) -> dict:
    """The demo office's areas and pools/tags (seeded by prepared_engine)."""
    from sqlalchemy import select

    from engine.storage.models import Area
    from engine.storage.models import EnterpriseTag

    with eng.db.read() as session:
        areas = session.scalars(select(Area.area_id).order_by(Area.area_id)).all()
        tags = dict(session.execute(select(EnterpriseTag.code, EnterpriseTag.tag_id)).all())
    return {"areas": list(areas), "tags": tags}


def fact_rows(rows: dict, stamp, classes: dict):
    """figure_fact tuples (FACT_COLUMNS order) as engine/services/figures.py would have credited them.

    `stamp(datetime)` formats the `at` column for the backend; days are ISO strings (both backends read them).
    """
    from engine.services.figures import SATISFIED

    units_of = collections.defaultdict(list)
    for row in rows["case_units"]:
        units_of[row["case_id"]].append((row["unit_id"], row["relation"]))
    first = local_day(min(c["created_at"] for c in rows["cases"])) - dt.timedelta(days=7)
    index = working_day_index(first, local_day(DATA_NOW) + dt.timedelta(days=60))
    iso = {day: day.isoformat() for day in index}
    now = DATA_NOW.astimezone(dt.UTC)
    fact_id = 0
    of_enterprise: dict[int, tuple] = {}
    for case in rows["cases"]:
        case_id, created, closed_at = case["case_id"], case["created_at"], case["closed_at"]
        enterprise_id = case["enterprise_id"]
        if enterprise_id not in of_enterprise:
            of_enterprise[enterprise_id] = enterprise_classes(enterprise_id, classes)
        tail = (
            case["tier"], case["field"], case["category"], case["channel"], case.get("batch"),
            *of_enterprise[enterprise_id],
        )  # fmt: skip
        day = local_day(created)
        parties = [("case", None, None, day)]
        if case["tier"]:
            parties.append(("tier", None, None, day))
        units = units_of.get(case_id, ())
        if units:  # assigned at dispatch, just before the unit signed for it
            signed = case["signed_at"]
            unit_day = local_day(signed - dt.timedelta(hours=1)) if signed else local_day(created)
            parties += [("unit", unit_id, role, unit_day) for unit_id, role in units]
        at = stamp(created)  # when the fact was recorded (no figure reads it)
        facts = [(p, "collected", 1, p[3], at) for p in parties]
        for _round in range(case["round_no"] - 1):  # earlier rounds: the enterprise was not satisfied
            facts += [(p, m, 1, p[3], at) for p in parties for m in ("revisits", "reopened")]
        if case["returns_count"]:
            facts += [(p, "returns", case["returns_count"], p[3], at) for p in parties if p[2] != "co"]
        if case["extensions_count"]:
            facts += [(p, "extensions", case["extensions_count"], p[3], at) for p in parties if p[2] != "co"]
        if closed_at is not None:
            at = stamp(closed_at)
            close_day = local_day(closed_at)
            deadline = case["deadline_at"]
            on_time = int(deadline is None or (case["handled_at"] or now) <= deadline)
            resolved = int(case["outcome"] == "resolved")
            satisfied = int(case["satisfaction"] in SATISFIED)
            for p in parties:
                days = max(0, index[close_day] - index[p[3]])
                facts += [
                    (p, "revisits", 1, p[3], at),
                    (p, "satisfied", satisfied, p[3], at),
                    (p, "closed", 1, p[3], at),
                    (p, "resolved", resolved, p[3], at),
                    (p, "on_time", on_time, p[3], at),
                    (p, "close_days", days, p[3], at),
                    (p, "closures", 1, close_day, at),
                ]
        for (party, unit_id, role, _day), measure, amount, fact_day, at in facts:
            if amount:
                fact_id += 1
                yield (fact_id, case_id, measure, party, iso[fact_day], amount, unit_id, role, *tail, at)


def sqlite_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # what UTCDateTime stores on SQLite


def pg_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


ATTRIBUTE_COLUMNS = ("tier", "field", "category", "channel", "batch", "area_id", "size_class")
# daily_keys' markers → (the column grouped by, its value as figure_daily's text key)
MARKERS = {
    "<unit_id>": ("unit_id", "CAST(unit_id AS TEXT)"),
    "<tier>": ("tier", "tier"),
    "<field>": ("field", "field"),
    "<category>": ("category", "category"),
    "<channel>": ("channel", "channel"),
    "<batch>": ("batch", "batch"),
    "<area>": ("area_id", "CAST(area_id AS TEXT)"),
    "<size>": ("size_class", "size_class"),
    "<tag>": ("tag_sets.tag_id", "tag_sets.tag_id"),
}


def daily_statements(tag_sets: list[tuple[str, str]]) -> list[str]:
    """SQL that builds figure_daily from figure_fact: what figures.daily_keys() adds up fact by fact.

    The (dim, key, key2) rows of each party are read off figures.daily_keys() itself, called with markers in
    place of the values, so the SQL follows whatever dimensions and pairs the engine keeps. The facts are first
    summed per party, day, unit, role and attributes into a temporary table; each dimension then sums that. A
    fact counts under each of its tags: `tag_sets` ((tags, tag id) for every tags value the facts hold) is a
    temporary table the tag dimensions join.
    """
    from engine.services.figures import MEASURES
    from engine.services.figures import daily_keys

    def sums(column):
        return ", ".join(column(m) for m in MEASURES)

    grouped = "party, day, role, unit_id, tier, field, category, channel, batch, area_id, size_class, tags"
    out = [
        "DROP TABLE IF EXISTS fact_sums",
        "DROP TABLE IF EXISTS tag_sets",
        f"CREATE TEMP TABLE fact_sums AS SELECT {grouped}, "
        + sums(lambda m: f"SUM(CASE WHEN measure = '{m}' THEN amount ELSE 0 END) AS {m}")
        + f" FROM figure_fact GROUP BY {grouped}",
        "CREATE TEMP TABLE tag_sets (tags TEXT, tag_id TEXT)",
        *(f"INSERT INTO tag_sets VALUES ('{tags}', '{tag_id}')" for tags, tag_id in tag_sets),
    ]
    measures = sums(lambda m: f"SUM(fact_sums.{m})")
    markers = ["<tier>", "<field>", "<category>", "<channel>", "<batch>", "<area>", "<size>"]
    for party in ("case", "tier", "unit"):
        for dim, key, key2 in daily_keys(party, "<unit_id>", "<role>", *markers, tags=["<tag>"]):
            used = {MARKERS[v][0] for v in (key, key2) if v in MARKERS} | (
                {"role"} if "<role>" in dim else set()
            )
            parts = []
            for i, piece in enumerate(dim.split("<role>")):
                parts += (["role"] if i else []) + ([f"'{piece}'"] if piece else [])
            key_sql, key2_sql = (
                MARKERS[v][1] if v in MARKERS else "'" + v.replace("'", "''") + "'" for v in (key, key2)
            )
            # daily_keys leaves out the attributes a fact has no value for (no batch, no area)
            present = [f"{c} IS NOT NULL" for c in sorted(used & set(ATTRIBUTE_COLUMNS))]
            source = "fact_sums"
            if "tag_sets.tag_id" in used:
                source += " JOIN tag_sets ON tag_sets.tags = fact_sums.tags"
            out.append(
                f'INSERT INTO figure_daily (day, dim, "key", key2, {", ".join(MEASURES)}) '
                f"SELECT day, {' || '.join(parts)}, {key_sql}, {key2_sql}, {measures} FROM {source} "
                f"WHERE {' AND '.join([f'party = {party!r}', *present])} GROUP BY {', '.join(['day', *sorted(used)])}"
            )
    return [*out, "DROP TABLE fact_sums", "DROP TABLE tag_sets"]


def tag_sets_of(classes: dict, rows: dict) -> list[tuple[str, str]]:
    """(tags, tag id) for every tags value the generated enterprises hold."""
    values = {enterprise_classes(c["enterprise_id"], classes)[2] for c in rows["cases"]} - {None}
    return sorted((tags, tag_id) for tags in values for tag_id in tags.strip(",").split(","))


def load_facts(eng, backend: str, rows: dict) -> dict:
    """figure_fact (bulk) and figure_daily (SQL); indexes dropped during the load. Returns counts and seconds."""
    from sqlalchemy import text

    out = {}
    classes = office_classes(eng)
    tag_sets = tag_sets_of(classes, rows)
    if backend == "sqlite":
        eng.dispose()  # no other connection: journal_mode can leave WAL for the load
        conn = sqlite3.connect(eng.db.engine.url.database, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-2000000")
            conn.execute("BEGIN")
            for name in FACT_INDEXES:
                conn.execute(f"DROP INDEX {name}")
            started = time.perf_counter()
            sql = f"INSERT INTO figure_fact ({', '.join(FACT_COLUMNS)}) VALUES ({', '.join('?' * len(FACT_COLUMNS))})"
            facts = fact_rows(rows, sqlite_stamp, classes)
            count = 0
            while chunk := list(itertools.islice(facts, 100_000)):
                conn.executemany(sql, chunk)
                count += len(chunk)
            out["facts"], out["facts_s"] = count, time.perf_counter() - started
            started = time.perf_counter()
            for statement in daily_statements(tag_sets):
                conn.execute(statement)
            out["daily_s"] = time.perf_counter() - started
            started = time.perf_counter()
            for name, columns in FACT_INDEXES.items():
                conn.execute(f"CREATE INDEX {name} ON figure_fact ({columns})")
            out["index_s"] = time.perf_counter() - started
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        started = time.perf_counter()
        eng.db.optimize()  # full ANALYZE, what the worker does periodically on a live database
        out["analyze_s"] = time.perf_counter() - started
    else:
        with eng.db.engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            for name in FACT_INDEXES:
                cursor.execute(f"DROP INDEX {name}")
            started = time.perf_counter()
            count = 0
            with cursor.copy(f"COPY figure_fact ({', '.join(FACT_COLUMNS)}) FROM STDIN") as copy:
                for row in fact_rows(rows, pg_stamp, classes):
                    copy.write_row(row)
                    count += 1
            out["facts"], out["facts_s"] = count, time.perf_counter() - started
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('figure_fact', 'fact_id'), (SELECT max(fact_id) FROM figure_fact))"
            )
            started = time.perf_counter()
            for statement in daily_statements(tag_sets):
                cursor.execute(statement)
            out["daily_s"] = time.perf_counter() - started
            started = time.perf_counter()
            for name, columns in FACT_INDEXES.items():
                cursor.execute(f"CREATE INDEX {name} ON figure_fact ({columns})")
            out["index_s"] = time.perf_counter() - started
        started = time.perf_counter()
        with eng.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does shortly after a bulk load
        out["analyze_s"] = time.perf_counter() - started
    with eng.db.read() as session:
        out["daily"] = session.execute(text("SELECT count(*) FROM figure_daily")).scalar()
    return out


def generate(eng, backend: str, n: int) -> dict:
    started = time.perf_counter()
    facts = generate_cases(
        eng,
        n,
        SEED,
        now=DATA_NOW.astimezone(dt.UTC),
        span_days=(DATA_NOW - DATA_START).total_seconds() / 86400,
        p_closed=p_closed,
        co_share=CO_SHARE,
        batch=pick_batch,
        insert_rows=make_loader(backend),
        analyze=False,
        keep_rows=True,
    )
    rows = facts["rows"]
    cases_s = time.perf_counter() - started
    log(f"  {backend}: {n:,} cases, {facts['open_tasks']:,} open tasks in {cases_s:.0f} s; facts next")
    loaded = load_facts(eng, backend, rows)
    closed = sum(c["closed_at"] is not None for c in rows["cases"])
    batched = sum(c.get("batch") is not None for c in rows["cases"])
    co = sum(r["relation"] == "co" for r in rows["case_units"])
    log(
        f"  {backend}: {loaded['facts']:,} facts in {loaded['facts_s']:.0f} s, {loaded['daily']:,} daily rows "
        f"in {loaded['daily_s']:.0f} s, indexes {loaded['index_s']:.0f} s, analyze {loaded['analyze_s']:.0f} s; "
        f"{closed / n:.1%} closed, {batched / n:.1%} in a batch, {co / n:.1%} with a co unit"
    )
    return loaded | {
        "cases_s": cases_s,
        "total_s": time.perf_counter() - started,
        "open_tasks": facts["open_tasks"],
        "closed_share": closed / n,
    }


# ----------------------------------------------------------------------------------------------------------
# Checks


def normalised(sums: dict) -> dict:
    return {
        key: {m: v for m, v in counts.items() if v} for key, counts in sums.items() if any(counts.values())
    }


def check_daily(eng, n: int, about: dict) -> list[tuple[str, bool, str]]:
    """figure_daily built by SQL answers as the facts do (and, on small runs, equals figures.rebuild_daily)."""
    from sqlalchemy import select

    from engine.services import figures
    from engine.storage.models import FigureDaily

    period = figures.parse_period(QUARTER)
    unit, area, pool, tag = (about[k] for k in ("unit", "area", "pool", "tag"))
    batch = about["batches"][QUARTER]
    questions = [  # (group, filters, role)
        (None, {}, "lead"), ("unit", {}, "lead"), ("unit", {}, "co"), ("field", {}, "lead"), ("tier", {}, "lead"),
        ("batch", {}, "lead"), (None, {"batch": batch}, "lead"), ("category", {"unit": unit}, "lead"),
        ("unit", {"field": "工业"}, "co"), ("channel", {"tier": "department"}, "lead"),
        ("tier", {"category": "融资"}, "lead"), ("batch", {"unit": unit}, "lead"), ("field", {"channel": "走访"}, "lead"),
        ("area", {}, "lead"), ("size", {}, "lead"), ("pool", {}, "lead"), (None, {"area": area}, "lead"),
        ("category", {"pool": pool}, "lead"), ("unit", {"tag": tag}, "co"), ("area", {"size": "规上"}, "lead"),
        ("pool", {"unit": unit}, "lead"), ("tier", {"pool": pool}, "lead"), ("size", {"area": area}, "lead"),
    ]  # fmt: skip
    mismatched, empty = [], []
    with eng.db.read() as session:
        for group, f, role in questions:
            lookup = figures._daily_lookup(group, f, role)
            daily = normalised(figures._from_daily(session, period, *lookup))
            facts = normalised(
                figures._from_facts(session, period, group, figures._clean_filters(f), role,
                                    figures._party_for(group, f))
            )  # fmt: skip
            if daily != facts:
                mismatched.append(f"{group}/{f}/{role}")
            elif not daily:  # equal but proves nothing (the smallest sizes leave a rare combination empty)
                empty.append(f"{group}/{f}/{role}")
    empties = f", {len(empty)} empty: {', '.join(empty)}" if empty else ""
    checks = [
        (
            f"check: {QUARTER} from figure_daily = from figure_fact ({len(questions)} groupings/filters{empties})",
            not mismatched,
            ", ".join(mismatched),
        )
    ]
    if n <= 50_000:
        columns = [getattr(FigureDaily, c.name) for c in FigureDaily.__table__.columns]
        query = select(*columns).order_by(FigureDaily.day, FigureDaily.dim, FigureDaily.key, FigureDaily.key2)
        with eng.db.read() as session:  # never commits: the rebuild is rolled back
            ours = [tuple(r) for r in session.execute(query)]
            started = time.perf_counter()
            written = figures.rebuild_daily(session)
            seconds = time.perf_counter() - started
            session.flush()
            theirs = [tuple(r) for r in session.execute(query)]
        checks.append(
            (
                f"check: SQL-built figure_daily = figures.rebuild_daily ({written:,} rows, rebuild {seconds:.1f} s)",
                ours == theirs,
                "" if ours == theirs else f"{len(ours)} vs {len(theirs)} rows",
            )
        )
    return checks


# ----------------------------------------------------------------------------------------------------------
# Timing


@contextlib.contextmanager
def recorded(eng):
    """The statements run inside the block, with their parameters and seconds."""
    from sqlalchemy import event

    seen: list[list] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append([statement, parameters, time.perf_counter()])

    def after(conn, cursor, statement, parameters, context, executemany):
        seen[-1][2] = time.perf_counter() - seen[-1][2]

    event.listen(eng.db.engine, "before_cursor_execute", before)
    event.listen(eng.db.engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(eng.db.engine, "before_cursor_execute", before)
        event.remove(eng.db.engine, "after_cursor_execute", after)


def explain(eng, backend: str, label: str, run) -> list[str]:
    """Plans of the statements of one run of `run` that took 10 ms or more (the slowest first)."""
    with recorded(eng) as seen, eng.db.read() as session:
        run(session)
    lines = []
    for statement, parameters, seconds in sorted(seen, key=lambda s: -s[2]):
        if seconds < 0.010:
            break
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
        with eng.db.engine.connect() as conn:
            plan = conn.exec_driver_sql(prefix + statement, parameters).all()
            conn.rollback()
        text = [str(r[0]) if backend == "postgresql" else f"{r[0]} (parent {r[1]}): {r[3]}" for r in plan]
        lines += [
            f"--- {backend}: {label} — {seconds * 1000:.0f} ms",
            statement.strip(),
            str(parameters),
            *text,
        ]
    return lines


def timed(eng, run) -> tuple[list[float], object]:
    for _ in range(WARMUP):
        with eng.db.read() as session:
            result = run(session)
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        with eng.db.read() as session:
            result = run(session)
        samples.append(time.perf_counter() - started)
    return samples, result


def add_row(table: Table, label: str, backend: str, samples: list[float]) -> bool:
    med, p95 = statistics.median(samples) * 1000, pct(samples, 95) * 1000
    ok = med <= TARGET_MS and p95 <= TARGET_MS
    table.add(label, backend, f"{med:.1f} ms", f"{p95:.1f} ms", len(samples), f"median, p95 <= {TARGET_MS} ms",
              "yes" if ok else "NO")  # fmt: skip
    return ok


def queries(about: dict) -> list[tuple[str, object]]:
    """(label, run(session) -> short description of the answer) for a quarter and a year, then live()."""
    from sqlalchemy import func
    from sqlalchemy import select

    from engine.services import figures

    unit, now = about["unit"], DATA_NOW.astimezone(dt.UTC)

    def figure(period, group=None, filters=None, role="lead"):
        def run(session):
            answer = figures.figures(session, period, group, filters, role)
            return f"{answer['total']['collected']:,} collected, {len(answer['rows'])} rows"

        return run

    def source(group, filters, role="lead"):
        daily = figures._daily_lookup(group, figures._clean_filters(filters), role) is not None
        return "per-day totals" if daily else "facts"

    out = []
    for code in (QUARTER, YEAR):
        period = figures.parse_period(code)
        tag = f"{'quarter' if '-Q' in code else 'year'} {code}"
        for group, role in ((None, "lead"), ("unit", "lead"), ("unit", "co"), ("field", "lead"),
                            ("category", "lead"), ("channel", "lead"), ("tier", "lead"), ("batch", "lead")):  # fmt: skip
            name = f"by {group}" + (f" ({role})" if group == "unit" else "") if group else "overall"
            out.append((f"{tag}: figures {name}", figure(period, group, role=role)))
        out.append((f"{tag}: trend", lambda s, p=period: f"{len(figures.trend(s, p))} buckets"))
        out.append(
            (
                f"{tag}: dashboard (whole call)",
                lambda s, p=period: f"{figures.dashboard(s, p, now)['total']['collected']:,} collected",
            )
        )
        out.append(
            (
                f"{tag}: dashboard filtered unit={unit} (a unit's own)",
                lambda s, p=period: (
                    f"{figures.dashboard(s, p, now, {'unit': unit})['total']['collected']:,} collected"
                ),
            )
        )
        batch = about["batches"][code]
        for group in ("area", "size", "pool", "tag"):
            out.append((f"{tag}: figures by {group}", figure(period, group)))
        area, pool = str(about["area"]), str(about["pool"])
        for group, filters in ((None, {"batch": batch}), ("category", {"unit": unit}), ("unit", {"field": "工业"}),
                               ("category", {"area": area}), ("unit", {"pool": pool}), ("area", {"size": "规上"}),
                               ("category", {"unit": unit, "field": "工业"}),
                               ("tag", {"area": area, "size": "规上"})):  # fmt: skip
            shown = ", ".join(
                f"{k}={v if k != 'batch' else v[: v.index('批') + 1]}" for k, v in filters.items()
            )
            by = f" by {group}" if group else ""
            out.append(
                (f"{tag}: filter {shown}{by} ({source(group, filters)})", figure(period, group, filters))
            )

        def drill(s, p=period):
            behind = figures.drill_cases(p, "closed", {"unit": unit}).subquery()
            return f"{s.scalar(select(func.count()).select_from(behind)):,} cases"

        out.append((f"{tag}: drill-down count (closed, unit={unit}) (facts)", drill))
    out.append(("live: open now by flag, overdue by unit", lambda s: f"{sum(figures.live(s, now)['flags'].values()):,} open"))  # fmt: skip
    return out


def subjects(eng) -> dict:
    """The unit with the most lead facts, and per period the batch with the most cases collected in it."""
    from sqlalchemy import func
    from sqlalchemy import select

    from engine.services import figures
    from engine.storage.models import FigureDaily

    with eng.db.read() as session:
        unit = session.execute(
            select(FigureDaily.key)
            .where(FigureDaily.dim == "lead")
            .group_by(FigureDaily.key)
            .order_by(func.sum(FigureDaily.collected).desc())
            .limit(1)
        ).scalar()
        batches = {}
        for code in (QUARTER, YEAR):
            period = figures.parse_period(code)
            batches[code] = session.execute(
                select(FigureDaily.key)
                .where(FigureDaily.dim == "batch", FigureDaily.day.between(period.start, period.end))
                .group_by(FigureDaily.key)
                .order_by(func.sum(FigureDaily.collected).desc())
                .limit(1)
            ).scalar()
        area = session.execute(
            select(FigureDaily.key)
            .where(FigureDaily.dim == "area")
            .group_by(FigureDaily.key)
            .order_by(func.sum(FigureDaily.collected).desc())
            .limit(1)
        ).scalar()
    classes = office_classes(eng)
    return {
        "unit": int(unit),
        "batches": batches,
        "area": area,
        "pool": str(classes["tags"]["key"]),
        "tag": str(classes["tags"]["hitech"]),
    }


# ----------------------------------------------------------------------------------------------------------


PLANS: list[str] = []


def bench(table: Table, databases: Databases, backend: str, n: int, tmp: Path) -> None:
    if (
        backend == "sqlite" and databases.keep
    ):  # run_per_backend's temp dir goes at the end: keep it elsewhere
        url = f"sqlite:///{tempfile.mkdtemp(prefix='jienan-bench-figures-')}/figures.db"
        log(f"keeping the SQLite database {url}")
    else:
        url = databases.new(backend, f"figures_{backend}")
    eng = prepared_engine(url, tmp / f"uploads_{backend}")
    try:
        log(f"{backend}: generating {n:,} cases and their facts")
        made = generate(eng, backend, n)
        table.add(
            f"generate {n:,} cases ({made['closed_share']:.0%} closed), {made['facts']:,} facts, "
            f"{made['daily']:,} daily rows",
            backend,
            f"{made['total_s']:.0f} s",
            "-",
            1,
        )
        table.add(
            f"  cases {made['cases_s']:.0f} s, facts {made['facts_s']:.0f} s, daily {made['daily_s']:.0f} s, "
            f"indexes {made['index_s']:.0f} s, analyze {made['analyze_s']:.0f} s",
            backend,
            "",
            "",
            "",
        )
        about = subjects(eng)
        for label, ok, detail in check_daily(eng, n, about):
            table.add(label, backend, "-", "-", 1, "equal", "yes" if ok else f"NO {detail}")
            log(f"  {label}: {'yes' if ok else 'NO ' + detail}")
        slow = []
        for label, run in queries(about):
            samples, answer = timed(eng, run)
            if not add_row(table, f"{label} [{answer}]", backend, samples):
                slow.append((label, run))
            log(f"  {label}: {statistics.median(samples) * 1000:.1f} ms [{answer}]")
        if EXPLAIN:
            for label, run in slow:
                PLANS.extend(explain(eng, backend, label, run))
    finally:
        eng.dispose()


def main(argv=None) -> int:
    global EXPLAIN
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--cases", type=int)
    parser.add_argument("--explain", action="store_true")
    ours, rest = parser.parse_known_args(argv)
    EXPLAIN = ours.explain
    status = run_per_backend(
        __doc__,
        rest,
        smoke=ours.cases or SMOKE,
        quick=ours.cases or QUICK,
        full=ours.cases or FULL,
        what="cases",
        bench=bench,
    )
    if PLANS:
        print("\nPlans of the statements (>= 10 ms) of the queries over target:\n")
        print("\n".join(PLANS))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
