"""Enterprises (企业) and the enterprise file (一企一档): create and change them, their classes (area, size class,
sector, tags and pools), contacts and key figures per year, search with filters and groups, and the file with
every case the reader may see. Every change to a file is kept (enterprise_change: who, when, before → after)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from decimal import InvalidOperation

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from engine.domain.clock import LOCAL_TZ
from engine.domain.text import strip_controls
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import SECTORS
from engine.domain.vocabulary import SIZE_CLASSES
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.case_list import search_cases
from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.common import require_role
from engine.services.enterprise_catalog import area_names
from engine.services.enterprise_catalog import find_area
from engine.services.enterprise_catalog import find_tag
from engine.services.enterprise_catalog import tag_rows
from engine.services.enterprise_catalog import unique_or_conflict
from engine.storage.models import Area
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseChange
from engine.storage.models import EnterpriseContact
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag
from engine.storage.models import EnterpriseYear

_PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")
ENTERPRISE_FIELDS = (
    "name",
    "credit_code",
    "field",
    "address",
    "contact_name",
    "contact_phone",
    "area",
    "size_class",
    "sector",
)
_LIMITS = {"name": 200, "address": 200, "contact_name": 50, "contact_phone": 30}
CREATORS = ("registrar", "dispatcher", "manager", "admin")
EDITORS = ("registrar", "dispatcher", "manager", "admin")  # details, contacts, key figures
POOL_EDITORS = (
    "dispatcher",
    "manager",
    "admin",
)  # putting an enterprise in a pool or tagging it is the office's call
SEARCH_FILTERS = ("area", "size", "sector", "field", "tag", "pool")
GROUPS = ("area", "size", "sector", "field", "pool", "tag")
NONE = "none"  # a filter value: enterprises without an area (size class, sector, field)
SOURCES = ("page", "api", "file")
CONTACT_FIELDS = ("name", "position", "phone", "note")
MAX_CONTACTS = 10
MAX_TAGS = 30  # current pools and tags of one enterprise (figure facts keep them in 200 characters)
YEAR_FIELDS = ("output_value", "revenue", "employees")
FIRST_YEAR = 1978
MAX_AMOUNT = Decimal("999999999999.99")  # 万元: what numeric(14, 2) holds
MAX_EMPLOYEES = 10_000_000
MAX_BATCH, MAX_NOTE = 50, 200


def normalise_credit_code(value: str) -> str:
    return re.sub(r"[\s-]", "", str(value or "")).upper()


def normalise_sector(value) -> str:
    """A sector as the section letter, from "C", "c", "C 制造业" or "制造业"; "" when not recognised."""
    text = str(value or "").strip()
    if not text:
        return ""
    head = text[0].upper()
    if head in SECTORS and (len(text) == 1 or not text[1].isascii() or text[1] in " .、:："):
        return head
    for code, (zh, en) in SECTORS.items():
        if text in (zh, en):
            return code
    return ""


# ---------------------------------------------------------------------------------------------------------
# Checking input


def _check_fields(data: dict, *, prefix: str = "", partial: bool = False) -> tuple[dict, dict]:
    """(clean values, errors) of the enterprise fields in `data`; `partial`: only those given are checked."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("企业信息应为对象"))
    unknown = set(data) - set(ENTERPRISE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("有不认识的字段"),
            {prefix + str(k)[:50]: _("字段 %(name)s 不在企业信息中", name=str(k)[:50]) for k in unknown},
        )
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key in ENTERPRISE_FIELDS:
        if partial and key not in data:
            continue
        value = data.get(key)
        if isinstance(value, (dict, list, bool)):
            errors[key] = _("应为文字")
            value = None
        clean[key] = strip_controls(str(value)).strip() if value is not None else ""
    if "name" in clean and not clean["name"]:
        errors["name"] = _("请填写企业名称")
    for key, limit in _LIMITS.items():
        if len(clean.get(key, "")) > limit:
            errors[key] = _("最多 %(limit)s 个字", limit=limit)
    if "credit_code" in clean:
        code = normalise_credit_code(clean["credit_code"])
        if not code:
            errors["credit_code"] = _("请填写统一社会信用代码（18 位）")
        elif len(code) != 18:
            errors["credit_code"] = _(
                "统一社会信用代码应为 18 位，现在是 %(length)s 位", length=min(len(code), 999)
            )
        elif not uscc.is_valid(code):
            errors["credit_code"] = _("统一社会信用代码校验不通过，请核对（注意不含 I、O、Z、S、V）")
        clean["credit_code"] = code
    if clean.get("field") and clean["field"] not in FIELDS:
        errors["field"] = _("领域应为：%(fields)s", fields="、".join(FIELDS))
    if clean.get("size_class") and clean["size_class"] not in SIZE_CLASSES:
        errors["size_class"] = _("企业规模应为：%(values)s", values="、".join(SIZE_CLASSES))
    if clean.get("sector"):
        sector = normalise_sector(clean["sector"])
        if not sector:
            errors["sector"] = _("行业应为国民经济行业分类的门类字母 A–T（如 C 制造业）")
        clean["sector"] = sector
    if clean.get("contact_phone") and not _PHONE.match(clean["contact_phone"]):
        errors["contact_phone"] = _("电话号码格式不对")
    if len(clean.get("area", "")) > 100:
        errors["area"] = _("没有这个乡镇街道")
    return {k: (v or None) for k, v in clean.items()}, {prefix + k: v for k, v in errors.items()}


