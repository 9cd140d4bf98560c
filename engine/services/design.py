"""Process designers: the library of processes and rule tables, drafts, validation, deployment, import/export,
version diffs, moving a running case to a newer version, and the diagram of a case."""

from __future__ import annotations

from lxml import etree
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import flow
from engine.services import rules_admin
from engine.services.access import can_see_case
from engine.services.common import Actor
from engine.services.common import record_event
from engine.services.common import require_role
from engine.services.common import user_names
from engine.services.forms_admin import form_keys
from engine.storage import versions
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import DesignAudit
from engine.storage.models import DesignDraft
from engine.storage.models import ProcessVersion
from engine.storage.models import RuleVersion
from engine.storage.models import WorkflowInstance
from engine.workflow import runtime
from engine.workflow.check import CheckResult
from engine.workflow.check import check_process
from engine.workflow.deploy import deploy_process
from engine.workflow.importing import MAX_PROCESS_ID
from engine.workflow.importing import executable_process
from engine.workflow.importing import new_process_id
from engine.workflow.importing import rename_process
from engine.workflow.specs import BPMN_NS
from engine.workflow.specs import SPIFF_NS
from engine.workflow.xmlsafe import parse_xml

DESIGNERS = ("designer", "admin")
MAX_COMMENT = 500


def form_choices(eng) -> list[dict]:
    """The forms a user task may use: key and title (the live version of each)."""
    choices = []
    with eng.db.read() as session:
        keys = form_keys(session)
    for key in keys:
        try:
            form = eng.forms.get(key)
        except SpecError:
            continue
        choices.append({"key": form.key, "title": form.title})
    return choices


def _decision_ids(session) -> set[str]:
    return set(session.scalars(select(RuleVersion.decision_id).distinct()))


def decision_choices(eng, actor: Actor) -> list[dict]:
    """The published rule tables a business rule task may call: id and name."""
    return [{"id": t["decision_id"], "name": t["name"]} for t in rules_admin.tables(eng, actor)]


def _check(session, xml) -> CheckResult:
    return check_process(xml, forms=form_keys(session), decisions=_decision_ids(session))


# ------------------------------------------------------------------------------------------------ library


def library(eng, actor: Actor) -> dict:
    """Every process with its versions (who, when, comment, running cases, which is live) and every rule table."""
    require_role(actor, *DESIGNERS, "manager")
    with eng.db.read() as session:
        running = dict(
            session.execute(
                select(WorkflowInstance.version_id, func.count())
                .where(WorkflowInstance.status == "running")
                .group_by(WorkflowInstance.version_id)
            ).all()
        )
        rows = session.scalars(select(ProcessVersion).order_by(ProcessVersion.version_id)).all()
        people = user_names(session, [v.created_by for v in rows])
        by_process: dict[str, list[ProcessVersion]] = {}
        for version in rows:
            by_process.setdefault(version.process_id, []).append(version)
        result = []
        for process_id, process_versions in by_process.items():
            live = versions.active_version_id(session, "process", process_id)
            items = []
            for number, version in enumerate(process_versions, start=1):
                items.append(
                    {
                        "version_id": version.version_id,
                        "number": number,
                        "created_at": version.created_at,
                        "created_by": people.get(version.created_by) or _("系统"),
                        "comment": version.comment or "",
                        "running_cases": running.get(version.version_id, 0),
                        "live": version.version_id == live,
                    }
                )
            name = _process_name(process_versions[-1].bpmn_xml) or process_id
            draft = session.get(DesignDraft, ("process", process_id))
            result.append(
                {
                    "process_id": process_id,
                    "name": name,
                    "versions": list(reversed(items)),
                    "live_version_id": live,
                    "draft_at": draft.updated_at if draft else None,
                }
            )
        # Imported processes not deployed yet: only a draft, no version, nothing live.
        drafts = session.scalars(
            select(DesignDraft).where(DesignDraft.kind == "process").order_by(DesignDraft.updated_at)
        ).all()
        for draft in drafts:
            if draft.key not in by_process:
                result.append(
                    {
                        "process_id": draft.key,
                        "name": _process_name(draft.content) or draft.key,
                        "versions": [],
                        "live_version_id": None,
                        "draft_at": draft.updated_at,
                    }
                )
        return {"processes": result, "rules": rules_admin.tables(eng, actor)}


