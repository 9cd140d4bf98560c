"""Pure functions on a live SpiffWorkflow instance, and the lean serializer that stores it without its spec."""

from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Callable
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.domain.clock import UTC
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import ScriptError
from engine.i18n import _
from engine.workflow.scripts import JienanScriptEngine
from engine.workflow.specs import ParsedProcess
from engine.workflow.timers import current_clock

# Bump when the stored instance format changes, and add a migration for the older format.
STATE_FORMAT = "jienan-1"

_resolver: contextvars.ContextVar[Callable[[str], ParsedProcess]] = contextvars.ContextVar("spec_resolver")


# Task ids are written and read many times (a task's own, its parent's, its children's, the tasks mapping): the
# same few thousand strings and UUIDs, so both conversions are kept (immutable values, safe to share).
_uuid = functools.lru_cache(maxsize=32768)(UUID)
_uuid_text = functools.lru_cache(maxsize=32768)(UUID.__str__)


class LeanWorkflowConverter(BpmnWorkflowConverter):
    """Writes the spec's version key instead of the whole spec; on restore takes the parsed spec from the cache."""

    def to_dict(self, workflow):
        # WorkflowConverter.to_dict, with the task ids' text kept (same keys, same order)
        dct = {
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": _uuid_text(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": {_uuid_text(k): self.registry.convert(v) for k, v in workflow.tasks.items()},
            "root": _uuid_text(workflow.task_tree.id),
        }
        dct["spec"] = workflow.jienan_spec_key
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec_key = dct.pop("spec")
        parsed = _resolver.get()(spec_key)
        workflow = self.target_class(parsed.spec, parsed.subprocess_specs, deserializing=True)
        workflow.jienan_spec_key = spec_key
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


# What DeepMerge.merge copies (shallowly) when it copies a parent's data; restored data holds only these plain types.
_CONTAINERS = frozenset({dict, list, set})


class LeanTaskConverter(TaskConverter):
    """SpiffWorkflow's TaskConverter, written and read faster with exactly the same stored form: task ids through
    the kept conversions, a task's data as a plain copy of its parent's (what DeepMerge.merge into an empty dict
    does) with its delta on top."""

    def to_dict(self, task):
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            before, after = parent.data, task.data
            data = {}
            delta = {
                "updates": {k: v for k, v in after.items() if k not in before or v != before[k]},
                "deletions": [k for k in before if k not in after],
            }
        return {
            "id": _uuid_text(task.id),
            "parent": _uuid_text(task._parent) if parent is not None else None,
            "children": [_uuid_text(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(task.internal_data),
            "data": data,
            "delta": delta,
        }

    def from_dict(self, dct, workflow):
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=_uuid(dct["id"]))
        task._parent = _uuid(dct["parent"]) if dct["parent"] is not None else None
        task._children = [_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = task.parent if delta else None
        if parent is not None:
            data = {k: v.copy() if type(v) in _CONTAINERS else v for k, v in parent.data.items()}
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                if key in data:
                    del data[key]
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = LeanWorkflowConverter
    config[Task] = LeanTaskConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _make_serializer()


# A case round's stored state is a few tens of KB; this much means a script is piling data into the process.
MAX_STATE_CHARS = 2_000_000


def dumps(workflow: BpmnWorkflow) -> str:
    """Serialise an instance to JSON (without its spec).

    :raises ScriptError: the state is larger than MAX_STATE_CHARS (nothing is saved)."""
    dct = _SERIALIZER.to_dict(workflow)
    dct["format"] = STATE_FORMAT
    dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    state = json.dumps(dct, ensure_ascii=False, separators=(",", ":"))
    if len(state) > MAX_STATE_CHARS:
        raise ScriptError(
            _(
                "流程数据过大（%(size)s MB，上限 %(limit)s MB），没有保存：请不要在流程数据里存放大段文字或很长的列表",
                size=f"{len(state) / 1e6:.1f}",
                limit=f"{MAX_STATE_CHARS / 1e6:.0f}",
            )
        )
    return state


def loads(
    state: str, resolve: Callable[[str], ParsedProcess], script_engine: JienanScriptEngine
) -> BpmnWorkflow:
    """Restore an instance; `resolve(spec_key)` returns the parsed spec version it runs on."""
    dct = json.loads(state)
    fmt = dct.pop("format", None)
    if fmt != STATE_FORMAT:
        raise ValueError(f"unknown stored instance format {fmt!r}")
    _SERIALIZER.migrate(dct)
    token = _resolver.set(resolve)
    try:
        workflow = _SERIALIZER.from_dict(dct)
    finally:
        _resolver.reset(token)
    workflow.script_engine = script_engine
    return workflow


def create(
    parsed: ParsedProcess, spec_key: str, script_engine: JienanScriptEngine, data: dict
) -> BpmnWorkflow:
    """Start a new instance of `parsed` with `data` as its initial task data (nothing has run yet)."""
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=script_engine)
    workflow.jienan_spec_key = spec_key
    workflow.task_tree.data.update(data)
    return workflow


def advance(workflow: BpmnWorkflow) -> list:
    """Run everything the engine can run now. Returns uncaught BPMN events (errors/escalations) for the caller."""
    workflow.refresh_timers()
    workflow.do_engine_steps()
    _stamp_armed_timers(workflow)
    # A terminate end event announces itself as an uncaught event; it is the normal end of a round, not news.
    return [e for e in workflow.get_events() if not isinstance(e.event_definition, TerminateEventDefinition)]


def ready_human_tasks(workflow: BpmnWorkflow) -> list:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def is_ready_task(workflow: BpmnWorkflow, task_id: str) -> bool:
    """Whether this id names a READY human task of the instance."""
    try:
        find_ready_task(workflow, task_id)
    except (NotFound, Conflict):
        return False
    return True


def find_ready_task(workflow: BpmnWorkflow, task_id: str):
    """The READY human task with this id.

    :raises NotFound: no such task in this instance. :raises Conflict: it exists but is no longer ready.
    """
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, KeyError, Exception):  # Spiff raises TaskNotFoundException for unknown ids
        task = None
    if task is None:
        raise NotFound(_("找不到这个任务"))
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise Conflict(_("这个任务已被处理或已不在当前环节，请刷新页面查看最新状态"))
    return task


