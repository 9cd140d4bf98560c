"""Substring search over case text through an n-gram index (works for Chinese, where words have no spaces).

Text is split into runs of letters/digits/CJK; each run is indexed as its overlapping character bigrams. A query
of two or more characters becomes a phrase of its bigrams, which the index answers (SQLite FTS5, PostgreSQL
GIN over a 'simple' tsvector); the exact substring is then confirmed on those candidates only.
"""

from __future__ import annotations

import re

_RUN = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]+")


def normalise(text: str) -> str:
    return (text or "").lower()


def _runs(text: str) -> list[str]:
    return _RUN.findall(normalise(text))


def grams(text: str) -> str:
    """The space-separated bigrams that index `text` (a one-character run is indexed as itself)."""
    tokens = []
    for run in _runs(text):
        if len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(tokens)


def query_phrases(query: str) -> list[str] | None:
    """Bigram phrases for an index lookup, or None when the query has a one-character run (no index help)."""
    runs = _runs(query)
    if not runs or any(len(run) < 2 for run in runs):
        return None
    return [" ".join(run[i : i + 2] for i in range(len(run) - 1)) for run in runs]
