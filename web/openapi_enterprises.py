"""The enterprise file's part of the OpenAPI document (web/api_enterprises.py): its paths and component schemas,
merged into the document by `extend`, which also adds the enterprise-class filters to /cases and /figures.

Kept apart from web/openapi.py so the two can change independently. Response objects list every key the
services return (all required unless marked optional, no others allowed).
"""

from __future__ import annotations

from engine.domain.vocabulary import AREA_KINDS
from engine.domain.vocabulary import FIELDS
from engine.domain.vocabulary import SECTORS
from engine.domain.vocabulary import SIZE_CLASSES
from engine.domain.vocabulary import TAG_KINDS
from engine.services import case_list
from engine.services import enterprises as enterprise_service
from engine.services.enterprise_xlsx import SHEETS

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1}
SECURED = [{"bearer": []}]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    nullable = {**schema, "type": [*types, "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _object(properties: dict, *, optional: tuple = (), description: str | None = None) -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _input(properties: dict, *, required: tuple = (), description: str | None = None) -> dict:
    """A request body: only these keys (others are refused with 422), `required` ones must be given."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def _json(schema: dict, description: str = "成功") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": "缺少访问令牌，或令牌无效、已过期",
    "403": "无权执行（角色不符）",
    "404": "不存在",
    "409": "冲突：仍被企业或统计数据使用，不能删除（可改为停用）",
    "422": "数据有误：error.fields 按字段给出提示",
}


def _errors(*codes: str) -> dict:
    return {code: _json(_ref("Error"), ERRORS[code]) for code in codes}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _path(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema or ID}


PAGING = [
    _query("page", {"type": "integer", "minimum": 1, "default": 1}, "页码"),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}, "每页条数（1–200）"),
]
ENTERPRISE_ID = _path("enterprise_id", "企业 id")
SIZE = {
    "type": "string",
    "enum": list(SIZE_CLASSES),
    "description": "企业规模：规上、限上、规下（国家统计口径）",
}
SECTOR = {"type": "string", "enum": list(SECTORS), "description": "行业：国民经济行业分类 GB/T 4754 门类字母"}
CLASS_FILTERS = {
    "area": _query("area", STRING, "企业所在乡镇街道（id、编码或名称；none 为未划分）"),
    "size": _query("size", {"type": "string", "enum": [*SIZE_CLASSES, "none"]}, "企业规模（none 为未定）"),
    "pool": _query("pool", STRING, "企业库（id、编码或名称）"),
    "tag": _query("tag", STRING, "标签（id、编码或名称）"),
}
FIGURE_CLASS_FILTERS = {
    "area": _query("area", STRING, "事实记录时企业所在乡镇街道（id 或编码）"),
    "size": _query("size", {"type": "string", "enum": list(SIZE_CLASSES)}, "事实记录时的企业规模"),
    "pool": _query("pool", STRING, "事实记录时企业所在的企业库（id 或编码）"),
    "tag": _query("tag", STRING, "事实记录时企业的标签（id 或编码）"),
}

MEMBERSHIP = _object(
    {
        "tag_id": ID,
        "code": STRING,
        "name": STRING,
        "kind": {"type": "string", "enum": list(TAG_KINDS), "description": "pool（企业库）或 tag（标签）"},
        "batch": _null({**STRING, "description": "批次（分批次的企业库，如挂牌服务第一批）"}),
        "since": _null({**DATE, "description": "日期（记日期的企业库，如挂牌日期）"}),
        "note": _null(STRING),
    }
)
ENTERPRISE = {
    "enterprise_id": ID,
    "name": STRING,
    "credit_code": {**STRING, "description": "18 位统一社会信用代码"},
    "field": _null({"type": "string", "enum": list(FIELDS), "description": "所属领域"}),
    "address": _null(STRING),
    "contact_name": _null({**STRING, "description": "主要联系人"}),
    "contact_phone": _null(STRING),
    "area_id": _null(ID),
    "area": _null({**STRING, "description": "乡镇街道名称"}),
    "size_class": _null(SIZE),
    "sector": _null(SECTOR),
    "tags": {"type": "array", "items": _ref("EnterpriseMembership"), "description": "当前所在的企业库和标签"},
    "created_at": DATE_TIME,
    "updated_at": _null(DATE_TIME),
}
CONTACT = {
    "name": {**STRING, "maxLength": 50},
    "position": _null({**STRING, "maxLength": 50, "description": "职务"}),
    "phone": _null({**STRING, "maxLength": 30}),
    "note": _null({**STRING, "maxLength": 200}),
}
YEAR_VALUES = {
    "output_value": _null({"type": "number", "minimum": 0, "description": "产值（万元，两位小数）"}),
    "revenue": _null({"type": "number", "minimum": 0, "description": "营业收入（万元，两位小数）"}),
    "employees": _null({"type": "integer", "minimum": 0, "maximum": 10_000_000, "description": "从业人数"}),
}
GROUP_ROW = _object(
    {
        "key": {**STRING, "description": "分组值（乡镇街道、企业库、标签为 id；none 为未划分）"},
        "label": _null(STRING),
        "count": INTEGER,
        "code": STRING,
    },
    optional=("code",),
)
AREA = {
    "area_id": ID,
    "code": STRING,
    "name": STRING,
    "kind": {
        "type": "string",
        "enum": list(AREA_KINDS),
        "description": "street 街道、town 镇、township 乡、zone 园区",
    },
    "unit_id": _null(ID),
    "unit": _null({**STRING, "description": "服务该乡镇街道企业的单位"}),
    "sort_order": INTEGER,
    "is_active": BOOLEAN,
    "updated_at": DATE_TIME,
    "enterprises": {**INTEGER, "description": "其中的企业数（列表和详情）"},
}
TAG = {
    "tag_id": ID,
    "code": STRING,
    "name": STRING,
    "kind": {"type": "string", "enum": list(TAG_KINDS)},
    "description": _null(STRING),
    "with_batch": {**BOOLEAN, "description": "加入时须填写批次"},
    "with_date": {**BOOLEAN, "description": "加入时记日期（留空为当天）"},
    "date_label": _null({**STRING, "description": "日期的名称，如挂牌日期"}),
    "sort_order": INTEGER,
    "is_active": BOOLEAN,
    "updated_at": DATE_TIME,
    "members": {**INTEGER, "description": "当前企业数（列表和详情）"},
}
CODE_INPUT = {
    **STRING,
    "pattern": "^[A-Za-z0-9_.-]{1,50}$",
    "description": "编码（留空自动生成；不能全是数字）",
}

SCHEMAS = {
    "EnterpriseMembership": MEMBERSHIP,
    "Enterprise": _object(ENTERPRISE),
    "EnterpriseUpdated": _object(
        {
            **ENTERPRISE,
            "changed": {"type": "array", "items": STRING, "description": "改动了的字段（和 contacts）"},
        }
    ),
    "EnterpriseInput": _input(
        {
            "name": {**STRING, "maxLength": 200},
            "credit_code": {**STRING, "description": "18 位统一社会信用代码（校验位会被检查）"},
            "field": _null({"type": "string", "enum": list(FIELDS)}),
            "address": _null({**STRING, "maxLength": 200}),
            "contact_name": _null({**STRING, "maxLength": 50}),
            "contact_phone": _null({**STRING, "maxLength": 30}),
            "area": _null({**STRING, "description": "乡镇街道：id、编码或名称（须未停用）"}),
            "size_class": _null(SIZE),
            "sector": _null({**STRING, "description": "门类字母 A–T，或“C 制造业”、“制造业”"}),
        },
        required=("name", "credit_code"),
    ),
    "EnterprisePatch": _input(
        {
            "name": {**STRING, "maxLength": 200},
            "credit_code": STRING,
            "field": _null({"type": "string", "enum": list(FIELDS)}),
            "address": _null({**STRING, "maxLength": 200}),
            "contact_name": _null({**STRING, "maxLength": 50}),
            "contact_phone": _null({**STRING, "maxLength": 30}),
            "area": _null(STRING),
            "size_class": _null(SIZE),
            "sector": _null(STRING),
            "contacts": _null(
                {
                    "type": "array",
                    "maxItems": 10,
                    "items": _input(CONTACT, required=("name",)),
                    "description": "其他联系人：给出时整体替换（null 或 [] 清空）",
                }
            ),
        },
        description="只改给出的字段；null 清空该字段",
    ),
    "EnterpriseFile": _object(
        {
            **ENTERPRISE,
            "contacts": {"type": "array", "items": _object({"contact_id": ID, **CONTACT})},
            "years": {"type": "array", "items": _object({"year": INTEGER, **YEAR_VALUES})},
            "past_tags": {
                "type": "array",
                "items": _object(
                    {
                        "tag_id": ID,
                        "name": STRING,
                        "kind": STRING,
                        "batch": _null(STRING),
                        "since": _null(DATE),
                        "added_at": DATE_TIME,
                        "removed_at": DATE_TIME,
                    }
                ),
                "description": "曾经加入、已移出的企业库和标签",
            },
            "changes": {
                "type": "array",
                "items": _object(
                    {
                        "at": DATE_TIME,
                        "actor": _null(STRING),
                        "action": STRING,
                        "source": {"type": "string", "enum": ["page", "api", "file"]},
                        "summary": STRING,
                    }
                ),
                "description": "变更记录（最近 50 条）",
            },
            "cases": {"type": "array", "items": _ref("CaseSummary")},
            "case_total": INTEGER,
        },
        description="一企一档",
    ),
    "EnterprisePage": _object(
        {
            "items": {"type": "array", "items": _ref("Enterprise")},
            "total": INTEGER,
            "page": INTEGER,
            "per_page": INTEGER,
            "pages": INTEGER,
            "filters": {"type": "object", "additionalProperties": STRING, "description": "生效的筛选条件"},
            "group": {"type": "string", "enum": list(enterprise_service.GROUPS)},
            "groups": {"type": "array", "items": GROUP_ROW, "description": "按 group 分组的企业数"},
        },
        optional=("group", "groups"),
    ),
    "EnterpriseYear": _object({"year": INTEGER, "changed": BOOLEAN, **YEAR_VALUES}),
    "EnterpriseYearInput": _input(
        {
            "output_value": _null({"type": ["number", "string"], "description": "产值（万元）"}),
            "revenue": _null({"type": ["number", "string"], "description": "营业收入（万元）"}),
            "employees": _null({"type": ["integer", "string"], "description": "从业人数"}),
        },
        description="至少一项",
    ),
    "MembershipInput": _input(
        {
            "tag": {"type": ["integer", "string"], "description": "企业库或标签：id、编码或名称"},
            "batch": _null(
                {**STRING, "maxLength": 50, "description": "批次（分批次的企业库必填，其他不填）"}
            ),
            "since": _null({**DATE, "description": "日期（记日期的企业库；留空为今天；不能晚于今天）"}),
            "note": _null({**STRING, "maxLength": 200}),
        },
        required=("tag",),
    ),
    "Memberships": _object(
        {"changed": BOOLEAN, "tags": {"type": "array", "items": _ref("EnterpriseMembership")}},
        optional=("changed",),
    ),
    "EnterpriseImportReport": _object(
        {
            "saved": {**BOOLEAN, "description": "是否已保存"},
            "mode": {"type": "string", "enum": ["all_or_nothing", "valid_rows", "check"]},
            "rows": {
                "type": "object",
                "properties": {sheet: INTEGER for sheet in SHEETS},
                "additionalProperties": False,
                "description": "各工作表的数据行数",
            },
            "created": INTEGER,
            "updated": INTEGER,
            "unchanged": INTEGER,
            "memberships": INTEGER,
            "years": INTEGER,
            "errors": {
                "type": "array",
                "items": _object({"sheet": STRING, "row": INTEGER, "column": STRING, "message": STRING}),
            },
        }
    ),
    "Area": _object(AREA, optional=("enterprises",)),
    "AreaList": _object({"items": {"type": "array", "items": _ref("Area")}}),
    "AreaInput": _input(
        {
            "name": {**STRING, "maxLength": 100},
            "code": _null(CODE_INPUT),
            "kind": {"type": "string", "enum": list(AREA_KINDS)},
            "unit": _null({"type": ["integer", "string"], "description": "服务单位：id 或编码"}),
            "sort_order": {"type": ["integer", "string"]},
            "is_active": BOOLEAN,
        },
        description="新建时 name 必填（kind 缺省 street）；修改时只改给出的字段",
    ),
    "EnterpriseTag": _object(TAG, optional=("members",)),
    "EnterpriseTagList": _object({"items": {"type": "array", "items": _ref("EnterpriseTag")}}),
    "EnterpriseTagInput": _input(
        {
            "name": {**STRING, "maxLength": 100},
            "code": _null(CODE_INPUT),
            "kind": {"type": "string", "enum": list(TAG_KINDS)},
            "description": _null({**STRING, "maxLength": 500}),
            "with_batch": BOOLEAN,
            "with_date": BOOLEAN,
            "date_label": _null({**STRING, "maxLength": 20}),
            "sort_order": {"type": ["integer", "string"]},
            "is_active": BOOLEAN,
        },
        description="新建时 name 必填（kind 缺省 tag）；修改时只改给出的字段",
    ),
}


def _body(name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


XLSX_RESPONSE = {
    "description": "企业名录 .xlsx（企业名录、企业库与标签、年度数据三个工作表，可修改后导入）",
    "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
}
SEARCH = [
    _query("q", STRING, "企业名称或信用代码中的文字"),
    *CLASS_FILTERS.values(),
    _query("sector", STRING, "行业门类字母（none 为未定）"),
    _query("field", {"type": "string", "enum": list(FIELDS)}, "所属领域"),
]

PATHS = {
    "/enterprises": {
        "get": {
            "summary": "企业查询：按名称或信用代码、乡镇街道、规模、行业、领域、企业库、标签筛选；group 给出分组计数",
            "security": SECURED,
            "parameters": [
                *SEARCH,
                _query("group", {"type": "string", "enum": list(enterprise_service.GROUPS)}, "分组计数"),
                *PAGING,
            ],
            "responses": {"200": _json(_ref("EnterprisePage")), **_errors("401", "422")},
        },
        "post": {
            "summary": "新建企业档案（统一社会信用代码会被校验）",
            "security": SECURED,
            "requestBody": _body("EnterpriseInput"),
            "responses": {"201": _json(_ref("Enterprise"), "已新建"), **_errors("401", "403", "422")},
        },
    },
    "/enterprises/{enterprise_id}": {
        "get": {
            "summary": "一企一档：企业、分类、企业库与标签（含历史）、联系人、年度数据、变更记录、诉求",
            "security": SECURED,
            "parameters": [ENTERPRISE_ID],
            "responses": {"200": _json(_ref("EnterpriseFile")), **_errors("401", "404")},
        },
        "patch": {
            "summary": "修改企业信息和其他联系人（记入变更记录）",
            "security": SECURED,
            "parameters": [ENTERPRISE_ID],
            "requestBody": _body("EnterprisePatch"),
            "responses": {"200": _json(_ref("EnterpriseUpdated")), **_errors("401", "403", "404", "422")},
        },
    },
    "/enterprises/{enterprise_id}/years/{year}": {
        "put": {
            "summary": "录入或覆盖某年度的产值、营业收入、从业人数",
            "security": SECURED,
            "parameters": [ENTERPRISE_ID, _path("year", "年度（1978 至今年）", INTEGER)],
            "requestBody": _body("EnterpriseYearInput"),
            "responses": {"200": _json(_ref("EnterpriseYear")), **_errors("401", "403", "404", "422")},
        },
        "delete": {
            "summary": "删除某年度的数据",
            "security": SECURED,
            "parameters": [ENTERPRISE_ID, _path("year", "年度", INTEGER)],
            "responses": {"204": {"description": "已删除"}, **_errors("401", "403", "404")},
        },
    },
    "/enterprises/{enterprise_id}/memberships": {
        "post": {
            "summary": "把企业加入企业库或标签（已在其中则修改批次、日期、备注）",
            "security": SECURED,
            "parameters": [ENTERPRISE_ID],
            "requestBody": _body("MembershipInput"),
            "responses": {"200": _json(_ref("Memberships")), **_errors("401", "403", "404", "422")},
        }
    },
    "/enterprises/{enterprise_id}/memberships/{tag}": {
        "delete": {
            "summary": "把企业移出企业库或标签（移出记录保留）",
            "security": SECURED,
            "parameters": [ENTERPRISE_ID, _path("tag", "企业库或标签：id、编码或名称", STRING)],
            "responses": {"200": _json(_ref("Memberships")), **_errors("401", "403", "404")},
        }
    },
    "/enterprises/export.xlsx": {
        "get": {
            "summary": "导出企业名录（筛选条件同企业查询；承办单位用户不可导出）",
            "security": SECURED,
            "parameters": SEARCH,
            "responses": {"200": XLSX_RESPONSE, **_errors("401", "403", "422")},
        }
    },
    "/enterprises/import": {
        "post": {
            "summary": "导入企业名录 .xlsx：逐行检查；mode=all_or_nothing（有问题全部不导入，422）、valid_rows 或 check",
            "security": SECURED,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "mode": {"type": "string", "enum": ["all_or_nothing", "valid_rows", "check"]},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(_ref("EnterpriseImportReport"), "已导入（或只检查）：各行的问题"),
                "422": _json(
                    {
                        "type": "object",
                        "properties": {
                            "error": {"type": "object"},
                            "report": _ref("EnterpriseImportReport"),
                        },
                    },
                    "文件本身有误，或有问题的行使整表没有导入（report 列出每一处）",
                ),
                **_errors("401", "403"),
            },
        }
    },
    "/areas": {
        "get": {
            "summary": "乡镇街道（active=1 只列启用的）",
            "security": SECURED,
            "parameters": [
                _query("active", {"type": "string", "enum": ["0", "1", "true", "false"]}, "只列启用的")
            ],
            "responses": {"200": _json(_ref("AreaList")), **_errors("401")},
        },
        "post": {
            "summary": "新增乡镇街道（活动办、管理员）",
            "security": SECURED,
            "requestBody": _body("AreaInput"),
            "responses": {"201": _json(_ref("Area"), "已新增"), **_errors("401", "403", "422")},
        },
    },
    "/areas/{area_id}": {
        "get": {
            "summary": "乡镇街道",
            "security": SECURED,
            "parameters": [_path("area_id", "乡镇街道 id")],
            "responses": {"200": _json(_ref("Area")), **_errors("401", "404")},
        },
        "patch": {
            "summary": "修改乡镇街道（停用：is_active=false）",
            "security": SECURED,
            "parameters": [_path("area_id", "乡镇街道 id")],
            "requestBody": _body("AreaInput"),
            "responses": {"200": _json(_ref("Area")), **_errors("401", "403", "404", "422")},
        },
        "delete": {
            "summary": "删除没有企业、未计入统计的乡镇街道",
            "security": SECURED,
            "parameters": [_path("area_id", "乡镇街道 id")],
            "responses": {"204": {"description": "已删除"}, **_errors("401", "403", "404", "409")},
        },
    },
    "/enterprise-tags": {
        "get": {
            "summary": "企业库与标签（kind=pool 或 tag；active=1 只列启用的）",
            "security": SECURED,
            "parameters": [
                _query("kind", {"type": "string", "enum": list(TAG_KINDS)}, "只列企业库或标签"),
                _query("active", {"type": "string", "enum": ["0", "1", "true", "false"]}, "只列启用的"),
            ],
            "responses": {"200": _json(_ref("EnterpriseTagList")), **_errors("401", "422")},
        },
        "post": {
            "summary": "新增企业库或标签（活动办、管理员）",
            "security": SECURED,
            "requestBody": _body("EnterpriseTagInput"),
            "responses": {"201": _json(_ref("EnterpriseTag"), "已新增"), **_errors("401", "403", "422")},
        },
    },
    "/enterprise-tags/{tag_id}": {
        "get": {
            "summary": "企业库或标签",
            "security": SECURED,
            "parameters": [_path("tag_id", "企业库或标签 id")],
            "responses": {"200": _json(_ref("EnterpriseTag")), **_errors("401", "404")},
        },
        "patch": {
            "summary": "修改企业库或标签（停用：is_active=false）",
            "security": SECURED,
            "parameters": [_path("tag_id", "企业库或标签 id")],
            "requestBody": _body("EnterpriseTagInput"),
            "responses": {"200": _json(_ref("EnterpriseTag")), **_errors("401", "403", "404", "422")},
        },
        "delete": {
            "summary": "删除从未有企业加入、未计入统计的企业库或标签",
            "security": SECURED,
            "parameters": [_path("tag_id", "企业库或标签 id")],
            "responses": {"204": {"description": "已删除"}, **_errors("401", "403", "404", "409")},
        },
    },
}


def _add_parameters(operation: dict | None, parameters: list[dict]) -> None:
    if operation is None:
        return
    have = {p.get("name") for p in operation.setdefault("parameters", [])}
    operation["parameters"] += [p for p in parameters if p["name"] not in have]


def _allow(document: dict, schema: dict, properties: dict) -> None:
    """Optional `properties` on an object schema (given inline or as a reference to a component)."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = document["components"]["schemas"].get(ref.rsplit("/", 1)[1], {})
    if isinstance(schema.get("properties"), dict):
        schema["properties"].update(properties)


def extend(document: dict) -> dict:
    """`document` with the enterprise file's paths and schemas, and the enterprise-class filters (and grouping)
    on the case list and the figures."""
    document.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    document.setdefault("paths", {}).update(PATHS)
    cases = document["paths"].get("/cases", {}).get("get")
    _add_parameters(
        cases,
        [
            *CLASS_FILTERS.values(),
            _query("group", {"type": "string", "enum": list(case_list.GROUPS)}, "分组计数（按企业当前分类）"),
        ],
    )
    if cases is not None:  # the list answers `group` and `groups` when asked for a grouping
        schema = cases["responses"]["200"]["content"]["application/json"]["schema"]
        _allow(
            document,
            schema,
            {
                "group": {"type": "string", "enum": list(case_list.GROUPS)},
                "groups": {"type": "array", "items": GROUP_ROW},
            },
        )
    _add_parameters(document["paths"].get("/figures", {}).get("get"), list(FIGURE_CLASS_FILTERS.values()))
    return document
