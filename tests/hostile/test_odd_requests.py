"""Odd but legal requests answer properly: the first version of a rule table (nothing before it) has a page."""

from __future__ import annotations

from sqlalchemy import select

from engine.storage.models import RuleVersion


def test_the_first_version_of_every_rule_table_opens(client, auth, eng):
    with eng.db.read() as session:
        firsts = session.execute(
            select(RuleVersion.decision_id, RuleVersion.rule_version_id).order_by(RuleVersion.rule_version_id)
        ).all()
    seen = set()
    auth.login("manager")
    for decision_id, version_id in firsts:
        if decision_id in seen:
            continue
        seen.add(decision_id)
        response = client.get(f"/rules/{decision_id}/versions/{version_id}")
        assert response.status_code == 200, (decision_id, response.status_code)
    assert {"triage", "supervision", "escalation", "evaluation"} <= seen
