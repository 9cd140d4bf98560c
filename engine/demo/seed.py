"""Seeds an empty database with the demo programme (idempotent: does nothing if users already exist)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select
from stdnum.cn import uscc

from engine.domain import calendar
from engine.domain.clock import LOCAL_TZ
from engine.domain.clock import FixedClock
from engine.services import auth
from engine.services import cases as case_service
from engine.services import evaluation
from engine.services import figures
from engine.services import loop
from engine.services import tasks
from engine.storage.models import Case
from engine.storage.models import Enterprise
from engine.storage.models import Unit
from engine.storage.models import User
from engine.storage.models import WorkflowInstance

SAMPLE = Path(__file__).with_name("sample_cases.json")
DEMO_PASSWORD = "jienan2026"

ROLE_USERS = [
    ("registrar", "助企干部 王芳", ["registrar"], None),
    ("dispatcher", "企业服务办 李强", ["dispatcher"], "campaign_office"),
    ("leader", "市领导 张明", ["leader"], None),
    ("supervisor", "督查局 陈静", ["supervisor"], "inspection"),
    ("manager", "活动办 刘洋", ["manager"], "campaign_office"),
    ("designer", "流程设计 赵磊", ["designer"], None),
    ("admin", "系统管理员", ["admin"], None),
]
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def demo_credit_code(name: str) -> str:
    """A deterministic, valid unified social credit code for a demo enterprise name."""
    digest = int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16)
    body = "91350400"
    for _ in range(9):
        digest, index = divmod(digest, len(_ALPHABET))
        body += _ALPHABET[index]
    code = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(code)
    return code


def seed_demo(eng, progress: bool = True, cases: bool = True) -> dict:
    """Create demo units, users, enterprises and cases. Returns counts; no-op when users exist."""
    sample = json.loads(SAMPLE.read_text("utf-8"))
    with eng.db.transaction() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return {"skipped": True}
        units = {}
        for unit in sample["units"]:
            row = Unit(code=unit["code"], name=unit["name"], kind=unit["kind"], is_active=True)
            session.add(row)
            session.flush()
            units[unit["code"]] = row
        for username, name, roles, unit_code in ROLE_USERS:
            auth.create_user(
                session,
                eng,
                username=username,
                display_name=name,
                password=DEMO_PASSWORD,
                roles=roles,
                unit_id=units[unit_code].unit_id if unit_code else None,
            )
        for code, unit in units.items():
            auth.create_user(
                session,
                eng,
                username=f"handler_{code}",
                display_name=f"{unit.name} 承办人",
                password=DEMO_PASSWORD,
                roles=["handler"],
                unit_id=unit.unit_id,
            )
        for name in dict.fromkeys(c["enterprise"] for c in sample["cases"]):
            field = next(c["field"] for c in sample["cases"] if c["enterprise"] == name)
            session.add(
                Enterprise(name=name, credit_code=demo_credit_code(name), field=field, created_at=eng.now())
            )
    if not cases:
        return {"units": len(units), "cases": 0}
    registrar = auth.authenticate(eng, "registrar", DEMO_PASSWORD)
    registered = []
    for item in sample["cases"]:
        result = _register(eng, registrar, item)
        registered.append((result, item))
    if progress:
        _progress_some(eng, registered)
        history = _last_quarter(eng, sample)
    else:
        history = 0
    return {"units": len(units), "cases": len(registered) + history}


def _last_quarter(eng, sample: dict) -> int:
    """Last quarter's work, so the figures, the dashboard and the quarterly evaluation have a past: each sample
    problem twice, spread over the quarter; 供电 closes everything on time, 自然资源 half of its cases and late
    (black board — its second: the quarter before it was black-listed too, so the interview climbs to the city
    leader in charge), 经信 signs and stops (nothing closed or revisited: no on-time or satisfaction rate, so it
    is unranked with the reason instead of scoring 0). The quarter before last holds only 自然资源's cases,
    published, its interview held. Ends with last quarter's evaluation computed and waiting for the programme
    office's review."""
    last = figures.previous_quarter(figures.quarter_of(figures.local_day(eng.clock.now())))
    before = figures.previous_quarter(last)
    land_items = [item for item in sample["cases"] if item["lead_unit"] == "land"] * 2
    count, _open = _quarter_work(eng, before, land_items)
    manager = auth.authenticate(eng, "manager", DEMO_PASSWORD)
    _evaluate_and_publish(eng, manager, before)
    done, left_open = _quarter_work(eng, last, sample["cases"] * 2)
    # One of 自然资源's open ordinary cases runs on past its deadline until the supervision table's black flag.
    _overdue_until_black(
        eng, next(c for c, item in left_open if item["lead_unit"] == "land" and item["urgency"] == "一般")
    )
    evaluation.start_now(eng, manager, last.code)
    return count + done