def _process_name(xml: str) -> str:
    try:
        root = parse_xml(xml, what="BPMN")
    except SpecError:
        return ""
    for node in root.iter(f"{{{BPMN_NS}}}process"):
        if node.get("isExecutable") == "true":
            return node.get("name") or ""
    return ""


def process_version(eng, actor: Actor, version_id: int) -> dict:
    require_role(actor, *DESIGNERS, "manager")
    with eng.db.read() as session:
        version = session.get(ProcessVersion, int(version_id))
        if version is None:
            raise NotFound(_("找不到这个流程版本"))
        return {
            "version_id": version.version_id,
            "process_id": version.process_id,
            "xml": version.bpmn_xml,
            "created_at": version.created_at,
            "comment": version.comment or "",
            "live": version.version_id == versions.active_version_id(session, "process", version.process_id),
        }


def history(eng, actor: Actor, kind: str, key: str) -> list[dict]:
    """The audit trail of one process or rule table, newest first."""
    require_role(actor, *DESIGNERS, "manager")
    with eng.db.read() as session:
        rows = session.scalars(
            select(DesignAudit)
            .where(DesignAudit.kind == kind, DesignAudit.key == key)
            .order_by(DesignAudit.audit_id.desc())
        ).all()
        return [
            {
                "at": r.at,
                "actor": r.actor_name or _("系统"),
                "action": r.action,
                "summary": r.summary,
                "before": r.before_version,
                "after": r.after_version,
            }
            for r in rows
        ]


# ------------------------------------------------------------------------------------------------ diff


def _elements(xml: str) -> dict[str, dict]:
    """id → what a designer would call the element's content (type, name, and what the engine reads)."""
    root = parse_xml(xml, what="BPMN")
    elements = {}
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        for node in process.iter():
            if not isinstance(node.tag, str) or not node.get("id") or node is process:
                continue
            kind = etree.QName(node).localname
            if kind in ("laneSet",) or kind.endswith("EventDefinition") and node.getparent() is not process:
                continue
            facts = {"type": kind, "name": node.get("name") or ""}
            for attribute in ("sourceRef", "targetRef", "attachedToRef", "default", "cancelActivity"):
                if node.get(attribute) is not None:
                    facts[attribute] = node.get(attribute)
            for child, label in (
                (f"{{{BPMN_NS}}}script", "script"),
                (f"{{{BPMN_NS}}}conditionExpression", "condition"),
                (f"{{{BPMN_NS}}}documentation", "documentation"),
            ):
                found = node.find(child)
                if found is not None and (found.text or "").strip():
                    facts[label] = found.text.strip()
            for tag in ("timeDate", "timeDuration", "timeCycle"):
                found = node.find(f".//{{{BPMN_NS}}}{tag}")
                if found is not None:
                    facts["timer"] = f"{tag}: {(found.text or '').strip()}"
            for prop in node.findall(f"{{{BPMN_NS}}}extensionElements//{{{SPIFF_NS}}}property"):
                facts[prop.get("name")] = prop.get("value")
            decision = node.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}calledDecisionId")
            if decision is not None:
                facts["calledDecisionId"] = (decision.text or "").strip()
            elements[node.get("id")] = facts
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            if ref.text in elements:
                elements[ref.text.strip()]["lane"] = lane.get("name") or lane.get("id")
    return elements


def diff_versions(eng, actor: Actor, old_id: int, new_id: int) -> dict:
    """Elements added, removed and changed (with each changed attribute before → after) between two versions."""
    old, new = process_version(eng, actor, old_id), process_version(eng, actor, new_id)
    if old["process_id"] != new["process_id"]:
        raise ValidationFailed(_("只能比较同一个流程的两个版本"), {"": _("两个版本属于不同的流程")})
    before, after = _elements(old["xml"]), _elements(new["xml"])
    changed = []
    for element_id in sorted(before.keys() & after.keys()):
        a, b = before[element_id], after[element_id]
        fields = [
            {"field": key, "before": a.get(key), "after": b.get(key)}
            for key in sorted(a.keys() | b.keys())
            if a.get(key) != b.get(key)
        ]
        if fields:
            changed.append({"element_id": element_id, "type": b["type"], "name": b["name"], "fields": fields})

    def listing(ids, source):
        return [{"element_id": i, "type": source[i]["type"], "name": source[i]["name"]} for i in sorted(ids)]

    return {
        "old": {k: old[k] for k in ("version_id", "process_id")},
        "new": {k: new[k] for k in ("version_id", "process_id")},
        "added": listing(after.keys() - before.keys(), after),
        "removed": listing(before.keys() - after.keys(), before),
        "changed": changed,
    }


