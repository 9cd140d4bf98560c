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
        # and last quarter's, twice over, and 自然资源's six the quarter before
        assert seed_demo(eng) == {"units": 20, "cases": 19 + 38 + 6}
        manager = auth.authenticate(eng, "manager", "jienan2026")
        last_quarter = evaluation.board(eng, manager, "2025-Q4")
        assert last_quarter["status"] == "review"
        assert {u["board"] for u in last_quarter["units"]} >= {"black", "unranked"}
        by_unit = {u["unit"]: u for u in last_quarter["units"]}
        econ, land = by_unit["经济和信息化局"], by_unit["自然资源和规划局"]
        # nothing closed or revisited: unranked with the reason, not 0 points on the black board
        assert (econ["board"], econ["reason"], econ["on_time_rate"]) == ("unranked", "missing_parts", None)
        # the second black board in a row: the interview climbs a level
        assert (land["board"], land["black_before"], land["interview_level"]) == ("black", 1, "leader")
        assert evaluation.board(eng, manager, "2025-Q3")["status"] == "completed"
        flagged = case_list.search_cases(eng, manager, filters={"flag": "black"}, per_page=10)["items"]
        assert len(flagged) == 1 and flagged[0]["status"] == "handling"  # seriously overdue: black flag
        assert seed_demo(eng) == {"skipped": True}  # idempotent
        dispatcher = auth.authenticate(eng, "dispatcher", "jienan2026")
        statuses = {c["status"] for c in case_list.search_cases(eng, dispatcher, per_page=100)["items"]}
        assert {"dispatching", "handling", "closed"} <= statuses
        assert auth.authenticate(eng, "handler_power", "jienan2026") is not None
    finally:
        eng.dispose()