def validate_enterprise(data: dict, *, prefix: str = "") -> dict:
    """Check an enterprise's fields (all of them; the area is looked up when saving); returns the cleaned values.

    :raises ValidationFailed: with one message per bad field (keys prefixed with `prefix`).
    """
    clean, errors = _check_fields(data, prefix=prefix)
    if errors:
        raise ValidationFailed(_("企业信息有误，请按提示修改"), errors)
    return clean


def _resolve_area(session: Session, clean: dict, errors: dict, prefix: str, current: int | None) -> None:
    """Replace clean["area"] (id, code or name) by clean["area_id"]; an area switched off is kept, not given."""
    if "area" not in clean:
        return
    value = clean.pop("area")
    if value is None:
        clean["area_id"] = None
        return
    area = find_area(session, value)
    if area is None:
        errors[prefix + "area"] = _("没有这个乡镇街道：%(name)s", name=str(value)[:100])
    elif not area.is_active and area.area_id != current:
        errors[prefix + "area"] = _("“%(name)s”已停用，请选择其他乡镇街道", name=area.name)
    else:
        clean["area_id"] = area.area_id


def _taken(session: Session, code: str, own_id: int | None) -> Enterprise | None:
    query = select(Enterprise).where(Enterprise.credit_code == code)
    if own_id is not None:
        query = query.where(Enterprise.enterprise_id != own_id)
    return session.scalars(query).first()


# ---------------------------------------------------------------------------------------------------------
# Creating and changing (inside a transaction)


def enterprise_by_credit_code(session: Session, credit_code) -> Enterprise | None:
    """The enterprise on file under this (normalised) unified social credit code, if any."""
    if not credit_code:
        return None
    return session.scalars(select(Enterprise).where(Enterprise.credit_code == str(credit_code))).first()


def add_enterprise(
    session: Session, eng, actor: Actor, data: dict, *, prefix: str = "", source: str = "page"
) -> Enterprise:
    """Insert a validated enterprise inside the caller's transaction (used by registration and imports too)."""
    clean, errors = _check_fields(data, prefix=prefix)
    _resolve_area(session, clean, errors, prefix, None)
    if errors:
        raise ValidationFailed(_("企业信息有误，请按提示修改"), errors)
    existing = _taken(session, clean["credit_code"], None)
    if existing is not None:
        raise ValidationFailed(
            _("该信用代码的企业已存在"),
            {
                prefix + "credit_code": _(
                    "已有企业“%(name)s”使用此信用代码，请直接选择该企业", name=existing.name
                )
            },
            enterprise_id=existing.enterprise_id,
        )
    enterprise = Enterprise(**clean, created_at=eng.now(), created_by=actor.user_id)
    session.add(enterprise)
    session.flush()
    after = _values(session, enterprise)
    _record(
        session,
        eng,
        actor,
        enterprise.enterprise_id,
        "created",
        source,
        f"建档：{enterprise.name}",
        None,
        {k: v for k, v in after.items() if v},
    )
    return enterprise


def change_enterprise(
    session: Session, eng, actor: Actor, enterprise: Enterprise, data: dict, *, source: str, prefix: str = ""
) -> dict:
    """Apply the given fields to an enterprise inside the caller's transaction; returns what changed
    ({field: (before, after)}, empty when nothing did) and records it. :raises ValidationFailed: a bad field."""
    clean, errors = _check_fields(data, prefix=prefix, partial=True)
    _resolve_area(session, clean, errors, prefix, enterprise.area_id)
    if "credit_code" in clean and not errors:
        other = _taken(session, clean["credit_code"], enterprise.enterprise_id)
        if other is not None:
            errors[prefix + "credit_code"] = _("已有企业“%(name)s”使用此信用代码", name=other.name)
    if errors:
        raise ValidationFailed(_("企业信息有误，请按提示修改"), errors)
    before = _values(session, enterprise)
    for key, value in clean.items():
        setattr(enterprise, key, value)
    session.flush()
    after = _values(session, enterprise)
    changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
    if changed:
        enterprise.updated_at = eng.now()
        summary = "修改：" + "；".join(
            f"{_LABELS[k]} {v[0] or '（空）'} → {v[1] or '（空）'}" for k, v in changed.items()
        )
        _record(
            session,
            eng,
            actor,
            enterprise.enterprise_id,
            "updated",
            source,
            summary,
            {k: v[0] for k, v in changed.items()},
            {k: v[1] for k, v in changed.items()},
        )
    return changed


