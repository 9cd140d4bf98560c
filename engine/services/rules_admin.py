"""Managers change the rule tables: drafts, "try it", example cases, preview of affected open cases, publish
(optionally re-evaluating those cases), versions with before/after, rollback. Every change is audited."""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.errors import JienanError
from engine.errors import NotFound
from engine.errors import RuleError
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.rules import parse_dmn
from engine.rules.contracts import check_document
from engine.rules.typeref import plain
from engine.services import flow
from engine.services.common import Actor
from engine.services.common import record_event
from engine.services.common import require_role
from engine.services.common import user_names
from engine.storage import versions
from engine.storage.models import Case
from engine.storage.models import DesignDraft
from engine.storage.models import RuleExample
from engine.storage.models import RuleVersion
from engine.storage.models import WorkflowInstance
from engine.workflow.deploy import publish_rules
from engine.workflow.xmlsafe import parse_xml

MANAGERS = ("manager", "admin")
PREVIEW_LIMIT = 200
OPEN = ("closed",)
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _table(xml: str, decision_id: str):
    document = parse_dmn(xml)
    decision = document.decisions.get(decision_id)
    if decision is None:
        raise RuleError(_("文件中没有决策“%(decision)s”，决策标识（id）不能修改", decision=decision_id))
    return document, decision.table


def _xml(xml) -> str:
    if isinstance(xml, bytes):
        xml = xml.decode("utf-8", errors="strict")
    if not isinstance(xml, str) or not xml.strip():
        raise ValidationFailed(_("没有收到规则表内容"), {"xml": _("规则表内容为空")})
    return xml


def tables(eng, actor: Actor) -> list[dict]:
    require_role(actor, *MANAGERS, "designer")
    with eng.db.read() as session:
        rows = session.scalars(select(RuleVersion).order_by(RuleVersion.rule_version_id)).all()
        people = user_names(session, [r.created_by for r in rows])
        by_decision: dict[str, list] = {}
        for row in rows:
            by_decision.setdefault(row.decision_id, []).append(row)
        result = []
        for decision_id, items in by_decision.items():
            live = versions.active_version(session, "rules", decision_id)
            table = _table(live.dmn_xml, decision_id)[1]
            draft = session.get(DesignDraft, ("rules", decision_id))
            examples = session.scalars(
                select(RuleExample.example_id).where(RuleExample.decision_id == decision_id)
            ).all()
            result.append(
                {
                    "decision_id": decision_id,
                    "name": table.name or decision_id,
                    "hit_policy": table.hit_policy,
                    "rules": len(table.rules),
                    "inputs": [i.column for i in table.inputs],
                    "outputs": [o.label or o.name for o in table.outputs],
                    "live_version_id": live.rule_version_id,
                    "draft_at": draft.updated_at if draft else None,
                    "examples": len(examples),
                    "versions": [
                        {
                            "version_id": v.rule_version_id,
                            "number": n,
                            "created_at": v.created_at,
                            "created_by": people.get(v.created_by) or _("系统"),
                            "comment": v.comment or "",
                            "live": v.rule_version_id == live.rule_version_id,
                        }
                        for n, v in reversed(list(enumerate(items, start=1)))
                    ],
                }
            )
        return result


def source(eng, actor: Actor, decision_id: str) -> dict:
    """What the editor opens (draft, else live version), with the table's columns and example cases."""
    require_role(actor, *MANAGERS)
    with eng.db.read() as session:
        live = versions.active_version(session, "rules", decision_id)
        if live is None:
            raise NotFound(_("没有规则表 %(decision)s", decision=decision_id))
        draft = session.get(DesignDraft, ("rules", decision_id))
        xml = draft.content if draft else live.dmn_xml
        table = _table(live.dmn_xml, decision_id)[1]
        return {
            "decision_id": decision_id,
            "name": table.name,
            "xml": xml,
            "from_draft": draft is not None,
            "draft_at": draft.updated_at if draft else None,
            "live_version_id": live.rule_version_id,
            "inputs": [
                {
                    "name": i.expression,
                    "label": i.column,
                    "type": i.type_ref or "string",
                    "allowed": [plain(v) for v in (i.allowed_values or [])],
                }
                for i in table.inputs
            ],
            "outputs": [{"name": o.name, "label": o.label or o.name} for o in table.outputs],
            "examples": _examples(session, decision_id),
        }


