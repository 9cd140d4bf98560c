"""Pairing (包联) on a real database: the levels the office keeps, pairings added and removed, the roster people and
their accounts, "my enterprises" with open problems, flags and the last visit, the figures, and the responsible
leader the dispatch form defaults to."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import pairing
from engine.services import pairing_views
from engine.services import tasks
from engine.services.last_visits import last_visits
from engine.storage.models import Case
from engine.storage.models import Pairing
from engine.storage.models import PairingLevel
from engine.storage.models import ProgrammeEvent
from engine.storage.models import RosterPerson


def _count(eng, model) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _names(result) -> list[str]:
    return [item["name"] for item in result["items"]]


# --- levels -------------------------------------------------------------------------------------------------------


def test_the_office_starts_with_six_levels_in_order(eng, actors):
    levels = pairing.list_levels(eng, actors("handler_power"))
    assert [lv["code"] for lv in levels] == [
        "city_leader",
        "county_leader",
        "helping_unit",
        "street",
        "cadre",
        "enterprise_head",
    ]
    assert [lv["kind"] for lv in levels] == ["person", "person", "unit", "unit", "person", "enterprise"]
    assert [lv["code"] for lv in levels if lv["gives_leader"]] == ["city_leader", "county_leader"]
    assert next(lv for lv in levels if lv["code"] == "city_leader")["pairings"] == 3  # the demo roster


def test_a_data_manager_adds_renames_and_retires_a_level(eng, actors):
    manager = actors("manager")
    made = pairing.save_level(
        eng, manager, {"code": "park", "name": "园区服务专员", "kind": "person", "sort_order": "55"}
    )
    assert made["is_active"] and made["sort_order"] == 55
    changed = pairing.save_level(
        eng,
        manager,
        {
            "name": "园区专员",
            "name_en": "Park officer",
            "kind": "person",
            "sort_order": 5,
            "is_active": False,
        },
        made["level_id"],
    )
    assert changed["code"] == "park" and changed["name"] == "园区专员" and not changed["is_active"]
    active = pairing.list_levels(eng, manager, include_inactive=False)
    assert "park" not in [lv["code"] for lv in active]
    with eng.db.read() as session:
        actions = session.scalars(
            select(ProgrammeEvent.action)
            .where(ProgrammeEvent.subject == "level")
            .order_by(ProgrammeEvent.event_id)
        ).all()
    assert actions == ["created", "updated"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "Bad Code", "name": "x", "kind": "person"}, "code"),
        ({"code": "cadre", "name": "新层级", "kind": "person"}, "code"),  # taken
        ({"code": "new_one", "name": "助企干部", "kind": "person"}, "name"),  # taken
        ({"code": "new_one", "name": "", "kind": "person"}, "name"),
        ({"code": "new_one", "name": "x" * 51, "kind": "person"}, "name"),
        ({"code": "new_one", "name": "新层级", "kind": "robot"}, "kind"),
        ({"code": "new_one", "name": "新层级", "kind": "enterprise", "gives_leader": True}, "gives_leader"),
        ({"code": "new_one", "name": "新层级", "kind": "unit", "sort_order": "-1"}, "sort_order"),
        ({"code": "new_one", "name": "新层级", "kind": "unit", "sort_order": "abc"}, "sort_order"),
        ({"code": "new_one", "name": "新层级", "kind": "unit", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_level_is_refused_and_changes_nothing(eng, actors, data, field):
    before = _count(eng, PairingLevel)
    with pytest.raises(ValidationFailed) as caught:
        pairing.save_level(eng, actors("manager"), data)
    assert field in caught.value.errors
    assert _count(eng, PairingLevel) == before


def test_a_level_in_use_keeps_its_kind_and_code(eng, actors):
    manager = actors("manager")
    cadre = next(lv for lv in pairing.list_levels(eng, manager) if lv["code"] == "cadre")
    with pytest.raises(ValidationFailed) as caught:
        pairing.save_level(eng, manager, {"name": "助企干部", "kind": "unit"}, cadre["level_id"])
    assert "kind" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        pairing.save_level(
            eng, manager, {"code": "other", "name": "助企干部", "kind": "person"}, cadre["level_id"]
        )
    assert "code" in caught.value.errors
    with pytest.raises(NotFound):
        pairing.save_level(eng, manager, {"name": "x", "kind": "person"}, 9999)


@pytest.mark.parametrize("user", ["handler_econ", "registrar", "leader", "supervisor"])
def test_only_data_managers_edit_levels(eng, actors, user):
    with pytest.raises(PermissionDenied):
        pairing.save_level(eng, actors(user), {"code": "x_level", "name": "新", "kind": "person"})


# --- pairings -----------------------------------------------------------------------------------------------------


def test_a_cadre_without_an_account_is_a_roster_person_and_gets_their_list_once_linked(eng, actors, journey):
    manager = actors("manager")
    enterprise_id = journey.enterprise_id("方兴管业")
    row = pairing.add_pairing(
        eng,
        manager,
        enterprise_id,
        {
            "level": "助企干部",
            "unit": "市场监督管理局",
            "name": "郑好",
            "title": "科员",
            "phone": "13900000009",
        },
    )
    assert row["person"]["username"] is None and row["unit_name"] == "市场监督管理局"
    # 郑好 has no account: the pairing is the market unit's (its staff see it), nobody's personal list
    assert _names(pairing_views.my_enterprises(eng, actors("handler_market"), "unit")) == ["方兴管业"]
    people = pairing.list_people(eng, manager, {"q": "郑好"})["items"]
    assert people == [
        {
            "person_id": row["person"]["person_id"],
            "name": "郑好",
            "unit_id": row["unit_id"],
            "unit_name": "市场监督管理局",
            "title": "科员",
            "phone": "13900000009",
            "username": None,
            "account_name": None,
            "enterprises": 1,
        }
    ]
    # she gets an account: link it, and the pairing is hers
    pairing.link_account(eng, manager, row["person"]["person_id"], "handler_market")
    mine = pairing_views.my_enterprises(eng, actors("handler_market"))
    assert mine["scope"] == "mine" and _names(mine) == ["方兴管业"]
    assert mine["scopes"] == {"mine": True, "unit": "市场监督管理局"}
    # an account can belong to one roster person only
    other = pairing.list_people(eng, manager, {"q": "王建国"})["items"][0]
    with pytest.raises(ValidationFailed) as caught:
        pairing.link_account(eng, manager, other["person_id"], "handler_market")
    assert "郑好" in caught.value.errors["account"]
    with pytest.raises(ValidationFailed):
        pairing.link_account(eng, manager, other["person_id"], "nobody")
    pairing.link_account(eng, manager, row["person"]["person_id"], "")
    assert pairing_views.my_enterprises(eng, actors("handler_market"))["scope"] == "unit"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"level": "不存在的层级", "name": "甲"}, "level"),
        ({"level": "", "name": "甲"}, "level"),
        ({"level": "助企干部"}, "name"),
        ({"level": "帮扶单位挂钩"}, "unit"),
        ({"level": "帮扶单位挂钩", "unit": "月球局"}, "unit"),
        ({"level": "企业负责人", "name": "甲", "unit": "市场监督管理局"}, "unit"),
        ({"level": "企业负责人", "name": "甲", "account": "leader"}, "account"),
        ({"level": "助企干部", "name": "甲", "account": "nobody"}, "account"),
        ({"level": "助企干部", "name": "甲", "phone": "call me"}, "phone"),
        ({"level": "助企干部", "name": "甲" * 51}, "name"),
        ({"level": "助企干部", "name": "甲", "note": "备" * 201}, "note"),
        ({"level": "助企干部", "name": "甲", "colour": "red"}, "colour"),
        ({"level": "市级领导结对", "name": "张明", "account": "leader"}, "name"),  # already there
        ({"level": "助企干部", "name": "李四", "account": "registrar"}, "account"),  # 王芳's account
    ],
)
def test_a_bad_pairing_is_refused_and_saves_nothing(eng, actors, journey, values, field):
    before = (_count(eng, Pairing), _count(eng, RosterPerson))
    with pytest.raises(ValidationFailed) as caught:
        pairing.add_pairing(eng, actors("dispatcher"), journey.enterprise_id("杭叉集团"), values)
    assert field in caught.value.errors
    assert (_count(eng, Pairing), _count(eng, RosterPerson)) == before


def test_pairings_are_edited_by_data_managers_only_and_every_change_is_kept(eng, actors, journey):
    enterprise_id = journey.enterprise_id("美临塑业")
    for user in ("handler_hr", "registrar", "leader"):
        with pytest.raises(PermissionDenied):
            pairing.add_pairing(eng, actors(user), enterprise_id, {"level": "企业负责人", "name": "甲"})
    row = pairing.add_pairing(
        eng, actors("admin"), enterprise_id, {"level": "enterprise_head", "name": "许总"}
    )
    assert row["contact"] == {"name": "许总", "title": None, "phone": None} and row["person"] is None
    with pytest.raises(PermissionDenied):
        pairing.remove_pairing(eng, actors("handler_hr"), row["pairing_id"])
    pairing.remove_pairing(eng, actors("dispatcher"), row["pairing_id"])
    with pytest.raises(NotFound):
        pairing.remove_pairing(eng, actors("dispatcher"), row["pairing_id"])
    with pytest.raises(NotFound):
        pairing.add_pairing(eng, actors("admin"), 99999, {"level": "enterprise_head", "name": "许总"})
    with eng.db.read() as session:
        events = session.execute(
            select(
                ProgrammeEvent.action,
                ProgrammeEvent.enterprise_id,
                ProgrammeEvent.actor_name,
                ProgrammeEvent.title,
            )
            .where(ProgrammeEvent.subject == "pairing")
            .order_by(ProgrammeEvent.event_id)
        ).all()
    assert [tuple(e[:3]) for e in events] == [
        ("added", enterprise_id, "系统管理员"),
        ("removed", enterprise_id, "企业服务办 李强"),
    ]
    assert "美临塑业 · 企业负责人 · 许总" in events[1].title


def test_a_unit_sees_its_own_pairings_in_the_roster_and_figures(eng, actors):
    everything = pairing.list_pairings(eng, actors("supervisor"))
    assert everything["total"] == 17
    econ = pairing.list_pairings(eng, actors("handler_econ"))
    assert {r["unit_name"] for r in econ["items"]} == {"经济和信息化局"}
    assert sorted({r["enterprise_name"] for r in econ["items"]}) == sorted(
        ["杭叉集团", "森源电缆", "临安宝马机电"]
    )
    # a filter cannot widen a handler's view
    econ_units = {r["unit_id"] for r in econ["items"]}
    power = pairing.list_pairings(eng, actors("handler_econ"), {"unit": 5})
    assert power["total"] == 0 and econ_units != {5}
    figures = pairing_views.figures(eng, actors("handler_econ"))
    assert [r["name"] for r in figures["rows"]] == ["经济和信息化局"]
    assert figures["paired"] == 3
    people = pairing.list_people(eng, actors("handler_econ"))
    assert sorted(p["name"] for p in people["items"]) == ["周伟", "陈刚"]


def test_the_roster_filters_by_level_unit_person_and_text(eng, actors):
    manager = actors("manager")
    levels = {lv["code"]: lv["level_id"] for lv in pairing.list_levels(eng, manager)}
    heads = pairing.list_pairings(eng, manager, {"level": levels["enterprise_head"]})
    assert sorted(r["contact"]["name"] for r in heads["items"]) == ["孙立", "赵建华", "钱程"]
    assert pairing.list_pairings(eng, manager, {"q": "周伟"})["total"] == 2
    assert pairing.list_pairings(eng, manager, {"q": "杭叉"})["total"] == 4
    assert pairing.list_pairings(eng, manager, {"q": "100%_"})["total"] == 0
    with pytest.raises(ValidationFailed):
        pairing.list_pairings(eng, manager, {"level": "abc"})


# --- my enterprises ------------------------------------------------------------------------------------------------


def test_a_leader_sees_their_enterprises_with_open_problems_flags_and_last_visit(eng, actors, journey, clock):
    journey.register(channel="走访", title="新厂区用电增容")
    visit = journey.visit("杭叉集团", "2026-03-09")
    clock.advance(days=1)
    journey.register(channel="电话", title="员工子女入学")
    other = journey.register(
        enterprise_id=journey.enterprise_id("森源电缆"), channel="电话", title="出口退税慢"
    )
    with eng.db.transaction() as session:
        session.execute(update(Case).where(Case.case_id == other["case_id"]).values(flag="red"))

    mine = pairing_views.my_enterprises(eng, actors("leader"))
    assert mine["scope"] == "mine" and mine["paired"] == 2
    assert mine["with_open"] == 2 and mine["with_red"] == 1
    first, second = mine["items"]
    assert (first["name"], first["open"], first["red"]) == ("森源电缆", 1, 1)  # a red flag comes first
    assert first["last_visit"] is None
    assert (second["name"], second["open"], second["red"]) == ("杭叉集团", 2, 0)
    assert second["levels"] == [{"name": "市级领导结对", "name_en": "City leader pairing"}]
    assert second["last_visit"]["visit_id"] == visit["visit_id"]  # a recorded visit, not a case from one
    assert [c["title"] for c in second["open_cases"]] == ["新厂区用电增容", "员工子女入学"]
    assert all(c["visible"] for c in second["open_cases"])
    assert _names(pairing_views.my_enterprises(eng, actors("leader"), q="森源")) == ["森源电缆"]


def test_a_unit_sees_counts_of_all_open_problems_but_opens_only_its_own(eng, actors, journey):
    mine = journey.register(title="技改补贴申报")
    theirs = journey.register(title="用电增容")
    journey.dispatch(mine["case_id"], lead="econ")
    journey.dispatch(theirs["case_id"], lead="power")
    result = pairing_views.my_enterprises(eng, actors("handler_econ"))
    assert result["scope"] == "unit" and result["paired"] == 3
    hangcha = next(i for i in result["items"] if i["name"] == "杭叉集团")
    assert hangcha["open"] == 2
    assert {c["case_id"]: c["visible"] for c in hangcha["open_cases"]} == {
        mine["case_id"]: True,
        theirs["case_id"]: False,
    }
    only_open = pairing_views.my_enterprises(eng, actors("handler_econ"), only_open=True)
    assert _names(only_open) == ["杭叉集团"]
    with pytest.raises(ValidationFailed):
        pairing_views.my_enterprises(eng, actors("handler_econ"), "everyone")


def test_someone_with_neither_pairings_nor_a_unit_gets_an_empty_list(eng, actors):
    result = pairing_views.my_enterprises(eng, actors("designer"))
    assert result["items"] == [] and result["total"] == 0
    assert pairing_views.my_enterprises(eng, actors("designer"), "unit")["items"] == []


def test_last_visit_is_the_newest_recorded_visit(eng, journey, clock):
    clock.advance(days=3)
    second = journey.visit("杭叉集团", "2026-03-12", met_with="赵建华")
    first = journey.visit("杭叉集团", "2026-03-05", met_with="孙立")  # recorded later, visited earlier
    journey.register(
        channel="走访",
        title="走访中登记、但没有走访记录的诉求",
        enterprise_id=journey.enterprise_id("森源电缆"),
    )
    hangcha = journey.enterprise_id()
    with eng.db.read() as session:
        found = last_visits(session, [hangcha, journey.enterprise_id("森源电缆")])
    assert list(found) == [hangcha]
    assert found[hangcha]["visit_id"] == second["visit_id"] != first["visit_id"]
    assert found[hangcha]["source"] == "visit" and str(found[hangcha]["date"]) == "2026-03-12"


# --- figures ------------------------------------------------------------------------------------------------------


def test_figures_count_enterprises_paired_per_level_unit_and_person(eng, actors):
    manager = actors("manager")
    result = pairing_views.figures(eng, manager)
    assert result["paired"] == 6 and result["enterprises"] == 18
    assert result["coverage"] == pytest.approx(33.3)
    per_level = {lv["code"]: (lv["enterprises"], lv["members"]) for lv in result["per_level"]}
    assert per_level == {
        "city_leader": (3, 2),
        "county_leader": (0, 0),
        "helping_unit": (5, 3),
        "street": (2, 2),
        "cadre": (4, 2),
        "enterprise_head": (3, 3),
    }
    assert [(r["name"], r["enterprises"]) for r in result["rows"]][0] == ("经济和信息化局", 3)
    people = pairing_views.figures(eng, manager, by="person")
    assert [(r["name"], r["enterprises"], r["username"]) for r in people["rows"][:2]] == [
        ("王芳", 3, "registrar"),
        ("张明", 2, "leader"),
    ]
    leaders = pairing_views.figures(eng, manager, by="person", level="city_leader")
    assert sorted((r["name"], r["enterprises"]) for r in leaders["rows"]) == [("张明", 2), ("王建国", 1)]
    with pytest.raises(ValidationFailed):
        pairing_views.figures(eng, manager, by="colour")
    with pytest.raises(ValidationFailed):
        pairing_views.figures(eng, manager, level="nope")


# --- the responsible leader ---------------------------------------------------------------------------------------


def _dispatch_task(journey, case_id):
    return journey.task("dispatcher", case_id)


def test_the_dispatch_form_defaults_the_responsible_leader_from_the_pairing(eng, actors, journey):
    case = journey.register()  # 杭叉集团: 张明 (account `leader`) is its city leader
    task = tasks.get_task(eng, actors("dispatcher"), _dispatch_task(journey, case["case_id"])["task_id"])
    assert task["values"]["responsible_leader"] == "leader"
    assert task["data"].get("responsible_leader") is None  # a suggestion on the form, not case data
    journey.act("dispatcher", case["case_id"], {**task["values"], "lead_unit": "power", "time_limit_days": 5})
    assert journey.case(case["case_id"])["responsible_leader"] == "市领导 张明"


def test_no_default_without_a_leader_account_and_the_dispatcher_may_change_it(eng, actors, journey):
    xizi = journey.register(
        enterprise_id=journey.enterprise_id("西子联合电梯部件产业园")
    )  # 王建国: no account
    task = tasks.get_task(eng, actors("dispatcher"), _dispatch_task(journey, xizi["case_id"])["task_id"])
    assert "responsible_leader" not in task["values"]
    plain = journey.register(enterprise_id=journey.enterprise_id("美临塑业"))  # not paired with a leader
    task = tasks.get_task(eng, actors("dispatcher"), _dispatch_task(journey, plain["case_id"])["task_id"])
    assert "responsible_leader" not in task["values"]


def test_the_default_follows_the_pairing_when_the_task_is_opened(eng, actors, journey):
    case = journey.register()
    dispatcher = actors("dispatcher")
    task_id = _dispatch_task(journey, case["case_id"])["task_id"]
    assert tasks.get_task(eng, dispatcher, task_id)["values"]["responsible_leader"] == "leader"
    leader_row = next(
        r
        for r in pairing.get_enterprise_pairing(eng, dispatcher, journey.enterprise_id())
        if r["gives_leader"]
    )
    pairing.remove_pairing(eng, dispatcher, leader_row["pairing_id"])
    assert "responsible_leader" not in tasks.get_task(eng, dispatcher, task_id)["values"]


def test_a_leader_chosen_before_wins_over_the_pairing(eng, actors, journey):
    case = journey.register()
    journey.dispatch(case["case_id"], lead="power")
    journey.act(
        "handler_power", case["case_id"], {"sign_decision": "return", "return_reason": "不属于本单位职责"}
    )
    task = tasks.get_task(eng, actors("dispatcher"), _dispatch_task(journey, case["case_id"])["task_id"])
    assert task["values"].get("responsible_leader") == "leader"  # pairing still suggests 张明
    journey.act(
        "dispatcher",
        case["case_id"],
        {"tier": "department", "lead_unit": "market", "time_limit_days": 5, "responsible_leader": "leader"},
    )


def test_a_case_shows_its_enterprise_pairing(eng, actors, journey):
    case = journey.register()
    shown = journey.case(case["case_id"])
    assert [r["level_code"] for r in shown["pairing"]] == [
        "city_leader",
        "helping_unit",
        "cadre",
        "enterprise_head",
    ]
    assert shown["pairing"][0]["person"]["name"] == "张明" and shown["pairing"][0]["gives_leader"]
    plain = journey.register(enterprise_id=journey.enterprise_id("药益宝公司"))
    assert journey.case(plain["case_id"])["pairing"] == []


def test_the_tables_match_their_migration(eng):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.storage.models import Base

    ours = {
        "pairing_level",
        "roster_person",
        "pairing",
        "plan",
        "plan_item",
        "plan_item_case",
        "programme_event",
    }
    with eng.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def tables_of(item) -> set[str]:
        item = item[0] if isinstance(item, list) else item
        found = set()
        for part in item[1:]:
            table = getattr(part, "table", None)
            name = (
                table.name
                if table is not None
                else getattr(part, "name", part if isinstance(part, str) else None)
            )
            found.add(name)
        return found

    assert [d for d in diff if tables_of(d) & ours] == []
