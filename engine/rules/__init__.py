"""The DMN decision-table engine (safe parsing, S-FEEL cells, typed inputs, real hit policies), the published tables and their contracts."""

from engine.rules.model import Decision
from engine.rules.model import DecisionTable
from engine.rules.model import DmnDocument
from engine.rules.model import Input
from engine.rules.model import Output
from engine.rules.model import Rule
from engine.rules.parse import parse_dmn
from engine.rules.result import DecisionResult

__all__ = [
    "Decision",
    "DecisionResult",
    "DecisionTable",
    "DmnDocument",
    "Input",
    "Output",
    "Rule",
    "parse_dmn",
]
