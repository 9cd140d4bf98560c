"""Pairing (包联 / 结对 / 挂钩): the levels the office keeps, the roster of leaders and cadres, each enterprise's
pairings, and the responsible leader a case's pairing suggests.

Who sees what: everyone but a pure handler sees every pairing; a handler sees the pairings of its own unit (those
whose unit is its unit: the unit's own, and those of the unit's people). An enterprise's full pairing is shown with
the enterprise file and its cases, to whoever may open them. Data managers (manager, dispatcher, admin) edit levels,
pairings and the roster; every change is in programme_event.
"""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.text import strip_controls
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import programme_log
from engine.services.common import Actor
from engine.services.common import in_id_range
from engine.services.common import paginate
from engine.services.common import require_role
from engine.services.enterprises import normalise_credit_code
from engine.storage.models import Enterprise
from engine.storage.models import Pairing
from engine.storage.models import PairingLevel
from engine.storage.models import RosterPerson
from engine.storage.models import Unit
from engine.storage.models import User
from engine.storage.models import UserRole

EDITORS = ("manager", "dispatcher", "admin")
# kind → (Chinese, English): what a pairing at a level of this kind names.
LEVEL_KINDS: dict[str, tuple[str, str]] = {
    "person": ("个人（领导、干部）", "A person (leader, cadre)"),
    "unit": ("单位（部门、镇街）", "A unit (department, street)"),
    "enterprise": ("企业负责人", "The enterprise's own head"),
}
LIMITS = {"name": 50, "title": 100, "phone": 30, "note": 200}
_PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,29}$")


def can_edit(actor: Actor) -> bool:
    return actor.has_role(*EDITORS)


def own_unit_only(actor: Actor) -> int | None:
    """The unit a pure handler is limited to (-1 when it has none); None for everyone who sees all pairings."""
    if actor.sees_all_cases:
        return None
    return actor.unit_id if actor.unit_id is not None else -1


def _clean(value) -> str:
    return strip_controls(str(value if value is not None else "")).strip()


# --- levels -----------------------------------------------------------------------------------------------------


def level_dict(level: PairingLevel, in_use: int = 0) -> dict:
    return {
        "level_id": level.level_id,
        "code": level.code,
        "name": level.name,
        "name_en": level.name_en,
        "kind": level.kind,
        "gives_leader": level.gives_leader,
        "sort_order": level.sort_order,
        "is_active": level.is_active,
        "pairings": in_use,
    }


def list_levels(eng, actor: Actor, *, include_inactive: bool = True) -> list[dict]:
    """The levels in their order, with how many pairings each has."""
    with eng.db.read() as session:
        counts = dict(
            session.execute(select(Pairing.level_id, func.count()).group_by(Pairing.level_id)).all()
        )
        query = select(PairingLevel).order_by(PairingLevel.sort_order, PairingLevel.level_id)
        if not include_inactive:
            query = query.where(PairingLevel.is_active.is_(True))
        return [level_dict(level, counts.get(level.level_id, 0)) for level in session.scalars(query)]


def save_level(eng, actor: Actor, data: dict, level_id: int | None = None) -> dict:
    """Add a level (level_id None) or change one. The code is fixed once made; the kind too once in use.

    :raises ValidationFailed: bad or duplicate values. :raises NotFound: no such level.
    :raises PermissionDenied: not a data manager.
    """
    require_role(actor, *EDITORS)
    with eng.db.transaction() as session:
        level = None
        if level_id is not None:
            level = session.get(PairingLevel, level_id)
            if level is None:
                raise NotFound(_("包联层级不存在"))
        clean = _check_level(session, data, level)
        before = level_dict(level) if level else None
        if level is None:
            level = PairingLevel(code=clean["code"])
            session.add(level)
        for key in ("name", "name_en", "kind", "gives_leader", "sort_order", "is_active"):
            setattr(level, key, clean[key])
        level.updated_at, level.updated_by = eng.now(), actor.user_id
        session.flush()
        after = level_dict(level)
        programme_log.record(
            session,
            eng,
            actor,
            subject="level",
            subject_id=level.level_id,
            action="created" if before is None else "updated",
            title=("新增包联层级：" if before is None else "修改包联层级：") + level.name,
            data={"before": before, "after": after},
        )
        return after


