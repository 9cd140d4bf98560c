"""What pairing shows: "my enterprises" (a leader's or cadre's own, or their unit's) with open problems, flags and
the last visit, and the pairing figures (enterprises paired, per level, per leader or cadre, per unit).

Both read a scope of pairings first and then aggregate the cases of those enterprises in one grouped query, so a
unit with thousands of paired enterprises costs a few indexed queries, not one per enterprise.
"""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy import case as when
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.last_visits import last_visits
from engine.services.pairing import enterprise_pairing
from engine.services.pairing import own_unit_only
from engine.storage.models import Case
from engine.storage.models import CaseUnit
from engine.storage.models import Enterprise
from engine.storage.models import Pairing
from engine.storage.models import PairingLevel
from engine.storage.models import RosterPerson
from engine.storage.models import Unit
from engine.storage.models import User

SCOPES = ("mine", "unit")
OPEN_SHOWN = 5  # open problems listed per enterprise (the rest are counted)


def _open_by_enterprise(enterprise_ids):
    """enterprise_id, open problems, red and yellow flags among them — over the enterprises of a subquery."""
    return (
        select(
            Case.enterprise_id,
            func.count().label("open"),
            func.count(when((Case.flag == "red", 1))).label("red"),
            func.count(when((Case.flag == "yellow", 1))).label("yellow"),
        )
        .where(Case.status != "closed", Case.enterprise_id.in_(enterprise_ids))
        .group_by(Case.enterprise_id)
    )


def my_scopes(eng, actor: Actor) -> dict:
    """Which "my enterprises" lists the actor has: {"mine": person on the roster?, "unit": unit name or None}."""
    with eng.db.read() as session:
        person = session.scalar(select(RosterPerson.person_id).where(RosterPerson.user_id == actor.user_id))
    return {"mine": person is not None, "unit": actor.unit_name if actor.unit_id else None}


def _scope_filter(actor: Actor, scope: str):
    if scope == "mine":
        return Pairing.person_id.in_(
            select(RosterPerson.person_id).where(RosterPerson.user_id == actor.user_id)
        )
    if actor.unit_id is None:
        return Pairing.pairing_id.is_(None)  # nothing: no unit
    return Pairing.unit_id == actor.unit_id


def my_enterprises(
    eng, actor: Actor, scope: str | None = None, *, q: str = "", only_open: bool = False, page=1, per_page=20
) -> dict:
    """The enterprises paired with the actor ("mine": as a person on the roster) or with the actor's unit
    ("unit"), most pressing first (red flags, then open problems), each with how it is paired, its open problems
    (the first few, with the ones the actor may open), its flags and its last visit.

    Without `scope`: "mine" when the actor is on the roster, else "unit". :raises ValidationFailed: bad scope.
    """
    page, per_page = paginate(page, per_page)
    if scope not in (None, "", *SCOPES):
        raise ValidationFailed(_("范围应为 mine 或 unit"), {"scope": _("应为 mine 或 unit")})
    scopes = my_scopes(eng, actor)
    scope = scope or ("mine" if scopes["mine"] or not scopes["unit"] else "unit")
    text = (q or "").strip()[:50]
    with eng.db.read() as session:
        where = _scope_filter(actor, scope)
        paired = select(Pairing.enterprise_id).where(where)
        levels: dict[int, list[dict]] = {}
        for enterprise_id, name, name_en in session.execute(
            select(Pairing.enterprise_id, PairingLevel.name, PairingLevel.name_en)
            .join(PairingLevel, PairingLevel.level_id == Pairing.level_id)
            .where(where)
            .order_by(PairingLevel.sort_order, PairingLevel.level_id)
        ):
            level = {"name": name, "name_en": name_en}
            if level not in levels.setdefault(enterprise_id, []):
                levels[enterprise_id].append(level)
        names_query = select(Enterprise.enterprise_id, Enterprise.name, Enterprise.credit_code).where(
            Enterprise.enterprise_id.in_(paired)
        )
        if text:
            names_query = names_query.where(Enterprise.name.like("%" + text.replace("%", "") + "%"))
        enterprises = {i: (n, c) for i, n, c in session.execute(names_query)}
        counts = {row.enterprise_id: row for row in session.execute(_open_by_enterprise(paired))}
        order = sorted(
            enterprises,
            key=lambda i: (
                -(counts[i].red if i in counts else 0),
                -(counts[i].open if i in counts else 0),
                -(counts[i].yellow if i in counts else 0),
                enterprises[i][0],
            ),
        )
        if only_open:
            order = [i for i in order if i in counts]
        total = len(order)
        shown = order[(page - 1) * per_page : page * per_page]
        items = _enterprise_rows(session, actor, shown, enterprises, levels, counts)
        return {
            "scope": scope,
            "scopes": scopes,
            "items": items,
            "total": total,
            "paired": len(levels),
            "with_open": sum(1 for i in levels if i in counts),
            "with_red": sum(1 for i in levels if i in counts and counts[i].red),
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "q": text,
            "only_open": only_open,
        }


