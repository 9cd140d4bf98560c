"""The last visit to each enterprise ("last visit" on my enterprises and the enterprise file).

Visits are not recorded on their own yet (the visit campaigns will record them): until then an enterprise's last
visit is the newest case registered through the 走访 channel, i.e. a problem raised on a visit. The campaign work
replaces `last_visits` — its signature and result are all the callers rely on.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.storage.models import Case

VISIT_CHANNEL = "走访"


def last_visits(session: Session, enterprise_ids: Iterable[int]) -> dict[int, dict]:
    """enterprise_id → {"at", "source", "case_id", "case_no", "title"} of its last visit, for those that had one.

    `source` says what the date comes from ("case": a case registered from a visit), so a page can word it."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Case.enterprise_id, Case.case_id, Case.case_no, Case.title, Case.created_at)
        .where(Case.channel == VISIT_CHANNEL, Case.enterprise_id.in_(ids))
        .order_by(Case.enterprise_id, Case.created_at.desc(), Case.case_id.desc())
    )
    found: dict[int, dict] = {}
    for enterprise_id, case_id, case_no, title, at in rows:
        found.setdefault(
            enterprise_id,
            {"at": at, "source": "case", "case_id": case_id, "case_no": case_no, "title": title},
        )
    return found
