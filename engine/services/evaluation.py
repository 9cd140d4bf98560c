"""Quarterly evaluation (季度考评), run by processes/quarterly_evaluation.bpmn.

Each quarter has one instance, created ahead (`ensure_scheduled`, called by the worker and at start-up) and
waiting on its timer start event: the first working day after the quarter, 09:00. When it fires, the diagram
computes every unit's score from the quarter's figures, applies the evaluation rule table (score bands → red /
yellow / black board, too few cases → not ranked), and asks the programme office (活动办) to review. Publishing
freezes the quarter's figures, scores and boards as a snapshot on `evaluation_board`; the board page of a
published quarter reads only that snapshot, so later edits never change it. Each black-listed unit then gets an
accountability interview (约谈) task for the supervisors.

Its human tasks go into the same task projection as the cases' (no case: case_no holds the quarter), so they
show in the inboxes; completing one goes through `complete` in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.domain import calendar
from engine.domain.calendar import WorkingCalendar
from engine.domain.clock import LOCAL_TZ
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ScriptError
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.i18n import reader_language
from engine.rules.contracts import BOARDS
from engine.rules.contracts import INTERVIEW_LEVELS
from engine.services import figures
from engine.services import flow
from engine.services import notifications
from engine.services import ratings
from engine.services.common import Actor
from engine.storage import versions
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import EvaluationBoard
from engine.storage.models import EvaluationEvent
from engine.storage.models import HumanTask
from engine.storage.models import WorkflowInstance
from engine.workflow import runtime
from engine.workflow.script_api import Effect
from engine.workflow.script_api import ScriptApi
from engine.workflow.script_api import _iso

PROCESS_ID = "quarterly_evaluation"
KIND = "evaluation"
MANAGERS = ("manager", "admin")
DRAFT_READERS = ("manager", "admin", "leader", "supervisor")
START_OF_DAY = dt.time(9, 0)
HISTORY_QUARTERS = 3  # black boards counted for the interview level: the three quarters before


def due_moment(period: figures.Period, working: WorkingCalendar | None = None) -> dt.datetime:
    """09:00 on the first working day after the quarter (Asia/Shanghai), as UTC (on `working`, else the
    process's calendar)."""
    working = working or calendar.current()
    day = period.end + dt.timedelta(days=1)
    while not working.is_working_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, START_OF_DAY, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def current_quarter(eng) -> figures.Period:
    return figures.quarter_of(figures.local_day(eng.now()))


def quarter_figures(session: Session, code: str) -> list[dict]:
    """Every unit's figures as lead unit in the quarter, with its co-handling figures and the enterprises' rating
    (测评) alongside: what the diagram's score script reads. A rate with nothing to divide by (no case closed, none
    revisited, no rating) is None — no data, never 0 %."""
    period = _quarter(code)
    black_before = _black_boards_before(session, period, HISTORY_QUARTERS)
    black_flags = _black_flags(session, period)
    lead = figures.figures(session, period, "unit", role="lead")["rows"]
    co = {row["key"]: row for row in figures.figures(session, period, "unit", role="co")["rows"]}
    names = figures.unit_labels(session)
    rated = ratings.unit_ratings(session, period.start, period.end)
    rows = []
    for row in lead:
        co_row = co.get(row["key"], {})
        rating = rated.get(int(row["key"]), {})
        rows.append(
            {
                "unit_id": int(row["key"]),
                "unit": names.get(row["key"], row["key"]),
                "collected": row["collected"],
                "closed": row["closed"],
                "resolved": row["resolved"],
                "closure_rate": row["closure_rate"],
                "resolution_rate": row["resolution_rate"],
                "on_time_rate": row["on_time_rate"],
                "satisfaction_rate": row["satisfaction_rate"],
                "reopen_rate": row["reopen_rate"],
                "returns": row["returns"],
                "extensions": row["extensions"],
                "avg_days": row["avg_days"],
                "co_collected": co_row.get("collected", 0),
                "co_closed": co_row.get("closed", 0),
                "black_before": black_before.get(int(row["key"]), 0),
                "black_flags": black_flags.get(int(row["key"]), 0),
                # Enterprises' rating (测评) of the unit in the quarter: average score ÷ 5, in %; None without any.
                "rating_rate": rating.get("rating_rate"),
                "ratings": rating.get("ratings", 0),
            }
        )
    return rows


def _black_boards_before(session: Session, period: figures.Period, quarters: int) -> dict[int, int]:
    """How often each unit was on a published black board in the `quarters` quarters before `period`."""
    codes, earlier = [], period
    for _n in range(quarters):
        earlier = figures.previous_quarter(earlier)
        codes.append(earlier.code)
    counts: dict[int, int] = {}
    published = session.scalars(
        select(EvaluationBoard.snapshot).where(
            EvaluationBoard.quarter.in_(codes), EvaluationBoard.snapshot.is_not(None)
        )
    )
    for snapshot in published:
        for row in snapshot.get("units") or []:
            if row.get("board") == "black" and row.get("unit_id") is not None:
                counts[int(row["unit_id"])] = counts.get(int(row["unit_id"]), 0) + 1
    return counts


def _black_flags(session: Session, period: figures.Period) -> dict[int, int]:
    """How many cases got a black flag (seriously overdue) in the quarter while each unit led them."""
    start = dt.datetime.combine(period.start, dt.time(), tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ)
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.data, Case.lead_unit_id)
        .join(Case, Case.case_id == CaseEvent.case_id)
        .where(CaseEvent.kind == "flag_changed", CaseEvent.at >= start, CaseEvent.at < end)
    )
    cases: dict[int, set[int]] = {}
    for case_id, data, lead_unit_id in rows:
        data = data or {}
        unit_id = data.get("unit_id", lead_unit_id)
        if data.get("to") == "black" and unit_id is not None:
            cases.setdefault(int(unit_id), set()).add(case_id)
    return {unit_id: len(ids) for unit_id, ids in cases.items()}


