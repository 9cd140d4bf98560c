"""Enterprises (企业) and the enterprise file (一企一档): create, search, get with all visible cases."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from engine.domain.text import strip_controls
from engine.domain.vocabulary import FIELDS
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.case_list import search_cases
from engine.services.common import Actor
from engine.services.common import paginate
from engine.services.common import require_role
from engine.storage.models import Enterprise

_PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")
ENTERPRISE_FIELDS = ("name", "credit_code", "field", "address", "contact_name", "contact_phone")
_LIMITS = {"name": 200, "address": 200, "contact_name": 50, "contact_phone": 30}


def normalise_credit_code(value: str) -> str:
    return re.sub(r"[\s-]", "", str(value or "")).upper()


def validate_enterprise(data: dict, *, prefix: str = "") -> dict:
    """Check an enterprise's fields; returns the cleaned values.

    :raises ValidationFailed: with one message per bad field (keys prefixed with `prefix`).
    """
    unknown = set(data) - set(ENTERPRISE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("有不认识的字段"), {prefix + k: _("字段 %(name)s 不在企业信息中", name=k) for k in unknown}
        )
    errors: dict[str, str] = {}
    clean = {
        k: (strip_controls(str(data.get(k))).strip() if data.get(k) is not None else "")
        for k in ENTERPRISE_FIELDS
    }
    if not clean["name"]:
        errors["name"] = _("请填写企业名称")
    for key, limit in _LIMITS.items():
        if len(clean[key]) > limit:
            errors[key] = _("最多 %(limit)s 个字", limit=limit)
    code = normalise_credit_code(clean["credit_code"])
    if not code:
        errors["credit_code"] = _("请填写统一社会信用代码（18 位）")
    elif len(code) != 18:
        errors["credit_code"] = _("统一社会信用代码应为 18 位，现在是 %(length)s 位", length=len(code))
    elif not uscc.is_valid(code):
        errors["credit_code"] = _("统一社会信用代码校验不通过，请核对（注意不含 I、O、Z、S、V）")
    clean["credit_code"] = code
    if clean["field"] and clean["field"] not in FIELDS:
        errors["field"] = _("领域应为：%(fields)s", fields="、".join(FIELDS))
    if clean["contact_phone"] and not _PHONE.match(clean["contact_phone"]):
        errors["contact_phone"] = _("电话号码格式不对")
    if errors:
        raise ValidationFailed(_("企业信息有误，请按提示修改"), {prefix + k: v for k, v in errors.items()})
    return {k: (v or None) for k, v in clean.items()}


def enterprise_by_credit_code(session: Session, credit_code) -> Enterprise | None:
    """The enterprise on file under this (normalised) unified social credit code, if any."""
    if not credit_code:
        return None
    return session.scalars(select(Enterprise).where(Enterprise.credit_code == str(credit_code))).first()


def add_enterprise(session: Session, eng, actor: Actor, data: dict, *, prefix: str = "") -> Enterprise:
    """Insert a validated enterprise inside the caller's transaction (used by registration too)."""
    clean = validate_enterprise(data, prefix=prefix)
    existing = session.scalars(
        select(Enterprise).where(Enterprise.credit_code == clean["credit_code"])
    ).first()
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
    return enterprise


def create_enterprise(eng, actor: Actor, data: dict) -> dict:
    require_role(actor, "registrar", "dispatcher", "admin")
    with eng.db.transaction() as session:
        return enterprise_dict(add_enterprise(session, eng, actor, data))


def enterprise_dict(e: Enterprise) -> dict:
    return {
        "enterprise_id": e.enterprise_id,
        "name": e.name,
        "credit_code": e.credit_code,
        "field": e.field,
        "address": e.address,
        "contact_name": e.contact_name,
        "contact_phone": e.contact_phone,
        "created_at": e.created_at,
    }


def search_enterprises(eng, actor: Actor, q: str = "", page=1, per_page=20) -> dict:
    page, per_page = paginate(page, per_page)
    with eng.db.read() as session:
        query = select(Enterprise)
        text = (q or "").strip()
        if text:
            like = f"%{text}%"
            query = query.where(
                or_(Enterprise.name.like(like), Enterprise.credit_code.like(normalise_credit_code(like)))
            )
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Enterprise.name).offset((page - 1) * per_page).limit(per_page))
        return {
            "items": [enterprise_dict(e) for e in rows],
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
        }


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
    """The enterprise file: its details and every case the actor may see."""
    with eng.db.read() as session:
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None:
            raise NotFound(_("企业不存在"))
        result = enterprise_dict(enterprise)
    cases = search_cases(eng, actor, {"enterprise_id": enterprise_id}, page=1, per_page=200)
    result["cases"] = cases["items"]
    result["case_total"] = cases["total"]
    return result
