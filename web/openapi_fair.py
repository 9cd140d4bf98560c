"""Issue 15 (fair scores, accountability) additions to the OpenAPI document, kept in their own module while
web/openapi.py is being rewritten: `extend` patches the generated document."""

from __future__ import annotations

from engine.domain.vocabulary import FLAGS

_COUNT = {"type": "integer", "minimum": 0}
_PLACEMENT_COUNTS = {
    name: _COUNT | {"description": text}
    for name, text in (
        ("red", "上红榜家次"),
        ("yellow", "上黄榜家次"),
        ("black", "上黑榜家次"),
        ("interviews", "约谈次数"),
        ("office", "督查部门约谈次数"),
        ("leader", "分管市领导约谈次数"),
        ("principal", "市主要领导约谈次数"),
    )
}
PLACEMENTS_PATH = {
    "get": {
        "summary": "榜单家次与约谈：期间内结束的季度已发布榜单中各单位上红、黄、黑榜的次数和约谈次数（按层级）",
        "security": [{"bearer": []}],
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": text,
            }
            for name, text in (
                ("period", "2026、2026-Q3 或 2026-07"),
                ("date_from", "起始日期 YYYY-MM-DD"),
                ("date_to", "截止日期 YYYY-MM-DD"),
            )
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "period": {"type": "string"},
                                "label": {"type": "string"},
                                "quarters": {"type": "array", "items": {"type": "string"}},
                                "rows": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "unit_id": {"type": "integer"},
                                            "unit": {"type": "string"},
                                            **_PLACEMENT_COUNTS,
                                        },
                                    },
                                },
                                "total": {"type": "object", "properties": _PLACEMENT_COUNTS},
                            },
                        }
                    }
                },
            },
            "401": {"description": "未登录或令牌无效"},
            "403": {"description": "无权查看统计数据"},
            "422": {"description": "期间写法有误"},
        },
    }
}


def extend(document: dict) -> dict:
    """The document with the black flag among the task filter's flags and the placements (家次) endpoint."""
    document.setdefault("paths", {})["/figures/placements"] = PLACEMENTS_PATH
    for operation in document.get("paths", {}).values():
        for method in operation.values():
            for parameter in method.get("parameters", []) if isinstance(method, dict) else []:
                if parameter.get("name") == "flag" and "enum" in parameter.get("schema", {}):
                    parameter["schema"]["enum"] = list(FLAGS)
    return document
