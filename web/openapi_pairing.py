"""OpenAPI paths and component schemas of pairing (包联) and per-enterprise plans (一企一策), merged into the
document web/openapi.py builds. Refers to its "Error" schema and "bearer" security scheme."""

from __future__ import annotations

SECURED = [{"bearer": []}]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _query(*names: str) -> list[dict]:
    return [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]


ERRORS = {
    "401": _json(_ref("Error"), "缺少或无效的访问令牌"),
    "403": _json(_ref("Error"), "无权访问（如非企业服务办公室修改包联，或其他单位的措施）"),
    "404": _json(_ref("Error"), "不存在"),
    "422": _json(_ref("Error"), "数据有误：error.fields 按字段给出提示"),
}
NO_CONTENT = {"204": {"description": "已删除"}}


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


_NULLABLE_STR = {"type": ["string", "null"]}
_WHO = {
    "type": ["object", "null"],
    "properties": {"name": {"type": "string"}, "title": _NULLABLE_STR, "phone": _NULLABLE_STR},
}
_LEVEL_NAME = {"type": "string", "description": "层级名称（如 市级领导结对）或代码（如 city_leader）"}

SCHEMAS: dict = {
    "PairingLevel": {
        "type": "object",
        "properties": {
            "level_id": {"type": "integer"},
            "code": {"type": "string", "description": "稳定代码，建立后不变"},
            "name": {"type": "string"},
            "name_en": _NULLABLE_STR,
            "kind": {
                "enum": ["person", "unit", "enterprise"],
                "description": "person：领导或干部个人；unit：部门或镇街；enterprise：企业自己的负责人",
            },
            "gives_leader": {
                "type": "boolean",
                "description": "该层级中第一位有市领导账号的人在派单时默认为诉求的包联领导",
            },
            "sort_order": {"type": "integer"},
            "is_active": {"type": "boolean"},
            "pairings": {"type": "integer", "description": "该层级现有的包联条数"},
        },
    },
    "PairingLevelInput": {
        "type": "object",
        "required": ["name", "kind"],
        "properties": {
            "code": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]{1,29}$",
                "description": "新建时必填；修改时省略或与原代码相同",
            },
            "name": {"type": "string", "maxLength": 50},
            "name_en": {"type": ["string", "null"], "maxLength": 100},
            "kind": {"enum": ["person", "unit", "enterprise"], "description": "已有包联的层级不能改变"},
            "gives_leader": {"type": "boolean"},
            "sort_order": {"type": "integer", "minimum": 0, "maximum": 9999},
            "is_active": {"type": "boolean", "default": True},
        },
        "additionalProperties": False,
    },
    "Pairing": {
        "type": "object",
        "properties": {
            "pairing_id": {"type": "integer"},
            "enterprise_id": {"type": "integer"},
            "enterprise_name": {"type": "string"},
            "credit_code": {"type": "string"},
            "level_id": {"type": "integer"},
            "level_code": {"type": "string"},
            "level_name": {"type": "string"},
            "level_name_en": _NULLABLE_STR,
            "level_kind": {"enum": ["person", "unit", "enterprise"]},
            "gives_leader": {"type": "boolean"},
            "unit_id": {"type": ["integer", "null"], "description": "把这条包联视为本单位的单位"},
            "unit_name": _NULLABLE_STR,
            "person": {
                "type": ["object", "null"],
                "description": "名册人员（领导、干部）；username 为空表示没有系统账号",
                "properties": {
                    "person_id": {"type": "integer"},
                    "name": {"type": "string"},
                    "title": _NULLABLE_STR,
                    "phone": _NULLABLE_STR,
                    "username": _NULLABLE_STR,
                },
            },
            "contact": {**_WHO, "description": "企业负责人（企业负责人层级）"},
            "note": _NULLABLE_STR,
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "PairingInput": {
        "type": "object",
        "required": ["enterprise_id", "level"],
        "properties": {
            "enterprise_id": {"type": "integer"},
            "level": _LEVEL_NAME,
            "unit": {"type": "string", "description": "单位名称或代码（单位层级必填；个人层级为其所在单位）"},
            "name": {"type": "string", "maxLength": 50, "description": "个人、企业负责人层级必填"},
            "title": {"type": "string", "maxLength": 100},
            "phone": {"type": "string", "maxLength": 30},
            "account": {"type": "string", "description": "系统账号（登录名），有账号的领导、干部填写"},
            "note": {"type": "string", "maxLength": 200},
        },
        "additionalProperties": False,
    },
    "RosterImported": {
        "type": "object",
        "properties": {
            "imported": {"type": "integer"},
            "rows": {"type": "integer"},
            "enterprises": {"type": "integer"},
            "replaced": {"type": "integer", "description": "被替换掉的原有包联条数"},
            "people_created": {"type": "integer", "description": "名册新增的人数"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
    "RosterRowErrors": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "status": {"const": 422},
                    "message": {"type": "string"},
                    "rows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "row": {"type": "integer"},
                                "column": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    },
    "MyEnterprises": {
        "type": "object",
        "properties": {
            "scope": {"enum": ["mine", "unit"]},
            "scopes": {
                "type": "object",
                "properties": {"mine": {"type": "boolean"}, "unit": _NULLABLE_STR},
                "description": "mine：本人在包联名册中（已关联账号）；unit：所在单位名称",
            },
            "paired": {"type": "integer"},
            "with_open": {"type": "integer"},
            "with_red": {"type": "integer"},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "enterprise_id": {"type": "integer"},
                        "name": {"type": "string"},
                        "credit_code": {"type": "string"},
                        "levels": {"type": "array", "items": {"type": "object"}},
                        "open": {"type": "integer", "description": "未销号的诉求数"},
                        "red": {"type": "integer"},
                        "yellow": {"type": "integer"},
                        "open_cases": {
                            "type": "array",
                            "description": "最先到期的几件未办结诉求；visible 为 false 的由其他单位办理，本单位不能打开",
                            "items": {"type": "object"},
                        },
                        "last_visit": {
                            "type": ["object", "null"],
                            "description": "最近一次走访记录（走访活动中记录的走访）",
                            "properties": {
                                "at": {"type": "string", "format": "date-time"},
                                "date": {"type": "string", "format": "date"},
                                "source": {"const": "visit"},
                                "visit_id": {"type": "integer"},
                                "campaign_id": {"type": ["integer", "null"]},
                                "campaign": {"type": ["string", "null"]},
                                "visitors": {"type": "string"},
                                "problems": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        },
    },
    "PairingFigures": {
        "type": "object",
        "properties": {
            "by": {"enum": ["unit", "person"]},
            "enterprises": {"type": "integer", "description": "企业档案中的企业数"},
            "paired": {"type": "integer", "description": "在任一层级有包联的企业数"},
            "coverage": {"type": "number", "description": "paired ÷ enterprises × 100"},
            "per_level": {"type": "array", "items": {"type": "object"}},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "integer"},
                        "name": {"type": "string"},
                        "enterprises": {"type": "integer"},
                        "open": {"type": "integer"},
                        "red": {"type": "integer"},
                    },
                },
            },
        },
    },
    "RosterPerson": {
        "type": "object",
        "properties": {
            "person_id": {"type": "integer"},
            "name": {"type": "string"},
            "unit_id": {"type": ["integer", "null"]},
            "unit_name": _NULLABLE_STR,
            "title": _NULLABLE_STR,
            "phone": _NULLABLE_STR,
            "username": {"type": ["string", "null"], "description": "关联的系统账号；null 表示没有账号"},
            "enterprises": {"type": "integer"},
        },
    },
    "PlanSummary": {
        "type": "object",
        "properties": {
            "plan_id": {"type": "integer"},
            "enterprise_id": {"type": "integer"},
            "enterprise_name": {"type": "string"},
            "title": {"type": "string"},
            "status": {"enum": ["active", "closed"]},
            "items": {"type": "integer", "description": "措施数（承办单位人员只计本单位负责的）"},
            "done": {"type": "integer"},
            "cancelled": {"type": "integer"},
            "overdue": {"type": "integer"},
            "next_due": {"type": ["string", "null"], "format": "date"},
            "progress": {"type": "integer", "description": "已完成 ÷ 未取消的措施 × 100"},
        },
    },
    "PlanItem": {
        "type": "object",
        "properties": {
            "item_id": {"type": "integer"},
            "title": {"type": "string"},
            "owner_unit_id": {"type": "integer"},
            "owner_unit": {"type": "string"},
            "due_date": {"type": ["string", "null"], "format": "date"},
            "status": {"enum": ["pending", "in_progress", "done", "cancelled"]},
            "overdue": {"type": "boolean"},
            "progress_note": _NULLABLE_STR,
            "cases": {"type": "array", "items": {"type": "object"}},
            "can_update": {"type": "boolean"},
        },
    },
    "Plan": {
        "type": "object",
        "properties": {
            "plan_id": {"type": "integer"},
            "enterprise_id": {"type": "integer"},
            "enterprise_name": {"type": "string"},
            "title": {"type": "string"},
            "goal": _NULLABLE_STR,
            "status": {"enum": ["active", "closed"]},
            "progress": {"type": "integer"},
            "overdue": {"type": "integer"},
            "partial": {"type": "boolean", "description": "true：只含本单位负责的措施"},
            "items": {"type": "array", "items": _ref("PlanItem")},
            "history": {"type": "array", "items": {"type": "object"}},
        },
    },
    "PlanItemInput": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "owner_unit": {"type": "string", "description": "责任单位代码或编号"},
            "due_date": {"type": ["string", "null"], "format": "date"},
            "status": {"enum": ["pending", "in_progress", "done", "cancelled"]},
            "progress_note": {"type": ["string", "null"], "maxLength": 2000},
            "case_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 50},
        },
        "additionalProperties": False,
        "description": "责任单位人员只能改 status 和 progress_note（其他字段 403）",
    },
    "PlanInput": {
        "type": "object",
        "required": ["enterprise_id", "title"],
        "properties": {
            "enterprise_id": {"type": "integer"},
            "title": {"type": "string", "maxLength": 200},
            "goal": {"type": ["string", "null"], "maxLength": 2000},
            "status": {"enum": ["active", "closed"]},
            "items": {"type": "array", "items": _ref("PlanItemInput"), "maxItems": 100},
        },
        "additionalProperties": False,
    },
}