_LABELS = {
    "name": "企业名称",
    "credit_code": "统一社会信用代码",
    "field": "所属领域",
    "address": "地址",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "area": "乡镇街道",
    "size_class": "企业规模",
    "sector": "行业",
}


def _values(session: Session, enterprise: Enterprise) -> dict:
    """The fields as the change record shows them (the area by name, the sector as 'C 制造业')."""
    area = session.get(Area, enterprise.area_id) if enterprise.area_id else None
    shown = {
        "area": area.name if area else None,
        "sector": f"{enterprise.sector} {SECTORS[enterprise.sector][0]}"
        if enterprise.sector in SECTORS
        else None,
    }
    return {k: shown[k] if k in shown else getattr(enterprise, k) for k in ENTERPRISE_FIELDS}


def _record(
    session,
    eng,
    actor: Actor | None,
    enterprise_id: int,
    action: str,
    source: str,
    summary: str,
    before: dict | None,
    after: dict | None,
) -> None:
    """Append one change to an enterprise's record (never updated afterwards)."""
    session.add(
        EnterpriseChange(
            enterprise_id=enterprise_id,
            at=eng.now(),
            actor_id=actor.user_id if actor else None,
            actor_name=actor.display_name if actor else None,
            action=action,
            source=source if source in SOURCES else "page",
            summary=summary[:500],
            before=before,
            after=after,
        )
    )


def _contacts(raw, errors: dict) -> list[dict]:
    """Checked further contacts: blank rows dropped; :raises nothing (problems go into `errors`)."""
    if not isinstance(raw, list):
        errors["contacts"] = _("联系人应为列表")
        return []
    result = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - set(CONTACT_FIELDS):
            errors[f"contacts.{index}"] = _(
                "联系人应为对象，字段为 %(fields)s", fields="、".join(CONTACT_FIELDS)
            )
            continue
        values = {
            k: strip_controls(str(item.get(k))).strip() if item.get(k) is not None else ""
            for k in CONTACT_FIELDS
        }
        if not any(values.values()):
            continue
        if not values["name"]:
            errors[f"contacts.{index}.name"] = _("请填写联系人姓名")
        for key, limit in (("name", 50), ("position", 50), ("note", MAX_NOTE)):
            if len(values[key]) > limit:
                errors[f"contacts.{index}.{key}"] = _("最多 %(limit)s 个字", limit=limit)
        if values["phone"] and not _PHONE.match(values["phone"]):
            errors[f"contacts.{index}.phone"] = _("电话号码格式不对")
        result.append({k: v or None for k, v in values.items()})
    if len(result) > MAX_CONTACTS:
        errors["contacts"] = _("最多 %(limit)s 位联系人", limit=MAX_CONTACTS)
    return result


def _replace_contacts(
    session: Session, eng, actor, enterprise_id: int, contacts: list[dict], source: str
) -> bool:
    rows = session.scalars(
        select(EnterpriseContact)
        .where(EnterpriseContact.enterprise_id == enterprise_id)
        .order_by(EnterpriseContact.sort_order, EnterpriseContact.contact_id)
    ).all()
    before = [{k: getattr(r, k) for k in CONTACT_FIELDS} for r in rows]
    if before == contacts:
        return False
    for row in rows:
        session.delete(row)
    for index, values in enumerate(contacts):
        session.add(EnterpriseContact(enterprise_id=enterprise_id, sort_order=index, **values))
    names = "、".join(c["name"] for c in contacts) or "（无）"
    _record(
        session,
        eng,
        actor,
        enterprise_id,
        "contacts",
        source,
        f"联系人改为：{names}",
        {"contacts": before},
        {"contacts": contacts},
    )
    return True


# ---------------------------------------------------------------------------------------------------------
# Service calls: one transaction each


def create_enterprise(eng, actor: Actor, data: dict, source: str = "page") -> dict:
    """A new enterprise file. :raises ValidationFailed: a bad field, or the credit code is on file already."""
    require_role(actor, *CREATORS)
    with unique_or_conflict(), eng.db.transaction() as session:
        enterprise = add_enterprise(session, eng, actor, data, source=source)
        return _summaries(session, [enterprise])[0]