# ------------------------------------------------------------------------------------------------ drafts


def _xml_text(xml) -> str:
    if isinstance(xml, bytes):
        try:
            xml = xml.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed(
                _("文件不是 UTF-8 编码的 BPMN（XML）"), {"file": _("请导出为 UTF-8 的 .bpmn 文件")}
            ) from None
    if not isinstance(xml, str) or not xml.strip():
        raise ValidationFailed(_("没有收到流程图内容"), {"xml": _("流程图内容为空")})
    return xml


def editor_source(eng, actor: Actor, process_id: str) -> dict:
    """What the modeler opens: the draft if there is one, else the live version."""
    require_role(actor, *DESIGNERS)
    with eng.db.read() as session:
        live = versions.active_version(session, "process", process_id)
        draft = session.get(DesignDraft, ("process", process_id))
        if live is None and draft is None:
            raise NotFound(_("没有流程 %(process)s", process=process_id))
        return {
            "process_id": process_id,
            "xml": draft.content if draft else live.bpmn_xml,
            "from_draft": draft is not None,
            "draft_at": draft.updated_at if draft else None,
            "live_version_id": live.version_id if live else None,
            "base_version_id": draft.base_version_id if draft else (live.version_id if live else None),
        }


def save_draft(eng, actor: Actor, process_id: str, xml) -> dict:
    """Keep the designer's work without deploying it. The XML must at least be safe, well-formed XML."""
    require_role(actor, *DESIGNERS)
    xml = _xml_text(xml)
    parse_xml(xml, what="BPMN")  # refuse unsafe or malformed XML even as a draft
    with eng.db.transaction() as session:
        live = versions.active_version_id(session, "process", process_id)
        draft = versions.keep_draft(session, eng, "process", process_id, xml, live, actor.user_id)
        return {"process_id": process_id, "draft_at": draft.updated_at}


def discard_draft(eng, actor: Actor, process_id: str) -> dict:
    """Drop the draft; `live_version_id` is None when the process was only a draft (an import never deployed)."""
    require_role(actor, *DESIGNERS)
    with eng.db.transaction() as session:
        versions.drop_draft(session, "process", process_id)
        return {
            "process_id": process_id,
            "live_version_id": versions.active_version_id(session, "process", process_id),
        }


def validate(eng, actor: Actor, xml) -> dict:
    """Every problem, each with the element it belongs to; `ok` when the diagram may be deployed."""
    require_role(actor, *DESIGNERS)
    xml = _xml_text(xml)
    with eng.db.read() as session:
        result = _check(session, xml)
    return {
        "ok": result.ok,
        "process_id": result.parsed.process_id if result.parsed else None,
        "problems": result.problems,
    }


def deploy(eng, actor: Actor, xml, comment: str = "", expected_process: str | None = None) -> dict:
    """Validate and deploy: a new live version for new cases; running cases stay on theirs.

    :raises SpecError: with every problem pinned to its element (nothing deployed).
    """
    require_role(actor, *DESIGNERS)
    xml = _xml_text(xml)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(_("说明太长"), {"comment": _("部署说明最多 %(limit)s 字", limit=MAX_COMMENT)})
    with eng.db.transaction() as session:
        result = _check(session, xml)
        if not result.ok:
            raise result.error()
        process_id = result.parsed.process_id
        if expected_process and process_id != expected_process:
            raise SpecError(
                _(
                    "这张图的流程标识是“%(process)s”，不是正在编辑的“%(expected)s”；如要新建流程请用导入",
                    process=process_id,
                    expected=expected_process,
                ),
                problems=[{"element_id": process_id, "message": _("流程标识（process id）被改动了")}],
            )
        before = versions.active_version_id(session, "process", process_id)
        version = deploy_process(session, eng, xml, comment=comment, actor=actor)
        versions.drop_draft(session, "process", process_id)
        return {
            "process_id": process_id,
            "version_id": version.version_id,
            "changed": version.version_id != before,
        }