def unit_score(row: dict, weights: dict) -> dict:
    """The unit's row with its score formed from the parts that have data: Σ weight × rate ÷ Σ weight over the
    rates that are not None, so a missing part (no case closed → no on-time rate) is left out instead of
    counting as 0 %. Adds `score` (None when no part has data), `scored_weight` (the share of the designed
    weight that has data, in %), `missing` (the rates without data) and `weights` (designed) / `applied_weights`
    (after re-weighting), both in % — what the evaluation table and the board read.

    :raises ScriptError: the weights are not {rate name: non-negative number} with a positive total.
    """
    if not isinstance(weights, dict) or not weights:
        raise ScriptError(_('考评权重应写成 {"closure_rate": 40, …} 的形式'))
    for name, weight in weights.items():
        if name not in row or not str(name).endswith("_rate"):
            raise ScriptError(_("考评权重中的“%(name)s”不是单位数据中的比率", name=name))
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ScriptError(
                _("考评权重“%(name)s”应为非负数，而不是 %(value)s", name=name, value=repr(weight))
            )
    total = sum(weights.values())
    if total <= 0:
        raise ScriptError(_("考评权重之和应大于 0"))
    present = {name: weight for name, weight in weights.items() if row.get(name) is not None and weight > 0}
    present_total = sum(present.values())
    score = None
    if present_total:
        score = round(sum(weight * row[name] for name, weight in present.items()) / present_total, 1)
    return dict(
        row,
        score=score,
        scored_weight=round(100.0 * present_total / total, 1),
        missing=[name for name, weight in weights.items() if row.get(name) is None and weight > 0],
        weights={name: round(100.0 * weight / total, 1) for name, weight in weights.items()},
        applied_weights={name: round(100.0 * weight / present_total, 1) for name, weight in present.items()},
    )


def _quarter(code: str) -> figures.Period:
    period = figures.parse_period(str(code))
    if not period.code.count("-Q"):
        raise ValidationFailed(_("考评期间应为季度，如 2026-Q3"), {"quarter": _("应为季度，如 2026-Q3")})
    return period


def _quarter_name(period: figures.Period) -> str:
    """The quarter as a message names it: its Chinese label, or its code (2026-Q3) for an English reader."""
    return period.code if reader_language() == "en" else period.label


class EvaluationApi(ScriptApi):
    """The script helpers of the evaluation diagram: the quarter's figures, and publishing the boards."""

    def __init__(self, clock, session: Session):
        super().__init__(clock)
        self._session = session

    def functions(self) -> dict:
        return super().functions() | {
            "quarter_figures": self.quarter_figures,
            "unit_score": unit_score,
            "publish_board": self.publish_board,
        }

    def quarter_figures(self, quarter) -> list[dict]:
        return quarter_figures(self._session, str(quarter))

    def publish_board(self, quarter, ranked, note=None) -> None:
        self.effects.append(Effect("publish", {"quarter": str(quarter), "ranked": ranked, "note": note}))


