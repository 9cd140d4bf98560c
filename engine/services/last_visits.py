"""The last visit to each enterprise ("last visit" on my enterprises and the enterprise file): the newest visit
recorded by its visitor (a campaign's visit task, engine.services.visits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.clock import LOCAL_TZ
from engine.storage.models import Visit
from engine.storage.models import VisitCampaign

VISIT_CHANNEL = "走访"


def last_visits(session: Session, enterprise_ids: Iterable[int]) -> dict[int, dict]:
    """enterprise_id → {"at", "date", "source", "visit_id", "campaign_id", "campaign", "visitors", "problems"} of its
    last recorded visit, for those that had one. `at` is the visit's day (noon, Asia/Shanghai) as a moment;
    `source` is "visit" (a recorded visit)."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return {}
    found: dict[int, dict] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        newest = (
            select(Visit.enterprise_id, func.max(Visit.visited_on).label("day"))
            .where(Visit.enterprise_id.in_(chunk))
            .group_by(Visit.enterprise_id)
            .subquery()
        )
        rows = session.execute(
            select(Visit, VisitCampaign.name)
            .join(
                newest, (newest.c.enterprise_id == Visit.enterprise_id) & (newest.c.day == Visit.visited_on)
            )
            .outerjoin(VisitCampaign, VisitCampaign.campaign_id == Visit.campaign_id)
            .order_by(Visit.enterprise_id, Visit.visit_id.desc())
        )
        for visit, campaign in rows:
            found.setdefault(
                visit.enterprise_id,
                {
                    "at": dt.datetime.combine(visit.visited_on, dt.time(12), tzinfo=LOCAL_TZ),
                    "date": visit.visited_on,
                    "source": "visit",
                    "visit_id": visit.visit_id,
                    "campaign_id": visit.campaign_id,
                    "campaign": campaign,
                    "visitors": visit.visitors,
                    "problems": visit.problems,
                },
            )
    return found