IMPORT_TARGETS = ("new", "draft")  # a new process (the default) / a draft of the process with the file's id


def _import_text(filename: str, data) -> str:
    if not filename.lower().endswith((".bpmn", ".xml", ".bpmn20.xml")):
        raise ValidationFailed(
            _("请上传 .bpmn 文件"), {"file": _("“%(name)s”不是 .bpmn 文件", name=filename)}
        )
    return _xml_text(data)


def _process_ids(session) -> set[str]:
    """Every process id in use: deployed, or only a draft so far (an earlier import not deployed yet)."""
    deployed = set(session.scalars(select(ProcessVersion.process_id).distinct()))
    drafts = set(session.scalars(select(DesignDraft.key).where(DesignDraft.kind == "process")))
    return deployed | drafts


def _process_summary(session, process_id: str) -> dict | None:
    """The existing process with this id (deployed or only drafted): name, live version, running cases, draft."""
    live = versions.active_version(session, "process", process_id)
    draft = session.get(DesignDraft, ("process", process_id))
    if live is None and draft is None:
        return None
    running = session.scalar(
        select(func.count())
        .select_from(WorkflowInstance)
        .join(ProcessVersion, ProcessVersion.version_id == WorkflowInstance.version_id)
        .where(ProcessVersion.process_id == process_id, WorkflowInstance.status == "running")
    )
    name = _process_name(live.bpmn_xml if live else draft.content)
    return {
        "process_id": process_id,
        "name": name or process_id,
        "live_version_id": live.version_id if live else None,
        "running_cases": running or 0,
        "draft_at": draft.updated_at if draft else None,
    }


def inspect_import(eng, actor: Actor, filename: str, data) -> dict:
    """What importing this file would do, for the designer to choose before anything is stored: the file's process
    id and name, the existing process with that id (or None), and the id the file gets as a new process.

    :raises ValidationFailed: not a .bpmn file or not UTF-8. :raises SpecError: unsafe or malformed XML, or no
        executable process.
    """
    require_role(actor, *DESIGNERS)
    diagram = executable_process(_import_text(filename, data))
    with eng.db.read() as session:
        taken = _process_ids(session)
        match = _process_summary(session, diagram.process_id)
    return {
        "filename": filename,
        "process_id": diagram.process_id,
        "name": diagram.name,
        "match": match,
        "new_process_id": _new_id(filename, diagram, taken),
    }


def _new_id(filename: str, diagram, taken: set[str]) -> str:
    if diagram.process_id not in taken and len(diagram.process_id) <= MAX_PROCESS_ID:
        return diagram.process_id  # nothing has this id: keep the file's own
    return new_process_id(filename, diagram, taken)


def import_file(eng, actor: Actor, filename: str, data, target: str = "new") -> dict:
    """Import a .bpmn made in another modeler (or exported here) as a draft; nothing is deployed or goes live.

    `target` "new" (the default): a new process; when the file's process id is taken (every bpmn.io export says
    `Process_1`), the process gets a new id from the file's name and the diagram's references follow it.
    `target` "draft": the draft of the existing process with the file's id, which the designer then validates
    and deploys in the modeler; its live version and running cases are untouched until then.
    A diagram our engine cannot run is refused with every problem named, and nothing is stored.

    :raises ValidationFailed: not a .bpmn file, not UTF-8, an unknown target, or "draft" with no process to match.
    :raises SpecError: unsafe or malformed XML, no executable process, or the diagram's problems.
    """
    require_role(actor, *DESIGNERS)
    if target not in IMPORT_TARGETS:
        raise ValidationFailed(_("请选择导入方式"), {"target": _("导入方式只能是新流程或同标识流程的草稿")})
    xml = _import_text(filename, data)
    diagram = executable_process(xml)
    with eng.db.transaction() as session:
        match = _process_summary(session, diagram.process_id)
        process_id = diagram.process_id
        if target == "draft" and match is None:
            raise ValidationFailed(
                _("没有标识为“%(id)s”的流程，不能作为它的草稿导入", id=process_id),
                {"target": _("请选择“作为新流程导入”")},
            )
        if target == "new":
            process_id = _new_id(filename, diagram, _process_ids(session))
            if process_id != diagram.process_id:
                xml = rename_process(xml, diagram.process_id, process_id)
        result = _check(session, xml)
        if not result.ok:
            raise result.error()
        live = versions.active_version_id(session, "process", process_id)
        draft = versions.keep_draft(session, eng, "process", process_id, xml, live, actor.user_id)
        how = "新流程的草稿" if target == "new" else "草稿（在用版本未变）"
        versions.audit(
            session,
            eng,
            kind="process",
            key=process_id,
            action="import",
            summary=f"导入 {filename} 为{how}",
            actor=actor,
            before=live,
            data={"filename": filename, "file_process_id": diagram.process_id, "target": target},
        )
        return {
            "process_id": process_id,
            "name": diagram.name or process_id,
            "target": target,
            "renamed_from": diagram.process_id if process_id != diagram.process_id else None,
            "live_version_id": live,
            "draft_at": draft.updated_at,
        }