def _engine(eng, session: Session):
    return flow.rule_script_engine(eng, session, EvaluationApi(eng.clock, session))


def _event(session, eng, quarter: str, kind: str, title: str, actor=None, unit_id=None, data=None) -> None:
    session.add(
        EvaluationEvent(
            quarter=quarter,
            at=eng.now(),
            actor_id=actor.user_id if actor else None,
            actor_name=actor.display_name if actor else None,
            kind=kind,
            title=title[:200],
            unit_id=unit_id,
            data=data,
        )
    )


# ---------------------------------------------------------------------------------------------------------
# Scheduling and running


def ensure_scheduled(eng) -> str | None:
    """Make sure the current quarter has its evaluation instance waiting. Returns the quarter when one was
    created now (several workers may race: the quarter is the key, so only one wins)."""
    period = current_quarter(eng)
    with eng.db.read() as session:
        if session.get(EvaluationBoard, period.code) is not None:
            return None
    try:
        with eng.db.transaction() as session:
            if session.get(EvaluationBoard, period.code) is not None:
                return None
            if versions.active_version(session, "process", PROCESS_ID) is None:
                return None
            _start(eng, session, period, due_moment(period), None)
    except IntegrityError:
        return None
    return period.code


def _start(eng, session: Session, period: figures.Period, due: dt.datetime, actor) -> EvaluationBoard:
    version = versions.active_version(session, "process", PROCESS_ID)
    if version is None:
        raise NotFound(_("季度考评流程尚未部署，请管理员先初始化系统（jienan init）"))
    parsed = flow.parsed_version(eng, session, version.version_id)
    engine = _engine(eng, session)
    data = {"quarter": period.code, "quarter_label": period.label, "evaluation_due": _iso(due)}
    workflow = runtime.create(parsed, str(version.version_id), engine, data)
    instance = flow.new_instance(session, eng, version.version_id, None)
    board = EvaluationBoard(
        quarter=period.code, instance_id=instance.instance_id, status="scheduled", due_at=due
    )
    session.add(board)
    session.flush()
    _event(session, eng, period.code, "scheduled", f"考评定于 {_iso(due)[:16].replace('T', ' ')} 开始", actor)
    events = flow.run_engine(eng, workflow)
    settle(eng, session, board, instance, workflow, parsed, engine, actor, events)
    return board


def reschedule(eng, session: Session, working: WorkingCalendar, year: int) -> list[dict]:
    """Evaluations still waiting whose start — the first working day after their quarter — moves on `working`
    (a holiday schedule was entered for `year`): their start timer, the board's time, a note on their record.
    Returns [{quarter, from, to}] (ISO)."""
    moved = []
    boards = session.scalars(
        select(EvaluationBoard).where(EvaluationBoard.status == "scheduled").order_by(EvaluationBoard.quarter)
    ).all()
    for board in boards:
        due = due_moment(_quarter(board.quarter), working)
        if due == board.due_at or board.instance_id is None or due <= eng.now():
            continue
        instance = session.get(WorkflowInstance, board.instance_id)
        workflow, parsed, engine = load(eng, session, instance)
        for task in runtime.open_tasks(workflow):
            if "evaluation_due" in task.data:
                task.data["evaluation_due"] = _iso(due)
        for task in runtime.waiting_date_timers(workflow):
            expression = runtime.timer_expression(task)
            if "now_iso" not in expression:
                runtime.rearm_timer(task, str(engine.evaluate(task, expression)))
        moved.append({"quarter": board.quarter, "from": _iso(board.due_at), "to": _iso(due)})
        board.due_at = due
        _event(
            session,
            eng,
            board.quarter,
            "rescheduled",
            f"按{year}年节假日安排，考评改于 {_iso(due)[:16].replace('T', ' ')} 开始",
        )
        settle(eng, session, board, instance, workflow, parsed, engine, None, [])
    return moved


