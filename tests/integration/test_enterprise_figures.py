"""Figures by the enterprise's area, size class, pool and tag: a case counts with the classes its enterprise had when
the case was collected — reclassifying the enterprise later moves no case between rows, and the per-day totals
answer like the facts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.errors import ValidationFailed
from engine.services import case_list
from engine.services import enterprise_catalog as catalog
from engine.services import enterprises as enterprise_service
from engine.services import figures
from engine.storage.models import Enterprise
from engine.storage.models import FigureDaily

Q1 = figures.parse_period("2026-Q1")


def _ids(eng) -> dict:
    with eng.db.read() as session:
        enterprises = dict(session.execute(select(Enterprise.name, Enterprise.enterprise_id)).all())
        areas = {
            code: catalog.find_area(session, code).area_id for code in ("yuquan", "qingshanhu", "liedong")
        }
        tags = {code: catalog.find_tag(session, code).tag_id for code in ("key", "plaque", "srdi", "hitech")}
    return {"enterprise": enterprises, "area": areas, "tag": tags}


def _figures(eng, group=None, **filters):
    with eng.db.read() as session:
        result = figures.figures(session, Q1, group, filters)
    return result["total"], {row["key"]: row for row in result["rows"]}


def _close(journey, case_id):
    journey.revisit(case_id)
    journey.act("dispatcher", case_id, {"closing_summary": "已解决，销号。"})


@pytest.fixture
def story(eng, journey, actors, clock):
    """A: 森源电缆 (玉泉街道, 规上, 专精特新 + 高新技术企业), registered and handled, closed only after the enterprise
    moved to 列东街道 as 规下, left 高新技术企业 and joined 重点企业库; B: 杭叉集团 (青山湖科技城, 规上, 重点企业库,
    挂牌服务, 高新技术企业), closed before; C: 森源电缆 again, registered after the move, still open."""
    ids = _ids(eng)
    senyuan = ids["enterprise"]["森源电缆"]
    a = journey.register(enterprise_id=senyuan, title="电缆厂用电增容")["case_id"]
    journey.dispatch(a)
    journey.handle_to_revisit(a)
    b = journey.register(title="叉车厂用地")["case_id"]
    journey.dispatch(b)
    journey.handle_to_revisit(b)
    _close(journey, b)
    dispatcher = actors("dispatcher")
    enterprise_service.update_enterprise(eng, dispatcher, senyuan, {"area": "liedong", "size_class": "规下"})
    enterprise_service.leave_tag(eng, dispatcher, senyuan, "hitech")
    enterprise_service.join_tag(eng, dispatcher, senyuan, "key")
    clock.set(dt.datetime(2026, 3, 11, 9, 0, tzinfo=LOCAL_TZ))
    c = journey.register(enterprise_id=senyuan, title="电缆厂招工")["case_id"]
    _close(journey, a)
    return ids | {"A": a, "B": b, "C": c}


def test_a_case_counts_where_its_enterprise_was_when_the_case_was_collected(eng, story):
    area, tag = story["area"], story["tag"]
    total, by_area = _figures(eng, "area")
    assert (total["collected"], total["closed"]) == (3, 2)
    shown = {key: (row["collected"], row["closed"]) for key, row in by_area.items()}
    assert shown == {
        str(area["yuquan"]): (1, 1),  # A: collected there, closed there although 森源电缆 has moved since
        str(area["qingshanhu"]): (1, 1),  # B
        str(area["liedong"]): (1, 0),  # C: collected after the move
    }
    _total, by_size = _figures(eng, "size")
    assert {k: (r["collected"], r["closed"]) for k, r in by_size.items()} == {"规上": (2, 2), "规下": (1, 0)}
    _total, by_pool = _figures(eng, "pool")
    assert {k: (r["collected"], r["closed"]) for k, r in by_pool.items()} == {
        str(tag["key"]): (2, 1),  # B, and C (森源电缆 joined before C)
        str(tag["plaque"]): (1, 1),
    }
    _total, by_tag = _figures(eng, "tag")
    assert {k: (r["collected"], r["closed"]) for k, r in by_tag.items()} == {
        str(tag["srdi"]): (2, 1),  # A and C
        str(tag["hitech"]): (2, 2),  # A (when it still had the tag) and B
    }
    no_row_closes_more_than_it_collected = all(
        row["closed"] <= row["collected"]
        for rows in (by_area, by_size, by_pool, by_tag)
        for row in rows.values()
    )
    assert no_row_closes_more_than_it_collected


def test_filters_by_class_read_the_totals_or_the_facts_alike(eng, story, actors):
    area, tag = story["area"], story["tag"]
    assert _figures(eng, area=str(area["yuquan"]))[0]["collected"] == 1  # per-day totals
    assert _figures(eng, pool=str(tag["key"]), size="规下")[0]["collected"] == 1  # facts: C
    _total, tags_of_pool = _figures(eng, "tag", pool=str(tag["key"]))  # tags are not paired: facts
    assert {k: r["collected"] for k, r in tags_of_pool.items()} == {
        str(tag["srdi"]): 1,
        str(tag["hitech"]): 1,
    }
    units = {row["key"] for row in _figures(eng, "unit", area=str(area["qingshanhu"]))[1].values()}
    assert len(units) == 1  # B's lead unit, from the lead*area pair
    view = figures.view(eng, actors("manager"), "2026-Q1", group="area", filters={"pool": "key"})
    assert {row["label"]: row["collected"] for row in view["rows"]} == {"青山湖科技城": 1, "列东街道": 1}
    with pytest.raises(ValidationFailed):
        figures.view(eng, actors("manager"), "2026-Q1", filters={"area": "火星街道"})
    with pytest.raises(ValidationFailed):
        figures.view(eng, actors("manager"), "2026-Q1", filters={"size": "大型"})
    board = figures.dashboard_view(eng, actors("manager"), "2026-Q1", filters={"tag": "srdi"})
    assert board["total"]["collected"] == 2


def test_the_cases_behind_a_figure_follow_the_facts_and_the_ledger_follows_the_enterprise(eng, story, actors):
    area, tag = story["area"], story["tag"]
    dispatcher = actors("dispatcher")

    def behind(**filters):
        found = case_list.search_cases(eng, dispatcher, {"period": "2026-Q1", **filters}, per_page=50)
        return sorted(c["case_id"] for c in found["items"])

    assert behind(figure="collected", area=str(area["yuquan"])) == [story["A"]]
    assert behind(figure="closed", pool=str(tag["key"])) == [story["B"]]
    assert behind(figure="collected", tag=str(tag["hitech"])) == sorted([story["A"], story["B"]])
    now = case_list.search_cases(eng, dispatcher, {"area": "liedong"})
    assert sorted(c["case_id"] for c in now["items"]) == sorted([story["A"], story["C"]])
    with pytest.raises(ValidationFailed):
        case_list.search_cases(eng, dispatcher, {"figure": "closed", "period": "2026-Q1", "area": "liedong"})


def test_the_per_day_totals_answer_like_the_facts_and_can_be_rebuilt(eng, story):
    area, tag = story["area"], story["tag"]
    filters = [
        {},
        {"area": str(area["yuquan"])},
        {"size": "规上"},
        {"pool": str(tag["key"])},
        {"tag": str(tag["srdi"])},
        {"field": "工业"},
    ]
    with eng.db.read() as session:
        for role in figures.ROLES:
            for f in filters:
                for group in (None, *figures.GROUPS):
                    if figures._daily_lookup(group, f, role) is None:
                        continue
                    daily = figures._sums(session, Q1, group, f, role)
                    facts = figures._from_facts(session, Q1, group, f, role, figures._party_for(group, f))
                    assert daily == {k: v for k, v in facts.items() if any(v.values())}, (role, f, group)
        columns = [getattr(FigureDaily, c.name) for c in FigureDaily.__table__.columns]
        query = select(*columns).order_by(FigureDaily.day, FigureDaily.dim, FigureDaily.key, FigureDaily.key2)
        kept = [tuple(r) for r in session.execute(query)]
        figures.rebuild_daily(session)  # rolled back with the read session
        session.flush()
        assert [tuple(r) for r in session.execute(query)] == kept
        assert any(r[0] == "area" for r in kept) and any(r[0] == "tag*lead" for r in kept)