def rollback(eng, actor: Actor, version_id: int, comment: str = "") -> dict:
    """Make an earlier version live again for new cases (the pointer moves; nothing is copied)."""
    version = process_version(eng, actor, version_id)
    require_role(actor, *DESIGNERS)
    with eng.db.transaction() as session:
        row = session.get(ProcessVersion, version["version_id"])
        deploy_process(session, eng, row.bpmn_xml, comment=comment or "回滚", actor=actor)
    return {"process_id": version["process_id"], "version_id": version["version_id"]}


# ------------------------------------------------------------------------------------------------ migration

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def migration_check(eng, actor: Actor, case_id: int, version_id: int) -> dict:
    """Whether the case's running round can move to `version_id`, and why not."""
    require_role(actor, *DESIGNERS)
    with eng.db.read() as session:
        _case, instance, _workflow, reasons = _migration_plan(eng, session, case_id, version_id)
        return {
            "case_id": case_id,
            "from_version": instance.version_id,
            "to_version": int(version_id),
            "safe": not reasons,
            "reasons": reasons,
        }


def _migration_plan(eng, session, case_id, version_id):
    case = session.get(Case, int(case_id))
    if case is None:
        raise NotFound(_("找不到这件诉求"))
    instance = session.scalars(
        select(WorkflowInstance).where(
            WorkflowInstance.case_id == case.case_id, WorkflowInstance.status == "running"
        )
    ).first()
    if instance is None:
        raise Conflict(_("这件诉求没有在办理中的流程，无需迁移"))
    target = session.get(ProcessVersion, int(version_id))
    current = session.get(ProcessVersion, instance.version_id)
    if target is None or target.process_id != current.process_id:
        raise NotFound(_("找不到这个流程的这个版本"))
    if target.version_id == instance.version_id:
        raise Conflict(_("这件诉求已经在这个版本上"))
    workflow, parsed, _engine = flow.load(eng, session, instance, case)
    new_parsed = flow.parsed_version(eng, session, target.version_id)
    new_specs = new_parsed.spec.task_specs
    reasons = []
    for task in workflow.get_tasks():
        spec = task.task_spec
        if spec.name.startswith(f"{parsed.spec.name}.") or spec.name in ("Start", "End", "Root"):
            continue
        new_spec = new_specs.get(spec.name)
        label = getattr(spec, "bpmn_name", None) or spec.name
        if task.state & ACTIVE:
            if new_spec is None:
                reasons.append(
                    _("当前环节“%(label)s”（%(task)s）在新版本中不存在", label=label, task=spec.name)
                )
            elif type(new_spec) is not type(spec):
                reasons.append(
                    _(
                        "当前环节“%(label)s”在新版本中换成了另一种元素（%(type)s）",
                        label=label,
                        type=type(new_spec).__name__,
                    )
                )
            elif spec.name in parsed.human_tasks and spec.name in new_parsed.human_tasks:
                old_human, new_human = parsed.human_tasks[spec.name], new_parsed.human_tasks[spec.name]
                if old_human.role != new_human.role:
                    reasons.append(
                        _("当前环节“%(label)s”在新版本中换了办理角色，已分派的待办会错位", label=label)
                    )
        elif task.state & (TaskState.COMPLETED | TaskState.CANCELLED) and new_spec is None:
            reasons.append(
                _(
                    "已走过的环节“%(label)s”（%(task)s）在新版本中被删除，引擎无法恢复这段历史",
                    label=label,
                    task=spec.name,
                )
            )
    if not reasons:
        try:
            runtime.loads(runtime.dumps(workflow), lambda _key: new_parsed, _engine)
        except Exception as exc:  # noqa: BLE001 - the engine's own check, reported as a reason
            reasons.append(_("引擎无法在新版本上恢复这件诉求：%(error)s", error=exc))
    return case, instance, workflow, sorted(set(reasons), key=reasons.index)