def complete_task(workflow: BpmnWorkflow, task, data: dict) -> list:
    """Merge `data` into the task's data, complete it and run on. Returns uncaught BPMN events."""
    task.data.update(data)
    task.run()
    return advance(workflow)


def completed_end_event(workflow: BpmnWorkflow, end_events: dict[str, str]) -> str | None:
    """Id of the end event the (completed) top-level process finished through, if any."""
    if not workflow.is_completed():
        return None
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if task.task_spec.name in end_events and task.workflow is workflow:
            return task.task_spec.name
    return None


def current_data(workflow: BpmnWorkflow, ready: list | None = None) -> dict:
    """The instance's latest task data: that of the first ready human task on the main line, else of the last
    completed task.

    Branches split off by non-interrupting events (a supervision order) carry a copy of the data from when they
    split; the main line's tasks are the ones that set the case status (caseStatus property), so they win.
    `ready` are its ready human tasks when the caller has them already.
    """
    ready = ready_human_tasks(workflow) if ready is None else ready
    main = [
        t for t in ready if getattr(t.task_spec, "extensions", {}).get("properties", {}).get("caseStatus")
    ]
    if main or ready:
        return (main or ready)[0].data
    if workflow.last_task is not None:
        return workflow.last_task.data
    return workflow.task_tree.data


def next_timer(workflow: BpmnWorkflow):
    """When the earliest waiting timer of this instance is due (UTC), or None: the worker's index column."""
    due = []
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(definition, CycleTimerEventDefinition) and isinstance(value, dict):
            value = value.get("next") if value.get("cycles") != 0 else None
        if value is None:
            continue
        try:
            moment = TimerEventDefinition.get_datetime(value)
        except (TypeError, ValueError):
            continue
        due.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return min(due) if due else None


# ---------------------------------------------------------------------------------------------------------
# Re-arming date timers when the calendar they were counted on changes

ARMED_AT = "jienan_armed_at"  # internal data: when (engine clock, ISO) a timer computed its moment


def _stamp_armed_timers(workflow: BpmnWorkflow) -> None:
    """Note when each newly waiting timer computed its moment: an expression reading the clock
    (`working_days_after(now_iso(), 2)`) can then be evaluated again as at that moment."""
    clock = current_clock()
    if clock is None:
        return
    for task in workflow.event_manager.tasks.values():
        if "event_value" in task.internal_data and ARMED_AT not in task.internal_data:
            task.internal_data[ARMED_AT] = clock.now().isoformat()


def waiting_date_timers(workflow: BpmnWorkflow) -> list:
    """The instance's waiting timers set to a moment (timeDate) that has been computed: the ones a calendar
    change can move. Durations and cycles count calendar time and are left alone."""
    return [
        task
        for task in workflow.event_manager.tasks.values()
        if isinstance(task.task_spec.event_definition, TimeDateEventDefinition)
        and not isinstance(task.task_spec.event_definition, CycleTimerEventDefinition)
        and task.internal_data.get("event_value") is not None
    ]


def timer_moment(task):
    """The moment (aware UTC) a waiting timer task fires, or None when its value does not parse."""
    try:
        moment = TimerEventDefinition.get_datetime(str(task.internal_data.get("event_value")))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def armed_at(task) -> str | None:
    """When the timer computed its moment (stamped since the calendar could change), else None."""
    return task.internal_data.get(ARMED_AT)


def attached_human_task_id(task) -> str | None:
    """For a timer on the boundary of a human task, that task's id (its arrival time is in the projection)."""
    parent = task.parent
    for sibling in parent.children if parent is not None else ():
        if sibling is not task and sibling.task_spec.manual:
            return str(sibling.id)
    return None


def timer_expression(task) -> str:
    return task.task_spec.event_definition.expression


def rearm_timer(task, value: str) -> None:
    """Set a waiting timer to fire at `value` (ISO) instead of the moment it computed before."""
    task.internal_data["event_value"] = value
    task.internal_data.pop("event_fired", None)


def open_tasks(workflow: BpmnWorkflow) -> list:
    """Every task that has not finished (ready, waiting or still to come), the last completed one included: the
    task data a changed workflow variable must be written to."""
    tasks = workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK)
    if workflow.last_task is not None and workflow.last_task not in tasks:
        tasks.append(workflow.last_task)
    return tasks