def start_now(eng, actor: Actor, quarter: str) -> dict:
    """The programme office starts an ended quarter's evaluation now instead of waiting for its timer.

    :raises ValidationFailed: not a quarter, or it has not ended. :raises Conflict: already under way.
    """
    if not actor.has_role(*MANAGERS):
        raise PermissionDenied(_("只有活动办可以开始季度考评"))
    period = _quarter(quarter)
    if period.end >= figures.local_day(eng.now()):
        raise ValidationFailed(
            _(
                "%(quarter)s尚未结束，不能考评；季度结束后的第一个工作日系统会自动开始",
                quarter=_quarter_name(period),
            ),
            {"quarter": _("该季度尚未结束")},
        )
    with eng.db.transaction() as session:
        board = session.get(EvaluationBoard, period.code, with_for_update=True)
        if board is not None:
            if board.status != "scheduled":
                raise Conflict(
                    _("%(quarter)s的考评已经开始，请在考评页面查看", quarter=_quarter_name(period))
                )
            old = session.get(WorkflowInstance, board.instance_id)
            session.execute(delete(HumanTask).where(HumanTask.instance_id == old.instance_id))
            board.instance_id = None
            session.flush()
            session.delete(old)
            session.delete(board)
            session.flush()
        board = _start(eng, session, period, eng.now() - dt.timedelta(seconds=1), actor)
        return {"quarter": board.quarter, "status": board.status}


def fire(eng, session: Session, instance: WorkflowInstance) -> None:
    """The worker's step for a due evaluation instance (its start timer)."""
    board = session.scalars(
        select(EvaluationBoard).where(EvaluationBoard.instance_id == instance.instance_id)
    ).first()
    if board is None:
        instance.status = "error"
        instance.next_timer_at = None
        return
    live = versions.active_version(session, "process", PROCESS_ID)
    if board.status == "scheduled" and live is not None and live.version_id != instance.version_id:
        _restart_on(eng, session, board, instance, live)
        return
    workflow, parsed, engine = load(eng, session, instance)
    events = flow.run_engine(eng, workflow)
    settle(eng, session, board, instance, workflow, parsed, engine, None, events)


def _restart_on(eng, session: Session, board: EvaluationBoard, old: WorkflowInstance, version) -> None:
    """A quarter still waiting on an older diagram starts on the live one: nothing has run yet, and an older
    score script may not know what the live figures and tables give (rates without data are None)."""
    parsed = flow.parsed_version(eng, session, version.version_id)
    engine = _engine(eng, session)
    period = _quarter(board.quarter)
    data = {"quarter": period.code, "quarter_label": period.label, "evaluation_due": _iso(board.due_at)}
    workflow = runtime.create(parsed, str(version.version_id), engine, data)
    instance = flow.new_instance(session, eng, version.version_id, None)
    session.execute(delete(HumanTask).where(HumanTask.instance_id == old.instance_id))
    old.status = "completed"
    old.next_timer_at = None
    board.instance_id = instance.instance_id
    session.flush()
    _event(session, eng, board.quarter, "scheduled", f"按考评流程的新版本（#{version.version_id}）开始")
    events = flow.run_engine(eng, workflow)
    settle(eng, session, board, instance, workflow, parsed, engine, None, events)


def load(eng, session: Session, instance: WorkflowInstance):
    parsed = flow.parsed_version(eng, session, instance.version_id)
    engine = _engine(eng, session)
    workflow = runtime.loads(instance.state, lambda _key: parsed, engine)
    return workflow, parsed, engine


def settle(
    eng, session, board: EvaluationBoard, instance, workflow, parsed, engine, actor, bpmn_events
) -> None:
    """Save the instance, carry out the diagram's requests (publication), keep the board and the task
    projection in step."""
    now = eng.now()
    if engine.decisions:
        tables = sorted({a.get("rule_version_id") for a in engine.decisions if a.get("rule_version_id")})
        _event(
            session,
            eng,
            board.quarter,
            "computed",
            "，".join(
                f"按规则表“{names[0]}”为 {len(names)} 个单位{'定约谈层级' if decision_id == 'interview' else '分档'}"
                for decision_id, names in _by_table(engine.decisions).items()
            ),
            data={"rule_versions": tables},
        )
        engine.decisions.clear()
    for effect in engine.api.effects:
        if effect.kind == "publish":
            _publish(eng, session, board, effect.args, actor)
    engine.api.effects.clear()
    instance.state = runtime.dumps(workflow)
    instance.next_timer_at = runtime.next_timer(workflow)
    instance.updated_at = now
    ready = runtime.ready_human_tasks(workflow)
    for task in ready:
        if (
            task.task_spec.name in parsed.human_tasks
            and board.status in ("scheduled", "review")
            and "ranked" in task.data
        ):
            if board.status == "scheduled" or board.draft != task.data["ranked"]:
                board.draft = task.data["ranked"]
                board.computed_at = now
            board.status = "review"
    if workflow.is_completed():
        instance.status = "completed"
        board.status = "completed" if board.snapshot else board.status
    _project(eng, session, board, instance, ready, parsed)


