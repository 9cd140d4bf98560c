"""Forms as tasks see them: the live saved version of a form (edited by designers in the browser), else the file
forms/<key>.json shipped with the code. Parsed versions are cached; which version is live is re-read at most every
few seconds, so every web and worker process picks up a designer's change without a restart."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select

from engine.forms.schema import FORMS_DIR
from engine.forms.schema import FormSpec
from engine.forms.schema import form_from_schema
from engine.forms.schema import load_form
from engine.storage.models import ActiveVersion
from engine.storage.models import FormVersion


class FormStore:
    REFRESH_SECONDS = 2.0

    def __init__(self, db):
        self.db = db
        self._live: dict[str, int] = {}
        self._read_at = float("-inf")
        self._specs: dict[int, FormSpec] = {}
        self._lock = threading.Lock()
        db.add_refresher(self.live_versions)  # re-read between units of work, not inside one

    def get(self, key: str) -> FormSpec:
        """The live form `key`. :raises FormNotFound: no such form. :raises SpecError: a broken form file."""
        version_id = self.live_versions().get(key)
        if version_id is None:
            return load_form(key)
        spec = self._specs.get(version_id)
        if spec is None:
            with self.db.read() as session:
                row = session.get(FormVersion, version_id)
                schema = json.loads(row.schema_json)
            spec = form_from_schema(schema)
            with self._lock:
                self._specs[version_id] = spec
        return spec

    def all(self) -> dict[str, FormSpec]:
        """Every form as tasks see it, by key: the files shipped in forms/ and those only saved by designers."""
        keys = {path.stem for path in FORMS_DIR.glob("*.json")} | set(self.live_versions())
        return {key: self.get(key) for key in sorted(keys)}

    def live_versions(self) -> dict[str, int]:
        due = time.monotonic() - self._read_at > self.REFRESH_SECONDS
        # Inside a unit of work the versions read before it began are used (storage.db.Database.add_refresher).
        if due and not (self.db.in_unit_of_work() and self._read_at > float("-inf")):
            with self.db.read() as session:
                live = dict(
                    session.execute(
                        select(ActiveVersion.key, ActiveVersion.version_id).where(
                            ActiveVersion.kind == "form"
                        )
                    ).all()
                )
                # The live versions' schemas come along in the same read, so get() need not read one later.
                missing = [v for v in live.values() if v not in self._specs]
                schemas = (
                    session.execute(
                        select(FormVersion.form_version_id, FormVersion.schema_json).where(
                            FormVersion.form_version_id.in_(missing)
                        )
                    ).all()
                    if missing
                    else []
                )
            specs = {}
            for version_id, schema in schemas:
                try:
                    specs[version_id] = form_from_schema(json.loads(schema))
                except Exception:  # a broken form fails where it is used (get), not every request here
                    continue
            with self._lock:
                self._specs.update(specs)
                self._live, self._read_at = live, time.monotonic()
        return self._live

    def invalidate(self) -> None:
        """Re-read which versions are live on the next lookup (after this process saved a form)."""
        self._read_at = float("-inf")