def _flag(value) -> bool:
    return value is True or str(value).lower() in ("1", "true", "on", "yes")


def _check_level(session: Session, data: dict, level: PairingLevel | None) -> dict:
    errors: dict[str, str] = {}
    unknown = set(data) - {"code", "name", "name_en", "kind", "gives_leader", "sort_order", "is_active"}
    if unknown:
        raise ValidationFailed(
            _("有不认识的字段"), {k: _("字段 %(name)s 不在包联层级中", name=k) for k in sorted(unknown)}
        )
    clean = {
        "code": _clean(data.get("code")) if level is None else level.code,
        "name": _clean(data.get("name")),
        "name_en": _clean(data.get("name_en")) or None,
        "kind": _clean(data.get("kind")) or (level.kind if level else ""),
        "gives_leader": _flag(data.get("gives_leader")),
        "is_active": _flag(data.get("is_active", True)),
    }
    if level is not None and data.get("code") not in (None, "", level.code):
        errors["code"] = _("层级代码建立后不能修改")
    elif level is None and not _CODE.match(clean["code"]):
        errors["code"] = _("代码为 2–30 位小写字母、数字或下划线，以字母开头，如 city_leader")
    elif level is None and session.scalar(
        select(PairingLevel.level_id).where(PairingLevel.code == clean["code"])
    ):
        errors["code"] = _("已有代码为 %(code)s 的层级", code=clean["code"])
    if not clean["name"]:
        errors["name"] = _("请填写层级名称")
    elif len(clean["name"]) > 50:
        errors["name"] = _("最多 %(limit)s 个字", limit=50)
    else:
        same = session.scalar(select(PairingLevel.level_id).where(PairingLevel.name == clean["name"]))
        if same is not None and (level is None or same != level.level_id):
            errors["name"] = _("已有名为“%(name)s”的层级", name=clean["name"])
    if clean["name_en"] and len(clean["name_en"]) > 100:
        errors["name_en"] = _("最多 %(limit)s 个字", limit=100)
    if clean["kind"] not in LEVEL_KINDS:
        errors["kind"] = _("请选择层级对象：个人、单位或企业负责人")
    elif level is not None and clean["kind"] != level.kind and _in_use(session, level.level_id):
        errors["kind"] = _("该层级已有包联记录，不能改变层级对象")
    if clean["gives_leader"] and clean["kind"] == "enterprise":
        errors["gives_leader"] = _("企业负责人不能作为包联领导")
    try:
        clean["sort_order"] = int(data.get("sort_order") if data.get("sort_order") not in (None, "") else 0)
        if not 0 <= clean["sort_order"] <= 9999:
            raise ValueError
    except (TypeError, ValueError):
        errors["sort_order"] = _("排序应为 0–9999 的整数")
    if errors:
        raise ValidationFailed(_("包联层级有误，请按提示修改"), errors)
    return clean


def _in_use(session: Session, level_id: int) -> bool:
    return session.scalar(select(Pairing.pairing_id).where(Pairing.level_id == level_id).limit(1)) is not None


# --- checking a pairing row (one added on a page or by the API, or one row of a roster file) ----------------------


@dataclasses.dataclass
class Lookup:
    """What rows refer to, loaded once for a whole file: levels, units, accounts, roster people, enterprises."""

    levels: dict[str, PairingLevel]  # by name and by code
    units: dict[str, Unit]  # by name and by code
    users: dict[str, tuple[int, str, int | None]]  # username → (user_id, display name, unit_id)
    enterprises: dict[str, int]  # credit code → enterprise_id
    people: dict[int, str]  # user_id → the name of that account's person on the roster

    @classmethod
    def load(cls, session: Session, *, usernames=(), credit_codes=()) -> Lookup:
        levels: dict[str, PairingLevel] = {}
        for level in session.scalars(select(PairingLevel).where(PairingLevel.is_active.is_(True))):
            levels.setdefault(level.code, level)
            levels[level.name] = level
        units: dict[str, Unit] = {}
        for unit in session.scalars(select(Unit).where(Unit.is_active.is_(True))):
            units.setdefault(unit.code, unit)
            units[unit.name] = unit
        names = sorted({u for u in usernames if u})
        users = {}
        if names:
            users = {
                username: (user_id, display, unit_id)
                for user_id, username, display, unit_id in session.execute(
                    select(User.user_id, User.username, User.display_name, User.unit_id).where(
                        User.username.in_(names), User.is_active.is_(True)
                    )
                )
            }
        people = {}
        if users:
            people = dict(
                session.execute(
                    select(RosterPerson.user_id, RosterPerson.name).where(
                        RosterPerson.user_id.in_([u[0] for u in users.values()])
                    )
                ).all()
            )
        codes = sorted({c for c in credit_codes if c})
        enterprises = {}
        if codes:
            enterprises = dict(
                session.execute(
                    select(Enterprise.credit_code, Enterprise.enterprise_id).where(
                        Enterprise.credit_code.in_(codes)
                    )
                ).all()
            )
        return cls(levels, units, users, enterprises, people)


