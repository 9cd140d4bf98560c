"""Visit campaign benchmark: creating and launching a campaign of 5,000 enterprises (one visit instance and task
each), and the coverage figures over 100,000 recorded visits, on SQLite and PostgreSQL. Prints the machine facts
and one table; never asserts on time, always exits 0.

    .venv/bin/python bench/bench_campaigns.py            # 5,000 enterprises, 100,000 visits
    .venv/bin/python bench/bench_campaigns.py --quick    # 500 enterprises, 10,000 visits
    options: --pg URL   --no-pg   --keep

The enterprises are spread over the demo's areas and paired at the 助企干部 level with 500 roster cadres (no
accounts: each cadre's unit holds the task). The campaign runs the real services: scope by filter, visitors by
pairing, three waves, launch (the engine runs visit.bpmn once per wave; the other instances are copies of that
state with fresh task ids, inserted in bulk with their task rows). For comparison, starting the same instances one by
one through the engine is timed on a sample and extrapolated. The 100,000 visits for the coverage figures belong to
20 earlier campaigns of 5,000 enterprises each (the same enterprises), inserted straight into the tables — only
the read model matters there — with their questionnaire answers (4 per visit) and 0–2 problems each.
"""

from __future__ import annotations

import datetime as dt
import random
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
from bench.bench_pairing import enterprises  # noqa: E402

SAMPLES = 15
CADRES = 500
HISTORY = 20  # earlier campaigns holding the recorded visits


def _timed(call, samples: int = SAMPLES) -> tuple[list[float], object]:
    result = call()  # warm up
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return times, result


def pair_cadres(eng, count: int) -> None:
    """Every bench enterprise in an area and paired at the 助企干部 level with one of `CADRES` roster cadres."""
    from sqlalchemy import insert
    from sqlalchemy import select
    from sqlalchemy import update

    from engine.storage.models import Area
    from engine.storage.models import Enterprise
    from engine.storage.models import Pairing
    from engine.storage.models import PairingLevel
    from engine.storage.models import RosterPerson
    from engine.storage.models import Unit

    now = eng.now()
    with eng.db.transaction() as session:
        areas = session.scalars(select(Area.area_id)).all()
        units = session.scalars(select(Unit.unit_id).order_by(Unit.unit_id)).all()
        level = session.scalars(select(PairingLevel).where(PairingLevel.code == "cadre")).one()
        ids = session.scalars(
            select(Enterprise.enterprise_id)
            .where(Enterprise.name.like("压测企业%"))
            .order_by(Enterprise.enterprise_id)
        ).all()
        session.execute(
            update(Enterprise),
            [
                {"enterprise_id": e, "area_id": areas[i % len(areas)], "size_class": "规上"}
                for i, e in enumerate(ids)
            ],
        )
        people = session.scalars(
            insert(RosterPerson).returning(RosterPerson.person_id, sort_by_parameter_order=True),
            [
                {
                    "name": f"干部{i:03d}",
                    "unit_id": units[i % len(units)],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(CADRES)
            ],
        ).all()
        session.execute(
            insert(Pairing),
            [
                {
                    "enterprise_id": e,
                    "level_id": level.level_id,
                    "person_id": people[i % CADRES],
                    "unit_id": units[(i % CADRES) % len(units)],
                    "created_at": now,
                }
                for i, e in enumerate(ids[:count])
            ],
        )


def history(eng, per_campaign: int, campaigns: int, rng: random.Random) -> int:
    """`campaigns` closed campaigns over the bench enterprises, every target visited: returns the visits inserted."""
    from sqlalchemy import insert
    from sqlalchemy import select

    from engine.storage.models import Enterprise
    from engine.storage.models import Pairing
    from engine.storage.models import Visit
    from engine.storage.models import VisitAnswer
    from engine.storage.models import VisitCampaign
    from engine.storage.models import VisitTarget
    from engine.storage.models import VisitWave

    now = eng.now()
    keys = {
        "operation": ["good", "stable", "difficult", "stopped"],
        "orders_trend": ["up", "flat", "down"],
        "main_need": ["finance", "labour", "land", "none"],
        "policy_known": ["yes", "partly", "no"],
    }
    total = 0
    with eng.db.read() as session:
        firms = session.execute(
            select(Enterprise.enterprise_id, Enterprise.area_id, Pairing.person_id, Pairing.unit_id)
            .join(Pairing, Pairing.enterprise_id == Enterprise.enterprise_id)
            .where(Enterprise.name.like("压测企业%"))
            .order_by(Enterprise.enterprise_id)
        ).all()[:per_campaign]
    for number in range(campaigns):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=30 * number)
        with eng.db.transaction() as session:
            campaign = VisitCampaign(
                name=f"历史走访{number:02d}",
                form_key="visit_survey",
                status="closed",
                scope={},
                assignment={},
                start_date=start,
                end_date=start + dt.timedelta(days=20),
                created_at=now,
            )
            session.add(campaign)
            session.flush()
            wave = VisitWave(
                campaign_id=campaign.campaign_id,
                name="第一批",
                start_date=start,
                end_date=start + dt.timedelta(days=20),
                sort_order=0,
            )
            session.add(wave)
            session.flush()
            targets = session.scalars(
                insert(VisitTarget).returning(VisitTarget.target_id, sort_by_parameter_order=True),
                [
                    {
                        "campaign_id": campaign.campaign_id,
                        "wave_id": wave.wave_id,
                        "enterprise_id": e,
                        "area_id": area,
                        "visitor_person_id": person,
                        "visitor_unit_id": unit,
                        "visitor_name": f"干部{person % 1000:03d}",
                        "status": "visited",
                        "due_at": now - dt.timedelta(days=400),
                        "visited_at": now - dt.timedelta(days=400),
                    }
                    for e, area, person, unit in firms
                ],
            ).all()
            visits = session.scalars(
                insert(Visit).returning(Visit.visit_id, sort_by_parameter_order=True),
                [
                    {
                        "campaign_id": campaign.campaign_id,
                        "target_id": t,
                        "enterprise_id": e,
                        "visited_on": start + dt.timedelta(days=i % 20),
                        "visitors": "压测",
                        "met_with": "负责人",
                        "unit_id": unit,
                        "person_id": person,
                        "area_id": area,
                        "form_key": "visit_survey",
                        "answers": {},
                        "problems": rng.choice((0, 0, 0, 1, 2)),
                        "recorded_at": now,
                    }
                    for i, (t, (e, area, person, unit)) in enumerate(zip(targets, firms, strict=True))
                ],
            ).all()
            session.execute(
                insert(VisitAnswer),
                [
                    {
                        "visit_id": v,
                        "field": k,
                        "value": rng.choice(values),
                        "campaign_id": campaign.campaign_id,
                    }
                    for v in visits
                    for k, values in keys.items()
                ],
            )
            total += len(visits)
    return total


