"""Visit campaigns (走访): scope and visitors, launch in bulk, the visit task in the inbox, recording a visit with its
questionnaire and problems, flags and supervision by the diagram's timers, coverage and permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import tasks as task_service
from engine.services import visit_views
from engine.services import visits
from engine.services.last_visits import last_visits
from engine.storage.models import Case
from engine.storage.models import HumanTask
from engine.storage.models import VisitAnswer
from engine.storage.models import WorkflowInstance
from engine.worker import run_pass as run_due_timers

SURVEY = {"operation": "difficult", "orders_trend": "down", "main_need": "finance", "policy_known": "partly"}


def campaign_data(**extra) -> dict:
    data = {
        "name": "2026年春季万人助万企走访",
        "form_key": "visit_survey",
        "waves": [
            {"name": "第一批", "start_date": "2026-03-09", "end_date": "2026-03-20"},
            {"name": "第二批", "start_date": "2026-03-23", "end_date": "2026-04-10"},
        ],
        "scope": {"filters": {}},
        "assignment": {"mode": "pairing", "level": "助企干部", "unit": "econ"},
    }
    data.update(extra)
    return data


def visit_data(**extra) -> dict:
    data = {
        "visited_on": "2026-03-10",
        "visitors": "王芳、陈刚",
        "met_with": "赵建华 董事长",
        "findings": "none",
        "answers": dict(SURVEY),
        "problems": [],
    }
    data.update(extra)
    return data


def my_visit_tasks(eng, actor) -> list[dict]:
    items = task_service.list_tasks(eng, actor, "mine", per_page=200)["items"]
    return [t for t in items if t["kind"] == "visit" and t["task_name"] == "record_visit"]


@pytest.fixture
def launched(eng, actors):
    result = visits.create_campaign(eng, actors("manager"), campaign_data(launch=True))
    return result["campaign_id"]


def test_a_campaign_gives_each_enterprise_in_scope_a_visit_task_for_its_paired_visitor(eng, actors, launched):
    registrar = actors("registrar")
    mine = my_visit_tasks(eng, registrar)
    # 王芳 (registrar) is the 助企干部 of 杭叉集团, 临安宝马机电 and 方兴管业 in the demo roster.
    assert {t["enterprise_name"] for t in mine} == {"杭叉集团", "临安宝马机电", "方兴管业"}
    assert all(t["due_at"] is not None and t["channel"] == "走访" for t in mine)
    # 陈刚 (森源电缆) has no account: the task is his unit's (经济和信息化局) staff's; the others default to econ.
    econ = task_service.list_tasks(eng, actors("handler_econ"), "mine", per_page=200)["items"]
    assert "森源电缆" in {t["enterprise_name"] for t in econ if t["kind"] == "visit"}
    detail = visit_views.get_campaign(eng, actors("manager"), launched)
    assert detail["status"] == "running"
    assert detail["total"]["in_scope"] == detail["total"]["pending"] > 3
    assert detail["total"]["visited"] == 0


def test_recording_a_visit_with_answers_and_problems_registers_cases_linked_to_it(eng, actors, launched):
    registrar = actors("registrar")
    task = next(t for t in my_visit_tasks(eng, registrar) if t["enterprise_name"] == "杭叉集团")
    problem = {
        "title": "新厂房用电增容",
        "description": "新厂房投产需要增容 2000 千伏安，申请已提交两月未批复。",
        "field": "工业",
        "category": "水电气",
        "urgency": "紧急",
    }
    result = task_service.complete_task(
        eng, registrar, task["task_id"], visit_data(findings="problems", problems=[problem])
    )
    assert len(result["cases"]) == 1
    with eng.db.read() as session:
        case = session.get(Case, result["cases"][0]["case_id"])
        assert case.channel == "走访" and case.enterprise_name == "杭叉集团"
        enterprise_id = case.enterprise_id
        assert (
            session.scalar(
                select(func.count()).select_from(VisitAnswer).where(VisitAnswer.field == "operation")
            )
            == 1
        )
        assert (
            session.scalar(
                select(func.count()).select_from(HumanTask).where(HumanTask.task_id == task["task_id"])
            )
            == 0
        )
        instance = session.scalars(
            select(WorkflowInstance).where(
                WorkflowInstance.kind == "visit", WorkflowInstance.status == "completed"
            )
        ).all()
        assert len(instance) == 1
    visit = visit_views.get_visit(eng, registrar, result["visit_id"])
    assert visit["cases"][0]["title"] == "新厂房用电增容"
    assert any(a["shown"] == "困难" for a in visit["answers"])
    detail = visit_views.get_campaign(eng, actors("manager"), launched)
    assert detail["total"]["visited"] == 1 and detail["total"]["problems"] == 1
    operation = next(q for q in detail["answers"] if q["field"] == "operation")
    assert {a["value"]: a["count"] for a in operation["answers"]}["difficult"] == 1
    found = visit_views.list_targets(
        eng, actors("manager"), {"campaign": launched, "answer": "operation=difficult"}
    )
    assert [i["enterprise_name"] for i in found["items"]] == ["杭叉集团"]
    with eng.db.read() as session:
        last = last_visits(session, [enterprise_id])
    assert last[enterprise_id]["visit_id"] == result["visit_id"]


def test_a_bad_record_names_every_problem_and_saves_nothing(eng, actors, launched):
    registrar = actors("registrar")
    task = my_visit_tasks(eng, registrar)[0]
    with pytest.raises(ValidationFailed) as caught:
        task_service.complete_task(
            eng,
            registrar,
            task["task_id"],
            visit_data(
                visited_on="2026-04-01",
                findings="problems",
                answers={"operation": "??"},
                problems=[{"title": ""}],
            ),
        )
    errors = caught.value.errors
    assert "visited_on" in errors  # after today
    assert "answers.operation" in errors and "answers.orders_trend" in errors
    assert any(key.startswith("problems.0.") for key in errors)
    with pytest.raises(ValidationFailed) as caught:
        task_service.complete_task(eng, registrar, task["task_id"], visit_data(findings="problems"))
    assert "problems" in caught.value.errors
    assert len(my_visit_tasks(eng, registrar)) == 3


def test_overdue_visits_get_flags_and_a_supervision_task(eng, actors, launched, clock):
    clock.set(dt.datetime(2026, 3, 19, 9, 30, tzinfo=LOCAL_TZ))  # two working days before the first wave ends
    run_due_timers(eng)
    first_wave = [t for t in my_visit_tasks(eng, actors("registrar")) if t["case_no"] == "第一批"]
    assert first_wave and all(t["flag"] == "yellow" for t in first_wave)
    clock.set(dt.datetime(2026, 3, 21, 9, 0, tzinfo=LOCAL_TZ))
    run_due_timers(eng)
    first_wave = [t for t in my_visit_tasks(eng, actors("registrar")) if t["case_no"] == "第一批"]
    assert all(t["flag"] == "red" for t in first_wave)
    supervise = [
        t
        for t in task_service.list_tasks(eng, actors("supervisor"), "mine", per_page=200)["items"]
        if t["kind"] == "visit"
    ]
    assert supervise and supervise[0]["task_name"] == "supervise"
    task_service.complete_task(
        eng,
        actors("supervisor"),
        supervise[0]["task_id"],
        {"supervision_step": "urge", "supervision_order": "请三日内完成走访并记录"},
    )
    coverage = visit_views.coverage(eng, actors("manager"), "wave", {"campaign": launched})
    first = next(r for r in coverage["rows"] if r["label"] == "第一批")
    assert first["overdue"] == first["in_scope"] > 0
    overdue = visit_views.list_targets(eng, actors("manager"), {"campaign": launched, "status": "overdue"})
    assert overdue["total"] == first["overdue"]
    # Recording the late visit still works and ends the supervision branch.
    task = first_wave[0]
    task_service.complete_task(eng, actors("registrar"), task["task_id"], visit_data(visited_on="2026-03-21"))


def test_a_unit_sees_only_its_own_visitors_rows(eng, actors, launched):
    power = visit_views.list_targets(eng, actors("handler_power"), {"campaign": launched})
    econ = visit_views.list_targets(eng, actors("handler_econ"), {"campaign": launched})
    assert power["total"] == 0
    assert econ["total"] > 0 and all(i["unit"] == "经济和信息化局" for i in econ["items"])
    with pytest.raises(NotFound):
        visit_views.get_campaign(eng, actors("handler_power"), launched)
    with pytest.raises(PermissionDenied):
        visits.create_campaign(eng, actors("handler_econ"), campaign_data(name="另一个"))


def test_scope_by_filter_or_list_and_missing_visitors_are_refused(eng, actors, journey):
    manager = actors("manager")
    with pytest.raises(ValidationFailed) as caught:
        visits.create_campaign(
            eng, manager, campaign_data(assignment={"mode": "pairing", "level": "助企干部"})
        )
    assert "assignment" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        visits.create_campaign(
            eng, manager, campaign_data(scope={"list": [{"credit_code": "91330100MA00000000", "row": 2}]})
        )
    assert "企业档案中没有" in next(iter(caught.value.errors.values()))
    from engine.demo.seed import demo_credit_code

    listed = visits.create_campaign(
        eng,
        manager,
        campaign_data(
            scope={"list": [{"credit_code": demo_credit_code("杭叉集团"), "wave": "2"}]},
            assignment={"mode": "hand", "user": "registrar"},
        ),
    )
    assert listed["targets"] == 1 and listed["status"] == "draft"
    visits.launch_campaign(eng, manager, listed["campaign_id"])
    with pytest.raises(Conflict):
        visits.launch_campaign(eng, manager, listed["campaign_id"])
    closed = visits.close_campaign(eng, manager, listed["campaign_id"])
    assert closed["withdrawn"] == 1
    assert not my_visit_tasks(eng, actors("registrar"))


def test_the_office_hands_a_visit_to_another_visitor(eng, actors, launched):
    mine = my_visit_tasks(eng, actors("registrar"))
    target = visit_views.list_targets(
        eng, actors("manager"), {"campaign": launched, "cadre": f"u{actors('registrar').user_id}"}
    )
    first = target["items"][0]
    with pytest.raises(ValidationFailed):
        visits.reassign(eng, actors("manager"), first["target_id"], {"user": "nobody"})
    with pytest.raises(PermissionDenied):
        visits.reassign(eng, actors("handler_econ"), first["target_id"], {"unit": "power"})
    moved = visits.reassign(eng, actors("manager"), first["target_id"], {"unit": "power"})
    assert moved["visitor"] == "市电业局（供电公司）"
    assert len(my_visit_tasks(eng, actors("registrar"))) == len(mine) - 1
    power = task_service.list_tasks(eng, actors("handler_power"), "mine", per_page=200)["items"]
    task = next(t for t in power if t["enterprise_name"] == first["enterprise_name"])
    task_service.complete_task(eng, actors("handler_power"), task["task_id"], visit_data())
    with pytest.raises(Conflict):
        visits.reassign(eng, actors("manager"), first["target_id"], {"user": "registrar"})


def test_the_tables_match_their_migration(eng):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.storage.models import Base

    ours = {
        "visit_campaign",
        "visit_wave",
        "visit_target",
        "visit",
        "visit_answer",
        "visit_case",
        "rating_round",
        "rating_invite",
        "rating",
        "workflow_instance",
        "human_task",
    }
    with eng.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def table_of(item):
        item = item[0] if isinstance(item, list) else item
        for part in item[1:]:
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if isinstance(part, str) and part in ours:
                return part
            if getattr(part, "name", None) in ours:
                return part.name
        return None

    assert [d for d in diff if table_of(d) in ours] == []
