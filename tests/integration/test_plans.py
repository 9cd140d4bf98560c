"""Per-enterprise plans (一企一策) on a real database: items with owner units, due dates and statuses, linked to the
enterprise's cases; progress and overdue items; who sees and changes which items."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import plans
from engine.storage.models import Plan
from engine.storage.models import PlanItem
from engine.storage.models import PlanItemCase

TODAY = dt.date(2026, 3, 10)  # the test clock's day


def _day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def plan(eng, actors, journey):
    """杭叉集团's plan: four items, one per state, of three units; one overdue; linked to two cases."""
    power_case = journey.register(title="用电增容")
    other_case = journey.register(title="技改补贴")
    created = plans.create_plan(
        eng,
        actors("dispatcher"),
        {
            "enterprise_id": journey.enterprise_id(),
            "title": "杭叉集团一企一策",
            "goal": "新厂区按期投产",
            "items": [
                {
                    "title": "用电增容",
                    "owner_unit": "power",
                    "due_date": _day(10),
                    "status": "in_progress",
                    "case_ids": [power_case["case_id"]],
                },
                {
                    "title": "技改补贴申报",
                    "owner_unit": "econ",
                    "due_date": _day(-2),
                    "case_ids": [other_case["case_id"]],
                },
                {"title": "道路改造", "owner_unit": "transport", "due_date": _day(-20), "status": "done"},
                {"title": "招聘会", "owner_unit": "hr", "status": "cancelled"},
            ],
        },
    )
    return {**created, "power_case": power_case["case_id"], "other_case": other_case["case_id"]}


def _item(eng, actor, plan_id, title):
    return next(i for i in plans.get_plan(eng, actor, plan_id)["items"] if i["title"] == title)


def test_a_plan_shows_its_items_progress_and_what_is_overdue(eng, actors, plan):
    shown = plans.get_plan(eng, actors("leader"), plan["plan_id"])
    assert [(i["title"], i["owner_unit"], i["status"], i["overdue"]) for i in shown["items"]] == [
        ("用电增容", "市电业局（供电公司）", "in_progress", False),
        ("技改补贴申报", "经济和信息化局", "pending", True),
        ("道路改造", "交通运输局", "done", False),  # done: never overdue
        ("招聘会", "人力资源和社会保障局", "cancelled", False),
    ]
    assert shown["progress"] == 33 and shown["done"] == 1 and shown["overdue"] == 1  # 1 of 3 not cancelled
    assert shown["items"][0]["cases"][0]["case_id"] == plan["power_case"]
    assert not shown["can_edit"] and "enterprise_cases" not in shown
    listed = plans.list_plans(eng, actors("leader"))["items"]
    assert [(p["title"], p["items"], p["done"], p["overdue"], p["progress"]) for p in listed] == [
        ("杭叉集团一企一策", 4, 1, 1, 33)
    ]
    assert listed[0]["next_due"] == TODAY - dt.timedelta(days=2)
    assert [h["title"] for h in shown["history"]][-1] == "制定一企一策：杭叉集团一企一策"


def test_overdue_moves_with_the_clock(eng, actors, plan, clock):
    clock.advance(days=11)
    shown = plans.get_plan(eng, actors("leader"), plan["plan_id"])
    assert [i["title"] for i in shown["items"] if i["overdue"]] == ["用电增容", "技改补贴申报"]
    assert plans.list_plans(eng, actors("leader"), {"overdue": "1"})["total"] == 1


