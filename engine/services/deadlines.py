"""Moving open deadlines when the calendar they were counted on changes (an admin entered a year's official holiday
schedule). Internal to the services: works inside the caller's transaction.

A case's moments are workflow variables its diagram computed in working days (the sign-for limit from dispatch; the
deadline, the original deadline, the yellow-flag and public-notice moments from signing). Each one still ahead is
counted again: the same number of working days from the same start, on the new calendar. The timers waiting on
them are then re-armed by evaluating their own expressions again on the new calendar, and the case goes through
`flow.settle` — the step an approved extension takes — so the case row, the task projection's due dates and the
worker's next-timer column follow. Moments already passed (a fired timer, a flag shown) stay as they happened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.calendar import WorkingCalendar
from engine.domain.clock import LOCAL_TZ
from engine.domain.clock import FixedClock
from engine.services import flow
from engine.services import notifications
from engine.services.common import record_event
from engine.storage.models import Case
from engine.storage.models import HumanTask
from engine.storage.models import WorkflowInstance
from engine.workflow import runtime
from engine.workflow.script_api import ScriptApi

log = logging.getLogger(__name__)

# The case loop's moments counted in working days, each with the variable it is counted from.
CASE_MOMENTS = (
    ("sign_by", "dispatched_at"),
    ("deadline", "signed_at"),
    ("original_deadline", "signed_at"),
    ("yellow_at", "signed_at"),
    ("notice_at", "signed_at"),
)
# A timer expression calling these read the clock: it is evaluated again as at the moment it was armed.
CLOCK_READERS = re.compile(r"\b(now_iso|is_past)\b")
# Moments that can depend on a year are at most this long before it (a deadline, then its notice and escalation).
LOOKBACK = dt.timedelta(days=62)
MOVED_LISTED = 200  # cases listed by name in the change's record (all are counted)


@dataclasses.dataclass
class Recount:
    """What moved in one workflow: variables (name → (old, new) ISO) and timers ((title, old, new) ISO)."""

    variables: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    timers: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.variables or self.timers)


def _moment(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)).astimezone(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def recount_workflow(
    workflow, moments, old: WorkingCalendar, new: WorkingCalendar, now: dt.datetime, make_engine, arrival
) -> Recount:
    """Count `moments` ((variable, start variable) pairs) still ahead of `now` again on `new`, in every open task's
    data, then re-arm the waiting date timers on `new`. `make_engine(clock)` gives a script engine counting on
    `new`; `arrival(task)` is when a timer without its own stamp was armed (ISO), if known."""
    result = Recount()
    for task in runtime.open_tasks(workflow):
        for name, start_name in moments:
            moment, start = _moment(task.data.get(name)), _moment(task.data.get(start_name))
            if moment is None or start is None or moment <= now:
                continue
            moved = new.recount(moment, start, old)
            if moved != moment:
                task.data[name] = _iso(moved)
                result.variables.setdefault(name, (_iso(moment), _iso(moved)))
    for task in runtime.waiting_date_timers(workflow):
        expression = runtime.timer_expression(task)
        at = now
        if CLOCK_READERS.search(expression):
            at = _moment(runtime.armed_at(task) or arrival(task))
            if at is None:
                continue  # armed before timers were stamped and not on a human task: left as it is
        before = runtime.timer_moment(task)
        try:
            value = str(make_engine(FixedClock(at)).evaluate(task, expression))
            after = _moment(value)
        except Exception:  # noqa: BLE001 - a timer the new calendar cannot evaluate keeps its moment
            log.warning("timer %s not re-armed: %r does not evaluate", task.task_spec.name, expression)
            continue
        if after is not None and before is not None and after != before:
            runtime.rearm_timer(task, value)
            title = task.task_spec.bpmn_name or task.task_spec.name
            result.timers.append((title, _iso(before), _iso(after)))
    return result


def recount_cases(
    eng, session: Session, old: WorkingCalendar, new: WorkingCalendar, year: int, reference: str | None
) -> list[dict]:
    """Re-count every open case's moments that a change of `year`'s calendar can move; each moved case gets a
    case event (old → new deadline, the schedule's reference; None: the entered schedule was withdrawn) and its
    unit a notification. Returns the moved cases: {case_id, case_no, from, to} (deadlines as ISO)."""
    cutoff = dt.datetime(year, 1, 1, tzinfo=LOCAL_TZ) - LOOKBACK
    rows = session.execute(
        select(WorkflowInstance, Case)
        .join(Case, Case.case_id == WorkflowInstance.case_id)
        .where(
            WorkflowInstance.status == "running",
            Case.status != "closed",
            or_(Case.deadline_at >= cutoff, WorkflowInstance.next_timer_at >= cutoff),
        )
        .order_by(Case.case_id)
    ).all()
    moved = []
    for instance, case in rows:
        workflow, parsed, engine = flow.load(eng, session, instance, case)
        state = {"flag": case.flag, "tier": case.tier, "notices": case.notice_count}

        def make_engine(clock, state=state):
            return flow.rule_script_engine(eng, session, ScriptApi(clock, state, working_calendar=new))

        result = recount_workflow(
            workflow, CASE_MOMENTS, old, new, eng.now(), make_engine, _arrival(session, instance)
        )
        if not result:
            continue
        before = case.deadline_at
        flow.settle(eng, session, case, instance, workflow, parsed, engine, None, [])
        moved.append(_record(session, eng, case, instance, result, before, year, reference))
    return moved


def _arrival(session: Session, instance: WorkflowInstance):
    """When the human task a boundary timer sits on arrived (the projection keeps it), as ISO."""
    arrived = {
        task_id: created_at
        for task_id, created_at in session.execute(
            select(HumanTask.task_id, HumanTask.created_at).where(
                HumanTask.instance_id == instance.instance_id
            )
        )
    }

    def arrival(task) -> str | None:
        created = arrived.get(runtime.attached_human_task_id(task) or "")
        return created.isoformat() if created else None

    return arrival


def _record(session, eng, case: Case, instance, result: Recount, before, year: int, reference) -> dict:
    after = case.deadline_at
    because = f"按{year}年节假日安排（{reference}）" if reference else f"{year}年节假日安排撤销录入，"
    if before != after and before is not None and after is not None:
        title = f"{because}重算办理期限：{_shown(before)} → {_shown(after)}"
    elif "sign_by" in result.variables:
        old, new = result.variables["sign_by"]
        title = f"{because}重算签收时限：{_shown(_moment(old))} → {_shown(_moment(new))}"
    else:
        title = f"{because}重算流程时限"
    record_event(
        session,
        eng,
        case_id=case.case_id,
        round_no=instance.round_no,
        kind="deadline_recounted",
        title=title[:200],
        actor=None,
        data={
            "year": year,
            "reference": reference,
            "from": before.isoformat() if before else None,
            "to": after.isoformat() if after else None,
            "variables": {k: {"from": a, "to": b} for k, (a, b) in result.variables.items()},
            "timers": [{"timer": t, "from": a, "to": b} for t, a, b in result.timers],
        },
    )
    notifications.notify(
        session,
        eng,
        notifications.audience_users(session, case, "unit"),
        case_id=case.case_id,
        kind="notice",
        title=f"{case.case_no} {title}"[:200],
        body=case.title,
    )
    return {
        "case_id": case.case_id,
        "case_no": case.case_no,
        "from": before.isoformat() if before else None,
        "to": after.isoformat() if after else None,
    }


def _shown(moment: dt.datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else "—"