@dataclasses.dataclass
class PairingRow:
    """A checked row: the pairing to make, the person on the roster it names (if any)."""

    enterprise_id: int
    level: PairingLevel
    unit_id: int | None
    person_name: str | None = None  # a roster person (kinds person and unit)
    person_title: str | None = None
    person_phone: str | None = None
    user_id: int | None = None
    contact: dict | None = None  # the enterprise's own head (kind enterprise)
    note: str | None = None

    def identity(self) -> tuple:
        """What makes two rows the same pairing (duplicates are refused)."""
        who = ("user", self.user_id) if self.user_id else ("name", self.person_name)
        if self.contact:
            who = ("contact", self.contact["name"])
        return (self.enterprise_id, self.level.level_id, self.unit_id, who)


# Row fields → the roster file's column headings (messages name the column the person sees).
ROW_FIELDS = ("credit_code", "level", "unit", "name", "title", "phone", "account", "note")


def check_row(
    values: dict, lookup: Lookup, enterprise_id: int | None = None
) -> tuple[PairingRow | None, dict]:
    """A row's pairing, or None and {field: message}. `values` holds text under ROW_FIELDS (credit_code is not
    needed when `enterprise_id` is given)."""
    v = {key: _clean(values.get(key)) for key in ROW_FIELDS}
    problems: dict[str, str] = {}
    for key, limit in LIMITS.items():
        if len(v[key]) > limit:
            problems[key] = _("最多 %(limit)s 个字", limit=limit)
    if enterprise_id is None:
        code = normalise_credit_code(v["credit_code"])
        enterprise_id = lookup.enterprises.get(code)
        if not code:
            problems["credit_code"] = _("必填")
        elif enterprise_id is None:
            problems["credit_code"] = _("企业档案中没有信用代码为 %(code)s 的企业，请先登记企业", code=code)
    level = lookup.levels.get(v["level"])
    if not v["level"]:
        problems["level"] = _("必填")
    elif level is None:
        problems["level"] = _("没有名为“%(name)s”的包联层级（或已停用），请从下拉列表中选择", name=v["level"])
    unit = lookup.units.get(v["unit"]) if v["unit"] else None
    if v["unit"] and unit is None:
        problems["unit"] = _("没有名为“%(name)s”的单位，请从下拉列表中选择", name=v["unit"])
    user = lookup.users.get(v["account"]) if v["account"] else None
    if v["account"] and user is None:
        problems["account"] = _("没有账号为 %(user)s 的在用用户", user=v["account"])
    known_as = lookup.people.get(user[0]) if user else None
    if known_as and v["name"] and v["name"] != known_as:
        # One account is one person: a different name is a typo or the wrong account, never a silent rename.
        problems["account"] = _(
            "账号 %(user)s 在名册中是“%(name)s”，与本行姓名不符", user=v["account"], name=known_as
        )
    if v["phone"] and not _PHONE.match(v["phone"]):
        problems["phone"] = _("电话号码格式不对")
    if level is not None:
        if level.kind == "unit" and not v["unit"]:
            problems.setdefault("unit", _("“%(level)s”须填写单位", level=level.name))
        if level.kind in ("person", "enterprise") and not v["name"] and not user:
            problems.setdefault("name", _("“%(level)s”须填写姓名", level=level.name))
        if level.kind == "enterprise" and v["unit"]:
            problems.setdefault("unit", _("“%(level)s”是企业自己的负责人，单位一栏请留空", level=level.name))
        if level.kind == "enterprise" and v["account"]:
            problems.setdefault("account", _("企业负责人不关联系统账号，请留空"))
    if problems:
        return None, problems
    row = PairingRow(enterprise_id=enterprise_id, level=level, unit_id=unit.unit_id if unit else None)
    row.note = v["note"] or None
    if level.kind == "enterprise":
        row.contact = {"name": v["name"], "title": v["title"] or None, "phone": v["phone"] or None}
        return row, {}
    if v["name"] or user:
        row.person_name = v["name"] or known_as or user[1][:50]
        row.person_title = v["title"] or None
        row.person_phone = v["phone"] or None
        if user:
            row.user_id = user[0]
            if row.unit_id is None and level.kind == "person":
                row.unit_id = user[2]  # a cadre with an account belongs to the account's unit
    return row, {}


