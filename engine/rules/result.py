"""What a decision table decides, and the hit policies it may have: the leaf that the model, evaluation and
checks all share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.rules.typeref import plain

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "RULE ORDER", "OUTPUT ORDER", "COLLECT")
SINGLE_HIT = ("UNIQUE", "FIRST", "PRIORITY", "ANY")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")

Resolver = Callable[[str, dict], Any]


@dataclass(slots=True)
class DecisionResult:
    """What a table decided. `outputs`: dict or None for single-hit, list for multi-hit, dict for aggregates.

    `matched` lists the rules that produced the result, in result order (the winner alone for FIRST and
    PRIORITY; every match for ANY and the multi-hit policies).
    """

    decision_id: str
    hit_policy: str
    matched: list[int]
    matched_rule_ids: list[str]
    outputs: dict | list[dict] | None
    inputs: dict
    aggregation: str | None = None

    def to_audit(self) -> dict:
        """A JSON-safe dict for an audit event."""
        return {
            "decision_id": self.decision_id,
            "hit_policy": self.hit_policy,
            "aggregation": self.aggregation,
            "matched": list(self.matched),
            "matched_rule_ids": list(self.matched_rule_ids),
            "inputs": plain(self.inputs),
            "outputs": plain(self.outputs),
        }
