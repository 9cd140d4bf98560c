"""Likely duplicates while registering, and linking a repeated report instead of creating a case."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import duplicates
from engine.storage.models import Case


def test_same_enterprise_and_similar_text_are_proposed(eng, actors, journey):
    first = journey.register(title="厂区用电容量不足", description="新上生产线后用电负荷不够，需要增容。")
    journey.register(title="招工难", description="缺技术工人。", category="用工/人才")
    found = duplicates.find_duplicates(
        eng,
        actors("registrar"),
        enterprise_id=journey.enterprise_id(),
        category="水电气",
        title="用电容量不足",
        description="生产线用电负荷不够，申请增容",
    )
    assert found[0]["case_id"] == first["case_id"] and "同一企业" in found[0]["reasons"]
    assert any(r.startswith("内容相似度") for r in found[0]["reasons"])
    # another enterprise, near-identical text in the same category, is proposed too
    other = duplicates.find_duplicates(
        eng,
        actors("registrar"),
        category="水电气",
        title="厂区用电容量不足",
        description="新上生产线后用电负荷不够，需要增容。",
    )
    assert [d["case_id"] for d in other] == [first["case_id"]]
    assert (
        duplicates.find_duplicates(eng, actors("registrar"), category="水电气", title="完全无关的事情") == []
    )


def test_linking_a_repeat_report_records_it_and_creates_no_case(eng, actors, journey):
    case_id = journey.register()["case_id"]
    with eng.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Case))
    duplicates.link_report(eng, actors("registrar"), case_id, "12345热线", "企业再次来电反映用电问题。")
    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == before
    repeat = [e for e in journey.case(case_id)["timeline"] if e["kind"] == "repeat_report"]
    assert repeat and "12345热线" in repeat[0]["title"]
    with pytest.raises(ValidationFailed):
        duplicates.link_report(eng, actors("registrar"), case_id, "电话", "  ")
    with pytest.raises(PermissionDenied):
        duplicates.link_report(eng, actors("handler_power"), case_id, "电话", "再次反映")
