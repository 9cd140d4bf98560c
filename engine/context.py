"""The engine's wiring: database, clock, spec cache, upload folder, the official calendar. Web and worker each build
one at start-up."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.domain import calendar
from engine.domain.clock import Clock
from engine.forms.store import FormStore
from engine.rules.store import RuleCache
from engine.storage.db import Database
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


class Engine:
    """Everything a service needs besides its arguments. One per process; safe to share between threads.

    Building one installs its entered holiday schedules as the process's calendar overlay (the calendar is read
    without a session, from scripts too); disposing of it removes them again.
    """

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.db = Database(settings.database_url)
        self.clock = clock or Clock()
        self.specs = SpecCache()
        self.rules = RuleCache()
        self.forms = FormStore(self.db)
        self.calendar = OfficialCalendarStore(self.db)
        calendar.install_overlay(self.calendar)

    def now(self):
        return self.clock.now()

    def dispose(self) -> None:
        calendar.uninstall_overlay(self.calendar)
        self.db.dispose()
