"""Deploying diagrams and rule tables: a new version only when the content (hash) is new."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import RuleError
from engine.models import ProcessVersion
from engine.models import RuleVersion
from engine.specs import content_hash
from engine.specs import default_process_files
from engine.specs import default_rule_files
from engine.specs import parse_bpmn


def deploy_process(
    session: Session, eng, xml: str, *, user_id: int | None = None, comment: str = ""
) -> ProcessVersion:
    """Store a BPMN diagram as a new version of its process (or return the existing version with that content).

    :raises SpecError: the diagram does not parse or is not executable (nothing stored).
    """
    parsed = parse_bpmn(xml)
    existing = session.scalars(
        select(ProcessVersion).where(
            ProcessVersion.process_id == parsed.process_id, ProcessVersion.content_hash == parsed.content_hash
        )
    ).first()
    if existing is not None:
        return existing
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
    return version


def publish_rules(
    session: Session, eng, xml: str, *, user_id: int | None = None, comment: str = ""
) -> list[RuleVersion]:
    """Store every decision of a DMN document as a new rule version when its content is new.

    :raises RuleError: the document does not parse, or a table gives outputs the process cannot use
        (nothing stored).
    """
    from engine.rule_contracts import check_document
    from engine.rules import parse_dmn

    document = parse_dmn(xml)
    if not document.decisions:
        raise RuleError("DMN 文件中没有决策表")
    check_document(document)
    digest = content_hash(xml)
    versions = []
    for decision_id in document.decisions:
        existing = session.scalars(
            select(RuleVersion).where(
                RuleVersion.decision_id == decision_id, RuleVersion.content_hash == digest
            )
        ).first()
        if existing is None:
            existing = RuleVersion(
                decision_id=decision_id,
                content_hash=digest,
                dmn_xml=xml,
                created_at=eng.now(),
                created_by=user_id,
                comment=comment or None,
            )
            session.add(existing)
            session.flush()
        versions.append(existing)
    return versions


def deploy_defaults(eng, comment: str = "processes/ 目录中的默认版本") -> dict:
    """Deploy processes/*.bpmn and publish processes/*.dmn when they differ from what is deployed. One transaction."""
    with eng.db.transaction() as session:
        rules = [
            v.rule_version_id
            for f in default_rule_files()
            for v in publish_rules(session, eng, Path(f).read_text("utf-8"), comment=comment)
        ]
        processes = [
            deploy_process(session, eng, Path(f).read_text("utf-8"), comment=comment).version_id
            for f in default_process_files()
        ]
        return {"process_versions": processes, "rule_versions": rules}
