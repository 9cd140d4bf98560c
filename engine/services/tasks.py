"""Human tasks: inboxes from the projection, one task with its form, and completing it."""

from __future__ import annotations

from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import runtime
from engine.domain import FLAGS
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.models import Case
from engine.models import CaseEvent
from engine.models import HumanTask
from engine.models import WorkflowInstance
from engine.services import evaluation
from engine.services import flow
from engine.services.attachments import FileStager
from engine.services.attachments import Upload
from engine.services.attachments import link_form_attachments
from engine.services.attachments import store_uploads
from engine.services.cases import can_act
from engine.services.cases import task_holder
from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.common import record_event
from engine.services.common import unit_names
from engine.services.common import user_names
from engine.services.references import check_references


def _inbox_query(actor: Actor, scope: str):
    if scope == "unit":
        if actor.unit_id is None:
            return select(HumanTask).where(False)
        return select(HumanTask).where(HumanTask.unit_id == actor.unit_id)
    pool = and_(
        HumanTask.assignee_id.is_(None),
        HumanTask.role.in_(sorted(actor.roles)),
        or_(HumanTask.unit_id.is_(None), HumanTask.unit_id == actor.unit_id),
    )
    return select(HumanTask).where(or_(HumanTask.assignee_id == actor.user_id, pool))


def list_tasks(eng, actor: Actor, scope: str = "mine", page=1, per_page=20, flag: str | None = None) -> dict:
    """Tasks the actor can act on ("mine": assigned to me or my roles' pool) or all of the unit's ("unit").

    `flag` narrows to one colour (green counts cases never flagged). :raises ValidationFailed: unknown colour.
    """
    page, per_page = paginate(page, per_page)
    query = _inbox_query(actor, scope)
    if flag:
        if flag not in FLAGS:
            raise ValidationFailed(
                f"旗帜应为 {'、'.join(FLAGS)} 之一", {"flag": f"应为 {'、'.join(FLAGS)} 之一"}
            )
        query = query.where(
            or_(HumanTask.flag.is_(None), HumanTask.flag == "green")
            if flag == "green"
            else HumanTask.flag == flag
        )
    with eng.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(HumanTask.created_at, HumanTask.task_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        units = unit_names(session)
        people = user_names(session, [t.assignee_id for t in rows])
        items = [_task_row(t, units, people, actor) for t in rows]
        return {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "scope": scope,
            "flag": flag or None,
        }


def _task_row(task: HumanTask, units, people, actor: Actor) -> dict:
    return task_holder(task, units, people) | {
        "case_id": task.case_id,
        "case_no": task.case_no,
        "case_title": task.case_title,
        "enterprise_name": task.enterprise_name,
        "field": task.field,
        "category": task.category,
        "channel": task.channel,
        "urgency": task.urgency,
        "tier": task.tier,
        "round_no": task.round_no,
        "flag": task.flag,
        "can_act": can_act(actor, task),
    }


def _visible_task(session: Session, actor: Actor, task_id: str) -> HumanTask:
    task = session.get(HumanTask, str(task_id))
    if task is None:
        done = session.scalar(
            select(CaseEvent.event_id)
            .where(CaseEvent.kind == "task_completed", CaseEvent.data["task_id"].as_string() == str(task_id))
            .limit(1)
        )
        if done is not None:
            raise Conflict("这个任务已被处理，请刷新页面查看最新状态")
        withdrawn = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.kind == "task_withdrawn", CaseEvent.data["task_id"].as_string() == str(task_id))
            .limit(1)
        ).first()
        if withdrawn is not None:
            raise Conflict(_withdrawn_message(withdrawn.data.get("title") or ""))
        raise NotFound("找不到这个任务")
    if not can_act(actor, task):
        raise PermissionDenied("这个任务不归您办理")
    return task


def get_task(eng, actor: Actor, task_id: str) -> dict:
    """A task with its form (schema) and the current values to pre-fill it."""
    with eng.db.read() as session:
        task = _visible_task(session, actor, task_id)
        instance = session.get(WorkflowInstance, task.instance_id)
        if task.case_id is None:
            workflow, _parsed, _engine = evaluation.load(eng, session, instance)
        else:
            workflow, _parsed, _engine = flow.load(eng, session, instance, session.get(Case, task.case_id))
        live = runtime.find_ready_task(workflow, task.task_id)
        form = eng.forms.get(task.form_key) if task.form_key else None
        units = unit_names(session)
        people = user_names(session, [task.assignee_id])
        result = _task_row(task, units, people, actor)
        result.update(
            lock_version=instance.lock_version,
            form_schema=form.schema if form else None,
            values=form.defaults(live.data) if form else {},
            data={k: v for k, v in live.data.items() if not k.startswith("_")},
        )
        return result