def one_by_one(eng, count: int) -> float:
    """Seconds per instance to start `count` visit instances one at a time through the engine (create, run to the
    recording task, serialise, insert instance and task rows) — what launching would cost without the bulk path."""
    from engine.services import flow
    from engine.services import visits
    from engine.storage.models import HumanTask
    from engine.workflow import runtime

    started = time.perf_counter()
    with eng.db.transaction() as session:
        version_id = flow.latest_version_id(session, visits.PROCESS_ID)
        parsed = flow.parsed_version(eng, session, version_id)
        for _ in range(count):
            engine = flow.rule_script_engine(eng, session, visits.VisitApi(eng.clock, {"flag": None}))
            data = {"campaign_id": 0, "campaign": "x", "wave": "x", "due": "2099-01-01T18:00:00+08:00"}
            workflow = runtime.create(parsed, str(version_id), engine, data)
            flow.run_engine(eng, workflow)
            instance = flow.new_instance(session, eng, version_id, None)
            instance.kind = "bench"
            instance.state = runtime.dumps(workflow)
            instance.next_timer_at = runtime.next_timer(workflow)
            for task in runtime.ready_human_tasks(workflow):
                session.add(
                    HumanTask(
                        task_id=str(task.id),
                        instance_id=instance.instance_id,
                        kind="bench",
                        task_name="record_visit",
                        title="x",
                        role="registrar",
                        created_at=eng.now(),
                        case_no="x",
                        case_title="x",
                        enterprise_name="x",
                        field="",
                        category="",
                        channel="走访",
                        urgency="",
                        round_no=1,
                    )
                )
        session.flush()
        elapsed = time.perf_counter() - started
        session.rollback()  # measured only: nothing kept
    return elapsed / count


