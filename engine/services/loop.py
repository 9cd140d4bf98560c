"""A case's round of the loop as the task and timer services drive it: loading it, completing one of its tasks
(form, files, references, the extension rule, the audit record) and waking it when a timer is due."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import flow
from engine.services.attachments import link_form_attachments
from engine.services.attachments import store_uploads
from engine.services.common import record_event
from engine.services.references import check_references
from engine.storage.models import Case
from engine.storage.models import HumanTask
from engine.storage.models import WorkflowInstance
from engine.workflow import runtime

KIND = "case"


def load(eng, session: Session, instance: WorkflowInstance):
    """(workflow, parsed process, script engine) of the case's current round."""
    return flow.load(eng, session, instance, session.get(Case, instance.case_id))


def fire(eng, session: Session, instance: WorkflowInstance) -> None:
    """The worker's step for a due case instance: run what the clock made ready and save."""
    case = session.get(Case, instance.case_id)
    workflow, parsed, engine = flow.load(eng, session, instance, case)
    bpmn_events = flow.run_engine(eng, workflow)
    flow.settle(eng, session, case, instance, workflow, parsed, engine, None, bpmn_events)


class Refused:
    """A submission refused after the transaction saved what the clock did (the task was withdrawn)."""

    def __init__(self, message: str):
        self.message = message


def withdrawn_message(title: str) -> str:
    return _(
        "“%(title)s”任务已超过时限，流程已将其中止并转入下一环节，您的提交没有保存。"
        "请刷新页面查看诉求的最新状态和办理记录",
        title=title,
    )


def _check_extension_request(eng, case: Case, data: dict) -> None:
    """An extension (延期) is asked for before the deadline, never after it."""
    if (
        data.get("handling_step") == "extension"
        and case.deadline_at is not None
        and case.deadline_at <= eng.now()
    ):
        raise ValidationFailed(
            _("已超过办理期限，不能再申请延期"),
            {"handling_step": _("已超过办理期限，不能再申请延期；请尽快办结并提交办理结果")},
        )


def complete(
    eng,
    session: Session,
    stager,
    actor,
    task: HumanTask,
    instance: WorkflowInstance,
    raw,
    uploads,
    lock_version,
) -> dict:
    """Complete one of the case's tasks in the caller's transaction and run the diagram on.

    `instance` is the task's, locked by the caller (tasks._visible_task). Returns the result, or a `Refused` when
    the clock withdrew the task first (what the clock did is kept).
    :raises ValidationFailed: bad form data. :raises Conflict: the page is stale or the task is done.
    """
    if lock_version is not None and int(lock_version) != instance.lock_version:
        raise Conflict(_("页面已过期：其他人刚刚处理了这件诉求，请刷新后再提交"))
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
        return Refused(withdrawn_message(task.title))
    form = eng.forms.get(task.form_key) if task.form_key else None
    uploads = [u for u in uploads if form and u.field in form.file_fields]  # other files are not the form's
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
        task_id=task.task_id,
        data={"task_id": task.task_id, "form": data},
    )
    next_tasks = flow.complete(
        eng, session, case, instance, workflow, parsed, engine, actor, live, data, earlier_events
    )
    return {
        "kind": KIND,
        "task_id": task.task_id,
        "title": task.title,
        "case_id": case.case_id,
        "case_no": case.case_no,
        "status": case.status,
        "round_no": case.round_no,
        "next_tasks": [{"task_id": t["task_id"], "title": t["title"], "role": t["role"]} for t in next_tasks],
    }
