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
from engine.services import plans
from engine.services import ratings
from engine.services import tasks
from engine.services import visits
from engine.services.pairing import Lookup
from engine.services.pairing import PersonResolver
from engine.services.pairing import check_row
from engine.services.pairing import new_pairing
from engine.storage.models import Area
from engine.storage.models import Case
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseChange
from engine.storage.models import EnterpriseContact
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag
from engine.storage.models import EnterpriseYear
from engine.storage.models import RatingInvite
from engine.storage.models import Unit
from engine.storage.models import User
from engine.storage.models import WorkflowInstance

SAMPLE = Path(__file__).with_name("sample_cases.json")
ENTERPRISES = Path(__file__).with_name("sample_enterprises.json")
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
        profiles = json.loads(ENTERPRISES.read_text("utf-8"))
        areas, tags = _office_lists(session, eng, profiles, units)
        for name in dict.fromkeys(c["enterprise"] for c in sample["cases"]):
            field = next(c["field"] for c in sample["cases"] if c["enterprise"] == name)
            enterprise = Enterprise(
                name=name, credit_code=demo_credit_code(name), field=field, created_at=eng.now()
            )
            session.add(enterprise)
            _enterprise_file(session, eng, enterprise, profiles["enterprises"].get(name, {}), areas, tags)
        session.flush()
        _pairings(session, eng)
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
        _plans(eng)
        _visit_campaign(eng)
        _rating_round(eng)
    else:
        history = 0
    return {"units": len(units), "cases": len(registered) + history}


def _office_lists(session, eng, profiles: dict, units: dict) -> tuple[dict, dict]:
    """The demo office's areas (乡镇街道) and pools and tags, by code."""
    areas, tags = {}, {}
    for order, item in enumerate(profiles["areas"]):
        unit = units.get(item.get("unit"))
        areas[item["code"]] = Area(
            code=item["code"],
            name=item["name"],
            kind=item["kind"],
            unit_id=unit.unit_id if unit else None,
            sort_order=order,
            is_active=True,
            updated_at=eng.now(),
        )
    for order, item in enumerate(profiles["tags"]):
        tags[item["code"]] = EnterpriseTag(
            code=item["code"],
            name=item["name"],
            kind=item["kind"],
            description=item.get("description"),
            with_batch=item.get("with_batch", False),
            with_date=item.get("with_date", False),
            date_label=item.get("date_label"),
            sort_order=order,
            is_active=True,
            updated_at=eng.now(),
        )
    session.add_all([*areas.values(), *tags.values()])
    session.flush()
    return areas, tags


def _enterprise_file(session, eng, enterprise: Enterprise, profile: dict, areas: dict, tags: dict) -> None:
    """A demo enterprise's classes, pools and tags (and one it left), contacts and key figures by year."""
    area = areas.get(profile.get("area"))
    enterprise.area_id = area.area_id if area else None
    enterprise.size_class = profile.get("size")
    enterprise.sector = profile.get("sector")
    enterprise.address = profile.get("address")
    if profile.get("contact"):
        enterprise.contact_name, enterprise.contact_phone = profile["contact"]
    session.flush()
    now = eng.now()

    def day(text):
        return dt.date.fromisoformat(text) if text else None

    for code, batch, since in profile.get("tags", []):
        session.add(
            EnterpriseMembership(
                enterprise_id=enterprise.enterprise_id,
                tag_id=tags[code].tag_id,
                batch=batch,
                since=day(since),
                added_at=now,
            )
        )
    for code, batch, since, left in profile.get("left", []):
        session.add(
            EnterpriseMembership(
                enterprise_id=enterprise.enterprise_id,
                tag_id=tags[code].tag_id,
                batch=batch,
                since=day(since),
                added_at=now,
                removed_at=dt.datetime.combine(day(left), dt.time(10), tzinfo=LOCAL_TZ),
            )
        )
    for order, contact in enumerate(profile.get("contacts", [])):
        session.add(EnterpriseContact(enterprise_id=enterprise.enterprise_id, sort_order=order, **contact))
    for year, (output, revenue, employees) in profile.get("years", {}).items():
        session.add(
            EnterpriseYear(
                enterprise_id=enterprise.enterprise_id,
                year=int(year),
                output_value=output,
                revenue=revenue,
                employees=employees,
                updated_at=now,
            )
        )
    session.add(
        EnterpriseChange(
            enterprise_id=enterprise.enterprise_id,
            at=now,
            action="created",
            source="file",
            summary=f"建档：{enterprise.name}（演示数据）",
        )
    )


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


