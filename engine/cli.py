"""The `jienan` command: init (migrate + deploy defaults + secret), seed demo data, run the timer worker, move
attachments into the configured store, check health."""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from engine.config import INSTANCE_DIR
from engine.config import ConfigurationError
from engine.config import configure_logging
from engine.config import is_embedded
from engine.config import settings_from_env
from engine.context import Engine
from engine.demo.seed import seed_demo
from engine.mail import sender_from_env
from engine.services import health
from engine.services.attachments import move_attachments
from engine.storage.files import StoreNotConfigured
from engine.storage.migrate import upgrade
from engine.worker import StopFlag
from engine.worker import run_worker
from engine.workflow.deploy import deploy_defaults


def _engine():
    return Engine(settings_from_env())


def cmd_init(args) -> int:
    settings = settings_from_env()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    secret = INSTANCE_DIR / "secret_key"
    if is_embedded(settings.database_url) and not secret.exists():
        # One machine: the web processes share this file. With PostgreSQL the key is configured instead (the
        # same on every machine): a file made here would differ from the next machine's.
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
    stop = StopFlag()
    stop.install()  # SIGTERM / SIGINT: finish the current timer, then exit 0
    eng = _engine()
    try:
        return run_worker(eng, interval=args.interval, once=args.once, sender=sender_from_env(), stop=stop)
    finally:
        eng.dispose()


def cmd_move_attachments(args) -> int:
    eng = _engine()
    try:
        result = move_attachments(eng)
    finally:
        eng.dispose()
    print(
        f"attachments now in the {eng.files.name} store: moved {result['moved']}, already there "
        f"{result['already']}, not on this machine {result['missing']}, damaged {result['corrupt']}"
    )
    return 1 if result["corrupt"] else 0


def cmd_health(args) -> int:
    eng = _engine()
    try:
        report = health.health(eng)
    finally:
        eng.dispose()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    try:
        configure_logging()
    except (ConfigurationError, StoreNotConfigured) as error:
        print(error, file=sys.stderr)
        return 2
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
    sub.add_parser(
        "move-attachments",
        help="move attachments into the configured store (JIENAN_ATTACHMENT_STORE); run on each machine "
        "that kept files in its local folder; safe to run again",
    ).set_defaults(func=cmd_move_attachments)
    sub.add_parser(
        "health", help="print what /healthz reports (database, schema, workers); exit 1 when not ok"
    ).set_defaults(func=cmd_health)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigurationError, StoreNotConfigured) as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
