"""The engine's wiring: database, clock, spec cache, attachment stores, the official calendar. Web and worker each build
one at start-up."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.domain import calendar
from engine.domain.clock import Clock
from engine.forms.store import FormStore
from engine.rules.store import RuleCache
from engine.storage.db import Database
from engine.storage.db import PoolSettings
from engine.storage.files import FileStores
from engine.storage.holidays import OfficialCalendarStore
from engine.workflow.specs import SpecCache


@dataclasses.dataclass
class Settings:
    database_url: str
    upload_dir: Path
    max_upload_bytes: int = 20 * 1024 * 1024
    allowed_upload_types: tuple[str, ...] = (
        ".pdf",
        ".jpg",
        ".jpeg",
        ".png",
        ".webp",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".txt",
        ".ofd",
    )
    page_size: int = 20
    db_pool: PoolSettings = dataclasses.field(default_factory=PoolSettings)
    # Where attachments are kept: "local" (upload_dir), "database" or "s3"; None: the database on PostgreSQL,
    # the upload folder on SQLite.
    attachment_store: str | None = None
    s3: dict = dataclasses.field(default_factory=dict)  # bucket, endpoint_url, region, prefix (JIENAN_S3_*)
    # How long a worker's claim on e-mails holds: what a crashed worker's mails wait before another sends them.
    mail_lease_seconds: float = 300.0
    worker_stale_seconds: float = 120.0  # /healthz: no worker beat for this long makes the status "degraded"


class Engine:
    """Everything a service needs besides its arguments. One per process; safe to share between threads.

    Building one installs its entered holiday schedules as the process's calendar overlay (the calendar is read
    without a session, from scripts too); disposing of it removes them again.
    """

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.db = Database(settings.database_url, settings.db_pool)
        self.clock = clock or Clock()
        self.specs = SpecCache()
        self.rules = RuleCache()
        self.forms = FormStore(self.db)
        self.calendar = OfficialCalendarStore(self.db)
        self.files = FileStores(
            settings.attachment_store, settings.upload_dir, self.db.is_sqlite, settings.s3
        )
        calendar.install_overlay(self.calendar)

    def now(self):
        return self.clock.now()

    def dispose(self) -> None:
        calendar.uninstall_overlay(self.calendar)
        self.db.dispose()