def update_enterprise(
    eng, actor: Actor, enterprise_id: int, data: dict, contacts: list | None = None, source: str = "page"
) -> dict:
    """Change the given fields of an enterprise and (when given) replace its further contacts.

    Returns the enterprise and `changed` (the fields that changed, plus "contacts").
    :raises NotFound: no such enterprise. :raises ValidationFailed: a bad field or contact (named); nothing saved.
    """
    require_role(actor, *EDITORS)
    with unique_or_conflict(), eng.db.transaction() as session:
        enterprise = _enterprise(session, enterprise_id)
        errors: dict[str, str] = {}
        checked = _contacts(contacts, errors) if contacts is not None else None
        try:
            changed = change_enterprise(session, eng, actor, enterprise, data, source=source)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, {**exc.errors, **errors}) from None
        if errors:
            raise ValidationFailed(_("联系人有误，请按提示修改"), errors)
        names = list(changed)
        if checked is not None and _replace_contacts(session, eng, actor, enterprise_id, checked, source):
            names.append("contacts")
        return _summaries(session, [enterprise])[0] | {"changed": names}


def _enterprise(session: Session, enterprise_id) -> Enterprise:
    enterprise = session.get(Enterprise, enterprise_id) if _small_int(enterprise_id) else None
    if enterprise is None:
        raise NotFound(_("企业不存在"))
    return enterprise


def _small_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _parse_day(value, field: str, errors: dict) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        day = dt.date.fromisoformat(str(value).strip()[:10].replace("/", "-"))
    except ValueError:
        errors[field] = _("日期格式应为 YYYY-MM-DD")
        return None
    if not 1949 <= day.year <= 2100:
        errors[field] = _("日期格式应为 YYYY-MM-DD")
        return None
    return day


def add_membership(
    session: Session,
    eng,
    actor: Actor,
    enterprise: Enterprise,
    tag: EnterpriseTag,
    *,
    batch=None,
    since=None,
    note=None,
    source: str = "page",
    prefix: str = "",
) -> bool:
    """Put an enterprise in a pool or give it a tag inside the caller's transaction; an enterprise already in it
    gets the batch, date and note given. Returns whether anything changed. :raises ValidationFailed: bad values."""
    errors: dict[str, str] = {}
    if not tag.is_active:
        errors[prefix + "tag"] = _("“%(name)s”已停用", name=tag.name)
    batch_text = strip_controls(str(batch)).strip() if batch not in (None, "") else ""
    note_text = strip_controls(str(note)).strip() if note not in (None, "") else ""
    if isinstance(batch, (dict, list, bool)) or len(batch_text) > MAX_BATCH:
        errors[prefix + "batch"] = _("批次最多 %(limit)s 个字", limit=MAX_BATCH)
    if isinstance(note, (dict, list, bool)) or len(note_text) > MAX_NOTE:
        errors[prefix + "note"] = _("备注最多 %(limit)s 个字", limit=MAX_NOTE)
    if tag.with_batch and not batch_text:
        errors[prefix + "batch"] = _("“%(name)s”分批次：请填写批次，如“第一批”", name=tag.name)
    if not tag.with_batch and batch_text:
        errors[prefix + "batch"] = _("“%(name)s”不分批次，请不要填写批次", name=tag.name)
    day = _parse_day(since, prefix + "since", errors)
    if day is not None and day > enterprise_today(eng):
        errors[prefix + "since"] = _("日期不能晚于今天")
    if tag.with_date and day is None and prefix + "since" not in errors:
        day = enterprise_today(eng)
    if not tag.with_date and day is not None:
        errors[prefix + "since"] = _("“%(name)s”不记日期，请不要填写日期", name=tag.name)
    current = session.scalars(
        select(EnterpriseMembership).where(
            EnterpriseMembership.enterprise_id == enterprise.enterprise_id,
            EnterpriseMembership.removed_at.is_(None),
        )
    ).all()
    mine = next((m for m in current if m.tag_id == tag.tag_id), None)
    if mine is None and len(current) >= MAX_TAGS:
        errors[prefix + "tag"] = _("一家企业最多同时属于 %(limit)s 个企业库和标签", limit=MAX_TAGS)
    if errors:
        raise ValidationFailed(_("加入企业库或标签的信息有误"), errors)
    values = {"batch": batch_text or None, "since": day, "note": note_text or None}
    what = "企业库" if tag.kind == "pool" else "标签"
    if mine is None:
        session.add(
            EnterpriseMembership(
                enterprise_id=enterprise.enterprise_id,
                tag_id=tag.tag_id,
                added_at=eng.now(),
                added_by=actor.user_id,
                **values,
            )
        )
        shown = _membership_text(tag.name, values["batch"], values["since"])
        _record(
            session,
            eng,
            actor,
            enterprise.enterprise_id,
            "joined",
            source,
            f"加入{what}：{shown}",
            None,
            _jsonable(values | {"tag": tag.name}),
        )
        session.flush()
        return True
    old = {"batch": mine.batch, "since": mine.since, "note": mine.note}
    if old == values:
        return False
    mine.batch, mine.since, mine.note = values["batch"], values["since"], values["note"]
    _record(
        session,
        eng,
        actor,
        enterprise.enterprise_id,
        "joined",
        source,
        f"修改{what}“{tag.name}”：{_membership_text('', old['batch'], old['since']) or '—'} → "
        f"{_membership_text('', values['batch'], values['since']) or '—'}",
        _jsonable(old | {"tag": tag.name}),
        _jsonable(values | {"tag": tag.name}),
    )
    return True