def test_a_handler_sees_only_its_units_items_and_their_progress(eng, actors, plan, journey):
    econ = actors("handler_econ")
    shown = plans.get_plan(eng, econ, plan["plan_id"])
    assert [i["title"] for i in shown["items"]] == ["技改补贴申报"]
    assert shown["partial"] and shown["progress"] == 0 and shown["overdue"] == 1
    assert all("用电增容" not in h["title"] for h in shown["history"])
    # the case linked to its item belongs to no unit yet: the handler sees its number, not a link
    assert shown["items"][0]["cases"] == [
        {
            "case_id": plan["other_case"],
            "case_no": shown["items"][0]["cases"][0]["case_no"],
            "title": "技改补贴",
            "status": "dispatching",
            "flag": None,
            "visible": False,
        }
    ]
    listed = plans.list_plans(eng, econ)["items"]
    assert [(p["items"], p["done"], p["progress"]) for p in listed] == [(1, 0, 0)]
    # a unit without items in the plan sees nothing of it
    with pytest.raises(PermissionDenied):
        plans.get_plan(eng, actors("handler_market"), plan["plan_id"])
    assert plans.list_plans(eng, actors("handler_market"))["total"] == 0
    assert plans.enterprise_plans(eng, actors("handler_market"), journey.enterprise_id()) == []
    # a unit filter does not widen a handler's view
    assert plans.list_plans(eng, actors("handler_market"), {"unit": "5"})["total"] == 0


def test_a_unit_filter_narrows_the_list_and_its_progress(eng, actors, plan):
    transport = plans.list_plans(eng, actors("manager"), {"unit": "8"})["items"]  # 交通运输局
    assert [(p["items"], p["done"], p["progress"]) for p in transport] == [(1, 1, 100)]


def test_the_owner_unit_updates_status_and_progress_and_nothing_else(eng, actors, plan):
    econ = actors("handler_econ")
    item = _item(eng, econ, plan["plan_id"], "技改补贴申报")
    assert item["can_update"] is True
    assert _item(eng, actors("leader"), plan["plan_id"], "技改补贴申报")["can_update"] is False
    result = plans.update_item(
        eng, econ, item["item_id"], {"status": "in_progress", "progress_note": "已受理"}
    )
    assert result["changed"] == ["progress_note", "status"]
    with pytest.raises(PermissionDenied):
        plans.update_item(eng, econ, item["item_id"], {"due_date": _day(30)})
    with pytest.raises(PermissionDenied):
        plans.update_item(eng, econ, item["item_id"], {"title": "改个名"})
    power_item = _item(eng, actors("manager"), plan["plan_id"], "用电增容")
    with pytest.raises(PermissionDenied):
        plans.update_item(eng, econ, power_item["item_id"], {"status": "done"})
    with pytest.raises(PermissionDenied):
        plans.remove_item(eng, econ, item["item_id"])
    shown = plans.get_plan(eng, actors("leader"), plan["plan_id"])
    assert _item(eng, actors("leader"), plan["plan_id"], "技改补贴申报")["progress_note"] == "已受理"
    assert shown["history"][0]["title"] == "措施“技改补贴申报”：未开始 → 推进中"
    assert shown["history"][0]["actor"] == "经济和信息化局 承办人"
    assert plans.update_item(eng, econ, item["item_id"], {"status": "in_progress"})["changed"] == []


def test_the_programme_office_edits_items_and_links_cases_of_the_same_enterprise(eng, actors, plan, journey):
    manager = actors("manager")
    item = _item(eng, manager, plan["plan_id"], "道路改造")
    plans.update_item(
        eng,
        manager,
        item["item_id"],
        {"title": "北门道路改造", "owner_unit": "urban", "due_date": "", "case_ids": [plan["power_case"]]},
    )
    changed = _item(eng, manager, plan["plan_id"], "北门道路改造")
    assert changed["owner_unit"] == "城市管理局" and changed["due_date"] is None
    assert [c["case_id"] for c in changed["cases"]] == [plan["power_case"]]
    stranger = journey.register(enterprise_id=journey.enterprise_id("森源电缆"))
    with pytest.raises(ValidationFailed) as caught:
        plans.update_item(eng, manager, item["item_id"], {"case_ids": [stranger["case_id"]]})
    assert caught.value.errors == {"case_ids": "只能关联本企业的诉求"}
    shown = journey.case(plan["power_case"])
    assert sorted(i["title"] for i in shown["plan_items"]) == ["北门道路改造", "用电增容"]
    added = plans.add_item(eng, manager, plan["plan_id"], {"title": "人才公寓", "owner_unit": "housing"})
    assert _item(eng, manager, plan["plan_id"], "人才公寓")["status"] == "pending"
    plans.remove_item(eng, manager, added["item_id"])
    with pytest.raises(NotFound):
        plans.remove_item(eng, manager, added["item_id"])
    plans.update_plan(eng, manager, plan["plan_id"], {"status": "closed"})
    assert plans.list_plans(eng, manager, {"status": "closed"})["total"] == 1
    assert (
        plans.get_plan(eng, manager, plan["plan_id"])["history"][0]["title"]
        == "结束一企一策：杭叉集团一企一策"
    )