# The demo roster (包联名册): three levels for a few enterprises — a city leader, a helping unit with its head, the
# enterprise's own head — plus cadres and streets. 张明 (`leader`) and 王芳 (`registrar`) have accounts, so their
# "my enterprises" list is filled; 王建国 and the unit heads are on the roster without an account.
# (enterprise, level, unit, name, title, phone, account)
DEMO_PAIRINGS = [
    ("杭叉集团", "市级领导结对", "", "张明", "副市长", "", "leader"),
    ("杭叉集团", "帮扶单位挂钩", "经济和信息化局", "周伟", "局长", "0571-63700101", ""),
    ("杭叉集团", "企业负责人", "", "赵建华", "董事长", "13805710001", ""),
    ("杭叉集团", "助企干部", "", "王芳", "助企干部", "13905710002", "registrar"),
    ("森源电缆", "市级领导结对", "", "张明", "副市长", "", "leader"),
    ("森源电缆", "帮扶单位挂钩", "经济和信息化局", "周伟", "局长", "0571-63700101", ""),
    ("森源电缆", "企业负责人", "", "孙立", "总经理", "13805710003", ""),
    ("森源电缆", "助企干部", "经济和信息化局", "陈刚", "科员", "13905710004", ""),
    ("西子联合电梯部件产业园", "市级领导结对", "", "王建国", "副市长", "", ""),
    ("西子联合电梯部件产业园", "帮扶单位挂钩", "市电业局（供电公司）", "林海", "副局长", "0571-63700202", ""),
    ("西子联合电梯部件产业园", "企业负责人", "", "钱程", "总经理", "13805710005", ""),
    ("临安宝马机电", "帮扶单位挂钩", "经济和信息化局", "", "", "", ""),
    ("临安宝马机电", "属地镇街服务", "青山湖科技城管委会", "吴敏", "副主任", "0571-63700303", ""),
    ("临安宝马机电", "助企干部", "", "王芳", "助企干部", "13905710002", "registrar"),
    ("方兴管业", "属地镇街服务", "玉泉街道", "", "", "", ""),
    ("方兴管业", "助企干部", "", "王芳", "助企干部", "13905710002", "registrar"),
    ("美临塑业", "帮扶单位挂钩", "人力资源和社会保障局", "", "", "", ""),
]


def _pairings(session, eng) -> None:
    """The demo roster, through the same row checks and person matching as an imported roster file."""
    actor = auth.actor_of(session, session.scalars(select(User).where(User.username == "manager")).one())
    codes = dict(session.execute(select(Enterprise.name, Enterprise.credit_code)).all())
    rows = [
        {"credit_code": codes[e], "level": lv, "unit": u, "name": n, "title": t, "phone": p, "account": a}
        for e, lv, u, n, t, p, a in DEMO_PAIRINGS
    ]
    lookup = Lookup.load(session, usernames=["leader", "registrar"], credit_codes=codes.values())
    checked = []
    for values in rows:
        row, problems = check_row(values, lookup)
        assert not problems, (values, problems)
        checked.append(row)
    resolver = PersonResolver(session, eng, [r.person_name for r in checked])
    people = [resolver.person(r) if r.person_name else None for r in checked]
    session.flush()
    session.add_all([new_pairing(r, p, eng, actor) for r, p in zip(checked, people, strict=True)])


