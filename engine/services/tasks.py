"""Human tasks: inboxes from the projection, one task with its form, and completing it."""

from __future__ import annotations

import functools
import operator

from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.orm import Session

from engine.domain.vocabulary import FLAGS
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import loop
from engine.services import pairing
from engine.services import subjects
from engine.services.access import can_act
from engine.services.attachments import FileStager
from engine.services.attachments import Upload
from engine.services.cases import task_holder
from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.common import unit_names
from engine.services.common import user_names
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import HumanTask
from engine.storage.models import WorkflowInstance
from engine.workflow import runtime


def _inbox_parts(actor: Actor, scope: str) -> list:
    """The inbox as disjoint conditions, each one index range read in page order (models.HumanTask's indexes):
    "unit" is the unit's tasks; "mine" is those assigned to me, and each of my roles' pool — unassigned tasks of
    the role without a unit, or with my unit."""
    if scope == "unit":
        return [] if actor.unit_id is None else [HumanTask.unit_id == actor.unit_id]
    parts = [HumanTask.assignee_id == actor.user_id]
    for role in sorted(actor.roles):
        units = [HumanTask.unit_id.is_(None)]
        if actor.unit_id is not None:
            units.append(HumanTask.unit_id == actor.unit_id)
        parts += [and_(HumanTask.role == role, unit, HumanTask.assignee_id.is_(None)) for unit in units]
    return parts


def _inbox_page(parts: list, extra: list, offset: int, limit: int):
    """The ids of one page: the first offset + limit of each part in page order, merged (a UNION ALL of index
    ranges instead of sorting every task of a pool of thousands)."""
    ranges = [
        select(HumanTask.task_id, HumanTask.created_at)
        .where(part, *extra)
        .order_by(HumanTask.created_at, HumanTask.task_id)
        .limit(offset + limit)
        .subquery()
        for part in parts
    ]
    merged = union_all(*(select(r.c.task_id, r.c.created_at) for r in ranges)).subquery()
    return (
        select(merged.c.task_id).order_by(merged.c.created_at, merged.c.task_id).offset(offset).limit(limit)
    )


def list_tasks(eng, actor: Actor, scope: str = "mine", page=1, per_page=20, flag: str | None = None) -> dict:
    """Tasks the actor can act on ("mine": assigned to me or my roles' pool) or all of the unit's ("unit").

    `flag` narrows to one colour (green counts cases never flagged). :raises ValidationFailed: unknown colour.
    """
    page, per_page = paginate(page, per_page)
    parts = _inbox_parts(actor, scope)
    extra = []
    if flag:
        if flag not in FLAGS:
            raise ValidationFailed(
                _("旗帜应为 %(flags)s 之一", flags="、".join(FLAGS)),
                {"flag": _("应为 %(values)s 之一", values="、".join(FLAGS))},
            )
        extra.append(
            or_(HumanTask.flag.is_(None), HumanTask.flag == "green")
            if flag == "green"
            else HumanTask.flag == flag
        )
    with eng.db.read() as session:
        total, rows = 0, []
        if parts:
            counts = [
                select(func.count()).select_from(HumanTask).where(part, *extra).scalar_subquery()
                for part in parts
            ]
            total = session.scalar(select(functools.reduce(operator.add, counts)))
            ids = _inbox_page(parts, extra, (page - 1) * per_page, per_page)
            rows = session.scalars(
                select(HumanTask)
                .where(HumanTask.task_id.in_(ids))
                .order_by(HumanTask.created_at, HumanTask.task_id)
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
        "kind": subjects.kind_of(task),
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


def _task_and_instance(lock: bool):
    query = (
        select(HumanTask, WorkflowInstance)
        .join(WorkflowInstance, WorkflowInstance.instance_id == HumanTask.instance_id)
        .where(HumanTask.task_id == bindparam("task_id"))
    )
    return query.with_for_update(of=WorkflowInstance) if lock else query


# Built once (to read, and to lock the instance): not built and keyed again on every submit.
_TASK_AND_INSTANCE = {lock: _task_and_instance(lock) for lock in (False, True)}


def _visible_task(
    session: Session, actor: Actor, task_id: str, kind: str | None = None, *, lock: bool = False
) -> tuple[HumanTask, WorkflowInstance]:
    """The task the actor may act on, with its instance (read in the same statement).

    With `lock` the instance row is locked (PostgreSQL) by that statement: a concurrent submit of the same case
    waits there, then finds the task no longer ready in the instance it reads (409).
    """
    found = session.execute(_TASK_AND_INSTANCE[lock], {"task_id": str(task_id)}).first()
    task, instance = found if found is not None else (None, None)
    if task is not None and kind is not None and subjects.kind_of(task) != kind:
        raise NotFound(_("找不到这个考评任务") if kind == "evaluation" else _("找不到这个任务"))
    if task is None:
        done = session.scalar(
            select(CaseEvent.event_id)
            .where(CaseEvent.task_id == str(task_id), CaseEvent.kind == "task_completed")
            .limit(1)
        )
        if done is not None:
            raise Conflict(_("这个任务已被处理，请刷新页面查看最新状态"))
        withdrawn = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.task_id == str(task_id), CaseEvent.kind == "task_withdrawn")
            .limit(1)
        ).first()
        if withdrawn is not None:
            raise Conflict(loop.withdrawn_message(withdrawn.data.get("title") or ""))
        raise NotFound(_("找不到这个任务"))
    if not can_act(actor, task):
        raise PermissionDenied(_("这个任务不归您办理"))
    return task, instance