def _membership_text(name: str, batch, since) -> str:
    details = "，".join(x for x in (batch, since.isoformat() if since else None) if x)
    return f"{name}（{details}）" if details and name else details or name


def _jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def enterprise_today(eng) -> dt.date:
    return eng.now().astimezone(LOCAL_TZ).date()


def join_tag(
    eng, actor: Actor, enterprise_id: int, tag, batch=None, since=None, note=None, source: str = "page"
) -> dict:
    """Put an enterprise in a pool or give it a tag (or change its batch, date, note there).

    :raises NotFound: no such enterprise or tag. :raises ValidationFailed: a bad value (named).
    """
    require_role(actor, *POOL_EDITORS)
    with unique_or_conflict(), eng.db.transaction() as session:
        enterprise = _enterprise(session, enterprise_id)
        found = find_tag(session, tag)
        if found is None:
            raise ValidationFailed(_("没有这个企业库或标签"), {"tag": _("没有这个企业库或标签")})
        changed = add_membership(
            session, eng, actor, enterprise, found, batch=batch, since=since, note=note, source=source
        )
        if changed:
            enterprise.updated_at = eng.now()
        return {
            "changed": changed,
            "tags": _current_tags(session, [enterprise.enterprise_id]).get(enterprise_id, []),
        }


def leave_tag(eng, actor: Actor, enterprise_id: int, tag, source: str = "page") -> dict:
    """Take an enterprise out of a pool or tag (kept on its record with the day it left).

    :raises NotFound: no such enterprise, or it is not in that pool or tag.
    """
    require_role(actor, *POOL_EDITORS)
    with eng.db.transaction() as session:
        enterprise = _enterprise(session, enterprise_id)
        found = find_tag(session, tag)
        membership = None
        if found is not None:
            membership = session.scalars(
                select(EnterpriseMembership).where(
                    EnterpriseMembership.enterprise_id == enterprise_id,
                    EnterpriseMembership.tag_id == found.tag_id,
                    EnterpriseMembership.removed_at.is_(None),
                )
            ).first()
        if membership is None:
            raise NotFound(_("该企业不在这个企业库或标签中"))
        membership.removed_at, membership.removed_by = eng.now(), actor.user_id
        what = "企业库" if found.kind == "pool" else "标签"
        _record(
            session,
            eng,
            actor,
            enterprise_id,
            "left",
            source,
            f"移出{what}：{_membership_text(found.name, membership.batch, membership.since)}",
            _jsonable({"tag": found.name, "batch": membership.batch, "since": membership.since}),
            None,
        )
        enterprise.updated_at = eng.now()
        return {"tags": _current_tags(session, [enterprise_id]).get(enterprise_id, [])}


def check_year_values(values: dict, errors: dict, prefix: str = "") -> dict:
    """Output value and revenue (万元, two decimals), employees (a whole number): each optional, at least one."""
    if not isinstance(values, dict):
        errors[prefix or "values"] = _("应为对象")
        return {}
    unknown = set(values) - set(YEAR_FIELDS)
    for key in unknown:
        errors[prefix + str(key)[:50]] = _("可用字段：%(fields)s", fields="、".join(YEAR_FIELDS))
    clean: dict = {}
    for key in ("output_value", "revenue"):
        raw = values.get(key)
        if raw in (None, ""):
            clean[key] = None
            continue
        try:
            if isinstance(raw, bool):
                raise InvalidOperation
            amount = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            errors[prefix + key] = _("应为数字（万元）")
            continue
        if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            errors[prefix + key] = _("应在 0 到 999,999,999,999.99 万元之间")
        elif amount != amount.quantize(Decimal("0.01")):
            errors[prefix + key] = _("最多两位小数")
        else:
            clean[key] = amount.quantize(Decimal("0.01"))
    raw = values.get("employees")
    if raw in (None, ""):
        clean["employees"] = None
    else:
        try:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            number = int(float(raw)) if isinstance(raw, float) else int(str(raw).strip().replace(",", ""))
        except (ValueError, OverflowError):
            errors[prefix + "employees"] = _("从业人数应为整数")
        else:
            if not 0 <= number <= MAX_EMPLOYEES:
                errors[prefix + "employees"] = _("从业人数应在 0 到 10,000,000 之间")
            else:
                clean["employees"] = number
    if not errors and all(clean.get(k) is None for k in YEAR_FIELDS):
        errors[prefix + "output_value"] = _("请至少填写产值、营业收入或从业人数中的一项")
    return clean