class PersonResolver:
    """Finds or creates the roster person a row names, once per person for a whole file: by account, else by name
    within the unit. The file's title and phone update the person (the newest roster is right)."""

    def __init__(self, session: Session, eng, names):
        self.session = session
        self.now = eng.now()
        self.by_user: dict[int, RosterPerson] = {}
        self.by_key: dict[tuple, RosterPerson] = {}
        self.created = 0
        names = sorted({n for n in names if n})
        query = select(RosterPerson).where(
            or_(RosterPerson.name.in_(names), RosterPerson.user_id.is_not(None))
            if names
            else RosterPerson.user_id.is_not(None)
        )
        for person in session.scalars(query):
            self._remember(person)

    def _remember(self, person: RosterPerson) -> None:
        if person.user_id:
            self.by_user[person.user_id] = person
        key = (person.name, person.unit_id)
        if key not in self.by_key or not person.user_id:
            self.by_key[key] = person

    def person(self, row: PairingRow) -> RosterPerson:
        key = (row.person_name, row.unit_id)
        person = self.by_user.get(row.user_id) if row.user_id else None
        if person is None:
            candidate = self.by_key.get(key)
            if candidate is not None and (candidate.user_id is None or candidate.user_id == row.user_id):
                person = candidate
        if person is None:
            person = RosterPerson(name=row.person_name, unit_id=row.unit_id, created_at=self.now)
            self.session.add(person)
            self.created += 1
        person.name, person.unit_id = row.person_name, row.unit_id
        if row.user_id:
            person.user_id = row.user_id
        if row.person_title:
            person.title = row.person_title
        if row.person_phone:
            person.phone = row.person_phone
        person.updated_at = self.now
        self._remember(person)
        return person


def pairing_values(row: PairingRow, person: RosterPerson | None, eng, actor: Actor) -> dict:
    """The pairing table's columns for a checked row (a roster import inserts thousands in one statement)."""
    contact = row.contact or {}
    return {
        "enterprise_id": row.enterprise_id,
        "level_id": row.level.level_id,
        "unit_id": row.unit_id,
        "person_id": person.person_id if person else None,
        "contact_name": contact.get("name"),
        "contact_title": contact.get("title"),
        "contact_phone": contact.get("phone"),
        "note": row.note,
        "created_at": eng.now(),
        "created_by": actor.user_id,
    }


def new_pairing(row: PairingRow, person: RosterPerson | None, eng, actor: Actor) -> Pairing:
    return Pairing(**pairing_values(row, person, eng, actor))


# --- pairings -----------------------------------------------------------------------------------------------------


