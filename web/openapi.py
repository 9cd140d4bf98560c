"""The OpenAPI 3.1 document of /api/v1, built from the same form schemas the engine validates with."""

from __future__ import annotations

from web import openapi_enterprises
from web.openapi_pairing import PATHS as PAIRING_PATHS
from web.openapi_pairing import SCHEMAS as PAIRING_SCHEMAS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": _json(_ref("Error"), "缺少或无效的访问令牌"),
    "403": _json(_ref("Error"), "无权访问（例如其他单位的任务或诉求）"),
    "404": _json(_ref("Error"), "不存在"),
    "422": _json(_ref("Error"), "数据有误：error.fields 按字段给出提示"),
}


def _page(item: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    }


def _query(*names: str) -> list[dict]:
    return [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]


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
    return openapi_enterprises.extend(_document(base_path, register, secured))


def _document(base_path: str, register: dict, secured: list) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "解难 Jienan API",
            "version": "1.0.0",
            "description": "企业诉求闭环办理接口。先 POST /auth/token 取得令牌，再以 Authorization: Bearer <token> 调用。",
        },
        "servers": [{"url": base_path}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                            },
                        }
                    },
                },
                "EnterpriseInput": {
                    "type": "object",
                    "required": ["name", "credit_code"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 200},
                        "credit_code": {
                            "type": "string",
                            "description": "18 位统一社会信用代码（校验位会被检查）",
                        },
                        "field": {"type": "string"},
                        "address": {"type": "string"},
                        "contact_name": {"type": "string"},
                        "contact_phone": {"type": "string"},
                    },
                },
                "Enterprise": {
                    "type": "object",
                    "properties": {
                        "enterprise_id": {"type": "integer"},
                        "name": {"type": "string"},
                        "credit_code": {"type": "string"},
                        "field": {"type": ["string", "null"]},
                        "cases": {"type": "array", "items": _ref("CaseSummary")},
                    },
                },
                "CaseSummary": {
                    "type": "object",
                    "properties": {
                        "case_id": {"type": "integer"},
                        "case_no": {"type": "string"},
                        "title": {"type": "string"},
                        "enterprise_name": {"type": "string"},
                        "status": {"type": "string"},
                        "tier": {"type": ["string", "null"]},
                        "field": {"type": "string"},
                        "category": {"type": "string"},
                        "channel": {"type": "string"},
                        "round_no": {"type": "integer"},
                        "deadline_at": {"type": ["string", "null"], "format": "date-time"},
                        "deadline_estimated": {
                            "type": "boolean",
                            "description": "办理期限落在尚无官方节假日安排的年份，按周一至周五估算（录入安排后自动重算）",
                        },
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Case": {
                    "allOf": [
                        _ref("CaseSummary"),
                        {
                            "type": "object",
                            "properties": {
                                "description": {"type": "string"},
                                "current_tasks": {"type": "array", "items": _ref("Task")},
                                "timeline": {"type": "array", "items": {"type": "object"}},
                                "rounds": {"type": "array", "items": {"type": "object"}},
                                "attachments": {"type": "array", "items": _ref("Attachment")},
                            },
                        },
                    ]
                },
                "Task": {
                    "type": "object",
                    "properties": {
                        "task_id": {"type": "string"},
                        "task_name": {"type": "string"},
                        "title": {"type": "string"},
                        "role": {"type": "string"},
                        "holder": {"type": "string"},
                        "case_id": {"type": "integer"},
                        "due_at": {"type": ["string", "null"], "format": "date-time"},
                        "due_estimated": {
                            "type": "boolean",
                            "description": "期限落在尚无官方节假日安排的年份，按周一至周五估算",
                        },
                        "form_key": {"type": ["string", "null"]},
                        "can_act": {"type": "boolean"},
                        "lock_version": {"type": "integer"},
                        "form_schema": {
                            "type": ["object", "null"],
                            "description": "该任务表单的 JSON Schema",
                        },
                        "values": {"type": "object", "description": "表单当前值"},
                    },
                },
                "Attachment": {
                    "type": "object",
                    "properties": {
                        "attachment_id": {"type": "integer"},
                        "filename": {"type": "string"},
                        "size": {"type": "integer"},
                        "content_type": {"type": "string"},
                    },
                },
                "RegisterCase": register,
                **CALENDAR_SCHEMAS,
                **PAIRING_SCHEMAS,  # pairing (包联) and plans (一企一策): web/openapi_pairing.py
            },
        },
        "paths": {
            "/auth/token": {
                "post": {
                    "summary": "用用户名和密码换取访问令牌（12 小时有效）",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["username", "password"],
                                    "properties": {
                                        "username": {"type": "string"},
                                        "password": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"token": {"type": "string"}, "expires_at": {"type": "string"}},
                            }
                        ),
                        "401": ERRORS["401"],
                    },
                }
            },
            "/auth/service-tokens": {
                "post": {
                    "summary": "管理员为其他系统签发长期令牌",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["username", "name"],
                                    "properties": {
                                        "username": {"type": "string"},
                                        "name": {"type": "string"},
                                        "days": {"type": ["integer", "null"]},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"201": _json({"type": "object"}), **ERRORS},
                }
            },
            "/cases": {
                "get": {
                    "summary": "诉求查询",
                    "security": secured,
                    "parameters": _query(
                        "status",
                        "field",
                        "category",
                        "unit",
                        "channel",
                        "tier",
                        "urgency",
                        "date_from",
                        "date_to",
                        "q",
                        "enterprise_id",
                        "page",
                        "per_page",
                    ),
                    "responses": {"200": _json(_page("CaseSummary")), **ERRORS},
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
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("RegisterCase")}},
                    },
                    "responses": {
                        "201": _json({"type": "object"}),
                        "200": _json({"type": "object"}),
                        **ERRORS,
                    },
                },
            },
            "/cases/{case_id}": {
                "get": {
                    "summary": "诉求详情（当前环节、办理记录、轮次、附件）",
                    "security": secured,
                    "parameters": [
                        {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {"200": _json(_ref("Case")), **ERRORS},
                }
            },
            "/tasks": {
                "get": {
                    "summary": "待办：mine（我的）或 unit（本单位）",
                    "security": secured,
                    "parameters": [
                        {"name": "scope", "in": "query", "schema": {"enum": ["mine", "unit"]}},
                        {
                            "name": "flag",
                            "in": "query",
                            "description": "只看某种旗帜（green 含从未亮旗的）",
                            "schema": {"enum": ["green", "yellow", "red"]},
                        },
                        *_query("page", "per_page"),
                    ],
                    "responses": {"200": _json(_page("Task")), **ERRORS},
                }
            },
            "/tasks/{task_id}": {
                "get": {
                    "summary": "任务详情：表单 JSON Schema 和当前值",
                    "security": secured,
                    "parameters": [
                        {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": _json(_ref("Task")), **ERRORS},
                }
            },
            "/tasks/{task_id}/complete": {
                "post": {
                    "summary": "提交任务表单",
                    "security": secured,
                    "parameters": [
                        {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["data"],
                                    "properties": {
                                        "data": {
                                            "type": "object",
                                            "description": "按任务 form_schema 填写的字段",
                                        },
                                        "lock_version": {
                                            "type": "integer",
                                            "description": "取任务时的 lock_version；已变更则 409",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json({"type": "object"}),
                        **ERRORS,
                        "409": _json(_ref("Error"), "任务已被处理或已不在当前环节"),
                    },
                }
            },
            "/attachments": {
                "post": {
                    "summary": "上传附件（之后在表单的附件字段里引用其 attachment_id）",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                }
                            }
                        },
                    },
                    "responses": {"201": _json(_ref("Attachment")), **ERRORS},
                }
            },
            "/enterprises": {
                "get": {
                    "summary": "企业查询",
                    "security": secured,
                    "parameters": _query("q", "page", "per_page"),
                    "responses": {"200": _json(_page("Enterprise")), **ERRORS},
                },
                "post": {
                    "summary": "新建企业（统一社会信用代码会被校验）",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("EnterpriseInput")}},
                    },
                    "responses": {"201": _json(_ref("Enterprise")), **ERRORS},
                },
            },
            "/figures": {
                "get": {
                    "summary": "统计数据：期间（period=2026-Q3、2026、2026-07 或 date_from/date_to）的收集、办结、"
                    "解决、按时、满意等数据，可按 unit/field/category/channel/tier/batch 分组和筛选；口径见 docs/figures.md",
                    "security": secured,
                    "parameters": _query(
                        "period",
                        "date_from",
                        "date_to",
                        "group",
                        "role",
                        "unit",
                        "field",
                        "category",
                        "channel",
                        "tier",
                        "batch",
                    ),
                    "responses": {"200": _json({"type": "object"}), **ERRORS},
                }
            },
            "/notifications": {
                "get": {
                    "summary": "我的消息通知（新任务、催办、亮旗、升级等）",
                    "security": secured,
                    "parameters": _query("unread", "page", "per_page"),
                    "responses": {"200": _json({"type": "object"}), **ERRORS},
                }
            },
            "/notifications/read": {
                "post": {
                    "summary": "标为已读（省略 notification_ids 则全部）",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "notification_ids": {"type": "array", "items": {"type": "integer"}}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": _json({"type": "object"}), **ERRORS},
                }
            },
            **calendar_paths(secured),
            **PAIRING_PATHS,  # pairing (包联) and plans (一企一策): web/openapi_pairing.py
            "/enterprises/{enterprise_id}": {
                "get": {
                    "summary": "一企一档：企业及其全部诉求",
                    "security": secured,
                    "parameters": [
                        {
                            "name": "enterprise_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {"200": _json(_ref("Enterprise")), **ERRORS},
                }
            },
        },
    }