def _by_table(decisions: list[dict]) -> dict[str, list[str]]:
    """The decisions made, grouped by table: decision id -> the table's name once per decision."""
    grouped: dict[str, list[str]] = {}
    for audit in decisions:
        decision_id = audit.get("decision_id") or "evaluation"
        grouped.setdefault(decision_id, []).append(audit.get("table_name") or decision_id)
    return grouped


def _publish(eng, session, board: EvaluationBoard, args: dict, actor) -> None:
    if board.snapshot is not None:
        raise Conflict(_("%(quarter)s 的榜单已经发布，不能再次发布", quarter=board.quarter))
    period = _quarter(board.quarter)
    ranked = [dict(row) for row in args.get("ranked") or []]
    for row in ranked:
        if row.get("board") not in BOARDS:
            raise ValidationFailed(
                _("单位“%(unit)s”的榜单“%(board)s”无法识别", unit=row.get("unit"), board=row.get("board"))
            )
    ranked.sort(key=lambda row: (list(BOARDS).index(row["board"]), -(row.get("score") or 0)))
    total = figures.figures(session, period)["total"]
    board.snapshot = {
        "quarter": board.quarter,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "units": ranked,
        "total": total,
        "note": args.get("note") or "",
        "published_at": eng.now().isoformat(),
        "published_by": actor.display_name if actor else None,
    }
    board.published_at = eng.now()
    board.published_by = actor.user_id if actor else None
    board.status = "published"
    counts = {code: sum(1 for row in ranked if row["board"] == code) for code in BOARDS}
    _event(
        session,
        eng,
        board.quarter,
        "published",
        "发布榜单：" + "，".join(f"{BOARDS[c]} {n} 个" for c, n in counts.items() if n),
        actor,
        data=counts,
    )


def _project(eng, session, board: EvaluationBoard, instance, ready, parsed) -> None:
    existing = {
        row.task_id: row.created_at
        for row in session.execute(
            delete(HumanTask)
            .where(HumanTask.instance_id == instance.instance_id)
            .returning(HumanTask.task_id, HumanTask.created_at)
        )
    }
    names = figures.unit_labels(session)
    period = _quarter(board.quarter)
    for task in ready:
        spec = parsed.human_tasks.get(task.task_spec.name)
        if spec is None:
            continue
        unit = interview_unit(task.data)
        unit_name = names.get(str(unit.get("unit_id")), unit.get("unit", "")) if unit else ""
        title = f"{spec.title}：{unit_name}" if unit_name else spec.title
        if unit and unit.get("interview_level") in INTERVIEW_LEVELS:
            title += f"（{INTERVIEW_LEVELS[unit['interview_level']]}）"
        if str(task.id) not in existing:
            notifications.notify(
                session,
                eng,
                notifications.users_with_role(session, spec.role or "manager"),
                case_id=None,
                kind="task",
                title=f"新任务：{title}（{period.label}考评）"[:200],
                body=None,
            )
        session.add(
            HumanTask(
                task_id=str(task.id),
                instance_id=instance.instance_id,
                case_id=None,
                task_name=spec.name,
                title=title[:200],
                form_key=spec.form_key,
                role=spec.role or "manager",
                unit_id=None,
                assignee_id=None,
                created_at=existing.get(str(task.id), eng.now()),
                due_at=None,
                flag=None,
                case_no=board.quarter,
                case_title=f"{period.label}考评",
                enterprise_name=unit_name,
                field="",
                category="",
                channel="",
                urgency="",
                tier=None,
                round_no=1,
            )
        )


def interview_unit(data: dict) -> dict | None:
    """The unit an interview task is about (diagrams before the interview levels called it black_unit)."""
    for key in ("interview_unit", "black_unit"):
        if isinstance(data.get(key), dict):
            return data[key]
    return None


