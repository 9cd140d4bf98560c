"""The office's own lists for classifying enterprises: areas (乡镇街道) and tags and pools (企业库与标签).

They are data managers edit on a page or through the API, not constants: an office adds a development zone, a
潜力企业库 or a 挂牌服务 pool listed in batches without a programmer. Every change is kept in design_audit (who,
when, before → after). A list entry that enterprises or figures refer to is never deleted, only switched off
(停用): it leaves the pickers and keeps its history.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.domain.text import strip_controls
from engine.domain.vocabulary import AREA_KINDS
from engine.domain.vocabulary import TAG_KINDS
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.common import Actor
from engine.services.common import require_role
from engine.storage.models import Area
from engine.storage.models import DesignAudit
from engine.storage.models import Enterprise
from engine.storage.models import EnterpriseMembership
from engine.storage.models import EnterpriseTag
from engine.storage.models import FigureDaily
from engine.storage.models import Unit
from engine.storage.versions import audit

EDITORS = ("manager", "admin")
_SOURCE_NAMES = {"page": "页面", "api": "接口"}  # where a change came from, as the record says it
CODE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
AREA_FIELDS = ("name", "code", "kind", "unit", "sort_order", "is_active")
TAG_FIELDS = (
    "name",
    "code",
    "kind",
    "description",
    "with_batch",
    "with_date",
    "date_label",
    "sort_order",
    "is_active",
)
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}


@contextlib.contextmanager
def unique_or_conflict() -> Iterator[None]:
    """Around a transaction that checked a name, code or membership was free: if a concurrent one took it between
    the check and the commit, the database's unique index refuses the second — a 409 to try again, not a 500.

    :raises Conflict: the unique index refused the write (the transaction has been rolled back).
    """
    try:
        yield
    except IntegrityError:
        raise Conflict(_("其他人刚刚做了同样的修改，您的修改没有保存：请刷新后查看")) from None


# ---------------------------------------------------------------------------------------------------------
# Looking entries up (inside the caller's transaction)


def find_area(session: Session, value) -> Area | None:
    """The area given by id, code or name (as an import or the API names it), or None."""
    return _find(session, Area, Area.area_id, value)


def find_tag(session: Session, value) -> EnterpriseTag | None:
    """The tag or pool given by id, code or name, or None."""
    return _find(session, EnterpriseTag, EnterpriseTag.tag_id, value)


def _find(session: Session, model, id_column, value):
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text:
        return None
    if isinstance(value, int) or text.isdigit():
        if len(text) > 9:
            return None
        row = session.get(model, int(text))
        if row is not None:
            return row
    return session.scalars(select(model).where((model.code == text) | (model.name == text))).first()


def area_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Area.area_id, Area.name)).all())


def tag_rows(session: Session) -> dict[int, EnterpriseTag]:
    return {t.tag_id: t for t in session.scalars(select(EnterpriseTag))}


# ---------------------------------------------------------------------------------------------------------
# Areas


def area_dict(area: Area, units: dict[int, str] | None = None, enterprises: int | None = None) -> dict:
    result = {
        "area_id": area.area_id,
        "code": area.code,
        "name": area.name,
        "kind": area.kind,
        "unit_id": area.unit_id,
        "unit": (units or {}).get(area.unit_id),
        "sort_order": area.sort_order,
        "is_active": area.is_active,
        "updated_at": area.updated_at,
    }
    if enterprises is not None:
        result["enterprises"] = enterprises
    return result


def list_areas(eng, actor: Actor, active_only: bool = False) -> list[dict]:
    """Every area (or the active ones) in the office's order, with how many enterprises are in each."""
    with eng.db.read() as session:
        return _areas(session, active_only)


def _areas(session: Session, active_only: bool) -> list[dict]:
    counts = dict(
        session.execute(
            select(Enterprise.area_id, func.count())
            .where(Enterprise.area_id.is_not(None))
            .group_by(Enterprise.area_id)
        ).all()
    )
    units = dict(session.execute(select(Unit.unit_id, Unit.name)).all())
    query = select(Area).order_by(Area.sort_order, Area.area_id)
    if active_only:
        query = query.where(Area.is_active.is_(True))
    return [area_dict(a, units, counts.get(a.area_id, 0)) for a in session.scalars(query)]


def get_area(eng, actor: Actor, area_id: int) -> dict:
    with eng.db.read() as session:
        area = session.get(Area, area_id)
        if area is None:
            raise NotFound(_("乡镇街道不存在"))
        units = dict(session.execute(select(Unit.unit_id, Unit.name)).all())
        count = session.scalar(
            select(func.count()).select_from(Enterprise).where(Enterprise.area_id == area_id)
        )
        return area_dict(area, units, count)