def check_year(eng, year, errors: dict, field: str = "year") -> int | None:
    try:
        number = int(str(year).strip()) if not isinstance(year, bool) else None
    except ValueError:
        number = None
    latest = enterprise_today(eng).year
    if number is None or not FIRST_YEAR <= number <= latest:
        errors[field] = _("年份应在 %(first)s 到 %(last)s 之间", first=FIRST_YEAR, last=latest)
        return None
    return number


def save_year(
    session: Session, eng, actor: Actor, enterprise: Enterprise, year: int, clean: dict, source: str
) -> bool:
    """Store one year's key figures (replacing that year's) inside the caller's transaction; records the change."""
    row = session.get(EnterpriseYear, (enterprise.enterprise_id, year))
    before = {k: getattr(row, k) for k in YEAR_FIELDS} if row else None
    if before == clean:
        return False
    if row is None:
        row = EnterpriseYear(enterprise_id=enterprise.enterprise_id, year=year)
        session.add(row)
    for key in YEAR_FIELDS:
        setattr(row, key, clean[key])
    row.updated_at, row.updated_by = eng.now(), actor.user_id
    shown = "，".join(f"{_YEAR_LABELS[k]} {_plain(v)}" for k, v in clean.items() if v is not None)
    _record(
        session,
        eng,
        actor,
        enterprise.enterprise_id,
        "figures",
        source,
        f"{year}年度数据：{shown}",
        _plain_dict(before),
        _plain_dict(clean),
    )
    return True


_YEAR_LABELS = {"output_value": "产值（万元）", "revenue": "营业收入（万元）", "employees": "从业人数"}


def _plain(value):
    return format(value, "f") if isinstance(value, Decimal) else value


def _plain_dict(values: dict | None) -> dict | None:
    return None if values is None else {k: _plain(v) for k, v in values.items()}


def set_year(eng, actor: Actor, enterprise_id: int, year, values: dict, source: str = "page") -> dict:
    """Enter or replace an enterprise's key figures for a year.

    :raises NotFound: no such enterprise. :raises ValidationFailed: a year outside 1978…this year, or bad numbers.
    """
    require_role(actor, *EDITORS)
    errors: dict[str, str] = {}
    number = check_year(eng, year, errors)
    clean = check_year_values(values, errors)
    if errors:
        raise ValidationFailed(_("年度数据有误，请按提示修改"), errors)
    with unique_or_conflict(), eng.db.transaction() as session:
        enterprise = _enterprise(session, enterprise_id)
        changed = save_year(session, eng, actor, enterprise, number, clean, source)
        return {"year": number, "changed": changed, **{k: _number(v) for k, v in clean.items()}}


def delete_year(eng, actor: Actor, enterprise_id: int, year: int, source: str = "page") -> None:
    """:raises NotFound: no such enterprise, or no figures for that year."""
    require_role(actor, *EDITORS)
    with eng.db.transaction() as session:
        _enterprise(session, enterprise_id)
        row = session.get(EnterpriseYear, (enterprise_id, year)) if _small_int(year) else None
        if row is None:
            raise NotFound(_("没有该年度的数据"))
        before = {k: getattr(row, k) for k in YEAR_FIELDS}
        session.delete(row)
        _record(
            session,
            eng,
            actor,
            enterprise_id,
            "figures",
            source,
            f"删除{year}年度数据",
            _plain_dict(before),
            None,
        )


def _number(value):
    """Amounts as numbers in plain data (JSON has no decimals): 万元 with two decimals fit a float exactly enough."""
    return float(value) if isinstance(value, Decimal) else value


# ---------------------------------------------------------------------------------------------------------
# Reading


def _current_tags(session: Session, enterprise_ids: list[int]) -> dict[int, list[dict]]:
    if not enterprise_ids:
        return {}
    rows = session.execute(
        select(EnterpriseMembership, EnterpriseTag)
        .join(EnterpriseTag, EnterpriseTag.tag_id == EnterpriseMembership.tag_id)
        .where(
            EnterpriseMembership.enterprise_id.in_(enterprise_ids), EnterpriseMembership.removed_at.is_(None)
        )
        .order_by(EnterpriseTag.kind, EnterpriseTag.sort_order, EnterpriseTag.tag_id)
    )
    result: dict[int, list[dict]] = {}
    for membership, tag in rows:
        result.setdefault(membership.enterprise_id, []).append(
            {
                "tag_id": tag.tag_id,
                "code": tag.code,
                "name": tag.name,
                "kind": tag.kind,
                "batch": membership.batch,
                "since": membership.since,
                "note": membership.note,
            }
        )
    return result