_SOURCE = {
    "type": "string",
    "enum": ["entered", "library", "estimated"],
    "description": "entered：已录入的官方安排（优先）；library：chinesecalendar 内置数据；estimated：无官方数据，按周一至周五估算",
}
_DAY_INPUT = {
    "oneOf": [
        {"type": "string", "format": "date", "description": "一天，YYYY-MM-DD"},
        {
            "type": "object",
            "required": ["date"],
            "properties": {
                "date": {"type": "string", "format": "date"},
                "end": {"type": ["string", "null"], "format": "date", "description": "一段假期的最后一天"},
                "name": {"type": ["string", "null"], "maxLength": 50, "description": "如 春节、国庆节"},
            },
        },
    ]
}
_SNAPSHOT = {
    "type": ["object", "null"],
    "properties": {
        "reference": {"type": "string"},
        "holidays": {"type": "array", "items": {"type": "object"}},
        "workdays": {"type": "array", "items": {"type": "object"}},
    },
}
CALENDAR_SCHEMAS = {
    "CalendarDay": {
        "type": "object",
        "properties": {
            "date": {"type": "string", "format": "date"},
            "name": {"type": ["string", "null"]},
            "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 为星期一"},
        },
    },
    "CalendarChange": {
        "type": "object",
        "properties": {
            "change_id": {"type": "integer"},
            "year": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "actor": {"type": ["string", "null"]},
            "action": {"type": "string", "enum": ["entered", "updated", "removed"]},
            "source": {"type": "string", "enum": ["page", "file", "api"]},
            "summary": {"type": "string"},
            "before": _SNAPSHOT,
            "after": _SNAPSHOT,
            "recomputed": {
                "type": ["object", "null"],
                "description": "cases：重算期限的诉求数；moved：诉求及其期限 from → to",
            },
        },
    },
    "CalendarYears": {
        "type": "object",
        "properties": {
            "today": {"type": "string", "format": "date"},
            "missing": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "今年、明年中尚无官方安排的年份（其期限按周一至周五估算）",
            },
            "years": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "year": {"type": "integer"},
                        "source": _SOURCE,
                        "reference": {"type": ["string", "null"]},
                        "holidays": {"type": "integer"},
                        "workdays": {"type": "integer"},
                        "updated_at": {"type": ["string", "null"], "format": "date-time"},
                        "updated_by": {"type": ["string", "null"]},
                    },
                },
            },
            "history": {"type": "array", "items": _ref("CalendarChange")},
        },
    },
    "CalendarYear": {
        "type": "object",
        "properties": {
            "year": {"type": "integer"},
            "source": _SOURCE,
            "reference": {"type": "string"},
            "holidays": {"type": "array", "items": _ref("CalendarDay")},
            "workdays": {"type": "array", "items": _ref("CalendarDay")},
            "history": {"type": "array", "items": _ref("CalendarChange")},
        },
    },
    "CalendarInput": {
        "type": "object",
        "required": ["reference", "holidays"],
        "properties": {
            "reference": {
                "type": "string",
                "maxLength": 200,
                "description": "通知文号，如 国办发明电〔2026〕X号",
            },
            "holidays": {
                "type": "array",
                "items": _DAY_INPUT,
                "description": "放假的日子（含假期中的周六、周日），都应在该年内",
            },
            "workdays": {
                "type": "array",
                "items": _DAY_INPUT,
                "description": "调休上班的周六、周日",
            },
        },
    },
    "CalendarSaved": {
        "type": "object",
        "properties": {
            "year": {"type": "integer"},
            "changed": {"type": "boolean", "description": "false：与已录入的安排相同，什么也没改"},
            "action": {"type": ["string", "null"], "enum": ["entered", "updated", "removed", None]},
            "summary": {"type": "string"},
            "holidays": {"type": "integer"},
            "workdays": {"type": "integer"},
            "recomputed": {"type": "integer", "description": "重算了期限的未办结诉求数"},
            "moved": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "case_id": {"type": "integer"},
                        "case_no": {"type": "string"},
                        "from": {"type": ["string", "null"], "format": "date-time"},
                        "to": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
            },
            "change_id": {"type": "integer"},
        },
    },
}


