"""The `jienan` command: init (migrate + deploy defaults + secret), seed demo data, run the timer worker."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys

from engine.config import INSTANCE_DIR
from engine.config import settings_from_env
from engine.context import Engine
from engine.demo.seed import seed_demo
from engine.mail import sender_from_env
from engine.storage.migrate import upgrade
from engine.worker import run_worker
from engine.workflow.deploy import deploy_defaults


def _engine():
    return Engine(settings_from_env())


def cmd_init(args) -> int:
    settings = settings_from_env()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    secret = INSTANCE_DIR / "secret_key"
    if not secret.exists():
        secret.write_text(secrets.token_hex(32))
        secret.chmod(0o600)
    upgrade(settings.database_url)
    eng = _engine()
    eng.db.optimize()
    result = deploy_defaults(eng)
    print(
        f"schema up to date; process versions {result['process_versions']}, rule versions {result['rule_versions']}"
    )
    return 0


def cmd_seed(args) -> int:
    result = seed_demo(_engine())
    print("demo data already present" if result.get("skipped") else f"seeded {result}")
    return 0


def cmd_worker(args) -> int:
    return run_worker(_engine(), interval=args.interval, once=args.once, sender=sender_from_env())


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # SpiffWorkflow logs every task state change at INFO
    parser = argparse.ArgumentParser(prog="jienan", description="Jienan (解难) administration")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="migrate the schema, deploy processes/ and publish rules").set_defaults(
        func=cmd_init
    )
    sub.add_parser("seed", help="load the demo units, users, enterprises and cases").set_defaults(
        func=cmd_seed
    )
    worker = sub.add_parser("worker", help="fire due timers (run one or more)")
    worker.add_argument("--interval", type=float, default=5.0, help="seconds between passes")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.set_defaults(func=cmd_worker)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
