"""Figures from a known set of cases, driven through the real loop, against values worked out by hand."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from engine.errors import ValidationFailed
from engine.services import figures
from engine.services import imports
from engine.services import tasks
from engine.storage.models import Enterprise
from engine.storage.models import FigureDaily
from engine.storage.models import HumanTask
from engine.storage.models import Unit

Q1 = figures.parse_period("2026-Q1")


def _figures(eng, period=Q1, **kwargs):
    with eng.db.read() as session:
        return figures.figures(session, period, **kwargs)


def _unit_ids(eng):
    with eng.db.read() as session:
        return {code: uid for code, uid in session.execute(select(Unit.code, Unit.unit_id))}


def _close(journey, case_id, satisfaction="satisfied"):
    journey.revisit(case_id, satisfaction)
    if satisfaction != "unsatisfied":
        journey.act("dispatcher", case_id, {"closing_summary": "已解决，销号。"})


@pytest.fixture
def quarter(eng, journey, clock):
    """Six cases worked by hand (all registered Tue 2026-03-10 unless said):

    A  department, lead power + co econ, resolved on time, satisfied
    B  department, market returns it, power handles: first answer unsatisfied (reopened), then satisfied
    C  on the spot (政策咨询, 一般), resolved there, 基本满意
    D  department, power reports one working day after its deadline (Tue 03-17 18:00 → Wed 03-18)
    E  registered, still waiting for dispatch
    F  registered on 2026-04-02: another quarter
    """
    ids = {}
    ids["A"] = journey.register()["case_id"]
    journey.dispatch(ids["A"], co_units=["econ"])
    journey.handle_to_revisit(ids["A"])
    _close(journey, ids["A"])

    ids["B"] = journey.register(category="用地")["case_id"]
    journey.dispatch(ids["B"], lead="market")
    journey.act("handler_market", ids["B"], {"sign_decision": "return", "return_reason": "不属于本单位职责"})
    journey.dispatch(ids["B"])
    journey.handle_to_revisit(ids["B"])
    _close(journey, ids["B"], "unsatisfied")
    journey.dispatch(ids["B"])
    journey.handle_to_revisit(ids["B"])
    _close(journey, ids["B"])

    ids["C"] = journey.register(category="政策咨询", urgency="一般", channel="电话")["case_id"]
    journey.act(
        "registrar", ids["C"], {"on_site_result": "resolved", "on_site_actions": "当场答复政策口径。"}
    )
    _close(journey, ids["C"], "basically")

    ids["E"] = journey.register(category="融资")["case_id"]

    ids["D"] = journey.register()["case_id"]
    journey.dispatch(ids["D"])
    journey.act("handler_power", ids["D"], {"sign_decision": "sign"})
    clock.set(dt.datetime(2026, 3, 18, 10, 0))
    journey.act("handler_power", ids["D"], {"outcome": "resolved", "handling_actions": "已协调解决。"})
    journey.act("dispatcher", ids["D"], {"verdict": "accept"})
    _close(journey, ids["D"])

    clock.set(dt.datetime(2026, 4, 2, 9, 0))
    ids["F"] = journey.register()["case_id"]
    return ids


def test_figures_match_the_hand_computed_values(eng, quarter):
    total = _figures(eng)["total"]
    assert total["collected"] == 5  # A B C D E (F is April)
    assert total["closed"] == 4 and total["resolved"] == 4
    assert total["closure_rate"] == 80.0 and total["resolution_rate"] == 80.0
    assert total["on_time"] == 3 and total["on_time_rate"] == 75.0  # D was late
    assert total["revisits"] == 5 and total["satisfied"] == 4  # B answered twice
    assert total["satisfaction_rate"] == 80.0 and total["reopen_rate"] == 20.0
    assert total["returns"] == 1 and total["extensions"] == 0
    # Working days registration → close: A, B, C the same day; D 03-10 → 03-18 is 6 working days.
    assert total["close_days"] == 6 and total["avg_days"] == 1.5
    assert total["closures"] == 4

    units = _unit_ids(eng)
    lead = {row["key"]: row for row in _figures(eng, group="unit")["rows"]}
    power = lead[str(units["power"])]
    assert (power["collected"], power["closed"], power["on_time"]) == (3, 3, 2)
    assert (power["revisits"], power["satisfied"], power["reopened"]) == (4, 3, 1)
    assert power["avg_days"] == 2.0  # (0 + 0 + 6) / 3
    market = lead[str(units["market"])]
    assert (market["collected"], market["closed"], market["returns"]) == (1, 0, 1)
    assert market["closure_rate"] == 0.0
    co = {row["key"]: row for row in _figures(eng, group="unit", role="co")["rows"]}
    assert set(co) == {str(units["econ"])}
    assert co[str(units["econ"])]["collected"] == 1 and co[str(units["econ"])]["closed"] == 1

    tiers = {row["key"]: row for row in _figures(eng, group="tier")["rows"]}
    assert (tiers["department"]["collected"], tiers["department"]["closed"]) == (4, 3)
    assert (tiers["on_site"]["collected"], tiers["on_site"]["closed"]) == (1, 1)
    channels = {row["key"]: row["collected"] for row in _figures(eng, group="channel")["rows"]}
    assert channels == {"走访": 4, "电话": 1}

    q2 = _figures(eng, figures.parse_period("2026-Q2"))["total"]
    assert q2["collected"] == 1 and q2["closed"] == 0
    march = _figures(eng, figures.parse_period(date_from="2026-03-18", date_to="2026-03-18"))["total"]
    assert march["collected"] == 0 and march["closures"] == 1  # D closed that day, registered earlier


def test_filtered_figures_read_the_facts_and_agree_with_the_totals(eng, quarter):
    units = _unit_ids(eng)
    by_category = _figures(eng, group="category", filters={"channel": "走访"})
    rows = {row["key"]: row for row in by_category["rows"]}
    assert (
        rows["水电气"]["collected"] == 2 and rows["用地"]["collected"] == 1 and rows["融资"]["collected"] == 1
    )
    one_unit = _figures(eng, filters={"unit": units["power"]})["total"]
    assert one_unit["collected"] == 3 and one_unit["on_time_rate"] == 66.7
    # Summing facts gives what the per-day totals give.
    assert _figures(eng, filters={"field": "工业"})["total"] == _figures(eng)["total"]


def test_figures_stay_as_recorded_when_rules_change_and_totals_can_be_rebuilt(eng, quarter, actors):
    before = _figures(eng, group="tier")
    from engine.services import rules_admin

    with eng.db.read() as session:
        from engine.storage.models import RuleVersion

        xml = session.scalars(
            select(RuleVersion.dmn_xml)
            .where(RuleVersion.decision_id == "triage")
            .order_by(RuleVersion.rule_version_id.desc())
        ).first()
    # The manager now sends every 政策咨询 case to a department: earlier figures keep their on-the-spot tier.
    changed = xml.replace('<text>"on_site"</text>', '<text>"department"</text>')
    rules_admin.publish(eng, actors("manager"), "triage", changed, comment="政策咨询改为部门办")
    assert _figures(eng, group="tier") == before
    with eng.db.transaction() as session:
        daily = sorted(tuple(r) for r in session.execute(select(FigureDaily.__table__)))
        figures.rebuild_daily(session)
    with eng.db.read() as session:
        assert sorted(tuple(r) for r in session.execute(select(FigureDaily.__table__))) == daily


def _sheet(code, rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = imports.SHEET
    sheet.append([h for h, _f, _r in imports.COLUMNS])
    for n in range(rows):
        sheet.append(
            [
                code,
                "",
                "走访",
                "工业",
                "政策咨询",
                "一般",
                f"政策咨询{n}",
                "企业咨询惠企政策申报口径。",
                "",
                "",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.slow
def test_676_cases_in_6_batches_508_closed_read_75_1_percent(eng, journey, actors):
    with eng.db.read() as session:
        code = session.get(Enterprise, journey.enterprise_id()).credit_code
    sizes = [120, 115, 113, 110, 109, 109]
    assert sum(sizes) == 676
    case_ids = []
    for n, size in enumerate(sizes, start=1):
        result = imports.import_rows(eng, actors("registrar"), _sheet(code, size), batch=f"第{n}批走访")
        case_ids += [c["case_id"] for c in result["cases"]]
    registrar, dispatcher = actors("registrar"), actors("dispatcher")

    def complete(actor, case_id, data):
        with eng.db.read() as session:
            task_id = session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case_id))
        tasks.complete_task(eng, actor, task_id, data)

    for case_id in case_ids[:508]:  # resolved on the spot, revisited, closed: the whole loop for each
        complete(registrar, case_id, {"on_site_result": "resolved", "on_site_actions": "当场答复。"})
        complete(
            registrar, case_id, {"solved": "yes", "satisfaction": "satisfied", "revisit_method": "phone"}
        )
        complete(dispatcher, case_id, {"closing_summary": "已当场解决，销号。"})
    total = _figures(eng)["total"]
    assert (total["collected"], total["closed"], total["closure_rate"]) == (676, 508, 75.1)
    batches = {row["key"]: row for row in _figures(eng, group="batch")["rows"]}
    assert len(batches) == 6 and sum(row["collected"] for row in batches.values()) == 676
    assert (
        batches["第1批走访"]["closed"] == 120 and batches["第5批走访"]["closed"] == 50
    )  # 120+115+113+110 = 458 before it
    assert batches["第6批走访"]["closure_rate"] == 0.0
    assert _figures(eng, filters={"batch": "第5批走访"})["total"]["closure_rate"] == 45.9  # 50 / 109


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code": "2026-Q5"},
        {"code": "去年"},
        {"date_from": "2026-03-10", "date_to": "2026-03-01"},
        {"date_from": "3/1"},
    ],
)
def test_bad_periods_are_explained(kwargs):
    with pytest.raises(ValidationFailed):
        figures.parse_period(**kwargs)


def test_bad_filters_are_explained(eng):
    with pytest.raises(ValidationFailed) as err:
        _figures(eng, filters={"field": "农业"})
    assert "field" in err.value.errors
    with pytest.raises(ValidationFailed):
        _figures(eng, group="colour")


def test_per_day_pairs_answer_like_the_facts_for_any_one_filter_and_grouping(eng, quarter):
    """Every (filter, grouping) the per-day totals answer gives what summing the facts gives."""
    units = _unit_ids(eng)
    filters = [
        {"field": "工业"},
        {"category": "水电气"},
        {"channel": "走访"},
        {"tier": "department"},
        {"unit": units["power"]},
        {"unit": units["market"]},
    ]
    with eng.db.read() as session:
        for role in figures.ROLES:
            for f in filters:
                for group in (None, *figures.GROUPS):
                    party = figures._party_for(group, f)
                    daily = figures._sums(session, Q1, group, f, role)
                    facts = figures._from_facts(session, Q1, group, f, role, party)
                    facts = {k: v for k, v in facts.items() if any(v.values())}
                    assert daily == facts, (role, f, group)


def test_a_new_process_version_mid_period_counts_the_same(eng, journey, actors):
    """A designer adds a review step mid-quarter: the case on the old diagram and the one on the new diagram
    are counted alike, and the earlier figures are unchanged by the deployment."""
    from engine.services import design
    from engine.workflow.specs import PROCESSES_DIR
    from tests.helpers import add_review_step

    old = journey.register()["case_id"]
    journey.dispatch(old)
    journey.handle_to_revisit(old)
    _close(journey, old)
    before = _figures(eng)["total"]
    xml = (PROCESSES_DIR / "case_handling.bpmn").read_text("utf-8")
    design.deploy(eng, actors("designer"), add_review_step(xml), comment="审核后增加复核")
    assert _figures(eng)["total"] == before
    new = journey.register()["case_id"]
    journey.dispatch(new)
    journey.handle_to_revisit(new)
    journey.act("dispatcher", new, {"verdict": "accept"})  # the new 复核 step
    _close(journey, new)
    total = _figures(eng)["total"]
    assert (total["collected"], total["closed"], total["resolved"], total["on_time"]) == (2, 2, 2, 2)
    assert total["satisfaction_rate"] == 100.0


def _facts(eng, case_id):
    from engine.storage.models import FigureFact

    with eng.db.read() as session:
        rows = session.execute(
            select(
                FigureFact.measure, FigureFact.party, FigureFact.day, FigureFact.amount, FigureFact.unit_id,
                FigureFact.role, FigureFact.tier, FigureFact.field, FigureFact.category, FigureFact.channel,
            ).where(FigureFact.case_id == case_id)
        )  # fmt: skip
        return sorted(tuple(row) for row in rows)


def _forget_parties(eng, case_id):
    """As a case from before the case row summarised its credited parties."""
    from sqlalchemy import update

    from engine.storage.models import Case

    with eng.db.transaction() as session:
        session.execute(update(Case).where(Case.case_id == case_id).values(figure_parties=None))


def test_a_case_without_its_parties_on_record_is_credited_exactly_like_one_with_them(eng, journey, clock):
    """The parties a case was credited to are kept on its row so a step need not read its facts; without them
    (cases from before) they are read from the facts: both ways give the same facts, returns and co units too."""
    kept, forgot = journey.register()["case_id"], journey.register()["case_id"]
    steps = [
        lambda c: journey.dispatch(c, lead="market", co_units=["econ"]),
        lambda c: journey.act(
            "handler_market", c, {"sign_decision": "return", "return_reason": "不属于本单位"}
        ),
        lambda c: journey.dispatch(c, co_units=["econ"]),
        lambda c: journey.act("handler_power", c, {"sign_decision": "sign"}),
        lambda c: journey.act("handler_power", c, {"outcome": "resolved", "handling_actions": "已解决。"}),
        lambda c: journey.act("dispatcher", c, {"verdict": "accept"}),
        lambda c: journey.revisit(c, "unsatisfied"),
        lambda c: journey.dispatch(c),
        lambda c: journey.handle_to_revisit(c),
        lambda c: _close(journey, c),
    ]
    for step in steps:
        for case_id in (kept, forgot):
            _forget_parties(eng, forgot)
            step(case_id)
        clock.advance(hours=20)
    assert _facts(eng, kept) == _facts(eng, forgot) and len(_facts(eng, kept)) > 30
    assert journey.case(kept)["status"] == journey.case(forgot)["status"] == "closed"
    every_day = select(FigureDaily).order_by(
        FigureDaily.dim, FigureDaily.key, FigureDaily.key2, FigureDaily.day
    )
    with eng.db.read() as session:  # the per-day totals kept at commit = those rebuilt from the facts
        kept_daily = [_row(r) for r in session.scalars(every_day)]
        figures.rebuild_daily(session)
        assert [_row(r) for r in session.scalars(every_day)] == kept_daily


def _row(daily) -> tuple:
    return (daily.dim, daily.key, daily.key2, daily.day, *(getattr(daily, m) for m in figures.MEASURES))