def save_area(eng, actor: Actor, data: dict, area_id: int | None = None, source: str = "page") -> dict:
    """Create an area (area_id None) or change the given fields of one.

    :raises ValidationFailed: a field is wrong (named), or the name or code is taken.
    :raises NotFound: no such area.
    """
    require_role(actor, *EDITORS)
    _known(data, AREA_FIELDS)
    with unique_or_conflict(), eng.db.transaction() as session:
        area = None
        if area_id is not None:
            area = session.get(Area, area_id)
            if area is None:
                raise NotFound(_("乡镇街道不存在"))
        before = _area_values(area) if area else None
        last = session.scalar(select(func.max(Area.sort_order))) if area is None else None
        values = dict(
            before or {"kind": "street", "sort_order": (last or 0) + 1, "is_active": True, "unit": None}
        )
        values.update(
            {
                k: data[k]
                for k in AREA_FIELDS
                if k in data and not (k == "sort_order" and data[k] in ("", None))
            }
        )
        errors: dict[str, str] = {}
        name = _name(values.get("name"), errors)
        code = _code(values.get("code"), errors, prefix="area")
        kind = str(values.get("kind") or "").strip()
        if kind not in AREA_KINDS:
            errors["kind"] = _("类型应为 %(values)s 之一", values="、".join(AREA_KINDS))
        unit_id = None
        if values.get("unit") not in (None, ""):
            unit = _unit(session, values["unit"])
            if unit is None:
                errors["unit"] = _("没有这个单位")
            else:
                unit_id = unit.unit_id
        sort_order = _int(values.get("sort_order"), "sort_order", errors)
        is_active = _bool(values.get("is_active"), "is_active", errors)
        if not errors:
            _unique(session, Area, Area.area_id, area_id, name, code, errors)
        if errors:
            raise ValidationFailed(_("乡镇街道信息有误，请按提示修改"), errors)
        if area is None:
            area = Area(code=code)
            session.add(area)
        area.name, area.code, area.kind, area.unit_id = name, code, kind, unit_id
        area.sort_order, area.is_active = sort_order, is_active
        area.updated_at, area.updated_by = eng.now(), actor.user_id
        session.flush()
        after = _area_values(area)
        if after != before:
            action = "created" if before is None else "updated"
            summary = f"{'新增' if before is None else '修改'}乡镇街道“{name}”（{_SOURCE_NAMES.get(source, source)}）"
            audit(
                session,
                eng,
                kind="area",
                key=code,
                action=action,
                summary=summary,
                actor=actor,
                data={"before": before, "after": after},
            )
        units = dict(session.execute(select(Unit.unit_id, Unit.name)).all())
        return area_dict(area, units)


def _area_values(area: Area) -> dict:
    return {
        "name": area.name,
        "code": area.code,
        "kind": area.kind,
        "unit": area.unit_id,
        "sort_order": area.sort_order,
        "is_active": area.is_active,
    }


def delete_area(eng, actor: Actor, area_id: int, source: str = "page") -> None:
    """Delete an area nothing refers to.

    :raises Conflict: enterprises are in it or figures were recorded with it (switch it off instead).
    """
    require_role(actor, *EDITORS)
    with eng.db.transaction() as session:
        area = session.get(Area, area_id)
        if area is None:
            raise NotFound(_("乡镇街道不存在"))
        used = session.scalar(
            select(func.count()).select_from(Enterprise).where(Enterprise.area_id == area_id)
        )
        if used:
            raise Conflict(_("有 %(n)s 家企业属于“%(name)s”，不能删除：可以改为停用", n=used, name=area.name))
        if _in_figures(session, "area", area_id):
            raise Conflict(_("“%(name)s”已计入统计数据，不能删除：可以改为停用", name=area.name))
        audit(
            session,
            eng,
            kind="area",
            key=area.code,
            action="deleted",
            summary=f"删除乡镇街道“{area.name}”（{_SOURCE_NAMES.get(source, source)}）",
            actor=actor,
            data={"before": _area_values(area), "after": None},
        )
        session.delete(area)


# ---------------------------------------------------------------------------------------------------------
# Tags and pools


def tag_dict(tag: EnterpriseTag, members: int | None = None) -> dict:
    result = {
        "tag_id": tag.tag_id,
        "code": tag.code,
        "name": tag.name,
        "kind": tag.kind,
        "description": tag.description,
        "with_batch": tag.with_batch,
        "with_date": tag.with_date,
        "date_label": tag.date_label,
        "sort_order": tag.sort_order,
        "is_active": tag.is_active,
        "updated_at": tag.updated_at,
    }
    if members is not None:
        result["members"] = members
    return result


def list_tags(eng, actor: Actor, kind: str | None = None, active_only: bool = False) -> list[dict]:
    """Every pool and tag (or one kind; or the active ones), pools first, with their current member counts."""
    if kind is not None and kind not in TAG_KINDS:
        raise ValidationFailed(_("类型有误"), {"kind": _("应为 pool（企业库）或 tag（标签）")})
    with eng.db.read() as session:
        return _tags(session, kind, active_only)


