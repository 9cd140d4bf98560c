"""The OpenAPI 3.1 document of /api/v1, built from the same form schemas the engine validates with."""

from __future__ import annotations


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
