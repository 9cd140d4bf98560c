"""Board placements (家次) and interviews on the figures page and in the API (the totals themselves:
tests/integration/test_evaluation.py)."""

from __future__ import annotations


def test_figures_page_has_the_placements_section(client, auth):
    auth.login("manager")
    page = client.get("/figures?period=2026")
    assert page.status_code == 200 and 'id="placements"' in page.text
    assert "榜单家次与约谈" in page.text and "本期间没有已发布的季度榜单" in page.text


def test_api_placements(client):
    token = client.post("/api/v1/auth/token", json={"username": "manager", "password": "jienan2026"}).json[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    ok = client.get("/api/v1/figures/placements?period=2026", headers=headers)
    assert ok.status_code == 200 and ok.json["rows"] == [] and ok.json["total"]["black"] == 0
    assert client.get("/api/v1/figures/placements?period=soon", headers=headers).status_code == 422
    assert client.get("/api/v1/figures/placements?period=2026").status_code == 401
    doc = client.get("/api/v1/openapi.json").json
    assert (
        "black"
        in doc["paths"]["/figures/placements"]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["properties"]["total"]["properties"]
    )
