"""OpenAPI paths and component schemas of visit campaigns (走访) and rating rounds (测评), merged into the document
web/openapi.py builds. Refers to its "Error" schema and "bearer" security scheme."""

from __future__ import annotations

SECURED = [{"bearer": []}]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _path(name: str, kind: str = "integer", longest: int = 36) -> dict:
    schema = (
        {"type": "integer", "minimum": 1, "maximum": 2147483647}
        if kind == "integer"
        else {"type": "string", "maxLength": longest}
    )
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(*names: str) -> list[dict]:
    return [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string", "maxLength": 300}}
        for n in names
    ]


ERRORS = {
    "401": _json(_ref("Error"), "缺少或无效的访问令牌"),
    "403": _json(_ref("Error"), "无权访问（如非活动办创建活动，或其他单位的走访）"),
    "404": _json(_ref("Error"), "不存在"),
    "409": _json(_ref("Error"), "状态冲突（如活动已发布、任务已完成）"),
    "422": _json(_ref("Error"), "数据有误：error.fields 按字段给出提示"),
}
_NSTR = {"type": ["string", "null"]}
_NINT = {"type": ["integer", "null"]}
_NNUM = {"type": ["number", "null"]}
_DATE = {"type": "string", "format": "date"}
_TARGET_FILTERS = (
    "campaign",
    "status",
    "unit",
    "area",
    "wave",
    "cadre",
    "flag",
    "answer",
    "campaign_status",
    "target",
    "enterprise",
)

SCHEMAS: dict = {
    "CampaignInput": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 100},
            "description": _NSTR,
            "form_key": {
                "type": ["string", "null"],
                "description": "调查表（表单标识，如 visit_survey）；空为不用调查表",
            },
            "start_date": {**_DATE, "description": "不给 waves 时：唯一批次的开始日期"},
            "end_date": {**_DATE, "description": "不给 waves 时：唯一批次的截止日期"},
            "waves": {
                "type": "array",
                "maxItems": 12,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 50},
                        "start_date": _DATE,
                        "end_date": _DATE,
                    },
                },
            },
            "scope": {
                "type": "object",
                "description": "范围：按条件 {q, filters:{area,size,sector,field,pool,tag}}，或名单 {list:[{credit_code, wave, visitor}]}",
                "properties": {
                    "q": {"type": "string"},
                    "filters": {"type": "object", "additionalProperties": {"type": "string"}},
                    "list": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "credit_code": {"type": "string"},
                                "wave": {"type": "string", "description": "批次序号（1、2…）或名称"},
                                "visitor": {"type": "string", "description": "走访人账号"},
                            },
                        },
                    },
                },
            },
            "assignment": {
                "type": "object",
                "description": "走访人：按包联层级（mode=pairing, level），没有包联的由 user/unit 走访；或手工（mode=hand）全部由 user 或 unit 走访",
                "properties": {
                    "mode": {"enum": ["pairing", "hand"]},
                    "level": {"type": "string"},
                    "user": {"type": "string"},
                    "unit": {"type": "string"},
                },
            },
            "launch": {"type": "boolean", "description": "创建后立即发布"},
        },
    },
    "Coverage": {
        "type": "object",
        "description": "覆盖情况：范围内企业、已走访、待走访、超期未走访、覆盖率（%，无企业为 null）、走访次数、发现问题、每次走访问题数",
        "properties": {
            "key": {"type": "string"},
            "label": {"type": "string"},
            "in_scope": {"type": "integer"},
            "visited": {"type": "integer"},
            "pending": {"type": "integer"},
            "overdue": {"type": "integer"},
            "coverage": _NNUM,
            "visits": {"type": "integer"},
            "problems": {"type": "integer"},
            "problems_per_visit": _NNUM,
        },
    },
    "Campaign": {
        "type": "object",
        "properties": {
            "campaign_id": {"type": "integer"},
            "name": {"type": "string"},
            "description": _NSTR,
            "status": {"enum": ["draft", "running", "closed"]},
            "status_label": {"type": "string"},
            "form_key": _NSTR,
            "start_date": _DATE,
            "end_date": _DATE,
            "scope": {"type": "object"},
            "assignment": {"type": "object"},
            "coverage": _ref("Coverage"),
            "waves": {"type": "array", "items": {"type": "object"}},
            "total": _ref("Coverage"),
            "groups": {
                "type": "object",
                "description": "按 wave / unit / cadre / area 分组的覆盖情况",
                "additionalProperties": {"type": "array", "items": _ref("Coverage")},
            },
            "answers": {"type": "array", "items": {"type": "object"}, "description": "调查表各题的答案计数"},
        },
    },
    "VisitTarget": {
        "type": "object",
        "properties": {
            "target_id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "enterprise_id": {"type": "integer"},
            "enterprise_name": {"type": "string"},
            "wave": {"type": "string"},
            "area": _NSTR,
            "visitor": _NSTR,
            "visitor_key": {"type": "string", "description": "走访人筛选值：u<账号>、p<名册人员>、n<单位>"},
            "unit": _NSTR,
            "status": {"enum": ["pending", "visited", "withdrawn"]},
            "flag": {"enum": ["yellow", "red", None]},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "overdue": {"type": "boolean"},
            "visit": {"type": ["object", "null"]},
            "task_id": {"type": ["string", "null"], "description": "当前用户可办理的走访任务"},
        },
    },
    "VisitRecord": {
        "type": "object",
        "required": ["visited_on", "visitors", "met_with", "findings"],
        "properties": {
            "visited_on": _DATE,
            "visitors": {"type": "string", "description": "走访人员"},
            "met_with": {"type": "string", "description": "接待人（姓名、职务）"},
            "summary": {"type": "string"},
            "findings": {"enum": ["none", "problems"]},
            "answers": {"type": "object", "description": "活动调查表的答案（按调查表字段）"},
            "problems": {
                "type": "array",
                "maxItems": 10,
                "description": "发现的问题，每个登记为一件诉求（渠道 走访）：title, description, field, category, urgency, library, contact_name, contact_phone",
                "items": {"type": "object"},
            },
            "lock_version": {"type": "integer"},
        },
    },
    "Visit": {
        "type": "object",
        "properties": {
            "visit_id": {"type": "integer"},
            "campaign_id": _NINT,
            "enterprise_id": {"type": "integer"},
            "visited_on": _DATE,
            "visitors": {"type": "string"},
            "met_with": {"type": "string"},
            "answers": {"type": "array", "items": {"type": "object"}},
            "problems": {"type": "integer"},
            "cases": {"type": "array", "items": {"type": "object"}},
        },
    },
}

