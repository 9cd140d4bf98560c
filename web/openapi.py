"""The OpenAPI 3.1 document of /api/v1: every operation's parameters, request body and responses (the errors
included), built from the same form schemas the engine validates with and the same limits the services apply.

Response objects list every key the services return (all required, none other allowed), so a key added to a
service's answer without being described here fails tests/api/test_schemathesis.py.
"""

from __future__ import annotations

from engine.domain.calendar import SOURCES as CALENDAR_SOURCES
from engine.domain.vocabulary import FLAGS
from engine.services.common import MAX_ID
from engine.services.common import MAX_PAGE
from engine.services.common import MAX_PER_PAGE
from engine.services.figures import FILTERS as FIGURE_FILTER_NAMES
from engine.services.figures import GROUPS
from engine.services.figures import MEASURES
from engine.services.figures import ROLES as FIGURE_ROLES
from engine.services.holidays import MAX_NAME
from engine.services.holidays import MAX_REFERENCE
from engine.services.holidays import SOURCES as CHANGE_SOURCES
from web import openapi_enterprises
from web.openapi_pairing import PATHS as PAIRING_PATHS
from web.openapi_pairing import SCHEMAS as PAIRING_SCHEMAS

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
RECORD_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    """`schema` or null (a column that may be empty, a value not set yet)."""
    return {**schema, "type": [schema["type"], "null"]}