def _pairing_rows(session: Session, query) -> list[dict]:
    """Pairings (a select of Pairing) as plain rows with their level, unit, person and enterprise named."""
    rows = session.execute(
        query.add_columns(
            PairingLevel, Unit.name, RosterPerson, User.username, Enterprise.name, Enterprise.credit_code
        )
        .join(PairingLevel, PairingLevel.level_id == Pairing.level_id)
        .join(Enterprise, Enterprise.enterprise_id == Pairing.enterprise_id)
        .outerjoin(Unit, Unit.unit_id == Pairing.unit_id)
        .outerjoin(RosterPerson, RosterPerson.person_id == Pairing.person_id)
        .outerjoin(User, User.user_id == RosterPerson.user_id)
    ).all()
    return [
        {
            "pairing_id": p.pairing_id,
            "enterprise_id": p.enterprise_id,
            "enterprise_name": enterprise_name,
            "credit_code": credit_code,
            "level_id": level.level_id,
            "level_code": level.code,
            "level_name": level.name,
            "level_name_en": level.name_en,
            "level_kind": level.kind,
            "gives_leader": level.gives_leader,
            "unit_id": p.unit_id,
            "unit_name": unit_name,
            "person": None
            if person is None
            else {
                "person_id": person.person_id,
                "name": person.name,
                "title": person.title,
                "phone": person.phone,
                "username": username,
            },
            "contact": None
            if not p.contact_name
            else {"name": p.contact_name, "title": p.contact_title, "phone": p.contact_phone},
            "note": p.note,
            "created_at": p.created_at,
        }
        for p, level, unit_name, person, username, enterprise_name, credit_code in rows
    ]


def enterprise_pairing(session: Session, enterprise_id: int) -> list[dict]:
    """Every pairing of one enterprise, in the levels' order (the enterprise file and its cases show it)."""
    query = (
        select(Pairing)
        .where(Pairing.enterprise_id == enterprise_id)
        .order_by(PairingLevel.sort_order, PairingLevel.level_id, Pairing.pairing_id)
    )
    return _pairing_rows(session, query)


def get_enterprise_pairing(eng, actor: Actor, enterprise_id: int) -> list[dict]:
    """One enterprise's pairings. :raises NotFound: no such enterprise."""
    with eng.db.read() as session:
        if session.get(Enterprise, enterprise_id) is None:
            raise NotFound(_("企业不存在"))
        return enterprise_pairing(session, enterprise_id)


PAIRING_FILTERS = ("level", "unit", "person", "q", "enterprise_id")


def list_pairings(eng, actor: Actor, filters: dict | None = None, page=1, per_page=50) -> dict:
    """The roster of pairings (包联名册), filtered by level, unit, person, enterprise or text; a pure handler sees
    its own unit's only. :raises ValidationFailed: a filter that is not a number where one is needed."""
    page, per_page = paginate(page, per_page, default=50)
    f = {k: _clean(v) for k, v in (filters or {}).items() if k in PAIRING_FILTERS and _clean(v)}
    query = select(Pairing)
    only = own_unit_only(actor)
    if only is not None:
        query = query.where(Pairing.unit_id == only)
    for key, column in (
        ("level", Pairing.level_id),
        ("unit", Pairing.unit_id),
        ("person", Pairing.person_id),
    ):
        if key in f:
            query = query.where(column == _number(f[key], key))
    if "enterprise_id" in f:
        query = query.where(Pairing.enterprise_id == _number(f["enterprise_id"], "enterprise_id"))
    if "q" in f:
        like = "%" + f["q"][:50].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching_people = select(RosterPerson.person_id).where(RosterPerson.name.like(like, escape="\\"))
        query = query.where(
            or_(
                Pairing.enterprise_id.in_(
                    select(Enterprise.enterprise_id).where(
                        or_(
                            Enterprise.name.like(like, escape="\\"),
                            Enterprise.credit_code == normalise_credit_code(f["q"]),
                        )
                    )
                ),
                Pairing.person_id.in_(matching_people),
                Pairing.contact_name.like(like, escape="\\"),
            )
        )
    with eng.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        ordered = query.order_by(Enterprise.name, PairingLevel.sort_order, Pairing.pairing_id)
        items = _pairing_rows(session, ordered.offset((page - 1) * per_page).limit(per_page))
        return {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "filters": f,
        }


def _number(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("查询条件有误"), {field: _("应为数字")}) from None
    if not in_id_range(number):
        raise ValidationFailed(_("查询条件有误"), {field: _("编号太大")})
    return number


