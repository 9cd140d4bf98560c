"""A registrar on a phone is shown a likely duplicate while registering and links the report to it."""

from __future__ import annotations

from tests.browser.test_journey import register_problem


def test_registrar_sees_a_likely_duplicate_and_links_instead_of_creating(eng, page_as, shot, journey):
    existing = journey.register(
        title="夏季用电高峰生产线跳闸",
        description="企业反映夏季用电高峰期间生产线频繁跳闸，请求协调供电保障。",
    )
    with eng.db.read() as session:
        from engine.storage.models import Enterprise

        name = session.get(Enterprise, journey.enterprise_id()).name
    registrar = page_as("registrar", phone=True)
    registrar.goto("/cases/new")
    register_problem(registrar, name, "紧急", "用电高峰生产线跳闸")
    registrar.wait_for_selector(f'#duplicates:not(.d-none) [data-duplicate="{existing["case_no"]}"]')
    shot(registrar, "01-likely-duplicate")
    registrar.locator(f'[data-duplicate="{existing["case_no"]}"] button').click()
    registrar.wait_for_url(f"**/cases/{existing['case_id']}")
    assert "再次反映" in registrar.locator("#timeline").inner_text()
    shot(registrar, "02-linked")
    assert len(journey.case(existing["case_id"])["timeline"]) > 0
    from sqlalchemy import func
    from sqlalchemy import select

    from engine.storage.models import Case

    with eng.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
