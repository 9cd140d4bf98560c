"""Open311 GeoReport v2 over our cases: services are the problem categories (stable ASCII codes), a service
request is a case registered through the normal loop with channel "Open311", and a client sees the requests it
submitted. Results are GeoReport-shaped plain data; web/open311.py only speaks HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select

from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import CASE_STATUSES
from engine.domain.vocabulary import CATEGORIES
from engine.domain.vocabulary import FIELDS
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import cases as case_service
from engine.services.common import Actor
from engine.services.enterprises import normalise_credit_code
from engine.storage.models import Case

CHANNEL = "Open311"
MAX_LISTED = 1000
# Stable ASCII service codes for the categories (Open311 clients expect codes, not Chinese names).
SERVICE_CODES = {
    "land": "用地",
    "finance": "融资",
    "labour": "用工/人才",
    "utilities": "水电气",
    "permits": "审批/证照",
    "infrastructure": "基础设施",
    "policy_payment": "政策兑现",
    "policy_question": "政策咨询",
    "environment": "环保",
    "safety": "安全生产",
    "logistics": "交通物流",
    "market": "市场/销路",
    "other": "其他",
}
CODE_OF = {name: code for code, name in SERVICE_CODES.items()}
ATTRIBUTES = [
    ("enterprise_name", "企业名称", True),
    ("credit_code", "统一社会信用代码", True),
    ("field", "所属领域（" + "、".join(FIELDS) + "）", True),
    ("title", "诉求标题（不填则取描述的前 30 个字）", False),
]
assert set(SERVICE_CODES.values()) == set(CATEGORIES)


def services() -> list[dict]:
    """The service list: one service per problem category."""
    return [
        {
            "service_code": code,
            "service_name": name,
            "description": f"企业{name}方面的困难和诉求",
            "metadata": True,
            "type": "realtime",
            "keywords": name.replace("/", ","),
            "group": "惠企诉求",
        }
        for code, name in SERVICE_CODES.items()
    ]


def service_definition(code: str) -> dict:
    """The attributes a request of this service carries. :raises NotFound: unknown service code."""
    category(code)
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": key,
                "datatype": "singlevaluelist" if key == "field" else "string",
                "required": required,
                "datatype_description": label,
                "order": order,
                "description": label,
                **({"values": [{"key": f, "name": f} for f in FIELDS]} if key == "field" else {}),
            }
            for order, (key, label, required) in enumerate(ATTRIBUTES, start=1)
        ],
    }


def category(code: str) -> str:
    """The category a service code stands for. :raises NotFound: unknown code (the valid ones named)."""
    if code not in SERVICE_CODES:
        raise NotFound(
            _("未知的 service_code：%(code)s（可用：%(codes)s）", code=code, codes="、".join(SERVICE_CODES))
        )
    return SERVICE_CODES[code]


def submit_request(eng, actor: Actor, values: Mapping) -> dict:
    """Register a service request as a case (the enterprise found by its credit code, or created), in one
    transaction. :raises NotFound: unknown service code. :raises ValidationFailed: missing or bad values."""
    problem = category((values.get("service_code") or "").strip())
    description = (values.get("description") or "").strip()
    if not description:
        raise ValidationFailed(_("description 不能为空：请描述企业遇到的困难"))
    attribute = {key: (values.get(f"attribute[{key}]") or "").strip() for key, _label, _req in ATTRIBUTES}
    missing = [f"attribute[{key}]" for key, _label, required in ATTRIBUTES if required and not attribute[key]]
    if missing:
        raise ValidationFailed(_("缺少必填属性：%(attributes)s", attributes="、".join(missing)))
    contact = " ".join(v for v in (values.get("last_name"), values.get("first_name")) if v) or None
    data = {
        "channel": CHANNEL,
        "field": attribute["field"],
        "category": problem,
        "urgency": "一般",
        "title": attribute["title"] or description[:30],
        "description": description,
    }
    if contact:
        data["contact_name"] = contact[:50]
    if values.get("phone"):
        data["contact_phone"] = values.get("phone")[:30]
    enterprise = {
        "name": attribute["enterprise_name"],
        "credit_code": normalise_credit_code(attribute["credit_code"]),
        "field": attribute["field"],
    }
    result = case_service.register_case(eng, actor, data, new_enterprise=enterprise, reuse_enterprise=True)
    return {
        "service_request_id": result["case_no"],
        "service_notice": "已受理，将按规定时限办理",
        "account_id": None,
    }


def _as_request(case: Case) -> dict:
    closed = case.status == "closed"
    return {
        "service_request_id": case.case_no,
        "status": "closed" if closed else "open",
        "status_notes": CASE_STATUSES.get(case.status, (case.status, ""))[0],
        "service_name": case.category,
        "service_code": CODE_OF.get(case.category, "other"),
        "description": case.description,
        "agency_responsible": None,
        "service_notice": case.current_task,
        "requested_datetime": case.created_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": case.deadline_at.isoformat() if case.deadline_at else None,
        "address": None,
        "lat": None,
        "long": None,
    }


def list_requests(eng, actor: Actor, args: Mapping) -> list[dict]:
    """The client's own requests, newest first, filtered as GeoReport allows (ids, service, status, dates).

    :raises NotFound: unknown service code. :raises ValidationFailed: bad status or date."""
    query = select(Case).where(Case.registrar_id == actor.user_id).order_by(Case.created_at.desc())
    ids = [i.strip() for i in (args.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        query = query.where(Case.case_no.in_(ids))
    if args.get("service_code"):
        query = query.where(Case.category == category(args["service_code"]))
    status = args.get("status")
    if status == "open":
        query = query.where(Case.status != "closed")
    elif status == "closed":
        query = query.where(Case.status == "closed")
    elif status:
        raise ValidationFailed(_("status 只能是 open 或 closed"))
    if args.get("start_date"):
        query = query.where(Case.created_at >= _datetime("start_date", args["start_date"]))
    if args.get("end_date"):
        query = query.where(Case.created_at <= _datetime("end_date", args["end_date"]))
    with eng.db.read() as session:
        return [_as_request(c) for c in session.scalars(query.limit(MAX_LISTED))]


def get_request(eng, actor: Actor, request_id: str) -> dict:
    """One of the client's requests by its number. :raises NotFound: none of theirs has that number."""
    with eng.db.read() as session:
        case = session.scalars(
            select(Case).where(Case.case_no == request_id, Case.registrar_id == actor.user_id)
        ).first()
        if case is None:
            raise NotFound(_("没有编号为 %(number)s 的诉求", number=request_id))
        return _as_request(case)


def _datetime(name: str, value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            _("%(name)s 应为 W3C 日期时间，例如 2026-03-10T09:00:00+08:00", name=name), {name: _("格式不对")}
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)