def _examples(session, decision_id) -> list[dict]:
    rows = session.scalars(
        select(RuleExample).where(RuleExample.decision_id == decision_id).order_by(RuleExample.example_id)
    ).all()
    return [
        {"example_id": r.example_id, "label": r.label, "inputs": r.inputs, "expected": r.expected}
        for r in rows
    ]


def save_draft(eng, actor: Actor, decision_id: str, xml) -> dict:
    require_role(actor, *MANAGERS)
    xml = _xml(xml)
    parse_xml(xml, what="DMN")
    with eng.db.transaction() as session:
        live = versions.active_version_id(session, "rules", decision_id)
        if live is None:
            raise NotFound(_("没有规则表 %(decision)s", decision=decision_id))
        draft = versions.keep_draft(session, eng, "rules", decision_id, xml, live, actor.user_id)
        return {"decision_id": decision_id, "draft_at": draft.updated_at}


def discard_draft(eng, actor: Actor, decision_id: str) -> None:
    require_role(actor, *MANAGERS)
    with eng.db.transaction() as session:
        versions.drop_draft(session, "rules", decision_id)


def _clean_inputs(table, raw: dict) -> dict:
    if not isinstance(raw, dict):
        raise ValidationFailed(_("输入应为“列名: 值”的对象"), {"inputs": _("格式不对")})
    context = {}
    for column in table.inputs:
        value = raw.get(column.expression)
        context[column.expression] = None if value in ("", None) else value
    return context


def _nested(table, context: dict) -> dict:
    """Inputs keyed by column expression, as the table reads them: "unit.score" becomes {"unit": {"score": …}}."""
    nested: dict = {}
    for column in table.inputs:
        path = list(column.path or [column.expression])
        target = nested
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = context.get(column.expression)
    return nested


def _decide(table, context: dict) -> dict:
    result = table.evaluate(_nested(table, context))
    outputs = plain(result.outputs)
    return {
        "matched": [
            {
                "index": index,
                "rule_id": table.rules[index - 1].rule_id,
                "note": table.rules[index - 1].annotation,
            }
            for index in result.matched
        ],
        "outputs": outputs,
    }


def try_table(eng, actor: Actor, decision_id: str, xml, inputs: dict) -> dict:
    """Which rule of this (draft) table matches these inputs, and what it outputs."""
    require_role(actor, *MANAGERS)
    _document, table = _table(_xml(xml), decision_id)
    context = _clean_inputs(table, inputs)
    try:
        return {"ok": True, "inputs": context, **_decide(table, context)}
    except RuleError as exc:
        return {"ok": False, "inputs": context, "message": exc.message, "matched": [], "outputs": None}


def run_examples(table, examples: list[dict]) -> list[dict]:
    """Each example with its actual outputs and whether they are what was expected."""
    results = []
    for example in examples:
        try:
            decided = _decide(table, _clean_inputs(table, example["inputs"]))
            actual, error = decided["outputs"], None
        except RuleError as exc:
            actual, error = None, exc.message
        expected = example["expected"]
        passed = (
            error is None
            and isinstance(actual, dict)
            and all(actual.get(key) == value for key, value in expected.items())
        )
        results.append({**example, "actual": actual, "error": error, "passed": passed})
    return results