def migrate_case(eng, actor: Actor, case_id: int, version_id: int) -> dict:
    """Move a running case to a newer version when the check says it is safe. :raises Conflict: with the reasons."""
    require_role(actor, *DESIGNERS)
    with eng.db.transaction() as session:
        case, instance, workflow, reasons = _migration_plan(eng, session, case_id, version_id)
        if reasons:
            raise Conflict(_("不能迁移：%(reasons)s", reasons="；".join(reasons)), reasons=reasons)
        old_version = instance.version_id
        new_parsed = flow.parsed_version(eng, session, int(version_id))
        engine = flow.script_engine(eng, session, case)
        moved = runtime.loads(runtime.dumps(workflow), lambda _key: new_parsed, engine)
        instance.version_id = int(version_id)
        events = flow.run_engine(eng, moved)
        record_event(
            session,
            eng,
            case_id=case.case_id,
            round_no=instance.round_no,
            kind="migrated",
            title=f"流程版本迁移：#{old_version} → #{version_id}",
            actor=actor,
            data={"from": old_version, "to": int(version_id)},
        )
        versions.audit(
            session,
            eng,
            kind="process",
            key=new_parsed.process_id,
            action="migrate_case",
            summary=f"诉求 {case.case_no} 从版本 #{old_version} 迁移到 #{version_id}",
            actor=actor,
            before=old_version,
            after=int(version_id),
            data={"case_id": case.case_id},
        )
        flow.settle(eng, session, case, instance, moved, new_parsed, engine, actor, events)
        return {"case_id": case.case_id, "from_version": old_version, "to_version": int(version_id)}


# ------------------------------------------------------------------------------------------------ case diagram


def case_diagram(eng, actor: Actor, case_id: int) -> dict:
    """The diagram the case's current (or last) round runs on, its completed path, current tasks and the events
    recorded on each element. Whoever may see the case page may see this."""
    with eng.db.read() as session:
        case = session.get(Case, int(case_id))
        if case is None:
            raise NotFound(_("找不到这件诉求"))
        can_see_case(session, actor, case, raise_error=True)
        instance = session.scalars(
            select(WorkflowInstance)
            .where(WorkflowInstance.case_id == case.case_id)
            .order_by(WorkflowInstance.round_no.desc())
            .limit(1)
        ).first()
        if instance is None:
            raise NotFound(_("这件诉求还没有流程"))
        version = session.get(ProcessVersion, instance.version_id)
        workflow, parsed, _engine = flow.load(eng, session, instance, case)
        completed, current = set(), set()
        for task in workflow.get_tasks():
            name = task.task_spec.name
            if task.state & TaskState.COMPLETED:
                completed.add(name)
            elif task.state & (TaskState.READY | TaskState.STARTED):
                current.add(name)
            elif task.state & TaskState.WAITING and not name.startswith(parsed.spec.name):
                current.add(name)
        known = _elements(version.bpmn_xml)
        for flow_id, facts in known.items():
            if facts["type"] == "sequenceFlow" and facts.get("sourceRef") in completed:
                target = facts.get("targetRef")
                if target in completed or target in current:
                    completed.add(flow_id)
        events = session.scalars(
            select(CaseEvent)
            .where(
                CaseEvent.case_id == case.case_id,
                CaseEvent.round_no == instance.round_no,
                CaseEvent.task_name.is_not(None),
            )
            .order_by(CaseEvent.event_id)
        ).all()
        by_element: dict[str, list] = {}
        for event in events:
            by_element.setdefault(event.task_name, []).append(
                {"at": event.at, "title": event.title, "actor": event.actor_name or _("系统")}
            )
        return {
            "case_id": case.case_id,
            "round_no": instance.round_no,
            "version_id": version.version_id,
            "live_version_id": versions.active_version_id(session, "process", version.process_id),
            "xml": version.bpmn_xml,
            "completed": sorted(i for i in completed if i in known),
            "current": sorted(i for i in current if i in known),
            "events": by_element,
        }
