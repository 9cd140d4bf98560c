"""Deploying diagrams and rule tables: a new version only when the content (hash) is new."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import RuleError
from engine.i18n import _
from engine.rules import parse_dmn
from engine.rules.contracts import check_document
from engine.storage import versions
from engine.storage.models import ProcessVersion
from engine.storage.models import RuleExample
from engine.storage.models import RuleVersion
from engine.workflow.specs import content_hash
from engine.workflow.specs import default_process_files
from engine.workflow.specs import default_rule_examples
from engine.workflow.specs import default_rule_files
from engine.workflow.specs import parse_bpmn


def deploy_process(
    session: Session, eng, xml: str, *, user_id: int | None = None, comment: str = "", actor=None
) -> ProcessVersion:
    """Make this BPMN diagram the live version of its process for new cases.

    New content becomes a new version; content an earlier version already has makes that version live again
    (a rollback stores no copy); the live content is left as it is. Each change is audited.
    :raises SpecError: the diagram does not parse or is not executable (nothing stored).
    """
    parsed = parse_bpmn(xml)
    live = versions.active_version(session, "process", parsed.process_id)
    if live is not None and live.content_hash == parsed.content_hash:
        return live
    version = session.scalars(
        select(ProcessVersion).where(
            ProcessVersion.process_id == parsed.process_id, ProcessVersion.content_hash == parsed.content_hash
        )
    ).first()
    user_id = actor.user_id if actor is not None else user_id
    if version is None:
        version = ProcessVersion(
            process_id=parsed.process_id,
            content_hash=parsed.content_hash,
            bpmn_xml=xml,
            created_at=eng.now(),
            created_by=user_id,
            comment=comment or None,
        )
        session.add(version)
        session.flush()
        eng.specs.put(version.version_id, parsed)
        action, summary = "deploy", f"部署新版本 #{version.version_id}" + (f"：{comment}" if comment else "")
    else:
        action, summary = (
            "rollback",
            f"恢复为版本 #{version.version_id}" + (f"：{comment}" if comment else ""),
        )
    versions.activate(session, eng, "process", parsed.process_id, version.version_id, user_id)
    versions.audit(
        session,
        eng,
        kind="process",
        key=parsed.process_id,
        action=action,
        summary=summary,
        actor=actor,
        before=live.version_id if live is not None else None,
        after=version.version_id,
    )
    return version


def publish_rules(
    session: Session, eng, xml: str, *, user_id: int | None = None, comment: str = "", actor=None
) -> list[RuleVersion]:
    """Make every decision of a DMN document live for new decisions (new version, or an earlier one again).

    :raises RuleError: the document does not parse, or a table gives outputs the process cannot use
        (nothing stored).
    """
    document = parse_dmn(xml)
    if not document.decisions:
        raise RuleError(_("DMN 文件中没有决策表"))
    check_document(document)
    digest = content_hash(xml)
    user_id = actor.user_id if actor is not None else user_id
    published = []
    for decision_id in document.decisions:
        live = versions.active_version(session, "rules", decision_id)
        if live is not None and live.content_hash == digest:
            published.append(live)
            continue
        version = session.scalars(
            select(RuleVersion).where(
                RuleVersion.decision_id == decision_id, RuleVersion.content_hash == digest
            )
        ).first()
        if version is None:
            version = RuleVersion(
                decision_id=decision_id,
                content_hash=digest,
                dmn_xml=xml,
                created_at=eng.now(),
                created_by=user_id,
                comment=comment or None,
            )
            session.add(version)
            session.flush()
            action, summary = "publish", f"发布新版本 #{version.rule_version_id}"
        else:
            action, summary = "rollback", f"恢复为版本 #{version.rule_version_id}"
        versions.activate(session, eng, "rules", decision_id, version.rule_version_id, user_id)
        versions.audit(
            session,
            eng,
            kind="rules",
            key=decision_id,
            action=action,
            summary=summary + (f"：{comment}" if comment else ""),
            actor=actor,
            before=live.rule_version_id if live is not None else None,
            after=version.rule_version_id,
        )
        published.append(version)
    return published


def deploy_defaults(eng, comment: str = "processes/ 目录中的默认版本") -> dict:
    """Deploy processes/*.bpmn and publish processes/*.dmn whose content was never deployed. One transaction.

    Content deployed before is left alone even when it is not live: a designer's or manager's newer version (or
    their rollback) survives every restart; shipping changed files deploys them.
    """
    with eng.db.transaction() as session:
        rules = []
        for path in default_rule_files():
            xml = Path(path).read_text("utf-8")
            digest = content_hash(xml)
            decisions = list(parse_dmn(xml).decisions)
            known = session.scalars(
                select(RuleVersion).where(
                    RuleVersion.decision_id.in_(decisions), RuleVersion.content_hash == digest
                )
            ).all()
            if len(known) < len(decisions):
                known = publish_rules(session, eng, xml, comment=comment)
            rules += [v.rule_version_id for v in known]
        _ship_examples(session, eng)
        processes = []
        for path in default_process_files():
            xml = Path(path).read_text("utf-8")
            parsed = parse_bpmn(xml)
            version = session.scalars(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == parsed.process_id,
                    ProcessVersion.content_hash == parsed.content_hash,
                )
            ).first()
            if version is None:
                version = deploy_process(session, eng, xml, comment=comment)
            processes.append(version.version_id)
        return {"process_versions": processes, "rule_versions": rules}


def _ship_examples(session: Session, eng) -> None:
    """Give each table the example cases shipped in processes/examples/<decision>.json — once, while it has
    none: afterwards they are the managers' to change in 规则管理."""
    for decision_id, examples in default_rule_examples().items():
        if session.scalar(select(RuleExample.example_id).where(RuleExample.decision_id == decision_id)):
            continue
        for example in examples:
            session.add(
                RuleExample(
                    decision_id=decision_id,
                    label=example["label"],
                    inputs=example["inputs"],
                    expected=example["expected"],
                    created_at=eng.now(),
                    created_by=None,
                )
            )
