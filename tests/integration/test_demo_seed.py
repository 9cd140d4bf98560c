"""The demo data `./run.sh` loads goes through the real loop on a fresh database."""

from __future__ import annotations

import pytest

from engine.context import Engine
from engine.context import Settings
from engine.demo.seed import seed_demo
from engine.services import auth
from engine.services import case_list
from engine.services import evaluation
from engine.storage.migrate import upgrade
from engine.workflow.deploy import deploy_defaults


@pytest.mark.slow
def test_demo_seed_registers_and_progresses_the_sample_cases(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    eng = Engine(Settings(database_url=url, upload_dir=tmp_path / "uploads"), clock=clock)
    try:
        deploy_defaults(eng)
        assert seed_demo(eng) == {"units": 20, "cases": 19 + 38}  # and last quarter's, twice over
        manager = auth.authenticate(eng, "manager", "jienan2026")
        last_quarter = evaluation.board(eng, manager, "2025-Q4")
        assert last_quarter["status"] == "review"
        assert {u["board"] for u in last_quarter["units"]} >= {"black", "unranked"}
        assert seed_demo(eng) == {"skipped": True}  # idempotent
        dispatcher = auth.authenticate(eng, "dispatcher", "jienan2026")
        statuses = {c["status"] for c in case_list.search_cases(eng, dispatcher, per_page=100)["items"]}
        assert {"dispatching", "handling", "closed"} <= statuses
        assert auth.authenticate(eng, "handler_power", "jienan2026") is not None
    finally:
        eng.dispose()
