"""Running a case's workflow: start a round, load/settle an instance, keep the case row and task projection in step.

Internal to the services (no transaction of its own): every function here works inside the caller's session.
A reopened case starts a new round as a new instance ("continue as new"), so no instance grows without bound.
"""

from __future__ import annotations

import datetime as dt
import functools

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import CASE_STATUSES
from engine.errors import JienanError
from engine.errors import NotFound
from engine.errors import SpecError
from engine.i18n import _
from engine.rules import store as rulestore
from engine.services import figures
from engine.services import notifications
from engine.services.common import Actor
from engine.services.common import record_event
from engine.services.common import unit_directory
from engine.storage import append
from engine.storage import versions
from engine.storage.models import Case
from engine.storage.models import CaseRound
from engine.storage.models import CaseUnit
from engine.storage.models import HumanTask
from engine.storage.models import ProcessVersion
from engine.storage.models import Unit
from engine.storage.models import User
from engine.storage.models import WorkflowInstance
from engine.workflow import runtime
from engine.workflow.script_api import ScriptApi
from engine.workflow.scripts import JienanScriptEngine
from engine.workflow.specs import ParsedProcess
from engine.workflow.timers import using_clock

MAIN_PROCESS = "case_handling"

# Workflow variables a new round carries over from the case.
CARRIED_KEYS = ("tier", "time_limit_days", "lead_unit", "co_units", "responsible_leader", "returns_count")


class WorkflowFailed(JienanError):
    """The diagram could not run this step (a script, condition or rule failed); nothing was saved."""

    http_status = 422


def latest_version_id(session: Session, process_id: str = MAIN_PROCESS) -> int:
    """The id of the live version of the process: what new cases (and new rounds) start on."""
    version_id = versions.active_version_id(session, "process", process_id)
    if version_id is None:
        raise NotFound(
            _("流程 %(process)s 尚未部署，请管理员先初始化系统（jienan init）", process=process_id)
        )
    return version_id


def parsed_version(eng, session: Session, version_id: int) -> ParsedProcess:
    return eng.specs.get(version_id, lambda vid: session.get(ProcessVersion, vid).bpmn_xml)


def script_engine(eng, session: Session, case: Case) -> JienanScriptEngine:
    """A script engine for one unit of work on `case`: business rule tasks decide with the newest published
    rule tables; scripts get the helpers of engine.workflow.script_api (their effects are applied by `settle`)."""
    api = ScriptApi(eng.clock, {"flag": case.flag, "tier": case.tier, "notices": case.notice_count})
    return rule_script_engine(eng, session, api)


def rule_script_engine(eng, session: Session, api) -> JienanScriptEngine:
    """A script engine whose helpers are `api`'s functions and whose business rule tasks decide with the live
    rule tables (each decision audited in `engine.decisions`)."""
    engine = JienanScriptEngine(helpers=api.functions())
    engine.api = api

    def decide(decision_id: str, task) -> dict:
        outputs, audit = rulestore.decide(
            session,
            eng.rules,
            decision_id,
            task.data,
            resolve=lambda expression, context: engine.environment.evaluate(expression, context),
        )
        audit["task_name"] = task.task_spec.name
        audit["task_title"] = task.task_spec.bpmn_name
        engine.decisions.append(audit)
        return outputs

    engine.decide = decide
    return engine


def case_start_data(case: Case, round_no: int) -> dict:
    return {
        "case_id": case.case_id,
        "case_no": case.case_no,
        "round_no": round_no,
        "field": case.field,
        "category": case.category,
        "channel": case.channel,
        "urgency": case.urgency,
        "library": case.library,
        "tier": None,
        "time_limit_days": None,
        "lead_unit": None,
        "co_units": [],
        "responsible_leader": None,
        "returns_count": case.returns_count or 0,
        "outcome": None,
        "on_site_result": None,
        "deadline": None,
        "original_deadline": None,
        "extensions_count": 0,
    }


