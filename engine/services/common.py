"""What every service shares: the acting user, audit events, small lookups."""

from __future__ import annotations

import dataclasses
import math
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
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
    task_id: str | None = None,
) -> None:
    """Append one audit event (never updated or deleted afterwards; written with the transaction's others);
    `task_id` names the task it is about, for the indexed look-up of a task that is gone."""
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
            "task_id": task_id,
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


# Record ids are `integer` columns, 32 bits on PostgreSQL (SQLite takes 64): a larger number names no row, and a
# driver asked to compare a column with it fails instead of finding nothing (psycopg: out of range; sqlite3:
# OverflowError from 2^63). So an id that comes from outside is checked against this before it reaches a query.
MAX_ID = 2**31 - 1
# No list is that long, and a larger page would push OFFSET ((page - 1) * per_page) past 64 bits.
MAX_PAGE = MAX_ID
MAX_PER_PAGE = 200

_WHOLE_NUMBER = re.compile(r"\s*([+-]?)0*([0-9]+)\s*")


def in_id_range(value: int) -> bool:
    return -MAX_ID <= value <= MAX_ID


def whole_number(value) -> int | None:
    """A whole number as a request gives it (an int, an integral float from JSON, or ASCII digits from a query
    string or a form), else None. Digits too many to be any id or page come back as a number just as far out of
    range (MAX_ID squared, signed), without converting thousands of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if not isinstance(value, str):
        return None
    match = _WHOLE_NUMBER.fullmatch(value)
    if match is None:
        return None
    sign, digits = match.groups()
    number = int(digits) if len(digits) <= 30 else MAX_ID**2
    return -number if sign == "-" else number


def parse_id(value) -> int | None:
    """A record id from outside (a path, a query string, a form or JSON) as an int, or None when it cannot name
    a row: not a whole number, below 1, or beyond MAX_ID."""
    number = whole_number(value)
    return number if number is not None and 1 <= number <= MAX_ID else None


def paginate(page, per_page, default: int = 20, maximum: int = MAX_PER_PAGE) -> tuple[int, int]:
    """(page, per_page) from a request: a missing, malformed or non-positive page is the first one, and per_page
    is kept within 1..maximum (default when missing or malformed).

    :raises ValidationFailed: a page number beyond MAX_PAGE.
    """
    number = whole_number(page)
    if number is not None and number > MAX_PAGE:
        raise ValidationFailed(
            _("页码超出范围"), {"page": _("页码应为 1 到 %(maximum)s 之间的整数", maximum=MAX_PAGE)}
        )
    size = whole_number(per_page)
    return max(1, number or 1), (min(maximum, max(1, size)) if size else default)
