"""What every service shares: the acting user, audit events, small lookups."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import PermissionDenied
from engine.i18n import _
from engine.storage.models import CaseEvent
from engine.storage.models import Unit
from engine.storage.models import User


@dataclasses.dataclass(frozen=True)
class Actor:
    """The user a service acts for (plain data; the web layer builds it from the session or a token)."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[str]
    unit_id: int | None = None
    unit_code: str | None = None
    unit_name: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_all_cases(self) -> bool:
        """Everyone but a pure handler sees every case; a handler sees its own unit's cases only."""
        return bool(self.roles - {"handler"})


def require_role(actor: Actor, *roles: str) -> None:
    if not actor.has_role(*roles):
        raise PermissionDenied(_("您没有权限执行此操作"))


def record_event(
    session: Session,
    eng,
    *,
    case_id: int,
    round_no: int,
    kind: str,
    title: str,
    actor: Actor | None,
    data: dict | None = None,
    task_name: str | None = None,
    task_id: str | None = None,
) -> CaseEvent:
    """Append one audit event (never updated or deleted afterwards); `task_id` names the task it is about, for
    the indexed look-up of a task that is gone."""
    event = CaseEvent(
        case_id=case_id,
        round_no=round_no,
        at=eng.now(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.display_name if actor else None,
        kind=kind,
        task_name=task_name,
        title=title,
        data=data,
        task_id=task_id,
    )
    session.add(event)
    return event


def units_by_code(session: Session, codes) -> dict[str, Unit]:
    codes = [c for c in codes if c]
    if not codes:
        return {}
    return {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}


def unit_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Unit.unit_id, Unit.name)).all())


def user_names(session: Session, user_ids) -> dict[int, str]:
    ids = [i for i in set(user_ids) if i]
    if not ids:
        return {}
    return dict(session.execute(select(User.user_id, User.display_name).where(User.user_id.in_(ids))).all())


# Ids are 32-bit integers: a larger number in a URL or a filter names nothing (and SQLite cannot even bind one).
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000  # an offset past any real list; a larger page number would overflow the database's OFFSET


def in_id_range(value: int) -> bool:
    return -MAX_ID <= value <= MAX_ID


def paginate(
    page: int | None, per_page: int | None, default: int = 20, maximum: int = 200
) -> tuple[int, int]:
    try:
        page = min(MAX_PAGE, max(1, int(page or 1)))
    except (TypeError, ValueError):
        page = 1
    try:
        per_page = min(maximum, max(1, int(per_page or default)))
    except (TypeError, ValueError):
        per_page = default
    return page, per_page