def add_pairing(eng, actor: Actor, enterprise_id: int, values: dict) -> dict:
    """Pair an enterprise at a level (fields as in a roster row: level, unit, name, title, phone, account, note).

    :raises ValidationFailed: bad fields, or the same pairing exists. :raises NotFound: no such enterprise.
    :raises PermissionDenied: not a data manager.
    """
    require_role(actor, *EDITORS)
    unknown = set(values) - set(ROW_FIELDS) - {"enterprise_id"}
    if unknown:
        raise ValidationFailed(
            _("有不认识的字段"), {k: _("字段 %(name)s 不在包联记录中", name=k) for k in sorted(unknown)}
        )
    with eng.db.transaction() as session:
        enterprise = session.get(Enterprise, enterprise_id) if in_id_range(enterprise_id) else None
        if enterprise is None:
            raise NotFound(_("企业不存在"))
        lookup = Lookup.load(session, usernames=[_clean(values.get("account"))])
        row, problems = check_row(values, lookup, enterprise_id=enterprise_id)
        if problems:
            raise ValidationFailed(_("包联信息有误，请按提示修改"), problems)
        existing = [
            r for r in enterprise_pairing(session, enterprise_id) if r["level_id"] == row.level.level_id
        ]
        if any(_same(r, row) for r in existing):
            raise ValidationFailed(_("这条包联已存在"), {"name": _("该企业在此层级已有这条包联")})
        person = PersonResolver(session, eng, [row.person_name]).person(row) if row.person_name else None
        session.flush()
        pairing = new_pairing(row, person, eng, actor)
        session.add(pairing)
        session.flush()
        result = next(
            r for r in enterprise_pairing(session, enterprise_id) if r["pairing_id"] == pairing.pairing_id
        )
        programme_log.record(
            session,
            eng,
            actor,
            subject="pairing",
            enterprise_id=enterprise_id,
            action="added",
            title=f"新增包联：{enterprise.name} · {row.level.name} · {describe(result)}",
            data={"pairing": _audit(result)},
        )
        return result


def _same(existing: dict, row: PairingRow) -> bool:
    if row.contact:
        return bool(existing["contact"]) and existing["contact"]["name"] == row.contact["name"]
    person = existing["person"]
    if row.person_name:
        return bool(person) and person["name"] == row.person_name and existing["unit_id"] == row.unit_id
    return person is None and existing["unit_id"] == row.unit_id


def describe(row: dict) -> str:
    """A pairing in words: 市电业局 · 张三（局长）."""
    parts = []
    if row.get("unit_name"):
        parts.append(row["unit_name"])
    who = row.get("person") or row.get("contact")
    if who:
        parts.append(who["name"] + (f"（{who['title']}）" if who.get("title") else ""))
    return " · ".join(parts)


def _audit(row: dict) -> dict:
    return {k: row[k] for k in ("pairing_id", "level_name", "unit_name", "person", "contact", "note")}


def remove_pairing(eng, actor: Actor, pairing_id: int) -> dict:
    """End one pairing. :raises NotFound: no such pairing. :raises PermissionDenied: not a data manager."""
    require_role(actor, *EDITORS)
    with eng.db.transaction() as session:
        pairing = session.get(Pairing, pairing_id)
        if pairing is None:
            raise NotFound(_("这条包联不存在或已被删除"))
        row = _pairing_rows(session, select(Pairing).where(Pairing.pairing_id == pairing_id))[0]
        session.execute(delete(Pairing).where(Pairing.pairing_id == pairing_id))
        programme_log.record(
            session,
            eng,
            actor,
            subject="pairing",
            enterprise_id=row["enterprise_id"],
            action="removed",
            title=f"删除包联：{row['enterprise_name']} · {row['level_name']} · {describe(row)}",
            data={"pairing": _audit(row)},
        )
        return row


# --- the roster of people -----------------------------------------------------------------------------------------