def _plans(eng) -> None:
    """Two plans (一企一策) with items in every state: 杭叉集团's has one overdue, one in progress, one done and one
    cancelled, linked to its cases; 森源电缆's is half done."""
    manager = auth.authenticate(eng, "manager", DEMO_PASSWORD)
    today = eng.now().astimezone(LOCAL_TZ).date()
    with eng.db.read() as session:
        cases = {}
        for case_id, name, unit_code in session.execute(
            select(Case.case_id, Case.enterprise_name, Unit.code)
            .outerjoin(Unit, Unit.unit_id == Case.lead_unit_id)
            .order_by(Case.case_id)
        ):
            cases.setdefault((name, unit_code), case_id)
        hangcha = [c for (name, _u), c in cases.items() if name == "杭叉集团"]
    day = dt.timedelta(days=1)
    plan = plans.create_plan(
        eng,
        manager,
        {
            "enterprise_id": _enterprise_id(eng, "杭叉集团"),
            "title": "杭叉集团2026年度一企一策",
            "goal": "保障新厂区按期投产：用电增容、技改补贴、周边道路和用工四件事年内落地。",
            "items": [
                {
                    "title": "协调新厂区10千伏用电增容，6月底前送电",
                    "owner_unit": "power",
                    "due_date": (today + 20 * day).isoformat(),
                    "status": "in_progress",
                    "progress_note": "已完成现场踏勘，线路方案待审批。",
                    "case_ids": hangcha[:1],
                },
                {
                    "title": "指导申报智能化技改补贴",
                    "owner_unit": "econ",
                    "due_date": (today - 5 * day).isoformat(),
                    "status": "pending",
                    "case_ids": hangcha[1:2],
                },
                {
                    "title": "厂区北门道路改造及公交站点调整",
                    "owner_unit": "transport",
                    "due_date": (today - 30 * day).isoformat(),
                    "status": "done",
                    "progress_note": "道路已完成改造，公交站点已北移。",
                    "case_ids": hangcha[:1],
                },
                {
                    "title": "专场招聘会（企业已自行解决，取消）",
                    "owner_unit": "hr",
                    "due_date": (today + 40 * day).isoformat(),
                    "status": "cancelled",
                },
            ],
        },
    )
    plans.create_plan(
        eng,
        manager,
        {
            "enterprise_id": _enterprise_id(eng, "森源电缆"),
            "title": "森源电缆扩产一企一策",
            "items": [
                {
                    "title": "协调扩产项目用地指标",
                    "owner_unit": "land",
                    "due_date": (today + 60 * day).isoformat(),
                },
                {"title": "高新技术企业认定辅导", "owner_unit": "econ", "status": "done"},
            ],
        },
    )
    detail = plans.get_plan(eng, manager, plan["plan_id"])
    technical = next(i for i in detail["items"] if i["owner_unit"] == "经济和信息化局")
    econ = auth.authenticate(eng, "handler_econ", DEMO_PASSWORD)
    plans.update_item(eng, econ, technical["item_id"], {"progress_note": "企业材料尚缺两项，已电话催报。"})


def _enterprise_id(eng, name: str) -> int:
    with eng.db.read() as session:
        return session.scalar(select(Enterprise.enterprise_id).where(Enterprise.name == name))


# The demo's visit campaign (走访): the first wave ended three days ago with two enterprises still not visited (red
# flags, supervision tasks), the second wave under way; visits recorded with the questionnaire, a few problems found.
DEMO_VISITS = [
    # (answers: operation, orders_trend, main_need, policy_known), problem title or None
    (
        ("stable", "flat", "labour", "partly"),
        ("技术工人招不到", "数控、焊接技术工人缺口约 40 人，希望对接职业院校定向培养。", "用工/人才"),
    ),
    (
        ("difficult", "down", "finance", "no"),
        ("流动资金贷款到期续贷难", "一笔 800 万元流动资金贷款下月到期，银行要求追加担保。", "融资"),
    ),
    (("good", "up", "none", "yes"), None),
    (("stable", "up", "policy", "partly"), None),
    (("good", "flat", "market", "yes"), None),
]


