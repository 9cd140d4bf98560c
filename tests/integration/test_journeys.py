"""The closed loop through the service layer on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import Conflict
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import tasks
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import HumanTask
from engine.storage.models import WorkflowInstance


def test_department_journey_closes_case(journey):
    case = journey.register()
    assert case["tier"] == "department" and case["time_limit_days"] == 5  # rule 6: 紧急 → 5 days
    assert case["status"] == "dispatching"
    journey.dispatch(case["case_id"], co_units=["econ"])
    journey.handle_to_revisit(case["case_id"])
    journey.revisit(case["case_id"], "satisfied")
    result = journey.act("dispatcher", case["case_id"], {"closing_summary": "已解决，销号。"})
    assert result["status"] == "closed" and result["next_tasks"] == []
    page = journey.case(case["case_id"])
    kinds = [e["kind"] for e in page["timeline"]]
    assert kinds[0] == "registered" and "rule_decision" in kinds and kinds[-1] == "closed"
    decision = next(e for e in page["timeline"] if e["kind"] == "rule_decision")
    assert decision["data"]["outputs"] == {"tier": "department", "time_limit_days": 5}
    assert page["deadline_at"] is not None and page["lead_unit"] == "市电业局（供电公司）"
    assert {u["relation"] for u in page["units"]} == {"lead", "co"}


def test_on_site_case_goes_back_to_registrar(journey):
    case = journey.register(category="政策咨询", urgency="一般")
    assert case["tier"] == "on_site" and case["status"] == "on_site"
    journey.act(
        "registrar", case["case_id"], {"on_site_result": "resolved", "on_site_actions": "当场答复政策口径。"}
    )
    assert journey.case(case["case_id"])["status"] == "revisiting"


def test_unsatisfied_revisit_reopens_as_new_round(eng, journey):
    case = journey.register()
    case_id = case["case_id"]
    journey.dispatch(case_id)
    journey.handle_to_revisit(case_id)
    journey.revisit(case_id, "unsatisfied")
    page = journey.case(case_id)
    assert page["round_no"] == 2 and page["status"] == "dispatching" and page["case_no"] == case["case_no"]
    assert [r["result"] for r in page["rounds"]] == ["reopened", None]
    with eng.db.read() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(WorkflowInstance).where(WorkflowInstance.case_id == case_id)
            )
            == 2
        )


def test_return_goes_back_to_dispatcher_and_is_counted(journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="market")
    journey.act(
        "handler_market", case_id, {"sign_decision": "return", "return_reason": "不属于本单位职责范围"}
    )
    page = journey.case(case_id)
    assert page["status"] == "dispatching" and page["returns_count"] == 1


def test_other_units_handler_cannot_act_or_see(eng, journey, actors):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")
    task = journey.task("handler_power", case_id)
    with pytest.raises(PermissionDenied):
        tasks.complete_task(eng, actors("handler_market"), task["task_id"], {"sign_decision": "sign"})
    with pytest.raises(PermissionDenied):
        journey.case(case_id, user="handler_market")


def test_invalid_submission_changes_nothing(eng, journey, actors):
    case_id = journey.register()["case_id"]
    task = journey.task("dispatcher", case_id)
    with eng.db.read() as session:
        before = session.scalar(select(func.count()).select_from(CaseEvent))
    with pytest.raises(ValidationFailed) as info:
        tasks.complete_task(
            eng,
            actors("dispatcher"),
            task["task_id"],
            {"tier": "department", "lead_unit": "nowhere", "time_limit_days": 5},
        )
    assert "lead_unit" in info.value.errors
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == before
        assert session.get(Case, case_id).status == "dispatching"


def test_completing_twice_is_a_conflict(eng, journey, actors):
    case_id = journey.register()["case_id"]
    task = journey.task("dispatcher", case_id)
    data = {"tier": "department", "lead_unit": "power", "time_limit_days": 5}
    tasks.complete_task(eng, actors("dispatcher"), task["task_id"], data)
    with pytest.raises(Conflict):
        tasks.complete_task(eng, actors("dispatcher"), task["task_id"], data)


def test_stale_lock_version_is_a_conflict(eng, journey, actors):
    case_id = journey.register()["case_id"]
    task = tasks.get_task(eng, actors("dispatcher"), journey.task("dispatcher", case_id)["task_id"])
    with pytest.raises(Conflict):
        tasks.complete_task(
            eng,
            actors("dispatcher"),
            task["task_id"],
            {"tier": "department", "lead_unit": "power", "time_limit_days": 5},
            lock_version=task["lock_version"] + 1,
        )
    with eng.db.read() as session:
        assert (
            session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.case_id == case_id))
            == 1
        )


def test_someone_elses_upload_cannot_be_attached(eng, journey, actors):
    from engine.services.attachments import Upload
    from engine.services.attachments import upload_attachment

    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    foreign = upload_attachment(
        eng, actors("handler_market"), Upload("file", "a.png", b"\x89PNG" + b"0" * 10)
    )
    with pytest.raises(ValidationFailed) as info:
        journey.act(
            "handler_power",
            case_id,
            {"outcome": "resolved", "handling_actions": "已处理", "attachments": [foreign["attachment_id"]]},
        )
    assert "attachments" in info.value.errors
    assert journey.case(case_id)["status"] == "handling" and journey.case(case_id)["attachments"] == []


def test_text_search_finds_substrings_of_any_length(eng, journey, actors):
    from engine.services.case_list import search_cases

    first = journey.register(title="急需仓储用房", description="急需1000平方米仓储用房。", category="用地")
    journey.register(title="融资难", description="担心银行压贷。", category="融资")
    dispatcher = actors("dispatcher")

    def found(q):
        return [c["case_no"] for c in search_cases(eng, dispatcher, {"q": q})["items"]]

    assert found("仓储") == [first["case_no"]]  # two characters: through the n-gram index
    assert found("平方米仓储用房") == [first["case_no"]]
    assert found("仓") == [first["case_no"]]  # one character: plain substring scan
    assert found(first["case_no"][-6:]) == [first["case_no"]]  # part of the case number
    assert found("JN") and len(found("jn")) == 2  # case-insensitive
    assert found("仓储 用房") == [first["case_no"]]  # several words: all must occur
    assert found("储仓") == [] and found("100%") == [] and found("_") == []