def add_example(eng, actor: Actor, decision_id: str, label: str, inputs: dict, expected: dict) -> dict:
    require_role(actor, *MANAGERS)
    label = (label or "").strip()
    if not label or len(label) > 200:
        raise ValidationFailed(_("请给样例起个名字（200 字以内）"), {"label": _("请填写样例名称")})
    with eng.db.transaction() as session:
        live = versions.active_version(session, "rules", decision_id)
        if live is None:
            raise NotFound(_("没有规则表 %(decision)s", decision=decision_id))
        table = _table(live.dmn_xml, decision_id)[1]
        names = {o.name for o in table.outputs}
        if not isinstance(expected, dict) or not expected or not set(expected) <= names:
            raise ValidationFailed(
                _("期望结果应填写规则表的输出列"),
                {"expected": _("可用的输出列：%(columns)s", columns="、".join(sorted(names)))},
            )
        expected = {k: _number_or_text(v) for k, v in expected.items() if v not in ("", None)}
        if not expected:
            raise ValidationFailed(_("至少填写一个期望输出"), {"expected": _("至少填写一个期望输出")})
        row = RuleExample(
            decision_id=decision_id,
            label=label,
            inputs=_clean_inputs(table, inputs),
            expected=expected,
            created_at=eng.now(),
            created_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        versions.audit(
            session,
            eng,
            kind="rules",
            key=decision_id,
            action="example",
            summary=f"新增样例：{label}",
            actor=actor,
        )
        return {"example_id": row.example_id}


def _number_or_text(value):
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return value


def delete_example(eng, actor: Actor, decision_id: str, example_id: int) -> None:
    require_role(actor, *MANAGERS)
    with eng.db.transaction() as session:
        row = session.get(RuleExample, int(example_id))
        if row is None or row.decision_id != decision_id:
            raise NotFound(_("没有这个样例"))
        session.delete(row)
        versions.audit(
            session,
            eng,
            kind="rules",
            key=decision_id,
            action="example",
            summary=f"删除样例：{row.label}",
            actor=actor,
        )


def check(eng, actor: Actor, decision_id: str, xml) -> dict:
    """Everything publishing would check: the table parses, fits the process, and every example passes."""
    require_role(actor, *MANAGERS)
    try:
        document, table = _table(_xml(xml), decision_id)
        check_document(document)
    except RuleError as exc:
        return {"ok": False, "message": exc.message, "problems": exc.problems, "examples": [], "warnings": []}
    static = table.check()
    overlaps = [p for p in static if p.get("kind") == "overlap"]
    warnings = [p for p in static if p.get("kind") != "overlap"]  # gaps: inputs no rule covers
    if overlaps:
        return {
            "ok": False,
            "message": _("规则重叠：%(problem)s", problem=overlaps[0]["message"]),
            "problems": overlaps,
            "examples": [],
            "warnings": warnings,
        }
    with eng.db.read() as session:
        examples = run_examples(table, _examples(session, decision_id))
    failed = [e for e in examples if not e["passed"]]
    message = (
        _("%(count)s 个样例未通过：%(example)s", count=len(failed), example=failed[0]["label"])
        if failed
        else ""
    )
    return {"ok": not failed, "message": message, "problems": [], "examples": examples, "warnings": warnings}


def preview(eng, actor: Actor, decision_id: str, xml) -> dict:
    """Open cases whose decision would differ under the new table (first PREVIEW_LIMIT, and how many in all)."""
    require_role(actor, *MANAGERS)
    _document, new_table = _table(_xml(xml), decision_id)
    with eng.db.read() as session:
        live = versions.active_version(session, "rules", decision_id)
        old_table = _table(live.dmn_xml, decision_id)[1]
        return _affected(session, old_table, new_table)


def _affected(session, old_table, new_table) -> dict:
    names = [c.expression for c in new_table.inputs]
    columns = [getattr(Case, name) for name in names if hasattr(Case, name)]
    if len(columns) != len(names):
        return {"total": 0, "cases": [], "note": _("这张表的输入不全是诉求字段，无法预览")}
    rows = session.execute(
        select(Case.case_id, Case.case_no, Case.title, *columns).where(Case.status.not_in(OPEN))
    ).all()
    affected, total = [], 0
    for row in rows:
        context = {name: getattr(row, name) for name in names}
        try:
            before, after = (
                plain(old_table.evaluate(context).outputs),
                plain(new_table.evaluate(context).outputs),
            )
        except JienanError:
            continue
        if before != after:
            total += 1
            if len(affected) < PREVIEW_LIMIT:
                changes = [
                    {"output": key, "before": (before or {}).get(key), "after": (after or {}).get(key)}
                    for key in sorted(set(before or {}) | set(after or {}))
                    if (before or {}).get(key) != (after or {}).get(key)
                ]
                affected.append(
                    {
                        "case_id": row.case_id,
                        "case_no": row.case_no,
                        "title": row.title,
                        "inputs": context,
                        "changes": changes,
                    }
                )
    return {"total": total, "cases": affected, "note": ""}


def publish(eng, actor: Actor, decision_id: str, xml, comment: str = "", reevaluate: bool = False) -> dict:
    """Publish after the checks and examples pass; optionally carry the new outputs into affected open cases.

    :raises RuleError: the table is invalid or an example fails (nothing published).
    """
    require_role(actor, *MANAGERS)
    xml = _xml(xml)
    verdict = check(eng, actor, decision_id, xml)
    if not verdict["ok"]:
        problems = verdict["problems"] or [
            {
                "element_id": None,
                "example_id": e["example_id"],
                "message": _("样例“%(example)s”未通过", example=e["label"]),
            }
            for e in verdict["examples"]
            if not e["passed"]
        ]
        raise RuleError(verdict["message"], problems=problems)
    comment = (comment or "").strip()[:500]
    with eng.db.transaction() as session:
        live = versions.active_version(session, "rules", decision_id)
        old_table = _table(live.dmn_xml, decision_id)[1]
        _document, new_table = _table(xml, decision_id)
        affected = _affected(session, old_table, new_table) if reevaluate else {"cases": [], "total": 0}
        published = [
            v
            for v in publish_rules(session, eng, xml, comment=comment, actor=actor)
            if v.decision_id == decision_id
        ]
        versions.drop_draft(session, "rules", decision_id)
        updated = _reevaluate(eng, session, actor, new_table, affected) if reevaluate else 0
        return {
            "decision_id": decision_id,
            "version_id": published[0].rule_version_id,
            "changed": published[0].rule_version_id != live.rule_version_id,
            "reevaluated": updated,
        }


def _reevaluate(eng, session, actor, table, affected) -> int:
    """Write the new outputs into the open task data of each affected case (what later steps read)."""
    count = 0
    for item in affected["cases"]:
        case = session.get(Case, item["case_id"])
        instance = session.scalars(
            select(WorkflowInstance).where(
                WorkflowInstance.case_id == case.case_id, WorkflowInstance.status == "running"
            )
        ).first()
        if instance is None:
            continue
        workflow, parsed, engine = flow.load(eng, session, instance, case)
        new_values = {c["output"]: c["after"] for c in item["changes"]}
        for task in workflow.get_tasks():
            if task.state & ACTIVE and any(k in task.data for k in new_values):
                task.data.update(new_values)
        changes = "；".join(f"{c['output']}：{c['before']} → {c['after']}" for c in item["changes"])
        record_event(
            session,
            eng,
            case_id=case.case_id,
            round_no=instance.round_no,
            kind="rules_reevaluated",
            title=f"按新规则表“{table.name or table.decision_id}”重新评估：{changes}",
            actor=actor,
            data={"decision_id": table.decision_id, "changes": item["changes"]},
        )
        flow.settle(eng, session, case, instance, workflow, parsed, engine, actor, [])
        count += 1
    return count


def rollback(eng, actor: Actor, decision_id: str, version_id: int, comment: str = "") -> dict:
    require_role(actor, *MANAGERS)
    with eng.db.transaction() as session:
        version = session.get(RuleVersion, int(version_id))
        if version is None or version.decision_id != decision_id:
            raise NotFound(_("找不到这个规则表版本"))
        publish_rules(session, eng, version.dmn_xml, comment=comment or "回滚", actor=actor)
        return {"decision_id": decision_id, "version_id": version.rule_version_id}


def version_rows(eng, actor: Actor, decision_id: str, version_id: int) -> dict:
    """A version's rules as rows of cell texts, next to the version before it: what changed, rule by rule."""
    require_role(actor, *MANAGERS, "designer")
    with eng.db.read() as session:
        version = session.get(RuleVersion, int(version_id))
        if version is None or version.decision_id != decision_id:
            raise NotFound(_("找不到这个规则表版本"))
        previous = session.scalars(
            select(RuleVersion)
            .where(
                RuleVersion.decision_id == decision_id, RuleVersion.rule_version_id < version.rule_version_id
            )
            .order_by(RuleVersion.rule_version_id.desc())
            .limit(1)
        ).first()
        table = _table(version.dmn_xml, decision_id)[1]
        before: set[tuple] = set()
        if previous is not None:
            old = _table(previous.dmn_xml, decision_id)[1]
            before = {tuple(r.input_entries + r.output_entries) for r in old.rules}
        after = {tuple(r.input_entries + r.output_entries) for r in table.rules}
        rows = [
            {
                "index": r.index,
                "cells": r.input_entries + r.output_entries,
                "note": r.annotation,
                "new": previous is not None and tuple(r.input_entries + r.output_entries) not in before,
            }
            for r in table.rules
        ]
        return {
            "decision_id": decision_id,
            "version_id": version.rule_version_id,
            "previous_id": previous.rule_version_id if previous else None,
            "hit_policy": table.hit_policy,
            "columns": [i.column for i in table.inputs] + [o.label or o.name for o in table.outputs],
            "inputs": len(table.inputs),
            "rows": rows,
            "removed": [list(cells) for cells in sorted(before - after)],
            "xml": version.dmn_xml,
        }