def _enterprise_rows(session: Session, actor: Actor, ids, enterprises, levels, counts) -> list[dict]:
    if not ids:
        return []
    open_cases: dict[int, list] = {}
    rows = session.execute(
        select(
            Case.case_id,
            Case.enterprise_id,
            Case.case_no,
            Case.title,
            Case.status,
            Case.flag,
            Case.deadline_at,
        )
        .where(Case.status != "closed", Case.enterprise_id.in_(ids))
        .order_by(Case.enterprise_id, Case.deadline_at.is_(None), Case.deadline_at, Case.case_id)
    ).all()
    visible = None
    if not actor.sees_all_cases:
        visible = set(
            session.scalars(
                select(CaseUnit.case_id).where(
                    CaseUnit.unit_id == actor.unit_id, CaseUnit.case_id.in_([r.case_id for r in rows])
                )
            )
        )
    for r in rows:
        open_cases.setdefault(r.enterprise_id, []).append(
            {
                "case_id": r.case_id,
                "case_no": r.case_no,
                "title": r.title,
                "status": r.status,
                "flag": r.flag,
                "deadline_at": r.deadline_at,
                "visible": visible is None or r.case_id in visible,
            }
        )
    visits = last_visits(session, ids)
    result = []
    for i in ids:
        c = counts.get(i)
        result.append(
            {
                "enterprise_id": i,
                "name": enterprises[i][0],
                "credit_code": enterprises[i][1],
                "levels": levels.get(i, []),
                "open": c.open if c else 0,
                "red": c.red if c else 0,
                "yellow": c.yellow if c else 0,
                "open_cases": open_cases.get(i, [])[:OPEN_SHOWN],
                "last_visit": visits.get(i),
            }
        )
    return result


# --- figures ----------------------------------------------------------------------------------------------------

BY = ("unit", "person")