PATHS: dict = {
    "/campaigns": {
        "get": {
            "summary": "走访活动列表及覆盖率",
            "security": SECURED,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": _ref("Campaign")},
                            "total": _ref("Coverage"),
                        },
                    }
                ),
                **ERRORS,
            },
        },
        "post": {
            "summary": "新建走访活动（草稿，或 launch=true 立即发布）",
            "security": SECURED,
            "requestBody": _body(_ref("CampaignInput")),
            "responses": {"201": _json({"type": "object"}, "已创建"), **ERRORS},
        },
    },
    "/campaigns/import-list": {
        "post": {
            "summary": "读取企业名单（.xlsx），返回 scope.list 可用的行（不保存）",
            "security": SECURED,
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
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }
    },
    "/campaigns/{campaign_id}": {
        "get": {
            "summary": "走访活动：覆盖情况（合计，按批次、单位、走访人、乡镇街道）、调查表答案计数、活动记录",
            "security": SECURED,
            "parameters": [_path("campaign_id"), *_query("lang")],
            "responses": {"200": _json(_ref("Campaign")), **ERRORS},
        },
        "delete": {
            "summary": "删除草稿",
            "security": SECURED,
            "parameters": [_path("campaign_id")],
            "responses": {"204": {"description": "已删除"}, **ERRORS},
        },
    },
    "/campaigns/{campaign_id}/export.xlsx": {
        "get": {
            "summary": "导出走访企业（走访人、状态、走访记录、调查表答案）为 .xlsx；筛选同 /visit-targets",
            "security": SECURED,
            "parameters": [_path("campaign_id"), *_query(*_TARGET_FILTERS[1:])],
            "responses": {
                "200": {
                    "description": "xlsx",
                    "content": {
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                **ERRORS,
            },
        }
    },
    "/campaigns/{campaign_id}/launch": {
        "post": {
            "summary": "发布：为范围内每家企业生成走访任务",
            "security": SECURED,
            "parameters": [_path("campaign_id")],
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }
    },
    "/campaigns/{campaign_id}/close": {
        "post": {
            "summary": "结束活动：未完成的走访任务撤回",
            "security": SECURED,
            "parameters": [_path("campaign_id")],
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }
    },
    "/visit-targets": {
        "get": {
            "summary": "走访企业（可按活动、状态 pending/visited/withdrawn/overdue、单位、乡镇街道、批次、走访人、旗帜、调查表答案 field=value 筛选）",
            "security": SECURED,
            "parameters": _query(*_TARGET_FILTERS, "page", "per_page"),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": _ref("VisitTarget")},
                            "total": {"type": "integer"},
                        },
                    }
                ),
                **ERRORS,
            },
        }
    },
    "/visit-targets/{target_id}": {
        "patch": {
            "summary": "更换一家企业的走访人（活动办）：{user} 或 {unit}；未完成的走访任务立即转交",
            "security": SECURED,
            "parameters": [_path("target_id")],
            "requestBody": _body(
                {"type": "object", "properties": {"user": {"type": "string"}, "unit": {"type": "string"}}}
            ),
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }
    },
    "/visits/coverage": {
        "get": {
            "summary": "走访覆盖率：按 campaign / wave / unit / cadre / area 分组",
            "security": SECURED,
            "parameters": _query("group", *_TARGET_FILTERS),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "rows": {"type": "array", "items": _ref("Coverage")},
                            "total": _ref("Coverage"),
                        },
                    }
                ),
                **ERRORS,
            },
        }
    },
    "/visits/{visit_id}": {
        "get": {
            "summary": "一次走访记录：走访人员、接待人、调查表答案、登记的诉求",
            "security": SECURED,
            "parameters": [_path("visit_id"), *_query("lang")],
            "responses": {"200": _json(_ref("Visit")), **ERRORS},
        }
    },
    "/enterprises/{enterprise_id}/visits": {
        "get": {
            "summary": "企业的走访记录与待走访",
            "security": SECURED,
            "parameters": [_path("enterprise_id")],
            "responses": {"200": _json({"type": "object"}), **ERRORS},
        }
    },
    "/visit-tasks/{task_id}": {
        "post": {
            "summary": "记录走访（完成走访任务；与 POST /tasks/{task_id}/complete 相同）",
            "security": SECURED,
            "parameters": [_path("task_id", "string")],
            "requestBody": _body(_ref("VisitRecord")),
            "responses": {"201": _json({"type": "object"}, "已记录"), **ERRORS},
        }
    },
}