def _evaluate_and_publish(eng, manager, period) -> None:
    """The quarter's evaluation, published, and each interview recorded."""
    evaluation.start_now(eng, manager, period.code)
    supervisor = auth.authenticate(eng, "supervisor", DEMO_PASSWORD)
    for actor, data in (
        (manager, {"decision": "publish", "review_note": "经活动办审定发布。"}),
        (
            supervisor,
            {
                "interview_date": period.end.isoformat(),
                "interviewee": "单位主要负责人",
                "interview_record": "牵头问题办结率低、反馈超期，当面指出问题。",
                "rectification": "一个月内办结全部超期问题，报送整改报告。",
            },
        ),
    ):
        for task in tasks.list_tasks(eng, actor, "mine", per_page=200)["items"]:
            if task["case_no"] == period.code:
                tasks.complete_task(eng, actor, task["task_id"], data)


def _quarter_work(eng, period, items: list[dict]) -> tuple[int, list[tuple[int, dict]]]:
    """The sample problems `items`, spread over the quarter `period` and handled as the demo units do. Returns
    how many, and the (case id, item) of the cases left open with the unit."""
    left_open = []
    wall = eng.clock
    step = max(1, (period.days - 20) // len(items))
    registrar = auth.authenticate(eng, "registrar", DEMO_PASSWORD)
    done = {"land": 0}
    try:
        for index, item in enumerate(items):
            day = period.start + dt.timedelta(days=index * step)
            eng.clock = FixedClock(dt.datetime.combine(day, dt.time(9, 30), tzinfo=LOCAL_TZ))
            result = _register(eng, registrar, item)
            case_id, lead = result["case_id"], item["lead_unit"]
            if result["status"] == "on_site":
                _act(
                    eng, "registrar", case_id, {"on_site_result": "resolved", "on_site_actions": "当场答复。"}
                )
            else:
                dispatch = {
                    "tier": "department",
                    "lead_unit": lead,
                    "co_units": [u for u in item["co_units"] if u != lead],
                    "time_limit_days": result["time_limit_days"] or 10,
                    "dispatch_note": "请按时限办理并反馈。",
                }
                _act(eng, "dispatcher", case_id, dispatch)
                _act(eng, f"handler_{lead}", case_id, {"sign_decision": "sign"})
                if lead == "econ" or (lead == "land" and done["land"] >= 3):
                    left_open.append((case_id, item))
                    continue
                done["land"] += lead == "land"
                if lead == "land":
                    _set_clock(eng, _deadline(eng, case_id) + dt.timedelta(hours=2))  # reported late
                else:
                    eng.clock.advance(days=2)
                _handle(eng, case_id, lead, item)
            eng.clock.advance(days=1)
            _act(
                eng,
                "registrar",
                case_id,
                {"solved": "yes", "satisfaction": "satisfied", "revisit_method": "phone"},
            )
            _act(eng, "dispatcher", case_id, {"closing_summary": "企业反馈问题已解决，予以销号。"})
    finally:
        eng.clock = wall
    return len(items), left_open


def _overdue_until_black(eng, case_id: int) -> None:
    """Let an open case run on, one working day after another past its deadline, its timers firing as the
    worker fires them (red flag, supervision, notice), until the supervision table's black flag is up."""
    wall = eng.clock
    moment = _deadline(eng, case_id)
    try:
        for _day in range(20):
            moment = calendar.add_working_days(moment, 1)
            _set_clock(eng, moment + dt.timedelta(minutes=1))
            with eng.db.transaction() as session:
                instance = session.scalars(
                    select(WorkflowInstance).where(
                        WorkflowInstance.case_id == case_id, WorkflowInstance.status == "running"
                    )
                ).one()
                loop.fire(eng, session, instance)
                if session.get(Case, case_id).flag == "black":
                    return
    finally:
        eng.clock = wall


def _deadline(eng, case_id: int) -> dt.datetime:
    with eng.db.read() as session:
        return session.get(Case, case_id).deadline_at


def _set_clock(eng, moment: dt.datetime) -> None:
    eng.clock = FixedClock(moment.astimezone(LOCAL_TZ))


def _register(eng, registrar, item: dict) -> dict:
    """Register one sample problem as the registrar."""
    with eng.db.read() as session:
        enterprise_id = session.scalar(
            select(Enterprise.enterprise_id).where(Enterprise.name == item["enterprise"])
        )
    return case_service.register_case(
        eng,
        registrar,
        {
            "enterprise_id": enterprise_id,
            "channel": "12345热线" if item["channel"] == "12345" else item["channel"],
            "field": item["field"],
            "category": item["category"],
            "urgency": item["urgency"],
            "title": item["description"][:40],
            "description": item["description"],
            "library": "key" if item["urgency"] in ("重大", "特急") else "general",
        },
    )


def _act(eng, username: str, case_id: int, data: dict, _actors: dict = {}) -> None:  # noqa: B006
    key = (id(eng), username)  # logging in hashes the password: once per user, not per step
    if key not in _actors:
        _actors[key] = auth.authenticate(eng, username, DEMO_PASSWORD)
    actor = _actors[key]
    mine = tasks.list_tasks(eng, actor, "mine", per_page=200)["items"]
    task = next(t for t in mine if t["case_id"] == case_id)
    tasks.complete_task(eng, actor, task["task_id"], data)


def _handle(eng, case_id: int, lead: str, item: dict) -> None:
    """The unit reports the problem resolved and the dispatcher accepts it."""
    _act(
        eng,
        f"handler_{lead}",
        case_id,
        {"outcome": "resolved", "handling_actions": item["what_happened"][:1000]},
    )
    _act(eng, "dispatcher", case_id, {"verdict": "accept"})


def _progress_some(eng, registered: list[tuple[dict, dict]]) -> None:
    """Move part of the demo cases along so every inbox and status has something to show."""
    for index, (result, item) in enumerate(registered):
        if result["status"] != "dispatching" or index % 4 == 3:
            continue
        case_id, lead = result["case_id"], item["lead_unit"]
        dispatch = {
            "tier": result["tier"] if result["tier"] != "on_site" else "department",
            "lead_unit": lead,
            "co_units": [u for u in item["co_units"] if u != lead],
            "time_limit_days": result["time_limit_days"] or 10,
            "dispatch_note": "请按时限办理并反馈。",
        }
        if dispatch["tier"] == "city_leader":
            dispatch["responsible_leader"] = "leader"
        _act(eng, "dispatcher", case_id, dispatch)
        if dispatch["tier"] == "city_leader":
            _act(
                eng,
                "leader",
                case_id,
                {"meeting_held": False, "leader_instructions": "请牵头单位抓紧协调解决。", "lead_unit": lead},
            )
        if index % 4 == 2:
            continue
        _act(eng, f"handler_{lead}", case_id, {"sign_decision": "sign"})
        if index % 4 == 1:
            continue
        _handle(eng, case_id, lead, item)
        if index % 8 == 0:
            _act(
                eng,
                "registrar",
                case_id,
                {"solved": "yes", "satisfaction": "satisfied", "revisit_method": "phone"},
            )
            _act(eng, "dispatcher", case_id, {"closing_summary": "企业反馈问题已解决，予以销号。"})