def complete_task(
    eng, actor: Actor, task_id: str, raw, uploads: list[Upload] | None = None, lock_version: int | None = None
) -> dict:
    """Validate the submission against the task's form, complete the task and run the diagram on.

    :raises NotFound: unknown task. :raises PermissionDenied: someone else's task.
    :raises ValidationFailed: bad form data (nothing saved). :raises Conflict: already done, or the page is stale.
    """
    stager = FileStager(eng.settings.upload_dir)
    try:
        with eng.db.transaction() as session:
            result = _complete(eng, session, stager, actor, task_id, raw, uploads or [], lock_version)
    except BaseException:
        stager.discard()
        raise
    if isinstance(result, _Refused):
        raise Conflict(result.message)
    return result


class _Refused:
    """A submission refused after the transaction saved what the clock did (the task was withdrawn)."""

    def __init__(self, message: str):
        self.message = message


def _withdrawn_message(title: str) -> str:
    return (
        f"“{title}”任务已超过时限，流程已将其中止并转入下一环节，您的提交没有保存。"
        "请刷新页面查看诉求的最新状态和办理记录"
    )


def _check_extension_request(eng, case: Case, data: dict) -> None:
    """An extension (延期) is asked for before the deadline, never after it."""
    if (
        data.get("handling_step") == "extension"
        and case.deadline_at is not None
        and case.deadline_at <= eng.now()
    ):
        raise ValidationFailed(
            "已超过办理期限，不能再申请延期",
            {"handling_step": "已超过办理期限，不能再申请延期；请尽快办结并提交办理结果"},
        )


def _complete(eng, session, stager, actor, task_id, raw, uploads, lock_version) -> dict:
    task = _visible_task(session, actor, task_id)
    if task.case_id is None:  # a programme-level task: the quarterly evaluation
        return evaluation.complete(eng, session, actor, task, raw, lock_version)
    # Row lock (PostgreSQL): a concurrent submit of the same case waits here, then finds the task gone (409).
    instance = session.get(WorkflowInstance, task.instance_id, with_for_update=True)
    if lock_version is not None and int(lock_version) != instance.lock_version:
        raise Conflict("页面已过期：其他人刚刚处理了这件诉求，请刷新后再提交")
    case = session.get(Case, task.case_id)
    workflow, parsed, engine = flow.load(eng, session, instance, case)
    # Timers due since the last save fire before the user acts; an interrupting one may withdraw this very task.
    was_ready = runtime.is_ready_task(workflow, task.task_id)
    earlier_events = flow.run_engine(eng, workflow)
    try:
        live = runtime.find_ready_task(workflow, task.task_id)
    except Conflict:
        if not was_ready:
            raise
        # Keep what the clock did (the case moved on), refuse the submission: nothing of it is saved.
        flow.settle(eng, session, case, instance, workflow, parsed, engine, None, earlier_events)
        return _Refused(_withdrawn_message(task.title))
    form = eng.forms.get(task.form_key) if task.form_key else None
    files = store_uploads(eng, session, stager, actor, uploads) if uploads else {}
    data = form.parse_submission(raw, files=files) if form else {}
    if form:
        check_references(session, actor, form, data)
        _check_extension_request(eng, case, data)
        link_form_attachments(session, actor, case, form, data, task.task_name, instance.round_no)
        if data.get("outcome"):  # the unit reports its result: on time or late is judged against this moment
            case.handled_at = eng.now()
    record_event(
        session,
        eng,
        case_id=case.case_id,
        round_no=instance.round_no,
        kind="task_completed",
        title=f"完成“{task.title}”",
        actor=actor,
        task_name=task.task_name,
        data={"task_id": task.task_id, "form": data},
    )
    next_tasks = flow.complete(
        eng, session, case, instance, workflow, parsed, engine, actor, live, data, earlier_events
    )
    return {
        "case_id": case.case_id,
        "case_no": case.case_no,
        "status": case.status,
        "round_no": case.round_no,
        "next_tasks": [{"task_id": t.task_id, "title": t.title, "role": t.role} for t in next_tasks],
    }