_EDITORS = "（企业服务办公室、活动办、系统管理员）"

PATHS: dict = {
    "/pairing-levels": {
        "get": {
            "summary": "包联层级（按排序）",
            "security": SECURED,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"items": {"type": "array", "items": _ref("PairingLevel")}},
                    }
                ),
                **ERRORS,
            },
        },
        "post": {
            "summary": "新增包联层级" + _EDITORS,
            "security": SECURED,
            "requestBody": _body(_ref("PairingLevelInput")),
            "responses": {"201": _json(_ref("PairingLevel")), **ERRORS},
        },
    },
    "/pairing-levels/{level_id}": {
        "put": {
            "summary": "修改包联层级（名称、排序、是否作为包联领导、停用）" + _EDITORS,
            "security": SECURED,
            "parameters": [_path("level_id")],
            "requestBody": _body(_ref("PairingLevelInput")),
            "responses": {"200": _json(_ref("PairingLevel")), **ERRORS},
        }
    },
    "/pairings": {
        "get": {
            "summary": "包联名册：按层级、单位、名册人员、企业或文字筛选；承办单位人员只看到本单位的包联",
            "security": SECURED,
            "parameters": _query("level", "unit", "person", "enterprise_id", "q", "page", "per_page"),
            "responses": {"200": _json(_page("Pairing")), **ERRORS},
        },
        "post": {
            "summary": "新增一条包联" + _EDITORS,
            "security": SECURED,
            "requestBody": _body(_ref("PairingInput")),
            "responses": {"201": _json(_ref("Pairing")), **ERRORS},
        },
    },
    "/pairings/{pairing_id}": {
        "delete": {
            "summary": "删除一条包联" + _EDITORS,
            "security": SECURED,
            "parameters": [_path("pairing_id")],
            "responses": {**NO_CONTENT, **ERRORS},
        }
    },
    "/pairings/import": {
        "post": {
            "summary": "导入包联名册 .xlsx" + _EDITORS,
            "description": "模板见页面“导入名册”。文件中出现的每家企业的每个层级以文件为准整体替换原有包联。任何一行有误都不保存："
            "422 的 error.rows 逐行给出行号、列和原因；文件本身有问题（不是 .xlsx、缺列、压缩炸弹、DTD 等）时 422 的 "
            "error.fields.file 说明原因。",
            "security": SECURED,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
            "responses": {
                "200": _json(_ref("RosterImported")),
                **ERRORS,
                "422": _json(
                    {"anyOf": [_ref("RosterRowErrors"), _ref("Error")]},
                    "有问题的行（error.rows）或文件（error.fields）",
                ),
            },
        }
    },
    "/pairings/mine": {
        "get": {
            "summary": "我包联的企业（scope=mine：本人；unit：本单位），含未办结问题、旗帜和最近走访",
            "security": SECURED,
            "parameters": [
                {"name": "scope", "in": "query", "schema": {"enum": ["mine", "unit"]}},
                {
                    "name": "open",
                    "in": "query",
                    "schema": {"enum": ["1"]},
                    "description": "只看有未办结问题的",
                },
                *_query("q", "page", "per_page"),
            ],
            "responses": {"200": _json(_ref("MyEnterprises")), **ERRORS},
        }
    },
    "/pairings/figures": {
        "get": {
            "summary": "包联统计：已包联企业、各层级，按单位（by=unit）或按领导干部（by=person）",
            "security": SECURED,
            "parameters": [
                {"name": "by", "in": "query", "schema": {"enum": ["unit", "person"]}},
                *_query("level", "page", "per_page"),
            ],
            "responses": {"200": _json(_ref("PairingFigures")), **ERRORS},
        }
    },
    "/roster-people": {
        "get": {
            "summary": "名册人员（领导、助企干部）及其系统账号",
            "security": SECURED,
            "parameters": [
                *_query("q", "unit", "page", "per_page"),
                {"name": "account", "in": "query", "schema": {"enum": ["yes", "no"]}},
            ],
            "responses": {"200": _json(_page("RosterPerson")), **ERRORS},
        }
    },
    "/roster-people/{person_id}/account": {
        "put": {
            "summary": "名册人员关联（或以 null 取消关联）系统账号" + _EDITORS,
            "security": SECURED,
            "parameters": [_path("person_id")],
            "requestBody": _body(
                {
                    "type": "object",
                    "properties": {"username": {"type": ["string", "null"]}},
                    "required": ["username"],
                }
            ),
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }
    },
    "/enterprises/{enterprise_id}/pairings": {
        "get": {
            "summary": "一家企业的全部包联（按层级排序）",
            "security": SECURED,
            "parameters": [_path("enterprise_id")],
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Pairing")}}}
                ),
                **ERRORS,
            },
        }
    },
    "/plans": {
        "get": {
            "summary": "一企一策列表及进度（有逾期措施的在前）；承办单位人员只看到有本单位措施的方案",
            "security": SECURED,
            "parameters": [
                *_query("q", "unit", "enterprise_id", "page", "per_page"),
                {"name": "status", "in": "query", "schema": {"enum": ["active", "closed"]}},
                {"name": "overdue", "in": "query", "schema": {"enum": ["1"]}},
            ],
            "responses": {"200": _json(_page("PlanSummary")), **ERRORS},
        },
        "post": {
            "summary": "制定一企一策（可同时给出措施）" + _EDITORS,
            "security": SECURED,
            "requestBody": _body(_ref("PlanInput")),
            "responses": {"201": _json(_ref("Plan")), **ERRORS},
        },
    },
    "/plans/{plan_id}": {
        "get": {
            "summary": "一企一策详情：措施、关联诉求、进度、变更记录（承办单位人员只含本单位的措施）",
            "security": SECURED,
            "parameters": [_path("plan_id")],
            "responses": {"200": _json(_ref("Plan")), **ERRORS},
        },
        "patch": {
            "summary": "修改标题、目标或状态" + _EDITORS,
            "security": SECURED,
            "parameters": [_path("plan_id")],
            "requestBody": _body(
                {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "goal": {"type": ["string", "null"]},
                        "status": {"enum": ["active", "closed"]},
                    },
                    "additionalProperties": False,
                }
            ),
            "responses": {"200": _json(_ref("Plan")), **ERRORS},
        },
    },
    "/plans/{plan_id}/items": {
        "post": {
            "summary": "添加措施" + _EDITORS,
            "security": SECURED,
            "parameters": [_path("plan_id")],
            "requestBody": _body(_ref("PlanItemInput")),
            "responses": {"201": _json({"type": "object"}), **ERRORS},
        }
    },
    "/plan-items/{item_id}": {
        "patch": {
            "summary": "更新措施：责任单位人员可改状态和进展，企业服务办公室可改全部",
            "security": SECURED,
            "parameters": [_path("item_id")],
            "requestBody": _body(_ref("PlanItemInput")),
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        },
        "delete": {
            "summary": "删除措施" + _EDITORS,
            "security": SECURED,
            "parameters": [_path("item_id")],
            "responses": {**NO_CONTENT, **ERRORS},
        },
    },
}