def _visit_campaign(eng) -> None:
    """Launched 24 days ago, visits recorded on their days, then the timers the worker would have fired since."""
    wall = eng.clock
    today = visits.today(eng)
    start = today - dt.timedelta(days=24)
    try:
        _set_clock(eng, dt.datetime.combine(start, dt.time(9, 0), tzinfo=LOCAL_TZ))
        manager = auth.authenticate(eng, "manager", DEMO_PASSWORD)
        campaign = visits.create_campaign(
            eng,
            manager,
            {
                "name": f"{today.year}年万人助万企走访",
                "description": "助企干部按包联关系走访企业，了解生产经营情况，收集困难和诉求。",
                "form_key": visits.DEFAULT_SURVEY,
                "waves": [
                    {"name": "第一批", "start_date": start, "end_date": today - dt.timedelta(days=3)},
                    {
                        "name": "第二批",
                        "start_date": today - dt.timedelta(days=2),
                        "end_date": today + dt.timedelta(days=14),
                    },
                ],
                "scope": {"filters": {}},
                "assignment": {"mode": "pairing", "level": "cadre", "unit": "econ"},
                "launch": True,
            },
        )
        plan = iter(DEMO_VISITS)
        keys = ("operation", "orders_trend", "main_need", "policy_known")
        for username in ("registrar", "handler_econ"):
            actor = auth.authenticate(eng, username, DEMO_PASSWORD)
            mine = [
                t
                for t in tasks.list_tasks(eng, actor, "mine", per_page=200)["items"]
                if t["kind"] == "visit"
                and t["task_name"] == "record_visit"
                and t["case_title"] == campaign["name"]
            ]
            first = [t for t in mine if t["case_no"] == "第一批"]
            # Each visitor leaves one enterprise of the first wave unvisited (overdue) and visits the rest.
            for number, task in enumerate(first[:-1]):
                day = start + dt.timedelta(days=3 + 2 * number)
                _set_clock(eng, dt.datetime.combine(day, dt.time(16, 0), tzinfo=LOCAL_TZ))
                answers, problem = next(plan, (("stable", "flat", "none", "yes"), None))
                data = {
                    "visited_on": day.isoformat(),
                    "visitors": actor.display_name,
                    "met_with": "企业负责人",
                    "summary": "了解企业生产经营和用工、融资情况。",
                    "findings": "problems" if problem else "none",
                    "answers": dict(zip(keys, answers, strict=True)),
                    "problems": [],
                }
                if problem:
                    title, description, category = problem
                    data["problems"] = [
                        {
                            "title": title,
                            "description": description,
                            "category": category,
                            "field": "工业",
                            "urgency": "一般",
                        }
                    ]
                tasks.complete_task(eng, actor, task["task_id"], data)
    finally:
        eng.clock = wall
    with eng.db.read() as session:
        due = session.scalars(
            select(WorkflowInstance.instance_id).where(
                WorkflowInstance.kind == visits.KIND, WorkflowInstance.next_timer_at <= eng.now()
            )
        ).all()
    for instance_id in due:
        with eng.db.transaction() as session:
            visits.fire(eng, session, session.get(WorkflowInstance, instance_id))


def _rating_round(eng) -> None:
    """A rating round (测评) open since the start of last quarter: about half the enterprises have rated the units
    that handled their problems (scores vary, one comment), the others have not answered yet."""
    manager = auth.authenticate(eng, "manager", DEMO_PASSWORD)
    today = visits.today(eng)
    start = figures.previous_quarter(figures.quarter_of(today)).start
    opened = ratings.open_round(
        eng,
        manager,
        {
            "name": f"{today.year}年企业评部门（{start:%m月%d日}起）",
            "period_start": start.isoformat(),
            "period_end": today.isoformat(),
            "closes_on": (today + dt.timedelta(days=14)).isoformat(),
        },
    )
    links = ratings.get_round(eng, manager, opened["round_id"])["links"]
    with eng.db.read() as session:
        from_token = {
            invite.token: invite.units
            for invite in session.scalars(
                select(RatingInvite).where(RatingInvite.round_id == opened["round_id"])
            )
        }
    for number, link in enumerate(links[::2]):
        units = from_token[link["token"]]
        scores = {str(unit_id): (5, 4, 4, 3, 5, 2)[(number + k) % 6] for k, unit_id in enumerate(units)}
        comments = {str(units[0]): "办事效率高，上门服务，点赞。"} if number == 0 else {}
        if number == 1:
            comments = {str(units[-1]): "材料要求反复变化，希望一次性告知。"}
        ratings.submit_rating(
            eng, link["token"], {"scores": scores, "comments": comments}, client=f"demo-{number}"
        )
