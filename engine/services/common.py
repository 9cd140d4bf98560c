"""What every service shares: the acting user, audit events, small lookups."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import PermissionDenied
from engine.i18n import _
from engine.storage.append import append
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
) -> None:
    """Append one audit event (never updated or deleted afterwards; written with the transaction's others)."""
    append(
        session,
        CaseEvent.__table__,
        {
            "case_id": case_id,
            "round_no": round_no,
            "at": eng.now(),
            "actor_id": actor.user_id if actor else None,
            "actor_name": actor.display_name if actor else None,
            "kind": kind,
            "task_name": task_name,
            "title": title,
            "data": data,
        },
    )


@dataclasses.dataclass(frozen=True)
class UnitRef:
    unit_id: int
    code: str
    is_active: bool


def unit_directory(session: Session) -> dict[str, UnitRef]:
    """Every unit by code, read once per transaction: a form's unit fields and the case's units look codes up
    here instead of asking the database for each (a session lives for one service call)."""
    directory = session.info.get("unit_directory")
    if directory is None:
        rows = session.execute(select(Unit.unit_id, Unit.code, Unit.is_active))
        directory = session.info["unit_directory"] = {
            code: UnitRef(unit_id, code, bool(active)) for unit_id, code, active in rows
        }
    return directory


def unit_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Unit.unit_id, Unit.name)).all())


def user_names(session: Session, user_ids) -> dict[int, str]:
    ids = [i for i in set(user_ids) if i]
    if not ids:
        return {}
    return dict(session.execute(select(User.user_id, User.display_name).where(User.user_id.in_(ids))).all())


def paginate(
    page: int | None, per_page: int | None, default: int = 20, maximum: int = 200
) -> tuple[int, int]:
    try:
        page = max(1, int(page or 1))
    except (TypeError, ValueError):
        page = 1
    try:
        per_page = min(maximum, max(1, int(per_page or default)))
    except (TypeError, ValueError):
        per_page = default
    return page, per_page
