"""Managers' rule pages and JSON endpoints; who may use them; bad input answers."""

from __future__ import annotations

import pytest

from engine.workflow.specs import PROCESSES_DIR

TRIAGE = (PROCESSES_DIR / "triage.dmn").read_text("utf-8")


@pytest.mark.parametrize("user", ["dispatcher", "handler_power", "designer"])
def test_only_managers_edit_rules(client, auth, user):
    auth.login(user)
    assert client.get("/rules/triage").status_code == 403
    assert client.post("/rules/triage/publish", json={"xml": TRIAGE}).status_code == 403


def test_rule_pages_and_endpoints(client, auth, journey):
    journey.register(category="用地", urgency="一般")
    auth.login("manager")
    index = client.get("/rules/")
    assert index.status_code == 200 and "诉求分级分类" in index.text and "督办规则" in index.text
    editor = client.get("/rules/triage")
    assert editor.status_code == 200 and "dist/dmn.js" in editor.text and "试算" in editor.text
    tried = client.post(
        "/rules/triage/try", json={"xml": TRIAGE, "inputs": {"urgency": "重大", "category": "其他"}}
    )
    assert tried.status_code == 200 and tried.json["outputs"]["tier"] == "city_leader"
    example = client.post(
        "/rules/triage/examples",
        json={
            "label": "重大问题",
            "inputs": {"urgency": "重大", "category": "其他"},
            "expected": {"tier": "city_leader"},
        },
    )
    assert example.status_code == 200
    bad_example = client.post("/rules/triage/examples", json={"label": "", "inputs": {}, "expected": {}})
    assert bad_example.status_code == 422
    changed = TRIAGE.replace('<text>"city_leader"</text>', '<text>"department"</text>', 1)
    checked = client.post("/rules/triage/check", json={"xml": changed})
    assert checked.status_code == 200 and not checked.json["ok"] and "重大问题" in checked.json["message"]
    refused = client.post("/rules/triage/publish", json={"xml": changed})
    assert refused.status_code == 422 and "重大问题" in refused.json["message"]
    broken = client.post("/rules/triage/publish", json={"xml": "<definitions"})
    assert broken.status_code == 422
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    assert client.post("/rules/triage/draft", json={"xml": xxe}).status_code == 422
    assert client.post("/rules/triage/try", data="x", content_type="text/plain").status_code == 422
    land = TRIAGE.replace("<text>15</text>", "<text>12</text>", 1)
    preview = client.post("/rules/triage/preview", json={"xml": land})
    assert preview.status_code == 200 and preview.json["total"] == 1
    published = client.post("/rules/triage/publish", json={"xml": land, "comment": "用地时限缩短"})
    assert published.status_code == 200 and published.json["changed"]
    version = client.get(f"/rules/triage/versions/{published.json['version_id']}")
    assert version.status_code == 200 and "table-success" in version.text
    assert "用地时限缩短" in client.get("/rules/triage").text
    first = client.get("/rules/").text
    assert "在用版本" in first