def complete(
    eng,
    session: Session,
    stager,
    actor: Actor,
    task: HumanTask,
    instance: WorkflowInstance,
    raw,
    uploads,
    lock_version,
) -> dict:
    """Complete an evaluation task (review, interview) in the caller's transaction. Its forms take no files.

    `instance` is the task's, locked by the caller (tasks._visible_task)."""
    if lock_version is not None and int(lock_version) != instance.lock_version:
        raise Conflict(_("页面已过期：其他人刚刚处理了这项考评任务，请刷新后再提交"))
    board = session.scalars(
        select(EvaluationBoard).where(EvaluationBoard.instance_id == instance.instance_id)
    ).one()
    workflow, parsed, engine = load(eng, session, instance)
    earlier = flow.run_engine(eng, workflow)
    live = runtime.find_ready_task(workflow, task.task_id)
    form = eng.forms.get(task.form_key) if task.form_key else None
    data = form.parse_submission(raw) if form else {}
    unit = interview_unit(live.data) or {}
    _event(
        session,
        eng,
        board.quarter,
        "interview" if unit else "reviewed",
        f"完成“{task.title}”",
        actor,
        unit_id=unit.get("unit_id"),
        data={"task_id": task.task_id, "form": data, "level": unit.get("interview_level")},
    )
    events = flow._run(eng, lambda: runtime.complete_task(workflow, live, data))
    settle(eng, session, board, instance, workflow, parsed, engine, actor, [*earlier, *events])
    return {
        "kind": KIND,
        "task_id": task.task_id,
        "title": task.title,
        "case_id": None,
        "quarter": board.quarter,
        "status": board.status,
        "next_tasks": [],
    }


# ---------------------------------------------------------------------------------------------------------
# Reading boards


def boards(eng, actor: Actor) -> list[dict]:
    """Every quarter's evaluation, newest first."""
    with eng.db.read() as session:
        rows = session.scalars(select(EvaluationBoard).order_by(EvaluationBoard.quarter.desc())).all()
        return [_summary(board) for board in rows]


def _summary(board: EvaluationBoard) -> dict:
    period = _quarter(board.quarter)
    units = (board.snapshot or {}).get("units") or board.draft or []
    return {
        "quarter": board.quarter,
        "label": period.label,
        "status": board.status,
        "due_at": board.due_at,
        "computed_at": board.computed_at,
        "published_at": board.published_at,
        "counts": {code: sum(1 for row in units if row.get("board") == code) for code in BOARDS},
    }


def board(eng, actor: Actor, quarter: str) -> dict:
    """One quarter's board: the frozen snapshot once published; before that the draft under review (for the
    programme office, leaders and supervisors only); with the evaluation's record and open tasks."""
    period = _quarter(quarter)
    with eng.db.read() as session:
        row = session.get(EvaluationBoard, period.code)
        if row is None:
            raise NotFound(_("%(quarter)s还没有考评", quarter=_quarter_name(period)))
        published = row.snapshot is not None
        if not published and not actor.has_role(*DRAFT_READERS):
            raise PermissionDenied(_("%(quarter)s的考评结果尚未发布", quarter=_quarter_name(period)))
        events = session.scalars(
            select(EvaluationEvent)
            .where(EvaluationEvent.quarter == period.code)
            .order_by(EvaluationEvent.event_id)
        ).all()
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id)).all()
        names = figures.unit_labels(session)
        return _summary(row) | {
            "published": published,
            "units": (row.snapshot or {}).get("units") if published else (row.draft or []),
            "total": (row.snapshot or {}).get("total"),
            "note": (row.snapshot or {}).get("note"),
            "published_by": (row.snapshot or {}).get("published_by"),
            "events": [
                {
                    "at": e.at,
                    "actor": e.actor_name,
                    "kind": e.kind,
                    "title": e.title,
                    "unit": names.get(str(e.unit_id)) if e.unit_id else None,
                    "form": (e.data or {}).get("form") if e.kind == "interview" else None,
                    "level": (e.data or {}).get("level") if e.kind == "interview" else None,
                }
                for e in events
            ],
            "tasks": [
                {"task_id": t.task_id, "title": t.title, "role": t.role, "created_at": t.created_at}
                for t in tasks
            ],
            "boards": BOARDS,
            "interview_levels": INTERVIEW_LEVELS,
        }