def figures(eng, actor: Actor, *, by: str = "unit", level: str | None = None, page=1, per_page=50) -> dict:
    """Enterprises paired overall and per level, and per unit or per person (leaders and cadres): how many
    enterprises, how many of their problems are open and how many carry a red flag. A pure handler sees its own
    unit's pairings only. :raises ValidationFailed: unknown grouping or level."""
    if by not in BY:
        raise ValidationFailed(_("分组应为 unit 或 person"), {"by": _("应为 unit 或 person")})
    page, per_page = paginate(page, per_page, default=50)
    with eng.db.read() as session:
        scope = select(Pairing)
        only = own_unit_only(actor)
        if only is not None:
            scope = scope.where(Pairing.unit_id == only)
        level_id = None
        if level not in (None, ""):
            level_id = session.scalar(
                select(PairingLevel.level_id).where(
                    (PairingLevel.code == str(level))
                    | (
                        PairingLevel.level_id
                        == (int(level) if str(level).isdigit() and len(str(level)) < 10 else -1)
                    )
                )
            )
            if level_id is None:
                raise ValidationFailed(_("没有这个包联层级"), {"level": _("没有这个包联层级")})
            scope = scope.where(Pairing.level_id == level_id)
        scope = scope.subquery()
        enterprises_on_file = session.scalar(select(func.count()).select_from(Enterprise))
        paired = session.scalar(select(func.count(func.distinct(scope.c.enterprise_id))))
        per_level = [
            {
                "level_id": lid,
                "code": code,
                "name": name,
                "name_en": name_en,
                "kind": kind,
                "enterprises": enterprises or 0,
                "members": members or 0,
            }
            for lid, code, name, name_en, kind, enterprises, members in session.execute(
                select(
                    PairingLevel.level_id,
                    PairingLevel.code,
                    PairingLevel.name,
                    PairingLevel.name_en,
                    PairingLevel.kind,
                    func.count(func.distinct(scope.c.enterprise_id)),
                    func.count(
                        func.distinct(
                            when(
                                (PairingLevel.kind == "unit", scope.c.unit_id),
                                else_=func.coalesce(scope.c.person_id, -scope.c.pairing_id),
                            )
                        )
                    ),
                )
                .outerjoin(scope, scope.c.level_id == PairingLevel.level_id)
                .where(PairingLevel.is_active.is_(True) | (PairingLevel.level_id == level_id))
                .group_by(
                    PairingLevel.level_id,
                    PairingLevel.code,
                    PairingLevel.name,
                    PairingLevel.name_en,
                    PairingLevel.kind,
                    PairingLevel.sort_order,
                )
                .order_by(PairingLevel.sort_order, PairingLevel.level_id)
            )
        ]
        key = scope.c.unit_id if by == "unit" else scope.c.person_id
        pairs = select(key.label("key"), scope.c.enterprise_id).where(key.is_not(None)).distinct().subquery()
        opened = _open_by_enterprise(select(scope.c.enterprise_id)).subquery()
        grouped = (
            select(
                pairs.c.key,
                func.count().label("enterprises"),
                # SUM answers a numeric (Decimal) on PostgreSQL: cast back to the counts it adds up
                cast(func.coalesce(func.sum(opened.c.open), 0), Integer).label("open"),
                cast(func.coalesce(func.sum(opened.c.red), 0), Integer).label("red"),
            )
            .outerjoin(opened, opened.c.enterprise_id == pairs.c.enterprise_id)
            .group_by(pairs.c.key)
        )
        total = session.scalar(select(func.count()).select_from(grouped.subquery()))
        rows = session.execute(
            grouped.order_by(func.count().desc(), pairs.c.key).offset((page - 1) * per_page).limit(per_page)
        ).all()
        keys = [r.key for r in rows]
        names = _unit_rows(session, keys) if by == "unit" else _person_rows(session, keys)
        return {
            "by": by,
            "level": level_id,
            "enterprises": enterprises_on_file,
            "paired": paired,
            "coverage": round(100 * paired / enterprises_on_file, 1) if enterprises_on_file else 0.0,
            "per_level": per_level,
            "rows": [
                {
                    **names.get(r.key, {}),
                    "key": r.key,
                    "enterprises": r.enterprises,
                    "open": r.open,
                    "red": r.red,
                }
                for r in rows
            ],
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
        }


def _unit_rows(session: Session, ids) -> dict:
    if not ids:
        return {}
    return {
        u.unit_id: {"unit_id": u.unit_id, "name": u.name, "kind": u.kind}
        for u in session.scalars(select(Unit).where(Unit.unit_id.in_(ids)))
    }


def _person_rows(session: Session, ids) -> dict:
    if not ids:
        return {}
    levels: dict[int, list[dict]] = {}
    for person_id, name, name_en, _order in session.execute(
        select(Pairing.person_id, PairingLevel.name, PairingLevel.name_en, PairingLevel.sort_order)
        .join(PairingLevel, PairingLevel.level_id == Pairing.level_id)
        .where(Pairing.person_id.in_(ids))
        .distinct()
        .order_by(PairingLevel.sort_order)
    ):
        levels.setdefault(person_id, []).append({"name": name, "name_en": name_en})
    return {
        p.person_id: {
            "person_id": p.person_id,
            "name": p.name,
            "title": p.title,
            "unit_name": unit_name,
            "username": username,
            "levels": levels.get(p.person_id, []),
        }
        for p, unit_name, username in session.execute(
            select(RosterPerson, Unit.name, User.username)
            .outerjoin(Unit, Unit.unit_id == RosterPerson.unit_id)
            .outerjoin(User, User.user_id == RosterPerson.user_id)
            .where(RosterPerson.person_id.in_(ids))
        )
    }


def enterprise_panel(eng, actor: Actor, enterprise_id: int) -> dict:
    """What the enterprise file shows about pairing: every pairing of the enterprise and its last visit."""
    with eng.db.read() as session:
        return {
            "pairing": enterprise_pairing(session, enterprise_id),
            "last_visit": last_visits(session, [enterprise_id]).get(enterprise_id),
        }