def _tags(session: Session, kind: str | None, active_only: bool) -> list[dict]:
    counts = dict(
        session.execute(
            select(EnterpriseMembership.tag_id, func.count())
            .where(EnterpriseMembership.removed_at.is_(None))
            .group_by(EnterpriseMembership.tag_id)
        ).all()
    )
    query = select(EnterpriseTag).order_by(
        EnterpriseTag.kind, EnterpriseTag.sort_order, EnterpriseTag.tag_id
    )  # "pool" sorts before "tag"
    if kind is not None:
        query = query.where(EnterpriseTag.kind == kind)
    if active_only:
        query = query.where(EnterpriseTag.is_active.is_(True))
    return [tag_dict(t, counts.get(t.tag_id, 0)) for t in session.scalars(query)]


def get_tag(eng, actor: Actor, tag_id: int) -> dict:
    with eng.db.read() as session:
        tag = session.get(EnterpriseTag, tag_id)
        if tag is None:
            raise NotFound(_("企业库或标签不存在"))
        members = session.scalar(
            select(func.count())
            .select_from(EnterpriseMembership)
            .where(EnterpriseMembership.tag_id == tag_id, EnterpriseMembership.removed_at.is_(None))
        )
        return tag_dict(tag, members)


def save_tag(eng, actor: Actor, data: dict, tag_id: int | None = None, source: str = "page") -> dict:
    """Create a pool or tag (tag_id None) or change the given fields of one.

    :raises ValidationFailed: a field is wrong (named), or the name or code is taken.
    :raises NotFound: no such tag.
    """
    require_role(actor, *EDITORS)
    _known(data, TAG_FIELDS)
    with unique_or_conflict(), eng.db.transaction() as session:
        tag = None
        if tag_id is not None:
            tag = session.get(EnterpriseTag, tag_id)
            if tag is None:
                raise NotFound(_("企业库或标签不存在"))
        before = _tag_values(tag) if tag else None
        last = session.scalar(select(func.max(EnterpriseTag.sort_order))) if tag is None else None
        values = dict(
            before
            or {
                "kind": "tag",
                "sort_order": (last or 0) + 1,  # a new one comes last unless placed
                "is_active": True,
                "with_batch": False,
                "with_date": False,
            }
        )
        values.update(
            {
                k: data[k]
                for k in TAG_FIELDS
                if k in data and not (k == "sort_order" and data[k] in ("", None))
            }
        )
        errors: dict[str, str] = {}
        name = _name(values.get("name"), errors)
        code = _code(values.get("code"), errors, prefix="tag")
        kind = str(values.get("kind") or "").strip()
        if kind not in TAG_KINDS:
            errors["kind"] = _("类型应为 pool（企业库）或 tag（标签）")
        description = _text(values.get("description"), 500, "description", errors)
        date_label = _text(values.get("date_label"), 20, "date_label", errors)
        with_batch = _bool(values.get("with_batch"), "with_batch", errors)
        with_date = _bool(values.get("with_date"), "with_date", errors)
        sort_order = _int(values.get("sort_order"), "sort_order", errors)
        is_active = _bool(values.get("is_active"), "is_active", errors)
        if not errors:
            _unique(session, EnterpriseTag, EnterpriseTag.tag_id, tag_id, name, code, errors)
        if errors:
            raise ValidationFailed(_("企业库或标签信息有误，请按提示修改"), errors)
        if tag is None:
            tag = EnterpriseTag(code=code)
            session.add(tag)
        tag.name, tag.code, tag.kind, tag.description = name, code, kind, description
        tag.with_batch, tag.with_date, tag.date_label = (
            with_batch,
            with_date,
            (date_label if with_date else None),
        )
        tag.sort_order, tag.is_active = sort_order, is_active
        tag.updated_at, tag.updated_by = eng.now(), actor.user_id
        session.flush()
        after = _tag_values(tag)
        if after != before:
            what = "企业库" if kind == "pool" else "标签"
            summary = (
                f"{'新增' if before is None else '修改'}{what}“{name}”（{_SOURCE_NAMES.get(source, source)}）"
            )
            audit(
                session,
                eng,
                kind="enterprise_tag",
                key=code,
                action="created" if before is None else "updated",
                summary=summary,
                actor=actor,
                data={"before": before, "after": after},
            )
        return tag_dict(tag)


def _tag_values(tag: EnterpriseTag) -> dict:
    return {
        "name": tag.name,
        "code": tag.code,
        "kind": tag.kind,
        "description": tag.description,
        "with_batch": tag.with_batch,
        "with_date": tag.with_date,
        "date_label": tag.date_label,
        "sort_order": tag.sort_order,
        "is_active": tag.is_active,
    }