def test_a_case_page_names_only_the_items_the_viewer_may_see(eng, actors, plan, journey):
    journey.dispatch(plan["power_case"], lead="power")
    handler = journey.case(plan["power_case"], user="handler_power")
    assert [i["title"] for i in handler["plan_items"]] == ["用电增容"]


def _counts(eng):
    with eng.db.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m)) for m in (Plan, PlanItem, PlanItemCase)
        )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "方案", "status": "maybe"}, "status"),
        ({"title": "方案", "enterprise_id": "abc"}, "enterprise_id"),
        ({"title": "方案", "colour": "red"}, "colour"),
        ({"title": "方案", "items": "all of them"}, "items"),
        ({"title": "方案", "items": [{"title": "甲"}]}, "items[0].owner_unit"),
        ({"title": "方案", "items": [{"title": "甲", "owner_unit": "moon"}]}, "items[0].owner_unit"),
        (
            {"title": "方案", "items": [{"title": "甲", "owner_unit": "power", "due_date": "2026-02-30"}]},
            "items[0].due_date",
        ),
        (
            {"title": "方案", "items": [{"title": "甲", "owner_unit": "power", "due_date": "9999-01-01"}]},
            "items[0].due_date",
        ),
        (
            {"title": "方案", "items": [{"title": "甲", "owner_unit": "power", "status": "won"}]},
            "items[0].status",
        ),
        (
            {"title": "方案", "items": [{"title": "甲", "owner_unit": "power", "case_ids": ["x"]}]},
            "items[0].case_ids",
        ),
        (
            {"title": "方案", "items": [{"title": "甲", "owner_unit": "power", "case_ids": [99999]}]},
            "items[0].case_ids",
        ),
        ({"title": "方案", "items": ["甲"]}, "items[0]"),
    ],
)
def test_a_bad_plan_is_refused_and_saves_nothing(eng, actors, journey, data, field):
    before = _counts(eng)
    with pytest.raises(ValidationFailed) as caught:
        plans.create_plan(eng, actors("manager"), {"enterprise_id": journey.enterprise_id(), **data})
    assert field in caught.value.errors
    assert _counts(eng) == before


def test_plans_are_written_by_the_programme_office_only(eng, actors, journey, plan):
    for user in ("handler_power", "registrar", "leader", "supervisor"):
        with pytest.raises(PermissionDenied):
            plans.create_plan(eng, actors(user), {"enterprise_id": journey.enterprise_id(), "title": "x"})
        with pytest.raises(PermissionDenied):
            plans.add_item(eng, actors(user), plan["plan_id"], {"title": "x", "owner_unit": "power"})
        with pytest.raises(PermissionDenied):
            plans.update_plan(eng, actors(user), plan["plan_id"], {"title": "x"})
    with pytest.raises(NotFound):
        plans.create_plan(eng, actors("manager"), {"enterprise_id": 99999, "title": "x"})
    with pytest.raises(NotFound):
        plans.get_plan(eng, actors("manager"), 99999)
    with pytest.raises(NotFound):
        plans.update_item(eng, actors("manager"), 99999, {"status": "done"})
    with pytest.raises(ValidationFailed):
        plans.update_plan(eng, actors("manager"), plan["plan_id"], {"enterprise_id": 1})