def list_people(eng, actor: Actor, filters: dict | None = None, page=1, per_page=50) -> dict:
    """The roster of leaders and cadres with their account (if any) and number of paired enterprises; a pure
    handler sees its own unit's people."""
    page, per_page = paginate(page, per_page, default=50)
    f = {k: _clean(v) for k, v in (filters or {}).items() if k in ("q", "unit", "account") and _clean(v)}
    counts = (
        select(Pairing.person_id, func.count(func.distinct(Pairing.enterprise_id)).label("enterprises"))
        .where(Pairing.person_id.is_not(None))
        .group_by(Pairing.person_id)
        .subquery()
    )
    query = (
        select(RosterPerson, Unit.name, User.username, User.display_name, counts.c.enterprises)
        .outerjoin(Unit, Unit.unit_id == RosterPerson.unit_id)
        .outerjoin(User, User.user_id == RosterPerson.user_id)
        .outerjoin(counts, counts.c.person_id == RosterPerson.person_id)
    )
    only = own_unit_only(actor)
    if only is not None:
        query = query.where(RosterPerson.unit_id == only)
    if "unit" in f:
        query = query.where(RosterPerson.unit_id == _number(f["unit"], "unit"))
    if f.get("account") == "yes":
        query = query.where(RosterPerson.user_id.is_not(None))
    elif f.get("account") == "no":
        query = query.where(RosterPerson.user_id.is_(None))
    if "q" in f:
        query = query.where(RosterPerson.name.like("%" + f["q"][:50].replace("%", "") + "%"))
    with eng.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(
            query.order_by(RosterPerson.name, RosterPerson.person_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        items = [
            {
                "person_id": p.person_id,
                "name": p.name,
                "unit_id": p.unit_id,
                "unit_name": unit_name,
                "title": p.title,
                "phone": p.phone,
                "username": username,
                "account_name": display,
                "enterprises": enterprises or 0,
            }
            for p, unit_name, username, display, enterprises in rows
        ]
        return {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "filters": f,
        }


def link_account(eng, actor: Actor, person_id: int, username: str | None) -> dict:
    """Link a roster person to a user account (or unlink with an empty username): from then on their pairings are
    that user's "my enterprises". :raises ValidationFailed: unknown account, or one linked to someone else.
    :raises NotFound: no such person. :raises PermissionDenied: not a data manager."""
    require_role(actor, *EDITORS)
    username = _clean(username)
    with eng.db.transaction() as session:
        person = session.get(RosterPerson, person_id)
        if person is None:
            raise NotFound(_("名册中没有这个人"))
        before = person.user_id
        user = None
        if username:
            user = session.scalars(
                select(User).where(User.username == username, User.is_active.is_(True))
            ).first()
            if user is None:
                raise ValidationFailed(
                    _("账号有误"), {"account": _("没有账号为 %(user)s 的在用用户", user=username)}
                )
            other = session.scalars(
                select(RosterPerson).where(
                    RosterPerson.user_id == user.user_id, RosterPerson.person_id != person_id
                )
            ).first()
            if other is not None:
                raise ValidationFailed(
                    _("账号有误"),
                    {"account": _("账号 %(user)s 已关联名册中的“%(name)s”", user=username, name=other.name)},
                )
        person.user_id = user.user_id if user else None
        person.updated_at = eng.now()
        programme_log.record(
            session,
            eng,
            actor,
            subject="person",
            subject_id=person_id,
            action="linked" if user else "unlinked",
            title=(
                f"名册人员“{person.name}”关联账号 {username}"
                if user
                else f"名册人员“{person.name}”取消关联账号"
            ),
            data={"before": before, "after": person.user_id},
        )
        return {"person_id": person_id, "name": person.name, "username": user.username if user else None}


# --- the responsible leader a case's pairing suggests -------------------------------------------------------------


def suggested_leader(session: Session, enterprise_id: int) -> str | None:
    """The username of the enterprise's responsible leader by its pairing: the person of the first level (by the
    office's order) that gives the leader, whose active account has the leader role; None when there is none."""
    return session.scalar(
        select(User.username)
        .select_from(Pairing)
        .join(PairingLevel, PairingLevel.level_id == Pairing.level_id)
        .join(RosterPerson, RosterPerson.person_id == Pairing.person_id)
        .join(User, User.user_id == RosterPerson.user_id)
        .join(UserRole, UserRole.user_id == User.user_id)
        .where(
            Pairing.enterprise_id == enterprise_id,
            PairingLevel.gives_leader.is_(True),
            PairingLevel.is_active.is_(True),
            User.is_active.is_(True),
            UserRole.role == "leader",
        )
        .order_by(PairingLevel.sort_order, PairingLevel.level_id, Pairing.pairing_id)
        .limit(1)
    )


def case_defaults(session: Session, enterprise_id: int) -> dict:
    """Values a case's task forms may default from its enterprise's pairing: {"responsible_leader": username}."""
    leader = suggested_leader(session, enterprise_id)
    return {"responsible_leader": leader} if leader else {}