def delete_tag(eng, actor: Actor, tag_id: int, source: str = "page") -> None:
    """Delete a pool or tag that never had a member.

    :raises Conflict: enterprises are or were in it, or figures were recorded with it (switch it off instead).
    """
    require_role(actor, *EDITORS)
    with eng.db.transaction() as session:
        tag = session.get(EnterpriseTag, tag_id)
        if tag is None:
            raise NotFound(_("企业库或标签不存在"))
        used = session.scalar(
            select(func.count())
            .select_from(EnterpriseMembership)
            .where(EnterpriseMembership.tag_id == tag_id)
        )
        if used or _in_figures(session, "tag", tag_id):
            raise Conflict(
                _("“%(name)s”已有企业加入过或已计入统计数据，不能删除：可以改为停用", name=tag.name)
            )
        audit(
            session,
            eng,
            kind="enterprise_tag",
            key=tag.code,
            action="deleted",
            summary=f"删除{'企业库' if tag.kind == 'pool' else '标签'}“{tag.name}”（{_SOURCE_NAMES.get(source, source)}）",
            actor=actor,
            data={"before": _tag_values(tag), "after": None},
        )
        session.delete(tag)


def recent_changes(eng, actor: Actor, limit: int = 30) -> list[dict]:
    """The latest changes to the areas and tags (newest first)."""
    with eng.db.read() as session:
        rows = session.scalars(
            select(DesignAudit)
            .where(DesignAudit.kind.in_(("area", "enterprise_tag")))
            .order_by(DesignAudit.audit_id.desc())
            .limit(limit)
        )
        return [
            {"at": r.at, "actor": r.actor_name, "kind": r.kind, "action": r.action, "summary": r.summary}
            for r in rows
        ]


# ---------------------------------------------------------------------------------------------------------
# Checking input


def _known(data: dict, fields: tuple[str, ...]) -> None:
    if not isinstance(data, dict):
        raise ValidationFailed(_("数据应为对象"))
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValidationFailed(
            _("有不认识的字段"),
            {str(k)[:50]: _("可用字段：%(fields)s", fields="、".join(fields)) for k in unknown},
        )


def _name(value, errors: dict) -> str:
    name = strip_controls(str(value or "")).strip() if not isinstance(value, (dict, list)) else ""
    if not name:
        errors["name"] = _("请填写名称")
    elif len(name) > 100:
        errors["name"] = _("最多 %(limit)s 个字", limit=100)
    return name


def _code(value, errors: dict, prefix: str) -> str:
    """A code for the API and imports: as given, or made up when left blank (managers need not invent one)."""
    code = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if value not in (None, "") and not code:
        errors["code"] = _("编码只能包含字母、数字、下划线、点和横线（最多 50 个）")
    if not code:
        return f"{prefix}-{secrets.token_hex(3)}"
    if not CODE.match(code):
        errors["code"] = _("编码只能包含字母、数字、下划线、点和横线（最多 50 个）")
    elif code.isdigit():
        errors["code"] = _("编码不能全是数字（数字会被当作编号）")
    return code


def _text(value, limit: int, field: str, errors: dict) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        errors[field] = _("应为文字")
        return None
    text = strip_controls(str(value)).strip()
    if len(text) > limit:
        errors[field] = _("最多 %(limit)s 个字", limit=limit)
    return text or None


def _int(value, field: str, errors: dict) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool):
        errors[field] = _("应为整数")
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[field] = _("应为整数")
        return 0
    if not -9999 <= number <= 9999:
        errors[field] = _("应在 -9999 到 9999 之间")
        return 0
    return number


def _bool(value, field: str, errors: dict) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors[field] = _("应为 true 或 false")
    return False


def _unit(session: Session, value) -> Unit | None:
    text = str(value).strip()
    if text.isdigit() and len(text) <= 9:
        return session.get(Unit, int(text))
    return session.scalars(select(Unit).where(Unit.code == text)).first()


def _unique(session: Session, model, id_column, own_id, name: str, code: str, errors: dict) -> None:
    others = select(model).where(id_column != own_id) if own_id is not None else select(model)
    if session.scalars(others.where(model.name == name)).first() is not None:
        errors["name"] = _("已有同名的一项：请换一个名称，或编辑原有的那一项")
    if session.scalars(others.where(model.code == code)).first() is not None:
        errors["code"] = _("编码已被使用")


def _in_figures(session: Session, dim: str, key: int) -> bool:
    """Whether any figure was recorded with this area or tag (its per-day totals: an index lookup)."""
    row = session.scalar(
        select(FigureDaily.day).where(FigureDaily.dim == dim, FigureDaily.key == str(key)).limit(1)
    )
    return row is not None