def get_task(eng, actor: Actor, task_id: str, *, kind: str | None = None) -> dict:
    """A task with its form (schema) and the current values to pre-fill it; with `kind`, only a task of that
    kind ("case", "evaluation"). :raises NotFound: no such task (of that kind)."""
    with eng.db.read() as session:
        task, instance = _visible_task(session, actor, task_id, kind)
        workflow, _parsed, _engine = subjects.runner(task).load(eng, session, instance)
        live = runtime.find_ready_task(workflow, task.task_id)
        form = eng.forms.get(task.form_key) if task.form_key else None
        units = unit_names(session)
        people = user_names(session, [task.assignee_id])
        result = _task_row(task, units, people, actor)
        result.update(
            quarter=task.case_no if subjects.kind_of(task) == "evaluation" else None,
            lock_version=instance.lock_version,
            form_schema=form.schema if form else None,
            values=form.defaults(_with_pairing(session, task, live.data)) if form else {},
            data={k: v for k, v in live.data.items() if not k.startswith("_")},
        )
        return result


def _with_pairing(session: Session, task: HumanTask, data) -> dict:
    """A case task's data with what its enterprise's pairing suggests (the responsible leader) filled in where the
    case has no value yet: read when the task is opened, so the form shows today's pairing."""
    if subjects.kind_of(task) != "case" or task.case_id is None:
        return data
    enterprise_id = session.scalar(select(Case.enterprise_id).where(Case.case_id == task.case_id))
    suggested = pairing.case_defaults(session, enterprise_id) if enterprise_id else {}
    return {**data, **{k: v for k, v in suggested.items() if data.get(k) in (None, "")}}


def complete_task(
    eng,
    actor: Actor,
    task_id: str,
    raw,
    uploads: list[Upload] | None = None,
    lock_version: int | None = None,
    *,
    kind: str | None = None,
) -> dict:
    """Validate the submission against the task's form, complete the task and run the diagram on.

    Files in `uploads` count only for the form's file fields. The result names the task done and, by `kind`,
    what it belonged to (a case, or the quarter of the evaluation). With `kind` only a task of that kind is taken.
    :raises NotFound: unknown task (or not of `kind`). :raises PermissionDenied: someone else's task.
    :raises ValidationFailed: bad form data (nothing saved). :raises Conflict: already done, or the page is stale.
    """
    stager = FileStager(eng.files.current)
    try:
        with eng.db.transaction() as session:
            task, instance = _visible_task(session, actor, task_id, kind, lock=True)
            result = subjects.runner(task).complete(
                eng, session, stager, actor, task, instance, raw, uploads or [], lock_version
            )
    except BaseException:
        stager.discard()
        raise
    if isinstance(result, loop.Refused):
        raise Conflict(result.message)
    return result