def _summaries(session: Session, enterprises: list[Enterprise]) -> list[dict]:
    areas = area_names(session)
    tags = _current_tags(session, [e.enterprise_id for e in enterprises])
    return [enterprise_dict(e, areas, tags.get(e.enterprise_id, [])) for e in enterprises]


def enterprise_dict(
    e: Enterprise, areas: dict[int, str] | None = None, tags: list[dict] | None = None
) -> dict:
    return {
        "enterprise_id": e.enterprise_id,
        "name": e.name,
        "credit_code": e.credit_code,
        "field": e.field,
        "address": e.address,
        "contact_name": e.contact_name,
        "contact_phone": e.contact_phone,
        "area_id": e.area_id,
        "area": (areas or {}).get(e.area_id),
        "size_class": e.size_class,
        "sector": e.sector,
        "tags": tags or [],
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def _clean_filters(session: Session, filters: dict | None) -> tuple[list, dict]:
    """(SQL conditions, the filters as understood) for the enterprise search.

    :raises ValidationFailed: a size class, sector or field that does not exist.
    """
    f = {
        k: str(v).strip()
        for k, v in (filters or {}).items()
        if k in SEARCH_FILTERS and v not in (None, "") and str(v).strip()
    }
    conditions = []
    if "area" in f:
        if f["area"] == NONE:
            conditions.append(Enterprise.area_id.is_(None))
        else:
            area = find_area(session, f["area"])
            conditions.append(Enterprise.area_id == area.area_id if area else false())
    for key, column, values, message in (
        (
            "size",
            Enterprise.size_class,
            SIZE_CLASSES,
            _("企业规模应为 %(values)s 之一", values="、".join(SIZE_CLASSES)),
        ),
        ("sector", Enterprise.sector, list(SECTORS), _("行业应为门类字母 A–T")),
        ("field", Enterprise.field, FIELDS, _("领域应为 %(values)s 之一", values="、".join(FIELDS))),
    ):
        if key not in f:
            continue
        value = normalise_sector(f[key]) if key == "sector" and f[key] != NONE else f[key]
        if value == NONE:
            conditions.append(column.is_(None))
        elif value in values:
            conditions.append(column == value)
        else:
            raise ValidationFailed(_("筛选条件有误"), {key: message})
    for key in ("tag", "pool"):
        if key in f:
            tag = find_tag(session, f[key])
            if tag is None:
                conditions.append(false())
                continue
            conditions.append(
                exists().where(
                    EnterpriseMembership.enterprise_id == Enterprise.enterprise_id,
                    EnterpriseMembership.tag_id == tag.tag_id,
                    EnterpriseMembership.removed_at.is_(None),
                )
            )
    return conditions, f


def _text_condition(q: str):
    text = strip_controls(q or "").strip()[:100]
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    code = normalise_credit_code(escaped)
    return or_(
        Enterprise.name.like(f"%{escaped}%", escape="\\"),
        Enterprise.credit_code.like(f"%{code}%", escape="\\"),
    )


def enterprise_query(session: Session, q: str = "", filters: dict | None = None):
    """The enterprises matching a text and filters (a select of Enterprise) and the filters as understood."""
    conditions, f = _clean_filters(session, filters)
    text = _text_condition(q)
    if text is not None:
        conditions.append(text)
    return select(Enterprise).where(and_(*conditions)) if conditions else select(Enterprise), f


def search_enterprises(
    eng, actor: Actor, q: str = "", page=1, per_page=20, filters: dict | None = None, group: str | None = None
) -> dict:
    """Enterprises by name or credit code, area, size class, sector, field, pool and tag; paginated. With `group`,
    also how many of them fall in each area (size class, sector, field, pool or tag) — e.g. 规上 per 乡镇街道.

    :raises ValidationFailed: an unknown filter value or grouping.
    """
    if group not in (None, "") and group not in GROUPS:
        raise ValidationFailed(
            _("分组方式有误"), {"group": _("应为 %(values)s 之一", values="、".join(GROUPS))}
        )
    page, per_page = paginate(page, per_page)
    with eng.db.read() as session:
        query, f = enterprise_query(session, q, filters)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(Enterprise.name, Enterprise.enterprise_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        result = {
            "items": _summaries(session, rows),
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "filters": f,
        }
        if group:
            result["group"] = group
            result["groups"] = _groups(session, query, group)
        return result


def _groups(session: Session, query, group: str) -> list[dict]:
    """Counts per value of `group` among the enterprises of `query`: {key, label, count}, biggest first for the
    office's own lists in their order; a "none" row for those without a value (not for pools and tags)."""
    ids = query.with_only_columns(Enterprise.enterprise_id).subquery()
    if group in ("pool", "tag"):
        counts = dict(
            session.execute(
                select(EnterpriseMembership.tag_id, func.count())
                .where(
                    EnterpriseMembership.enterprise_id.in_(select(ids.c.enterprise_id)),
                    EnterpriseMembership.removed_at.is_(None),
                )
                .group_by(EnterpriseMembership.tag_id)
            ).all()
        )
        tags = [t for t in tag_rows(session).values() if t.kind == group]
        tags.sort(key=lambda t: (t.sort_order, t.tag_id))
        return [
            {"key": str(t.tag_id), "code": t.code, "label": t.name, "count": counts.get(t.tag_id, 0)}
            for t in tags
            if t.is_active or counts.get(t.tag_id)
        ]
    column = {
        "area": Enterprise.area_id,
        "size": Enterprise.size_class,
        "sector": Enterprise.sector,
        "field": Enterprise.field,
    }[group]
    counts = dict(
        session.execute(
            select(column, func.count())
            .where(Enterprise.enterprise_id.in_(select(ids.c.enterprise_id)))
            .group_by(column)
        ).all()
    )
    if group == "area":
        areas = session.scalars(select(Area).order_by(Area.sort_order, Area.area_id)).all()
        keys = [(str(a.area_id), a.name, a.area_id) for a in areas if a.is_active or counts.get(a.area_id)]
    elif group == "size":
        keys = [(v, v, v) for v in SIZE_CLASSES]
    elif group == "sector":
        keys = [(code, f"{code} {zh}", code) for code, (zh, _en) in SECTORS.items() if counts.get(code)]
    else:
        keys = [(v, v, v) for v in FIELDS]
    rows = [{"key": key, "label": label, "count": counts.get(value, 0)} for key, label, value in keys]
    rows.append({"key": NONE, "label": None, "count": counts.get(None, 0)})
    return rows


def enterprise_choices(eng, limit: int = 500) -> list[dict]:
    """Enterprises for a picker (most recently added first)."""
    with eng.db.read() as session:
        rows = session.execute(
            select(Enterprise.enterprise_id, Enterprise.name, Enterprise.credit_code)
            .order_by(Enterprise.enterprise_id.desc())
            .limit(limit)
        )
        return [{"enterprise_id": i, "name": n, "credit_code": c} for i, n, c in rows]


def get_enterprise(eng, actor: Actor, enterprise_id: int) -> dict:
    """The enterprise file: details and classes, pools and tags (with their history), contacts, key figures by
    year, the change record, and every case the actor may see."""
    with eng.db.read() as session:
        enterprise = _enterprise(session, enterprise_id)
        result = _summaries(session, [enterprise])[0]
        result["contacts"] = [
            {"contact_id": c.contact_id, **{k: getattr(c, k) for k in CONTACT_FIELDS}}
            for c in session.scalars(
                select(EnterpriseContact)
                .where(EnterpriseContact.enterprise_id == enterprise_id)
                .order_by(EnterpriseContact.sort_order, EnterpriseContact.contact_id)
            )
        ]
        result["years"] = [
            {"year": y.year, **{k: _number(getattr(y, k)) for k in YEAR_FIELDS}}
            for y in session.scalars(
                select(EnterpriseYear)
                .where(EnterpriseYear.enterprise_id == enterprise_id)
                .order_by(EnterpriseYear.year.desc())
            )
        ]
        tags = tag_rows(session)
        result["past_tags"] = [
            {
                "tag_id": m.tag_id,
                "name": tags[m.tag_id].name,
                "kind": tags[m.tag_id].kind,
                "batch": m.batch,
                "since": m.since,
                "added_at": m.added_at,
                "removed_at": m.removed_at,
            }
            for m in session.scalars(
                select(EnterpriseMembership)
                .where(
                    EnterpriseMembership.enterprise_id == enterprise_id,
                    EnterpriseMembership.removed_at.is_not(None),
                )
                .order_by(EnterpriseMembership.removed_at.desc())
            )
        ]
        result["changes"] = [
            {"at": c.at, "actor": c.actor_name, "action": c.action, "source": c.source, "summary": c.summary}
            for c in session.scalars(
                select(EnterpriseChange)
                .where(EnterpriseChange.enterprise_id == enterprise_id)
                .order_by(EnterpriseChange.change_id.desc())
                .limit(50)
            )
        ]
    cases = search_cases(eng, actor, {"enterprise_id": enterprise_id}, page=1, per_page=200)
    result["cases"] = cases["items"]
    result["case_total"] = cases["total"]
    return result


def require_exporter(actor: Actor) -> None:
    """Who may take the enterprise list away as a file (it holds contacts): the office, not a unit's handler.

    :raises PermissionDenied: a handler only.
    """
    if not actor.sees_all_cases:
        raise PermissionDenied(_("您没有权限导出企业名录"))