def bench(table: Table, databases: Databases, backend: str, n: int, tmp: Path) -> None:
    from engine.services import visit_views
    from engine.services import visits
    from engine.services.last_visits import last_visits

    eng = prepared_engine(databases.new(backend, f"campaigns_{backend}"), tmp / f"uploads_{backend}")
    actors = Actors(eng)
    manager = actors("manager")
    rng = random.Random(14)
    enterprises(eng, n)
    pair_cadres(eng, n)
    log(f"  {backend}: {n:,} enterprises paired with {CADRES} cadres")

    today = visits.today(eng)

    def campaign(name: str, launch: bool) -> dict:
        return visits.create_campaign(
            eng,
            manager,
            {
                "name": name,
                "form_key": "visit_survey",
                "waves": [
                    {
                        "name": name,
                        "start_date": today + dt.timedelta(days=30 * k),
                        "end_date": today + dt.timedelta(days=30 * k + 29),
                    }
                    for k, name in enumerate(("第一批", "第二批", "第三批"))
                ],
                "scope": {"q": "压测企业", "filters": {"size": "规上"}},
                "assignment": {"mode": "pairing", "level": "cadre"},
                "launch": launch,
            },
        )

    started = time.perf_counter()
    draft = campaign("压测走访（草稿）", launch=False)
    create_s = time.perf_counter() - started
    started = time.perf_counter()
    launched = visits.launch_campaign(eng, manager, draft["campaign_id"])
    launch_s = time.perf_counter() - started
    table.add(
        f"create a campaign of {draft['targets']:,} enterprises (draft: scope, visitors by pairing, 3 waves)",
        backend,
        f"{create_s:.2f} s",
        "-",
        draft["targets"],
    )
    table.add(
        f"launch it: {launched['tasks']:,} visit instances + tasks (bulk)",
        backend,
        f"{launch_s:.2f} s",
        "-",
        launched["tasks"],
    )
    started = time.perf_counter()
    both = campaign("压测走访（创建并发布）", launch=True)
    table.add(
        "create and launch in one call (same scope)",
        backend,
        f"{time.perf_counter() - started:.2f} s",
        "-",
        both["targets"],
    )
    sample = min(200, n)
    per = one_by_one(eng, sample)
    table.add(
        f"  for comparison: one instance at a time through the engine (x {n:,}, from {sample})",
        backend,
        f"{per * n:.2f} s",
        "-",
        sample,
    )
    log(f"  {backend}: launched {launched['tasks']:,} in {launch_s:.2f} s")

    # One visit recorded through the real path (load the cloned instance, complete, settle).
    registrar_like = actors("handler_econ")
    mine = visit_views.list_targets(
        eng, registrar_like, {"campaign": draft["campaign_id"], "status": "pending"}
    )
    task_id = next((i["task_id"] for i in mine["items"] if i["task_id"]), None)
    if task_id:
        from engine.services import tasks

        record = {
            "visited_on": visits.today(eng).isoformat(),
            "visitors": "压测",
            "met_with": "负责人",
            "findings": "none",
            "answers": {
                "operation": "good",
                "orders_trend": "up",
                "main_need": "none",
                "policy_known": "yes",
            },
        }
        started = time.perf_counter()
        tasks.complete_task(eng, registrar_like, task_id, record)
        table.add(
            "record one visit on a cloned instance (complete the task)",
            backend,
            f"{(time.perf_counter() - started) * 1000:.1f} ms",
            "-",
            1,
        )

    visits_n = history(eng, n, HISTORY if n >= 5000 else max(2, HISTORY * n // 5000), rng)
    log(f"  {backend}: {visits_n:,} visits inserted")
    if backend == "sqlite":
        eng.db.optimize()
    times, listed = _timed(lambda: visit_views.list_campaigns(eng, manager))
    table.ms(
        f"campaign list with coverage ({len(listed['items'])} campaigns, {visits_n:,} visits)", backend, times
    )
    for group in ("unit", "cadre", "area"):
        times, result = _timed(lambda group=group: visit_views.coverage(eng, manager, group))
        table.ms(f"coverage by {group}, all campaigns ({len(result['rows'])} rows)", backend, times)
    old = listed["items"][-1]["campaign_id"]
    times, _r = _timed(lambda: visit_views.get_campaign(eng, manager, old))
    table.ms(f"one campaign's page data ({n:,} enterprises: 4 groupings + answers)", backend, times)
    times, _r = _timed(
        lambda: visit_views.list_targets(eng, manager, {"campaign": old, "answer": "operation=difficult"})
    )
    table.ms("its enterprises answering operation=difficult, page 1", backend, times)
    times, _r = _timed(lambda: visit_views.coverage(eng, actors("handler_econ"), "cadre"))
    table.ms("coverage by cadre as one unit (its rows only)", backend, times)
    with eng.db.read() as session:
        from sqlalchemy import select

        from engine.storage.models import Enterprise

        ids = session.scalars(
            select(Enterprise.enterprise_id).where(Enterprise.name.like("压测企业%")).limit(1000)
        ).all()

    def last():
        with eng.db.read() as session:
            return last_visits(session, ids)

    times, _r = _timed(last)
    table.ms(f"last visit of {len(ids):,} enterprises (my enterprises)", backend, times)

    from web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False}, engine=eng)
    client = app.test_client()
    client.post("/login", data={"username": "manager", "password": "jienan2026"})
    times, response = _timed(lambda: client.get(f"/campaigns/{old}"), samples=5)
    assert response.status_code == 200
    table.ms("  the page /campaigns/<id> (service + template, test client)", backend, times)
    eng.dispose()


def main(argv=None) -> int:
    return run_per_backend(__doc__, argv, smoke=40, quick=500, full=5_000, what="enterprises", bench=bench)


if __name__ == "__main__":
    raise SystemExit(main())