def calendar_paths(secured: list) -> dict:
    """The official holiday schedules (admins only)."""
    year = [{"name": "year", "in": "path", "required": True, "schema": {"type": "integer"}}]
    return {
        "/calendar": {
            "get": {
                "summary": "各年份工作日的依据（已录入 / 内置数据 / 估算）、尚缺官方安排的年份、修改记录（管理员）",
                "security": secured,
                "responses": {"200": _json(_ref("CalendarYears")), **ERRORS},
            }
        },
        "/calendar/{year}": {
            "get": {
                "summary": "某年的法定节假日安排和修改记录（管理员）",
                "security": secured,
                "parameters": year,
                "responses": {"200": _json(_ref("CalendarYear")), **ERRORS},
            },
            "put": {
                "summary": "录入或整体替换某年的官方节假日安排（管理员）",
                "description": "录入的安排优先于 chinesecalendar 内置数据；未到期的办理期限、签收时限和流程计时器按新安排"
                "重算，每件受影响的诉求记入办理记录。任何一行有误都不保存，422 的 error.fields 按位置"
                "（如 holidays[2]）给出原因。",
                "security": secured,
                "parameters": year,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("CalendarInput")}},
                },
                "responses": {
                    "200": _json(_ref("CalendarSaved")),
                    **ERRORS,
                    "409": _json(_ref("Error"), "另一位管理员同时修改了这一年"),
                },
            },
            "delete": {
                "summary": "撤销某年录入的安排（之后按内置数据或周一至周五计算，并重算期限）（管理员）",
                "security": secured,
                "parameters": year,
                "responses": {"200": _json(_ref("CalendarSaved")), **ERRORS},
            },
        },
        "/calendar/{year}/import": {
            "post": {
                "summary": "从 .xlsx 或 .csv 文件导入某年的安排（列：日期、结束日期、类型、名称）（管理员）",
                "security": secured,
                "parameters": year,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "reference"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "reference": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _json(_ref("CalendarSaved")), **ERRORS},
            }
        },
    }
