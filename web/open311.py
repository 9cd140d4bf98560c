"""Open311 GeoReport v2 (JSON) over our cases, so existing Open311 clients can submit and follow problems.

Services are the problem categories; a service request is a case registered through the normal loop (triage,
dispatch, …) with channel "Open311". Every call needs `api_key`: a long-lived API token an administrator issues to
the client (/admin/tokens) for a registrar account; a client sees the requests it submitted. Errors use the
GeoReport error format: [{"code": …, "description": …}].
"""

from __future__ import annotations

import functools

from flask import Blueprint
from flask import g
from flask import jsonify
from flask import request
from sqlalchemy import select

from engine.domain import CASE_STATUSES
from engine.domain import CATEGORIES
from engine.domain import FIELDS
from engine.errors import JienanError
from engine.errors import ValidationFailed
from engine.models import Case
from engine.models import Enterprise
from engine.services import auth as auth_service
from engine.services import cases as case_service
from engine.services.enterprises import normalise_credit_code
from web.auth import csrf
from web.helpers import eng

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

CHANNEL = "Open311"
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


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    return jsonify([{"code": exc.code, "description": exc.description}]), exc.code


@bp.errorhandler(JienanError)
def _engine_error(exc: JienanError):
    detail = "；".join(f"{k}：{v}" for k, v in getattr(exc, "errors", {}).items())
    description = exc.message + (f"（{detail}）" if detail else "")
    status = 400 if exc.http_status == 422 else exc.http_status
    return jsonify([{"code": status, "description": description}]), status


def _json_only(fmt: str) -> None:
    if fmt != "json":
        raise Open311Error(400, "本服务只提供 JSON 格式：请把地址结尾改为 .json")


def api_key_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = (request.values.get("api_key") or "").strip()
        if not key:
            raise Open311Error(401, "缺少 api_key：请向系统管理员申请接口令牌")
        actor = auth_service.actor_for_token(eng(), key)
        if actor is None:
            raise Open311Error(401, "api_key 无效或已过期")
        g.actor = actor
        return view(*args, **kwargs)

    return wrapper


@bp.get("/services.<fmt>")
@api_key_required
def services(fmt: str):
    _json_only(fmt)
    return jsonify(
        [
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
    )


@bp.get("/services/<code>.<fmt>")
@api_key_required
def service_definition(code: str, fmt: str):
    _json_only(fmt)
    _category(code)
    return jsonify(
        {
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
    )


def _category(code: str) -> str:
    if code not in SERVICE_CODES:
        raise Open311Error(404, f"未知的 service_code：{code}（可用：{'、'.join(SERVICE_CODES)}）")
    return SERVICE_CODES[code]


@bp.post("/requests.<fmt>")
@api_key_required
def create_request(fmt: str):
    _json_only(fmt)
    values = request.values
    category = _category((values.get("service_code") or "").strip())
    description = (values.get("description") or "").strip()
    if not description:
        raise Open311Error(400, "description 不能为空：请描述企业遇到的困难")
    attribute = {key: (values.get(f"attribute[{key}]") or "").strip() for key, _label, _req in ATTRIBUTES}
    missing = [f"attribute[{key}]" for key, _label, required in ATTRIBUTES if required and not attribute[key]]
    if missing:
        raise Open311Error(400, "缺少必填属性：" + "、".join(missing))
    contact = " ".join(v for v in (values.get("last_name"), values.get("first_name")) if v) or None
    data = {
        "channel": CHANNEL,
        "field": attribute["field"],
        "category": category,
        "urgency": "一般",
        "title": attribute["title"] or description[:30],
        "description": description,
    }
    if contact:
        data["contact_name"] = contact[:50]
    if values.get("phone"):
        data["contact_phone"] = values.get("phone")[:30]
    credit_code = normalise_credit_code(attribute["credit_code"])
    with eng().db.read() as session:
        enterprise_id = session.scalars(
            select(Enterprise.enterprise_id).where(Enterprise.credit_code == credit_code)
        ).first()
    new_enterprise = None
    if enterprise_id is None:
        new_enterprise = {
            "name": attribute["enterprise_name"],
            "credit_code": credit_code,
            "field": attribute["field"],
        }
    else:
        data["enterprise_id"] = enterprise_id
    result = case_service.register_case(eng(), g.actor, data, new_enterprise=new_enterprise)
    return jsonify(
        [
            {
                "service_request_id": result["case_no"],
                "service_notice": "已受理，将按规定时限办理",
                "account_id": None,
            }
        ]
    ), 201


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


@bp.get("/requests.<fmt>")
@api_key_required
def list_requests(fmt: str):
    _json_only(fmt)
    query = select(Case).where(Case.registrar_id == g.actor.user_id).order_by(Case.created_at.desc())
    ids = [i.strip() for i in (request.args.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        query = query.where(Case.case_no.in_(ids))
    if request.args.get("service_code"):
        query = query.where(Case.category == _category(request.args["service_code"]))
    status = request.args.get("status")
    if status == "open":
        query = query.where(Case.status != "closed")
    elif status == "closed":
        query = query.where(Case.status == "closed")
    elif status:
        raise Open311Error(400, "status 只能是 open 或 closed")
    for name, op in (("start_date", "__ge__"), ("end_date", "__le__")):
        if request.args.get(name):
            moment = _datetime(name, request.args[name])
            query = query.where(getattr(Case.created_at, op)(moment))
    with eng().db.read() as session:
        return jsonify([_as_request(c) for c in session.scalars(query.limit(1000))])


@bp.get("/requests/<request_id>.<fmt>")
@api_key_required
def get_request(request_id: str, fmt: str):
    _json_only(fmt)
    with eng().db.read() as session:
        case = session.scalars(
            select(Case).where(Case.case_no == request_id, Case.registrar_id == g.actor.user_id)
        ).first()
        if case is None:
            raise Open311Error(404, f"没有编号为 {request_id} 的诉求")
        return jsonify([_as_request(case)])


def _datetime(name: str, value: str):
    import datetime as dt

    from engine.clock import LOCAL_TZ

    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{name} 应为 W3C 日期时间，例如 2026-03-10T09:00:00+08:00", {name: "格式不对"}
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)