SCHEMAS.update(
    {
        "RatingRoundInput": {
            "type": "object",
            "required": ["name", "period_start", "period_end", "closes_on"],
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 100},
                "period_start": _DATE,
                "period_end": _DATE,
                "closes_on": {**_DATE, "description": "企业评价截止日期"},
                "scope": {
                    "type": "object",
                    "description": "企业范围 {q, filters:{area,size,sector,field,pool,tag}}；只有测评期间有诉求由部门办理的企业收到链接",
                },
            },
        },
        "UnitRating": {
            "type": "object",
            "properties": {
                "unit_id": {"type": "integer"},
                "unit": {"type": "string"},
                "invited": {"type": "integer", "description": "应评企业数"},
                "ratings": {"type": "integer"},
                "average": _NNUM,
                "rating_rate": {
                    **_NNUM,
                    "description": "测评得分率：平均分 ÷ 5（%），季度考评的 rating_rate",
                },
                "satisfied_rate": {**_NNUM, "description": "4 分（满意）及以上的比例（%）"},
            },
        },
        "RatingRound": {
            "type": "object",
            "properties": {
                "round_id": {"type": "integer"},
                "name": {"type": "string"},
                "period_start": _DATE,
                "period_end": _DATE,
                "closes_on": _DATE,
                "status": {"enum": ["open", "closed"]},
                "invites": {"type": "integer"},
                "answered": {"type": "integer"},
                "units": {"type": "array", "items": _ref("UnitRating")},
                "comments": {"type": "array", "items": {"type": "object"}},
                "links": {
                    "type": "array",
                    "items": {"type": "object"},
                    "description": "企业的测评链接（仅活动办）",
                },
            },
        },
        "RatingSubmission": {
            "type": "object",
            "required": ["scores"],
            "properties": {
                "scores": {
                    "type": "object",
                    "description": "单位编号 → 1–5 分（5 很满意）；没有接触的单位不给",
                    "additionalProperties": {"type": ["integer", "string"]},
                },
                "comments": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 500}},
            },
        },
    }
)
_PUBLIC_ERRORS = {
    "404": ERRORS["404"],
    "409": _json(_ref("Error"), "已经评价过，或测评已结束"),
    "422": ERRORS["422"],
    "429": _json(_ref("Error"), "提交太频繁"),
}
PATHS.update(
    {
        "/rating-rounds": {
            "get": {
                "summary": "测评列表",
                "security": SECURED,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": _ref("RatingRound")}},
                        }
                    ),
                    **ERRORS,
                },
            },
            "post": {
                "summary": "开启测评：范围内有诉求由部门办理的企业各得到一个测评链接",
                "security": SECURED,
                "requestBody": _body(_ref("RatingRoundInput")),
                "responses": {"201": _json({"type": "object"}, "已开启"), **ERRORS},
            },
        },
        "/rating-rounds/{round_id}": {
            "get": {
                "summary": "一次测评：各单位评价数、平均分、测评得分率、满意率；企业意见；测评链接（活动办）",
                "security": SECURED,
                "parameters": [_path("round_id")],
                "responses": {"200": _json(_ref("RatingRound")), **ERRORS},
            }
        },
        "/rating-rounds/{round_id}/close": {
            "post": {
                "summary": "结束测评",
                "security": SECURED,
                "parameters": [_path("round_id")],
                "responses": {"200": _json({"type": "object"}), **ERRORS},
            }
        },
        "/figures/ratings": {
            "get": {
                "summary": "各单位在一段期间内收到的企业测评：评价数、平均分、测评得分率、满意率",
                "security": SECURED,
                "parameters": _query("period", "date_from", "date_to"),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "period": {"type": "string"},
                                "label": {"type": "string"},
                                "rows": {"type": "array", "items": _ref("UnitRating")},
                            },
                        }
                    ),
                    **ERRORS,
                },
            }
        },
        "/ratings/{token}": {
            "get": {
                "summary": "企业的测评表（凭测评链接，无需账号）",
                "parameters": [_path("token", "string", 64)],
                "responses": {"200": _json({"type": "object"}), "404": ERRORS["404"]},
            },
            "post": {
                "summary": "企业提交测评（凭测评链接，无需账号；每个链接一次）",
                "parameters": [_path("token", "string", 64)],
                "requestBody": _body(_ref("RatingSubmission")),
                "responses": {"201": _json({"type": "object"}, "已提交"), **_PUBLIC_ERRORS},
            },
        },
    }
)


def extend(document: dict) -> dict:
    """The document with the visit campaigns' (and rating rounds') paths and schemas."""
    document.setdefault("paths", {}).update(PATHS)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(SCHEMAS)
    task = schemas.get("Task", {}).get("properties")
    if task is not None:  # a visit's task is an inbox task too: say what each task belongs to
        task["kind"] = {
            "enum": ["case", "evaluation", "visit"],
            "description": "case：诉求的任务；evaluation：季度考评的任务；visit：走访活动的任务（记录走访或督办）",
        }
        task["case_id"] = {"type": ["integer", "null"], "description": "诉求编号；考评和走访的任务为 null"}
    return document
