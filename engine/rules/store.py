"""Published rule tables: the newest version of each decision, parsed once, and evaluation with an audit record."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from engine.errors import RuleError
from engine.i18n import _
from engine.rules import parse_dmn
from engine.rules.contracts import check_outputs
from engine.storage import versions
from engine.storage.models import RuleVersion


class RuleCache:
    """Parsed decision tables by rule version id."""

    def __init__(self):
        self._tables: dict[int, object] = {}
        self._lock = threading.Lock()

    def table(self, version: RuleVersion):
        return self.table_of(version.rule_version_id, lambda: version)

    def table_of(self, version_id: int, version):
        """The parsed table of this version; `version()` gives its row when it is not parsed yet."""
        table = self._tables.get(version_id)
        if table is None:
            version = version()
            document = parse_dmn(version.dmn_xml, source=f"{version.decision_id}#{version.rule_version_id}")
            decision = document.decisions.get(version.decision_id)
            if decision is None:
                raise RuleError(
                    _(
                        "规则表版本 %(version)s 中没有决策 %(decision)s",
                        version=version.rule_version_id,
                        decision=version.decision_id,
                    )
                )
            table = decision.table
            with self._lock:
                self._tables[version.rule_version_id] = table
        return table


def decide(
    session: Session, cache: RuleCache, decision_id: str, context: dict, resolve=None
) -> tuple[dict, dict]:
    """Evaluate the newest published version of `decision_id` on `context`.

    Returns (outputs, audit) where audit names the version, inputs, matched rules and outputs.
    :raises RuleError: unknown decision, no rule matched, the table's hit policy was violated, or the outputs
        are not what the process can use (unknown tier, negative limit).
    """
    version_id = versions.active_version_id(session, "rules", decision_id)
    if version_id is None:
        raise RuleError(_("规则表 %(decision)s 尚未发布", decision=decision_id))
    table = cache.table_of(version_id, lambda: session.get(RuleVersion, version_id))
    result = table.evaluate(context, resolve=resolve)
    outputs = result.outputs
    if outputs is None:
        raise RuleError(
            _("规则表“%(table)s”没有规则匹配这些输入，请管理员补充规则", table=table.name or decision_id)
        )
    if isinstance(outputs, list):
        raise RuleError(
            _("规则表“%(table)s”返回多条结果，业务规则任务只接受单一结果", table=table.name or decision_id)
        )
    check_outputs(decision_id, table.name, outputs)
    audit = result.to_audit()
    audit["output_labels"] = {output.name: output.label or output.name for output in table.outputs}
    audit["annotations"] = [table.rules[index - 1].annotation for index in result.matched]
    audit.update(decision_id=decision_id, rule_version_id=version_id, table_name=table.name)
    return dict(outputs), audit