def start_round(eng, session: Session, case: Case, actor: Actor | None, carried: dict | None = None) -> list:
    """Start handling round `case.round_no` as a new instance of the newest process version."""
    version_id = latest_version_id(session)
    parsed = parsed_version(eng, session, version_id)
    engine = script_engine(eng, session, case)
    data = case_start_data(case, case.round_no)
    data.update(carried or {})
    workflow = runtime.create(parsed, str(version_id), engine, data)
    now = eng.now()
    instance = new_instance(session, eng, version_id, case.case_id, case.round_no)
    session.add(
        CaseRound(
            case_id=case.case_id,
            round_no=case.round_no,
            instance_id=instance.instance_id,
            started_at=now,
            lead_unit_id=case.lead_unit_id,
        )
    )
    bpmn_events = _run(eng, lambda: runtime.advance(workflow))
    return settle(eng, session, case, instance, workflow, parsed, engine, actor, bpmn_events)


def new_instance(session: Session, eng, version_id: int, case_id: int | None, round_no: int = 1):
    """A stored, running instance row (its state is written when it settles)."""
    now = eng.now()
    instance = WorkflowInstance(
        case_id=case_id,
        round_no=round_no,
        version_id=version_id,
        status="running",
        state="",
        created_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    return instance


def load(eng, session: Session, instance: WorkflowInstance, case: Case):
    """Restore an instance with a fresh script engine. Returns (workflow, parsed, script_engine)."""
    parsed = parsed_version(eng, session, instance.version_id)
    engine = script_engine(eng, session, case)
    workflow = runtime.loads(instance.state, lambda _key: parsed, engine)
    engine.units_at_load = _units_in(runtime.current_data(workflow))
    return workflow, parsed, engine


def _units_in(data: dict) -> tuple:
    """The lead and co-handling units the workflow names (codes)."""
    return data.get("lead_unit"), tuple(data.get("co_units") or ())


def _run(eng, step):
    """Run an engine step on the engine's clock, turning engine failures into one clear error (the transaction
    then rolls back)."""
    try:
        with using_clock(eng.clock):
            return step()
    except JienanError:
        raise
    except SpiffWorkflowException as exc:
        cause = exc.__cause__ or exc.__context__ or getattr(exc, "exception", None)
        spec = getattr(exc, "task_spec", None)
        where = (
            getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or getattr(spec, "name", "")
        )
        problem = cause.message if isinstance(cause, JienanError) else exc
        if where:
            raise WorkflowFailed(
                _("流程在“%(where)s”处无法继续：%(problem)s", where=where, problem=problem)
            ) from None
        raise WorkflowFailed(_("流程无法继续：%(problem)s", problem=problem)) from None


def run_engine(eng, workflow) -> list:
    """Refresh timers and run what can run (the worker's step for a due instance)."""
    return _run(eng, lambda: runtime.advance(workflow))


def complete(
    eng, session, case, instance, workflow, parsed, engine, actor, task, data, earlier_events=()
) -> list:
    """Complete one human task with validated data and settle everything that follows.

    Returns the case's open human tasks afterwards (projection rows, as dicts).
    """
    bpmn_events = _run(eng, lambda: runtime.complete_task(workflow, task, data))
    return settle(
        eng,
        session,
        case,
        instance,
        workflow,
        parsed,
        engine,
        actor,
        [*earlier_events, *bpmn_events],
        completed=str(task.id),
    )


def settle(
    eng, session, case, instance, workflow, parsed, engine, actor, bpmn_events, completed=None
) -> list:
    """Save the instance, audit rule decisions and engine events, sync the case row and rebuild the projection.

    Runs without autoflush so the case row is written once, at the end, rather than before every lookup.
    """
    with session.no_autoflush:
        return _settle(eng, session, case, instance, workflow, parsed, engine, actor, bpmn_events, completed)


def _settle(eng, session, case, instance, workflow, parsed, engine, actor, bpmn_events, completed) -> list:
    now = eng.now()
    for audit in engine.decisions:
        record_event(
            session,
            eng,
            case_id=case.case_id,
            round_no=instance.round_no,
            kind="rule_decision",
            title=f"规则表“{audit.get('table_name') or audit.get('decision_id')}”决定",
            actor=None,
            data=audit,
            task_name=audit.get("task_name"),
        )
    engine.decisions.clear()
    for event in bpmn_events:
        record_event(
            session,
            eng,
            case_id=case.case_id,
            round_no=instance.round_no,
            kind="bpmn_event",
            title=f"流程事件：{getattr(event.event_definition, 'name', '') or type(event.event_definition).__name__}",
            actor=None,
            data={"payload": repr(event.payload)[:500]},
        )
    ready = runtime.ready_human_tasks(workflow)
    data = runtime.current_data(workflow, ready)
    _sync_case(eng, session, case, data, now, getattr(engine, "units_at_load", None))
    engine.units_at_load = _units_in(data)
    _apply_effects(eng, session, case, instance, engine.api.effects, actor)
    engine.api.effects.clear()
    instance.state = runtime.dumps(workflow)
    instance.next_timer_at = runtime.next_timer(workflow)
    instance.updated_at = now
    case.updated_at = now
    end_event = runtime.completed_end_event(workflow, parsed.end_events)
    if workflow.is_completed():
        instance.status = "completed"
        instance.end_event = end_event
        return _finish_round(
            eng, session, case, instance, parsed.end_events.get(end_event, "closed"), actor, data
        )
    return _project(eng, session, case, instance, ready, parsed, completed)


FLAG_TITLES = {
    "green": "恢复绿旗",
    "yellow": "亮黄旗：临近办理期限",
    "red": "亮红旗：已超过办理期限",
    "black": "亮黑旗：严重超期",
}


def _apply_effects(eng, session, case: Case, instance: WorkflowInstance, effects, actor) -> None:
    """Carry out what the diagram's scripts asked for: flags, notifications, notes on the record."""
    note = functools.partial(
        record_event, session, eng, case_id=case.case_id, round_no=instance.round_no, actor=None
    )

    def tell(audiences, kind: str, title: str) -> None:
        notifications.notify_audiences(session, eng, case, audiences, kind=kind, title=title, body=case.title)

    for effect in effects:
        args = effect.args
        if effect.kind == "flag":
            if case.flag == args["flag"]:
                continue
            previous, case.flag = case.flag, args["flag"]
            title = FLAG_TITLES[case.flag]
            data = {"from": previous, "to": case.flag, "unit_id": case.lead_unit_id}
            note(kind="flag_changed", title=title, data=data)
            tell(("unit", "dispatcher"), "flag", f"{case.case_no} {title}")
        elif effect.kind == "notify":
            tell((args["audience"],), args["kind"], f"{case.case_no} {args['message']}")
            note(kind="notified", title=args["message"][:200], data=args)
        elif effect.kind == "record":
            if args["kind"] == "public_notice":
                case.notice_count = (case.notice_count or 0) + 1
            # Reminders, notices and extensions count against the unit that held the case.
            note(kind=args["kind"][:30], title=args["title"], data={"unit_id": case.lead_unit_id})


def _finish_round(eng, session, case, instance, result, actor, data) -> list:
    session.execute(delete(HumanTask).where(HumanTask.instance_id == instance.instance_id))
    _end_round_row(
        session,
        (case.case_id, instance.round_no),
        ended_at=eng.now(),
        result="reopened" if result == "reopen" else "closed",
        outcome=case.outcome,
        satisfaction=case.satisfaction,
        lead_unit_id=case.lead_unit_id,
    )
    figures.round_ended(session, eng, case, reopened=result == "reopen")
    if result == "reopen":
        carried = {key: data.get(key) for key in CARRIED_KEYS}
        if carried.get("tier") in (None, "on_site"):
            carried["tier"] = "department"
        case.round_no += 1
        case.signed_at = None
        case.deadline_at = None
        case.original_deadline_at = None
        case.flag = None
        case.outcome = None
        case.satisfaction = None
        case.handled_at = None
        record_event(
            session,
            eng,
            case_id=case.case_id,
            round_no=case.round_no,
            kind="reopened",
            title=f"企业不满意，开启第 {case.round_no} 轮办理",
            actor=actor,
            data={"previous_round": instance.round_no},
        )
        return start_round(eng, session, case, actor, carried)
    else:
        case.status = "closed"
        case.current_task = None
        case.closed_at = eng.now()
        record_event(
            session,
            eng,
            case_id=case.case_id,
            round_no=instance.round_no,
            kind="closed",
            title="诉求已销号",
            actor=actor,
            data={"end_event": instance.end_event},
        )
    return []


def _end_round_row(session: Session, key: tuple[int, int], **values) -> None:
    """Record how the round ended on its case_round row: on the object when this session holds it (a round
    started in this transaction), else with one UPDATE (no need to read the row first)."""
    row = next((o for o in session.new if isinstance(o, CaseRound) and (o.case_id, o.round_no) == key), None)
    row = row or session.identity_map.get(session.identity_key(CaseRound, key))
    if row is None:
        session.execute(
            update(CaseRound)
            .where(CaseRound.case_id == key[0], CaseRound.round_no == key[1])
            .values(**values)
        )
        return
    for name, value in values.items():
        setattr(row, name, value)


def _sync_case(eng, session, case: Case, data: dict, now, units_before=None) -> None:
    """Copy the workflow variables lists and search need onto the case row (and credit the figures' facts).

    `units_before` are the units the workflow named when it was loaded: when they are still the same, the last
    step kept case_unit in step with them (and credited them), so case_unit is not read again.
    """
    was = figures.before(case)
    if data.get("tier"):
        case.tier = data["tier"]
    if isinstance(data.get("time_limit_days"), int):
        case.time_limit_days = data["time_limit_days"]
    case.returns_count = int(data.get("returns_count") or 0)
    on_the_spot = "resolved" if data.get("on_site_result") == "resolved" else None
    case.outcome = data.get("outcome") or on_the_spot or case.outcome
    case.satisfaction = data.get("satisfaction") or case.satisfaction
    co = list(data.get("co_units") or [])
    if units_before == _units_in(data) and figures.parties_known(case):
        # As the last step left them: its lead is the case's lead unit (without co-handling units, that is all).
        units = None if co else [(case.lead_unit_id, "lead")] if case.lead_unit_id else []
    else:
        units = _sync_units(session, case, data.get("lead_unit"), list(data.get("co_units") or []))
    leader = data.get("responsible_leader")
    case.responsible_leader_id = (
        session.scalar(select(User.user_id).where(User.username == leader)) if leader else None
    )
    if data.get("sign_decision") == "return":
        case.signed_at = case.deadline_at = None
        case.flag = None
    else:
        case.signed_at = _moment(data.get("signed_at")) or case.signed_at
        case.deadline_at = _moment(data.get("deadline")) or case.deadline_at
        case.original_deadline_at = _moment(data.get("original_deadline"))
        case.extensions_count = int(data.get("extensions_count") or 0)
    figures.after_sync(session, eng, case, was, units)


def _moment(value):
    """A timestamp the diagram computed (ISO text), as aware UTC."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)).astimezone(dt.UTC)


def _sync_units(session, case: Case, lead_code: str | None, co_codes: list[str]) -> list[tuple[int, str]]:
    """Keep case_unit (lead / co / former) and the case's lead unit in step with the workflow's choice.

    Returns the units now involved as (unit id, "lead" or "co")."""
    involved = {
        code: row
        for row, code in session.execute(
            select(CaseUnit, Unit.code)
            .join(Unit, Unit.unit_id == CaseUnit.unit_id)
            .where(CaseUnit.case_id == case.case_id)
        )
    }
    wanted = {code: "co" for code in co_codes if code} | ({lead_code: "lead"} if lead_code else {})
    missing = [code for code in wanted if code not in involved]
    if missing:
        directory = unit_directory(session)
        for code in missing:
            if code in directory:
                unit_id = directory[code].unit_id
                involved[code] = CaseUnit(case_id=case.case_id, unit_id=unit_id, relation="former")
                session.add(involved[code])
    for code, row in involved.items():
        relation = wanted.get(code, "former")
        if row.relation != relation:
            row.relation = relation
    lead = involved.get(lead_code) if lead_code else None
    case.lead_unit_id = lead.unit_id if lead else None
    return [(row.unit_id, row.relation) for row in involved.values() if row.relation in ("lead", "co")]


def _due(case: Case, role: str, data: dict):
    """When a handler's task is due: the handling deadline once signed for, else the sign-for limit."""
    if role != "handler":
        return None
    return case.deadline_at if case.signed_at else _moment(data.get("sign_by"))


# Built once: executed with parameters, it is neither built nor given a cache key again on every step.
_PROJECTION = HumanTask.__table__
_REMOVE_PROJECTION = (
    delete(_PROJECTION)
    .where(_PROJECTION.c.instance_id == bindparam("instance_id"))
    .returning(_PROJECTION.c.task_id, _PROJECTION.c.created_at, _PROJECTION.c.task_name, _PROJECTION.c.title)
)


def _project(
    eng, session, case: Case, instance: WorkflowInstance, ready: list, parsed: ParsedProcess, completed=None
) -> list:
    """Rebuild this instance's rows in the human-task projection from its READY human tasks (`ready`).

    A task that was open before and is neither ready now nor the one just `completed` was withdrawn by the
    diagram (an interrupting deadline, an escalation, the round ending): that is recorded, so a late submission
    can be told why it is refused.
    """
    append.write(session, [HumanTask.__table__])  # rows projected earlier in this transaction are removed too
    before = session.connection().execute(_REMOVE_PROJECTION, {"instance_id": instance.instance_id}).all()
    for row in [o for o in session.identity_map.values() if isinstance(o, HumanTask)]:
        if row.instance_id == instance.instance_id:
            session.expunge(row)  # what the ORM's delete would do with the rows it holds
    existing = {row.task_id: row.created_at for row in before}  # kept across rebuilds
    still_open = {str(task.id) for task in ready}
    for row in before:
        if row.task_id not in still_open and row.task_id != completed:
            record_event(
                session,
                eng,
                case_id=case.case_id,
                round_no=instance.round_no,
                kind="task_withdrawn",
                title=f"任务“{row.title}”已由流程中止",
                actor=None,
                task_name=row.task_name,
                task_id=row.task_id,
                data={"task_id": row.task_id, "title": row.title},
            )
    now = eng.now()
    statuses, rows = [], []
    for task in ready:
        spec = parsed.human_tasks.get(task.task_spec.name)
        if spec is None:
            raise SpecError(_("任务 %(task)s 不是人工任务", task=task.task_spec.name))
        role = spec.role or "dispatcher"
        unit_id = case.lead_unit_id if role == "handler" else None
        assignee = {"registrar": case.registrar_id, "leader": case.responsible_leader_id}.get(role)
        task_id = str(task.id)
        row = {
            "task_id": task_id,
            "instance_id": instance.instance_id,
            "case_id": case.case_id,
            "task_name": spec.name,
            "title": spec.title,
            "form_key": spec.form_key,
            "role": role,
            "unit_id": unit_id,
            "assignee_id": assignee,
            "created_at": existing.get(task_id, now),
            "due_at": _due(case, role, task.data),
            "flag": case.flag,
            "case_no": case.case_no,
            "case_title": case.title,
            "enterprise_name": case.enterprise_name,
            "field": case.field,
            "category": case.category,
            "channel": case.channel,
            "urgency": case.urgency,
            "tier": case.tier,
            "round_no": instance.round_no,
        }
        append.append(session, HumanTask.__table__, row)  # written with the transaction's other rows
        rows.append(row)
        if spec.case_status in CASE_STATUSES:
            statuses.append(spec.case_status)
        if task_id not in existing:
            notice = dict(
                case_id=case.case_id,
                kind="task",
                title=f"新任务：{spec.title}（{case.case_no}）",
                body=case.title,
            )
            if assignee:
                notifications.notify(session, eng, [assignee], **notice)
            else:
                notifications.notify_role(session, eng, role, unit_id, **notice)
            record_event(
                session,
                eng,
                case_id=case.case_id,
                round_no=instance.round_no,
                kind="task_ready",
                title=f"任务“{spec.title}”待办理",
                actor=None,
                task_name=spec.name,
                data={"task_id": task_id, "role": role, "unit_id": unit_id, "assignee_id": assignee},
            )
    if statuses:
        case.status = statuses[0]
        case.current_task = "、".join(parsed.human_tasks[t.task_spec.name].title for t in ready)
    else:
        case.status = "in_progress"
        case.current_task = None
    return rows
