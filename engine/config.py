"""Settings from the environment (and instance/ defaults): the database URL, the upload folder."""

from __future__ import annotations

import os
from pathlib import Path

from engine.context import Settings

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("JIENAN_INSTANCE_DIR", ROOT / "instance"))


def default_database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'jienan.db'}"


def settings_from_env(**overrides) -> Settings:
    values = {
        "database_url": default_database_url(),
        "upload_dir": Path(os.environ.get("JIENAN_UPLOAD_DIR", INSTANCE_DIR / "uploads")),
    }
    if os.environ.get("JIENAN_MAX_UPLOAD_MB"):
        values["max_upload_bytes"] = int(os.environ["JIENAN_MAX_UPLOAD_MB"]) * 1024 * 1024
    values.update(overrides)
    return Settings(**values)
