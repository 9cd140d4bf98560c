"""Checks that form values pointing at other records (units, users, enterprises, attachments) point at real ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.common import Actor
from engine.services.common import parse_id
from engine.services.common import unit_directory
from engine.storage.models import Enterprise
from engine.storage.models import User
from engine.storage.models import UserRole


def check_references(session: Session, actor: Actor, form, data: dict) -> None:
    """Refuse unknown units, users without the required role and unknown enterprises (attachments are checked
    when they are linked: engine.services.attachments.link_form_attachments).

    Driven by the form's widgets, so a form a designer adds later is checked the same way.
    :raises ValidationFailed: one message per bad field.
    """
    errors: dict[str, str] = {}
    for field in form.fields:
        value = data.get(field.name)
        if value in (None, "", []):
            continue
        if field.widget in ("unit", "units"):
            codes = value if isinstance(value, list) else [value]
            units = unit_directory(session)
            unknown = [c for c in codes if not (c in units and units[c].is_active)]
            if unknown:
                errors[field.name] = _("单位不存在：%(units)s", units="、".join(map(str, unknown)))
        elif field.widget == "user":
            query = select(User.user_id).where(User.username == value, User.is_active.is_(True))
            if field.role:
                query = query.join(UserRole, UserRole.user_id == User.user_id).where(
                    UserRole.role == field.role
                )
            if session.scalar(query) is None:
                errors[field.name] = _("找不到符合要求的人员：%(user)s", user=value)
        elif field.widget == "enterprise":
            enterprise_id = parse_id(value)  # a number beyond the id column's range names no enterprise
            if enterprise_id is None or session.get(Enterprise, enterprise_id) is None:
                errors[field.name] = _("企业不存在，请从列表中选择或先新建企业")
    lead, co = data.get("lead_unit"), data.get("co_units") or []
    if lead and lead in co:
        errors["co_units"] = _("协办单位不能包含牵头单位")
    if errors:
        raise ValidationFailed(_("表单有误，请按提示修改"), errors)
