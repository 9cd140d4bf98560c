"""Issue 15 (fair scores, accountability) additions to the OpenAPI document, kept in their own module while
web/openapi.py is being rewritten: `extend` patches the generated document."""

from __future__ import annotations

from engine.domain.vocabulary import FLAGS


def extend(document: dict) -> dict:
    """The document with the black flag among the task filter's flags."""
    for operation in document.get("paths", {}).values():
        for method in operation.values():
            for parameter in method.get("parameters", []) if isinstance(method, dict) else []:
                if parameter.get("name") == "flag" and "enum" in parameter.get("schema", {}):
                    parameter["schema"]["enum"] = list(FLAGS)
    return document