def _object(properties: dict, *, optional: tuple = (), description: str | None = None) -> dict:
    """An object with exactly these keys, all of them always present except `optional` ones."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _json(schema: dict, description: str = "成功", headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _error(code: str) -> dict:
    return {"$ref": f"#/components/responses/{code}"}


def _errors(*codes: str) -> dict:
    return {code: _error(code) for code in codes}


def _body(schema: dict, media_type: str = "application/json") -> dict:
    return {"required": True, "content": {media_type: {"schema": schema}}}


def _path_id(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description + "（超出范围或不存在时 404）",
        "schema": RECORD_ID,
    }


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


PAGING = [
    _query(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        "页码；缺省、无法识别或小于 1 时为第一页，超过上限时 422",
    ),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
        f"每页条数（超出 1–{MAX_PER_PAGE} 时取最近的边界）",
    ),
]


def _page(item: str, **extra: dict) -> dict:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item)},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "pages": {"type": "integer", "minimum": 1},
            **extra,
        }
    )


CASE_SUMMARY = {
    "case_id": RECORD_ID,
    "case_no": {**STRING, "description": "诉求编号，如 JN202603000001"},
    "title": STRING,
    "enterprise_id": RECORD_ID,
    "enterprise_name": STRING,
    "channel": {**STRING, "description": "反映渠道"},
    "field": {**STRING, "description": "所属领域"},
    "category": {**STRING, "description": "问题类别"},
    "urgency": {**STRING, "description": "紧急程度"},
    "library": {**STRING, "description": "key（重点库）或 general（一般库）"},
    "tier": _null(
        {**STRING, "description": "办理层级（on_site、department、city_leader、province），分级前为空"}
    ),
    "tier_label": {**STRING, "description": "办理层级的名称（无层级时为空字符串）"},
    "status": {**STRING, "description": "诉求状态（registered、dispatching、handling、closed 等）"},
    "status_label": STRING,
    "current_task": _null({**STRING, "description": "当前环节名称"}),
    "round_no": {"type": "integer", "minimum": 1},
    "returns_count": INTEGER,
    "lead_unit_id": _null(RECORD_ID),
    "lead_unit": _null({**STRING, "description": "牵头单位名称"}),
    "time_limit_days": _null({**INTEGER, "description": "办理时限（工作日）"}),
    "deadline_at": _null(DATE_TIME),
    "deadline_estimated": {
        **BOOLEAN,
        "description": "办理期限落在尚无官方节假日安排的年份，按周一至周五估算（录入安排后自动重算）",
    },
    "flag": _null({**STRING, "description": "时限旗帜 green、yellow、red（从未亮旗为空）"}),
    "notice_count": INTEGER,
    "original_deadline_at": _null({**DATE_TIME, "description": "批准延期前的期限"}),
    "extensions_count": INTEGER,
    "outcome": _null({**STRING, "description": "办理结果 resolved、partly、not_solvable"}),
    "satisfaction": _null({**STRING, "description": "回访满意度"}),
    "created_at": DATE_TIME,
    "closed_at": _null(DATE_TIME),
}

TASK_HOLDER = {
    "task_id": STRING,
    "task_name": {**STRING, "description": "流程图中的任务 id"},
    "title": STRING,
    "role": {**STRING, "description": "办理角色（registrar、dispatcher、handler、leader 等）"},
    "unit_id": _null({**RECORD_ID, "description": "办理单位（单位任务）"}),
    "assignee_id": _null({**RECORD_ID, "description": "指定办理人"}),
    "holder": {**STRING, "description": "谁在办：人员、单位或角色的名称"},
    "created_at": DATE_TIME,
    "due_at": _null(DATE_TIME),
    "due_estimated": {**BOOLEAN, "description": "期限落在尚无官方节假日安排的年份，按周一至周五估算"},
    "form_key": _null({**STRING, "description": "任务表单"}),
}

TASK_ROW = TASK_HOLDER | {
    "kind": {"type": "string", "enum": ["case", "evaluation"], "description": "诉求的任务，或季度考评的任务"},
    "case_id": _null({**RECORD_ID, "description": "所属诉求（考评任务为空）"}),
    "case_no": {**STRING, "description": "诉求编号；考评任务为季度，如 2026-Q1"},
    "case_title": STRING,
    "enterprise_name": STRING,
    "field": STRING,
    "category": STRING,
    "channel": STRING,
    "urgency": STRING,
    "tier": _null(STRING),
    "round_no": INTEGER,
    "flag": _null(STRING),
    "can_act": {**BOOLEAN, "description": "当前用户能否办理"},
}

ENTERPRISE = {
    "enterprise_id": RECORD_ID,
    "name": STRING,
    "credit_code": {**STRING, "description": "统一社会信用代码"},
    "field": _null(STRING),
    "address": _null(STRING),
    "contact_name": _null(STRING),
    "contact_phone": _null(STRING),
    "created_at": DATE_TIME,
}

FIGURE_COUNTS = (
    {m: INTEGER for m in MEASURES}
    | {
        rate: _null({"type": "number", "description": "百分比（分母为 0 时为空）"})
        for rate in ("closure_rate", "resolution_rate", "on_time_rate", "satisfaction_rate", "reopen_rate")
    }
    | {"avg_days": _null({"type": "number", "description": "平均办结工作日（无办结时为空）"})}
)

FIGURE_FILTERS = {
    "field": _query("field", STRING, "只看某个领域"),
    "category": _query("category", STRING, "只看某个问题类别"),
    "channel": _query("channel", STRING, "只看某个反映渠道"),
    "tier": _query("tier", STRING, "只看某个办理层级"),
    "batch": _query("batch", STRING, "只看某个交办批次"),
    "unit": _query("unit", RECORD_ID, "只看某个单位（单位 id；承办单位用户只能看本单位）"),
}


def _schemas(register: dict) -> dict:
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "status": {"type": "integer", "description": "与 HTTP 状态码相同"},
                        "message": {**STRING, "description": "给用户看的说明：错在哪里、下一步怎么做"},
                        "fields": {
                            "type": "object",
                            "additionalProperties": STRING,
                            "description": '422：字段名 → 该字段的提示（"" 指整个表单）',
                        },
                        "problems": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "规则表或流程定义的问题（指明规则、元素）",
                        },
                    },
                    optional=("fields", "problems"),
                )
            }
        ),
        "TokenRequest": {
            "type": "object",
            "required": ["username", "password"],
            "properties": {"username": STRING, "password": STRING},
        },
        "Token": _object(
            {
                "token": STRING,
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_at": DATE_TIME,
                "user": _object(
                    {
                        "username": STRING,
                        "display_name": STRING,
                        "roles": {"type": "array", "items": STRING},
                        "unit": _null({**STRING, "description": "所属单位代码"}),
                    }
                ),
            }
        ),
        "ServiceTokenRequest": {
            "type": "object",
            "required": ["username", "name"],
            "properties": {
                "username": {**STRING, "description": "令牌代表的用户"},
                "name": {"type": "string", "minLength": 1, "maxLength": 100, "description": "用途"},
                "days": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": 3650,
                    "description": "有效天数；省略或 null 为长期有效",
                },
            },
        },
        "ServiceToken": _object(
            {
                "token": STRING,
                "token_id": RECORD_ID,
                "expires_at": _null({**DATE_TIME, "description": "长期有效时为空"}),
            }
        ),
        "EnterpriseInput": {
            "type": "object",
            "required": ["name", "credit_code"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "maxLength": 200},
                "credit_code": {**STRING, "description": "18 位统一社会信用代码（校验位会被检查）"},
                "field": _null(STRING),
                "address": _null({"type": "string", "maxLength": 200}),
                "contact_name": _null({"type": "string", "maxLength": 50}),
                "contact_phone": _null({"type": "string", "maxLength": 30}),
            },
        },
        "Enterprise": _object(ENTERPRISE),
        "EnterpriseFile": _object(
            ENTERPRISE
            | {
                "cases": {"type": "array", "items": _ref("CaseSummary"), "description": "最近的至多 200 件"},
                "case_total": {"type": "integer", "minimum": 0},
            },
            description="一企一档：企业信息和当前用户可见的诉求",
        ),
        "EnterprisePage": _page("Enterprise"),
        "CaseSummary": _object(CASE_SUMMARY),
        "CasePage": _page("CaseSummary"),
        "Case": _object(
            CASE_SUMMARY
            | {
                "description": STRING,
                "contact_name": _null(STRING),
                "contact_phone": _null(STRING),
                "signed_at": _null(DATE_TIME),
                "enterprise": _object({"enterprise_id": RECORD_ID, "name": STRING, "credit_code": STRING}),
                "units": {
                    "type": "array",
                    "items": _object(
                        {
                            "unit_id": RECORD_ID,
                            "name": _null(STRING),
                            "relation": {
                                **STRING,
                                "description": "lead（牵头）、co（协办）或 former（曾经承办）",
                            },
                        }
                    ),
                },
                "responsible_leader": _null(STRING),
                "registrar": _null(STRING),
                "current_tasks": {"type": "array", "items": _ref("CaseTask")},
                "timeline": {"type": "array", "items": _ref("CaseEvent")},
                "rounds": {
                    "type": "array",
                    "items": _object(
                        {
                            "round_no": {"type": "integer", "minimum": 1},
                            "started_at": DATE_TIME,
                            "ended_at": _null(DATE_TIME),
                            "result": _null({**STRING, "description": "closed 或 reopened"}),
                            "outcome": _null(STRING),
                            "satisfaction": _null(STRING),
                            "lead_unit": _null(STRING),
                        }
                    ),
                },
                "attachments": {"type": "array", "items": _ref("Attachment")},
                "pairing": {
                    "type": "array",
                    "items": _ref("Pairing"),
                    "description": "企业的包联（各层级的领导、单位、干部）",
                },
                "plan_items": {
                    "type": "array",
                    "description": "关联的一企一策事项（本单位可见的）",
                    "items": _object(
                        {
                            "item_id": RECORD_ID,
                            "title": STRING,
                            "status": STRING,
                            "plan_id": RECORD_ID,
                            "plan_title": STRING,
                        }
                    ),
                },
            },
            optional=("pairing", "plan_items"),
        ),
        "CaseTask": _object(TASK_HOLDER | {"can_act": BOOLEAN}, description="诉求当前的任务和办理人"),
        "CaseEvent": _object(
            {
                "event_id": RECORD_ID,
                "at": DATE_TIME,
                "kind": {**STRING, "description": "registered、task_completed、rule_decision 等"},
                "title": STRING,
                "actor": _null(STRING),
                "task_name": _null(STRING),
                "round_no": INTEGER,
                "data": {
                    "type": ["object", "null"],
                    "description": "事件的数据（提交的表单、规则表的决定…）",
                },
            }
        ),
        "RegisterCase": register,
        "Registered": _object(
            {
                "case_id": RECORD_ID,
                "case_no": STRING,
                "status": STRING,
                "tier": _null(STRING),
                "time_limit_days": _null(INTEGER),
                "replayed": {
                    **BOOLEAN,
                    "description": "true：同一 Idempotency-Key 的重试，返回的是第一次创建的诉求",
                },
            }
        ),
        "TaskRow": _object(TASK_ROW),
        "TaskPage": _page(
            "TaskRow",
            scope={"type": "string", "enum": ["mine", "unit"]},
            flag=_null({"type": "string", "enum": list(FLAGS)}),
        ),
        "Task": _object(
            TASK_ROW
            | {
                "quarter": _null({**STRING, "description": "考评任务的季度（诉求任务为空）"}),
                "lock_version": {**INTEGER, "description": "提交时带回；期间有人处理过则 409"},
                "form_schema": {
                    "type": ["object", "null"],
                    "description": "该任务表单的 JSON Schema（无表单时为空）",
                },
                "values": {"type": "object", "description": "表单预填的当前值"},
                "data": {"type": "object", "description": "流程中已有的数据"},
            }
        ),
        "CompleteTask": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {"type": "object", "description": "按任务 form_schema 填写的字段"},
                "lock_version": {
                    "type": ["integer", "null"],
                    "description": "取任务时的 lock_version；已变更则 409",
                },
            },
        },
        "Completed": {
            "oneOf": [
                _object(
                    {
                        "kind": {"const": "case"},
                        "task_id": STRING,
                        "title": STRING,
                        "case_id": RECORD_ID,
                        "case_no": STRING,
                        "status": {**STRING, "description": "诉求的新状态"},
                        "round_no": {"type": "integer", "minimum": 1},
                        "next_tasks": {
                            "type": "array",
                            "items": _object({"task_id": STRING, "title": STRING, "role": STRING}),
                            "description": "接下来的任务",
                        },
                    }
                ),
                _object(
                    {
                        "kind": {"const": "evaluation"},
                        "task_id": STRING,
                        "title": STRING,
                        "case_id": {"type": "null"},
                        "quarter": {**STRING, "description": "考评的季度，如 2026-Q1"},
                        "status": {**STRING, "description": "考评的新状态"},
                        "next_tasks": {"type": "array", "maxItems": 0},
                    }
                ),
            ]
        },
        "Attachment": _object(
            {
                "attachment_id": RECORD_ID,
                "filename": STRING,
                "content_type": STRING,
                "size": {"type": "integer", "minimum": 0},
                "uploaded_at": DATE_TIME,
                "task_name": _null({**STRING, "description": "在哪个任务的表单中提交（未关联时为空）"}),
                "round_no": _null(INTEGER),
                "case_id": _null({**RECORD_ID, "description": "所属诉求（上传后、在表单中引用前为空）"}),
            }
        ),
        "Figures": _object(
            {
                "period": _object({"code": STRING, "start": DATE, "end": DATE}),
                "group": _null({"type": "string", "enum": list(GROUPS)}),
                "role": {"type": "string", "enum": list(FIGURE_ROLES)},
                "filters": _object(
                    {name: (RECORD_ID if name == "unit" else STRING) for name in FIGURE_FILTER_NAMES},
                    optional=FIGURE_FILTER_NAMES,
                    description="实际生效的筛选条件（承办单位用户总含本单位）",
                ),
                "total": _ref("FigureCounts"),
                "rows": {"type": "array", "items": _ref("FigureRow")},
            }
        ),
        "FigureCounts": _object(FIGURE_COUNTS, description="计数和由其算出的比率，口径见 docs/figures.md"),
        "FigureRow": _object(
            {"key": {**STRING, "description": "分组的值（单位为单位 id）"}, "label": STRING} | FIGURE_COUNTS
        ),
        "Notification": _object(
            {
                "notification_id": RECORD_ID,
                "case_id": _null(RECORD_ID),
                "kind": STRING,
                "title": STRING,
                "body": _null(STRING),
                "created_at": DATE_TIME,
                "read_at": _null(DATE_TIME),
            }
        ),
        "NotificationPage": _page("Notification"),
        "MarkRead": {
            "type": "object",
            "properties": {
                "notification_ids": {
                    "type": "array",
                    "items": INTEGER,
                    "description": "要标为已读的通知；省略则全部。不是本人的或不存在的 id 不起作用",
                }
            },
        },
        "Marked": _object({"marked": {"type": "integer", "minimum": 0, "description": "本次标为已读的条数"}}),
        "TokenList": _object({"items": {"type": "array", "items": _ref("TokenInfo")}}),
        "TokenInfo": _object(
            {
                "token_id": RECORD_ID,
                "kind": {
                    "type": "string",
                    "enum": ["session", "login", "service"],
                    "description": "session：网页登录；login：POST /auth/token 取得的令牌；service：管理员签发的长期令牌",
                },
                "name": STRING,
                "username": _null(STRING),
                "client": _null({**STRING, "description": "签发时的浏览器或地址"}),
                "created_at": DATE_TIME,
                "last_used_at": _null(DATE_TIME),
                "expires_at": _null(DATE_TIME),
                "current": {**BOOLEAN, "description": "就是本次调用所用的令牌"},
            }
        ),
        **CALENDAR_SCHEMAS,
        **PAIRING_SCHEMAS,  # pairing (包联) and plans (一企一策): web/openapi_pairing.py
    }


ERROR_RESPONSES = {
    "401": "缺少访问令牌，或令牌无效、已过期",
    "403": "无权执行（角色不符，或是其他单位的诉求、任务）",
    "404": "不存在（id 超出范围时也是 404）",
    "409": "冲突：任务已被处理、已不在当前环节，或 Idempotency-Key 已用于不同内容",
    "413": "请求体超过上限",
    "422": "数据有误：error.fields 按字段给出提示",
    "429": "密码错误次数过多：Retry-After 秒后再试",
}


def openapi_document(base_path: str, register_schema: dict) -> dict:
    """The document for the API under `base_path`; `register_schema` is the live registration form."""
    register = dict(register_schema)
    register.pop("$schema", None)
    register.pop("$id", None)
    register = {
        **register,
        "properties": {**register["properties"], "new_enterprise": _ref("EnterpriseInput")},
    }
    register["required"] = [r for r in register.get("required", []) if r != "enterprise_id"]
    register["description"] = (
        "诉求登记表（当前生效的 register_problem 表单，设计人员修改后即时更新）；enterprise_id 与 new_enterprise 二选一"
    )
    secured = [{"bearer": []}]
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "解难 Jienan API",
            "version": "1.0.0",
            "description": "企业诉求闭环办理接口。先 POST /auth/token 取得令牌，再以 Authorization: Bearer <token> 调用。"
            "出错时返回 Error（error.status、error.message，数据有误时 error.fields）。"
            "Open311 GeoReport v2 接口（/open311/v2/…）按其自身规范提供，不在本文档中。",
        },
        "servers": [{"url": base_path}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(register),
            "responses": {
                code: _json(_ref("Error"), description) for code, description in ERROR_RESPONSES.items()
            }
            | {
                "429": _json(
                    _ref("Error"),
                    ERROR_RESPONSES["429"],
                    {
                        "Retry-After": {
                            "description": "需要等待的秒数",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    },
                )
            },
        },
        "paths": {
            "/auth/token": {
                "post": {
                    "summary": "用用户名和密码换取访问令牌（12 小时有效）",
                    "requestBody": _body(_ref("TokenRequest")),
                    "responses": {"200": _json(_ref("Token")), **_errors("401", "413", "422", "429")},
                }
            },
            "/auth/logout": {
                "post": {
                    "summary": "退出：本次调用所用的令牌立即失效",
                    "security": secured,
                    "responses": {"204": {"description": "已失效"}, **_errors("401")},
                }
            },
            "/auth/tokens": {
                "get": {
                    "summary": "我的有效登录和令牌（新的在前，current 标出本次所用的）",
                    "security": secured,
                    "responses": {"200": _json(_ref("TokenList")), **_errors("401")},
                }
            },
            "/auth/tokens/{token_id}": {
                "delete": {
                    "summary": "结束一个登录或令牌：自己的，或（管理员）任何人的",
                    "security": secured,
                    "parameters": [_path_id("token_id", "令牌 id")],
                    "responses": {
                        "204": {"description": "已结束（已结束的再结束也是 204）"},
                        **_errors("401", "403", "404"),
                    },
                }
            },
            "/auth/service-tokens": {
                "post": {
                    "summary": "管理员为其他系统签发长期令牌",
                    "security": secured,
                    "requestBody": _body(_ref("ServiceTokenRequest")),
                    "responses": {
                        "201": _json(_ref("ServiceToken"), "已签发（令牌只显示这一次）"),
                        **_errors("401", "403", "413", "422"),
                    },
                }
            },
            "/cases": {
                "get": {
                    "summary": "诉求查询（承办单位用户只看到本单位的诉求）",
                    "security": secured,
                    "parameters": [
                        _query("status", STRING, "诉求状态"),
                        _query("field", STRING, "所属领域"),
                        _query("category", STRING, "问题类别"),
                        _query("unit", STRING, "牵头或协办单位：单位 id 或单位代码"),
                        _query("channel", STRING, "反映渠道"),
                        _query("tier", STRING, "办理层级"),
                        _query("urgency", STRING, "紧急程度"),
                        _query("flag", STRING, "时限旗帜 green（含从未亮旗）、yellow、red"),
                        _query("library", STRING, "key（重点库）或 general"),
                        _query("batch", STRING, "交办批次"),
                        _query("date_from", DATE, "登记日期起（含）"),
                        _query("date_to", DATE, "登记日期止（含）"),
                        _query("q", STRING, "在编号、企业、标题和描述中查找（每个词都要出现）"),
                        _query("enterprise_id", RECORD_ID, "只看某个企业"),
                        _query("open", STRING, "任意非空值：只看未销号的"),
                        _query("overdue", STRING, "任意非空值：只看承办已超期的"),
                        _query(
                            "figure",
                            {"type": "string", "enum": list(MEASURES)},
                            "统计数据背后的诉求：某项统计（与 period、role 和分组条件一起用）",
                        ),
                        _query("period", STRING, "与 figure 一起用：统计期间，如 2026、2026-Q3、2026-07"),
                        _query("role", STRING, "与 figure 一起用：lead（牵头）或 co（协办）"),
                        *PAGING,
                    ],
                    "responses": {"200": _json(_ref("CasePage")), **_errors("401", "422")},
                },
                "post": {
                    "summary": "登记诉求（按分级规则表定层级和时限，并启动办理流程）",
                    "description": "其他系统（热线、小程序）提交时请带 Idempotency-Key：同一个键、同样的内容重试只会"
                    "得到第一次创建的诉求（200，响应头 Idempotent-Replayed: true）；同一个键换了内容返回 409。"
                    "channel 字段记录来源渠道。",
                    "security": secured,
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "1 到 200 个可打印字符",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        }
                    ],
                    "requestBody": _body(_ref("RegisterCase")),
                    "responses": {
                        "201": _json(
                            _ref("Registered"),
                            "已登记",
                            {"Location": {"description": "诉求详情的地址", "schema": STRING}},
                        ),
                        "200": _json(
                            _ref("Registered"),
                            "重试：返回第一次创建的诉求",
                            {
                                "Location": {"description": "诉求详情的地址", "schema": STRING},
                                "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}},
                            },
                        ),
                        **_errors("401", "403", "409", "413", "422"),
                    },
                },
            },
            "/cases/{case_id}": {
                "get": {
                    "summary": "诉求详情（当前环节、办理记录、轮次、附件）",
                    "security": secured,
                    "parameters": [_path_id("case_id", "诉求 id")],
                    "responses": {"200": _json(_ref("Case")), **_errors("401", "403", "404")},
                }
            },
            "/tasks": {
                "get": {
                    "summary": "待办：mine（我的，默认）或 unit（本单位）",
                    "security": secured,
                    "parameters": [
                        _query(
                            "scope", {"type": "string", "enum": ["mine", "unit"], "default": "mine"}, "范围"
                        ),
                        _query(
                            "flag",
                            {"type": "string", "enum": list(FLAGS)},
                            "只看某种旗帜（green 含从未亮旗的）",
                        ),
                        *PAGING,
                    ],
                    "responses": {"200": _json(_ref("TaskPage")), **_errors("401", "422")},
                }
            },
            "/tasks/{task_id}": {
                "get": {
                    "summary": "任务详情：表单 JSON Schema 和当前值",
                    "security": secured,
                    "parameters": [_task_id()],
                    "responses": {"200": _json(_ref("Task")), **_errors("401", "403", "404", "409")},
                }
            },
            "/tasks/{task_id}/complete": {
                "post": {
                    "summary": "提交任务表单",
                    "security": secured,
                    "parameters": [_task_id()],
                    "requestBody": _body(_ref("CompleteTask")),
                    "responses": {
                        "200": _json(_ref("Completed"), "已完成：诉求（或考评）的新状态和接下来的任务"),
                        **_errors("401", "403", "404", "409", "413", "422"),
                    },
                }
            },
            "/attachments": {
                "post": {
                    "summary": "上传附件（之后在表单的附件字段里引用其 attachment_id）",
                    "security": secured,
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        },
                        "multipart/form-data",
                    ),
                    "responses": {"201": _json(_ref("Attachment"), "已保存"), **_errors("401", "413", "422")},
                }
            },
            "/enterprises": {
                "get": {
                    "summary": "企业查询",
                    "security": secured,
                    "parameters": [_query("q", STRING, "企业名称或信用代码中的文字"), *PAGING],
                    "responses": {"200": _json(_ref("EnterprisePage")), **_errors("401", "422")},
                },
                "post": {
                    "summary": "新建企业（统一社会信用代码会被校验）",
                    "security": secured,
                    "requestBody": _body(_ref("EnterpriseInput")),
                    "responses": {
                        "201": _json(_ref("Enterprise"), "已新建"),
                        **_errors("401", "403", "413", "422"),
                    },
                },
            },
            "/enterprises/{enterprise_id}": {
                "get": {
                    "summary": "一企一档：企业及其诉求",
                    "security": secured,
                    "parameters": [_path_id("enterprise_id", "企业 id")],
                    "responses": {"200": _json(_ref("EnterpriseFile")), **_errors("401", "404")},
                }
            },
            "/figures": {
                "get": {
                    "summary": "统计数据：期间（period=2026-Q3、2026、2026-07 或 date_from/date_to）的收集、办结、"
                    "解决、按时、满意等数据，可按 unit/field/category/channel/tier/batch 分组和筛选；口径见 docs/figures.md",
                    "security": secured,
                    "parameters": [
                        _query(
                            "period",
                            STRING,
                            "统计期间：2026、2026-Q3、2026-07 或 2026-01-01~2026-03-31；缺省为本季度",
                        ),
                        _query("date_from", DATE, "起始日（与 date_to 一起代替 period，最长十年）"),
                        _query("date_to", DATE, "截止日"),
                        _query("group", {"type": "string", "enum": list(GROUPS)}, "分组方式"),
                        _query(
                            "role",
                            {"type": "string", "enum": list(FIGURE_ROLES), "default": "lead"},
                            "单位作为 lead（牵头）还是 co（协办）计入",
                        ),
                        *FIGURE_FILTERS.values(),
                    ],
                    "responses": {"200": _json(_ref("Figures")), **_errors("401", "403", "422")},
                }
            },
            "/notifications": {
                "get": {
                    "summary": "我的消息通知（新任务、催办、亮旗、升级等），新的在前",
                    "security": secured,
                    "parameters": [_query("unread", STRING, "1 或 true：只看未读"), *PAGING],
                    "responses": {"200": _json(_ref("NotificationPage")), **_errors("401", "422")},
                }
            },
            "/notifications/read": {
                "post": {
                    "summary": "标为已读（省略 notification_ids 则全部）",
                    "security": secured,
                    "requestBody": _body(_ref("MarkRead")),
                    "responses": {"200": _json(_ref("Marked")), **_errors("401", "413", "422")},
                }
            },
            **_calendar_paths(secured),
            **PAIRING_PATHS,  # pairing (包联) and plans (一企一策): web/openapi_pairing.py
        },
    }
    document = openapi_enterprises.extend(document)  # the enterprise file: web/openapi_enterprises.py
    # Any request may be refused for unusable text in a field (web/inputs.py: a NUL or an unpaired surrogate).
    for operation in (op for item in document["paths"].values() for op in item.values()):
        operation["responses"].setdefault("422", _error("422"))
    return document


def _task_id() -> dict:
    return {
        "name": "task_id",
        "in": "path",
        "required": True,
        "description": "任务 id（不存在时 404，已办理或已被流程收回时 409）",
        "schema": {"type": "string", "minLength": 1},
    }


# The official holiday schedules (admins only): engine.services.holidays.

_DAY = {"type": "string", "format": "date"}
_SNAPSHOT_DAY = _object({"date": _DAY, "name": _null(STRING)})
_SNAPSHOT = _object(
    {
        "reference": STRING,
        "holidays": {"type": "array", "items": _SNAPSHOT_DAY},
        "workdays": {"type": "array", "items": _SNAPSHOT_DAY},
    },
    description="录入的安排（文号、放假日、调休上班日）",
)
_SOURCE = {
    "type": "string",
    "enum": list(CALENDAR_SOURCES),
    "description": "entered：已录入的官方安排（优先）；library：chinesecalendar 内置数据；estimated：无官方数据，按周一至周五估算",
}
_MOVED_CASE = _object(
    {"case_id": RECORD_ID, "case_no": STRING, "from": _null(DATE_TIME), "to": _null(DATE_TIME)},
    description="期限重算了的诉求：原期限 → 新期限",
)
_MOVED_EVALUATION = _object(
    {"quarter": STRING, "from": DATE_TIME, "to": DATE_TIME},
    description="改期的季度考评：原开始时间 → 新开始时间",
)
_DAY_INPUT = {
    "oneOf": [
        {**_DAY, "description": "一天，YYYY-MM-DD"},
        {
            "type": "object",
            "required": ["date"],
            "properties": {
                "date": _DAY,
                "end": {**_null(_DAY), "description": "一段假期的最后一天（最长 31 天）"},
                "name": {
                    **_null({"type": "string", "maxLength": MAX_NAME}),
                    "description": "如 春节、国庆节",
                },
            },
        },
    ]
}
CALENDAR_SCHEMAS = {
    "CalendarDay": _object(
        {
            "date": _DAY,
            "name": _null({**STRING, "description": "节日名称"}),
            "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 为星期一"},
        }
    ),
    "CalendarChange": _object(
        {
            "change_id": RECORD_ID,
            "year": INTEGER,
            "at": DATE_TIME,
            "actor": _null(STRING),
            "action": {"type": "string", "enum": ["entered", "updated", "removed"]},
            "source": {"type": "string", "enum": list(CHANGE_SOURCES)},
            "summary": STRING,
            "before": {**_SNAPSHOT, "type": ["object", "null"]},
            "after": {**_SNAPSHOT, "type": ["object", "null"]},
            "recomputed": {
                "type": ["object", "null"],
                "description": "cases：重算期限的诉求数；moved：其中列出的诉求；evaluations：改期的考评",
                "properties": {
                    "cases": {"type": "integer", "minimum": 0},
                    "moved": {"type": "array", "items": _MOVED_CASE},
                    "evaluations": {"type": "array", "items": _MOVED_EVALUATION},
                },
            },
        }
    ),
    "CalendarYears": _object(
        {
            "today": _DAY,
            "missing": {
                "type": "array",
                "items": INTEGER,
                "description": "今年、明年中尚无官方安排的年份（其期限按周一至周五估算）",
            },
            "years": {
                "type": "array",
                "items": _object(
                    {
                        "year": INTEGER,
                        "source": _SOURCE,
                        "reference": _null({**STRING, "description": "录入的文号（未录入为空）"}),
                        "holidays": {"type": "integer", "minimum": 0, "description": "录入的放假天数"},
                        "workdays": {"type": "integer", "minimum": 0, "description": "录入的调休上班天数"},
                        "updated_at": _null(DATE_TIME),
                        "updated_by": _null(STRING),
                        "current": {**BOOLEAN, "description": "今年"},
                        "next": {**BOOLEAN, "description": "明年"},
                    }
                ),
            },
            "history": {"type": "array", "items": _ref("CalendarChange"), "description": "最近 20 次修改"},
            "max_rows": {**INTEGER, "description": "一次录入或导入的行数上限"},
        }
    ),
    "CalendarYear": _object(
        {
            "year": INTEGER,
            "source": _SOURCE,
            "reference": {**STRING, "description": "录入的文号（未录入为空字符串）"},
            "updated_at": _null(DATE_TIME),
            "updated_by": _null(STRING),
            "history": {"type": "array", "items": _ref("CalendarChange")},
            "holidays": {"type": "array", "items": _ref("CalendarDay")},
            "workdays": {"type": "array", "items": _ref("CalendarDay")},
            "holidays_text": {**STRING, "description": "录入表单中的放假日期（每行一天或一段，未录入为空）"},
            "workdays_text": {**STRING, "description": "录入表单中的调休上班日期"},
            "max_rows": INTEGER,
        }
    ),
    "CalendarInput": {
        "type": "object",
        "required": ["reference", "holidays"],
        "properties": {
            "reference": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_REFERENCE,
                "description": "通知文号，如 国办发明电〔2026〕X号",
            },
            "holidays": {
                "type": ["array", "null"],
                "items": _DAY_INPUT,
                "description": "放假的日子（含假期中的周六、周日），都应在该年内",
            },
            "workdays": {
                "type": ["array", "null"],
                "items": _DAY_INPUT,
                "description": "调休上班的周六、周日",
            },
        },
    },
    "CalendarSaved": {
        "oneOf": [
            _object(
                {
                    "year": INTEGER,
                    "changed": {"const": False},
                    "action": {"type": "null"},
                    "summary": STRING,
                },
                description="与已录入的安排相同，什么也没改",
            ),
            _object(
                {
                    "year": INTEGER,
                    "changed": {"const": True},
                    "action": {"type": "string", "enum": ["entered", "updated", "removed"]},
                    "summary": STRING,
                    "holidays": {**INTEGER, "description": "录入的放假天数（撤销时没有）"},
                    "workdays": {**INTEGER, "description": "录入的调休上班天数（撤销时没有）"},
                    "recomputed": {**INTEGER, "description": "重算了期限的未办结诉求数"},
                    "moved": {"type": "array", "items": _MOVED_CASE, "description": "其中的前 200 件"},
                    "evaluations": {"type": "array", "items": _MOVED_EVALUATION},
                    "change_id": {**RECORD_ID, "description": "这次修改的记录"},
                },
                optional=("holidays", "workdays"),
            ),
        ]
    },
}


def _calendar_paths(secured: list) -> dict:
    year = [
        {
            "name": "year",
            "in": "path",
            "required": True,
            "description": "年份：chinesecalendar 的第一年到十年后（其他年份 404）",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
        }
    ]
    saved = {"200": _json(_ref("CalendarSaved"), "已保存（或与已录入的相同）")}
    return {
        "/calendar": {
            "get": {
                "summary": "各年份工作日的依据（已录入 / 内置数据 / 估算）、尚缺官方安排的年份、修改记录（管理员）",
                "security": secured,
                "responses": {"200": _json(_ref("CalendarYears")), **_errors("401", "403")},
            }
        },
        "/calendar/{year}": {
            "get": {
                "summary": "某年的法定节假日安排和修改记录（管理员）",
                "security": secured,
                "parameters": year,
                "responses": {"200": _json(_ref("CalendarYear")), **_errors("401", "403", "404")},
            },
            "put": {
                "summary": "录入或整体替换某年的官方节假日安排（管理员）",
                "description": "录入的安排优先于 chinesecalendar 内置数据；未到期的办理期限、签收时限和流程计时器按新安排"
                "重算，每件受影响的诉求记入办理记录。任何一行有误都不保存，422 的 error.fields 按位置"
                "（如 holidays[2]）给出原因；409：另一位管理员同时修改了这一年，或保存时有诉求正在办理。",
                "security": secured,
                "parameters": year,
                "requestBody": _body(_ref("CalendarInput")),
                "responses": saved | _errors("401", "403", "404", "409", "413", "422"),
            },
            "delete": {
                "summary": "撤销某年录入的安排（之后按内置数据或周一至周五计算，并重算期限）（管理员）",
                "security": secured,
                "parameters": year,
                "responses": saved | _errors("401", "403", "404", "409"),
            },
        },
        "/calendar/{year}/import": {
            "post": {
                "summary": "从 .xlsx 或 .csv 文件导入某年的安排（列：日期、结束日期、类型、名称）（管理员）",
                "security": secured,
                "parameters": year,
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["file", "reference"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": ".xlsx 或 .csv，至多 1 MB",
                            },
                            "reference": {
                                "type": "string",
                                "maxLength": MAX_REFERENCE,
                                "description": "通知文号",
                            },
                        },
                    },
                    "multipart/form-data",
                ),
                "responses": saved | _errors("401", "403", "404", "409", "413", "422"),
            }
        },
    }
