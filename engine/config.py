"""Settings from the environment (and instance/ defaults): the database and its pool, attachments, the secret key,
the log format."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

from engine.context import Settings
from engine.storage.db import PoolSettings

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("JIENAN_INSTANCE_DIR", ROOT / "instance"))
MIN_SECRET_LENGTH = 32
TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: the process refuses to start and says what to set."""


def default_database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'jienan.db'}"


def _number(name: str, default, kind=int):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def pool_from_env() -> PoolSettings:
    """JIENAN_DB_POOL_SIZE (0: no pool in the process), JIENAN_DB_MAX_OVERFLOW, JIENAN_DB_POOL_TIMEOUT,
    JIENAN_DB_POOL_RECYCLE, JIENAN_DB_PGBOUNCER=1 (PgBouncer in transaction mode: no prepared statements)."""
    default = PoolSettings()
    return PoolSettings(
        size=_number("JIENAN_DB_POOL_SIZE", default.size),
        overflow=_number("JIENAN_DB_MAX_OVERFLOW", default.overflow),
        timeout=_number("JIENAN_DB_POOL_TIMEOUT", default.timeout, float),
        recycle=_number("JIENAN_DB_POOL_RECYCLE", default.recycle),
        pgbouncer=_flag("JIENAN_DB_PGBOUNCER"),
    )


def settings_from_env(**overrides) -> Settings:
    values = {
        "database_url": default_database_url(),
        "upload_dir": Path(os.environ.get("JIENAN_UPLOAD_DIR", INSTANCE_DIR / "uploads")),
        "db_pool": pool_from_env(),
        "attachment_store": os.environ.get("JIENAN_ATTACHMENT_STORE") or None,
        "s3": {
            "bucket": os.environ.get("JIENAN_S3_BUCKET", ""),
            "endpoint_url": os.environ.get("JIENAN_S3_ENDPOINT_URL") or None,
            "region": os.environ.get("JIENAN_S3_REGION") or None,
            "prefix": os.environ.get("JIENAN_S3_PREFIX", ""),
        },
    }
    if os.environ.get("JIENAN_MAIL_LEASE_SECONDS"):
        values["mail_lease_seconds"] = _number("JIENAN_MAIL_LEASE_SECONDS", 300.0, float)
    if os.environ.get("JIENAN_WORKER_STALE_SECONDS"):
        values["worker_stale_seconds"] = _number("JIENAN_WORKER_STALE_SECONDS", 120.0, float)
    if os.environ.get("JIENAN_MAX_UPLOAD_MB"):
        values["max_upload_bytes"] = _number("JIENAN_MAX_UPLOAD_MB", 20) * 1024 * 1024
    values.update(overrides)
    return Settings(**values)


def is_embedded(database_url: str) -> bool:
    """The embedded set-up: SQLite, one machine."""
    return database_url.startswith("sqlite")


def configured_secret() -> str | None:
    """The secret key from JIENAN_SECRET_KEY, SECRET_KEY or the file JIENAN_SECRET_KEY_FILE names (e.g. a
    systemd credential), else None."""
    for name in ("JIENAN_SECRET_KEY", "SECRET_KEY"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    path = os.environ.get("JIENAN_SECRET_KEY_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as error:
            raise ConfigurationError(f"JIENAN_SECRET_KEY_FILE={path}: cannot read it ({error})") from None
    return None


def require_shared_secret(secret: str | None) -> str:
    """Outside the embedded set-up every web process must sign sessions with the same key, so none may make
    up its own. :raises ConfigurationError: no key, or one too short."""
    if not secret:
        raise ConfigurationError(
            "Jienan refuses to start: no secret key. With PostgreSQL every web process (on every machine) must "
            "sign sessions with the same key, or a session made on one is refused by the next. Set "
            "JIENAN_SECRET_KEY (or JIENAN_SECRET_KEY_FILE, or SECRET_KEY in instance/config.py) to the same "
            "random value everywhere, e.g. the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"Jienan refuses to start: the secret key has {len(secret)} characters; use at least "
            f"{MIN_SECRET_LENGTH} random ones (python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return secret


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr as text, or as one JSON object per line with JIENAN_LOG_FORMAT=json (for a log shipper).

    Under gunicorn its own loggers get the same format. Calling it again changes nothing.
    """
    kind = os.environ.get("JIENAN_LOG_FORMAT", "text").strip().lower()
    if kind not in ("text", "json"):
        raise ConfigurationError(f"JIENAN_LOG_FORMAT={kind!r}: use text or json")
    if kind == "json":
        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
            json_ensure_ascii=False,
        )
    else:
        formatter = logging.Formatter(TEXT_LOG_FORMAT)
    root = logging.getLogger()
    # Ours from an earlier call, or a console handler someone set up before (gunicorn's logconfig_dict in
    # deploy/gunicorn/gunicorn.conf.py): format those instead of adding a second one (every line twice).
    ours = [
        h
        for h in root.handlers
        if getattr(h, "jienan", False)
        or (type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout))
    ]
    if not ours:
        handler = logging.StreamHandler(sys.stderr)
        handler.jienan = True
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(formatter)
    root.setLevel(level)
    logging.getLogger("spiff").setLevel(logging.WARNING)  # SpiffWorkflow logs every task state change at INFO
    if kind == "json":
        for name in ("gunicorn.error", "gunicorn.access"):
            for handler in logging.getLogger(name).handlers:
                handler.setFormatter(formatter)
