"""Attachments: uploaded files checked for size and type, kept in the configured file store (the upload folder,
the database or S3: engine/storage/files.py), served back by id, and moved between stores."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.access import can_see_case
from engine.services.common import Actor
from engine.services.common import parse_id
from engine.storage.files import FileMissing
from engine.storage.files import StoreNotConfigured
from engine.storage.models import Attachment
from engine.storage.models import Case

log = logging.getLogger(__name__)

# What a file of each type must start with: a renamed executable is refused.
_MAGIC = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".webp": (b"RIFF",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".ofd": (b"PK\x03\x04",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".xls": (b"\xd0\xcf\x11\xe0",),
}
_CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".txt": "text/plain; charset=utf-8",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ofd": "application/ofd",
}


@dataclasses.dataclass
class Upload:
    """One file as received by the web layer: the form field it came in, its name and its bytes."""

    field: str
    filename: str
    content: bytes


class FileStager:
    """Writes files into a store during a transaction and deletes them again if the transaction fails (the
    database store needs no help: its rows roll back with the rest)."""

    def __init__(self, store):
        self.store = store
        self.written: list[str] = []

    def write(self, session: Session, content: bytes) -> str:
        key = f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"
        self.store.put(session, key, content)
        if not self.store.transactional:
            self.written.append(key)
        return key

    def discard(self) -> None:
        for key in self.written:
            try:
                self.store.delete(None, key)
            except Exception:  # an orphan file is harmless; the error that rolled back matters more
                log.warning("could not delete %s from the %s store after a rollback", key, self.store.name)
        self.written.clear()


def check_upload(eng, upload: Upload) -> tuple[str, str]:
    """Return (safe filename, content type) or refuse the file with a message naming it."""
    name = Path(upload.filename or "").name.strip()[:200]
    settings = eng.settings
    errors = {}
    suffix = Path(name).suffix.lower()
    if not name:
        errors[upload.field] = _("文件没有名称")
    elif suffix not in settings.allowed_upload_types:
        allowed = "、".join(t.lstrip(".") for t in settings.allowed_upload_types)
        errors[upload.field] = _(
            "“%(name)s”的文件类型不允许，只能上传：%(allowed)s", name=name, allowed=allowed
        )
    elif len(upload.content) > settings.max_upload_bytes:
        errors[upload.field] = _(
            "“%(name)s”太大（%(size)s MB），单个文件上限 %(limit)s MB",
            name=name,
            size=f"{len(upload.content) / 1024 / 1024:.1f}",
            limit=settings.max_upload_bytes // 1024 // 1024,
        )
    elif len(upload.content) == 0:
        errors[upload.field] = _("“%(name)s”是空文件", name=name)
    elif suffix in _MAGIC and not upload.content.startswith(_MAGIC[suffix]):
        errors[upload.field] = _(
            "“%(name)s”的内容与扩展名不符，请上传真实的 %(type)s 文件", name=name, type=suffix.lstrip(".")
        )
    elif suffix == ".txt":
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError:
            errors[upload.field] = _("“%(name)s”不是 UTF-8 文本文件", name=name)
    if errors:
        raise ValidationFailed(_("附件不符合要求"), errors)
    return name, _CONTENT_TYPES.get(suffix, "application/octet-stream")


def store_uploads(
    eng, session: Session, stager: FileStager, actor: Actor, uploads: list[Upload]
) -> dict[str, list[int]]:
    """Check and store files inside the caller's transaction; returns attachment ids per form field."""
    checked = [(upload, *check_upload(eng, upload)) for upload in uploads]
    ids: dict[str, list[int]] = {}
    for upload, name, content_type in checked:
        key = stager.write(session, upload.content)
        row = Attachment(
            filename=name,
            content_type=content_type,
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            storage_key=key,
            store=stager.store.name,
            uploaded_by=actor.user_id,
            uploaded_at=eng.now(),
        )
        session.add(row)
        session.flush()
        ids.setdefault(upload.field, []).append(row.attachment_id)
    return ids


def upload_attachment(eng, actor: Actor, upload: Upload) -> dict:
    """Store one file not yet linked to a case (API clients upload first, then reference its id in a form)."""
    stager = FileStager(eng.files.current)
    try:
        with eng.db.transaction() as session:
            ids = store_uploads(eng, session, stager, actor, [upload])
            row = session.get(Attachment, ids[upload.field][0])
            return attachment_dict(row)
    except BaseException:
        stager.discard()
        raise


def link_form_attachments(
    session: Session, actor: Actor, case: Case, form, data: dict, task_name: str | None, round_no: int
) -> None:
    """Attach the files a submitted form references to its case.

    Only the uploader's own unlinked files, or files already on this case, qualify.
    :raises ValidationFailed: naming the field of a file that does not qualify.
    """
    for field in form.fields:
        if field.widget != "file":
            continue
        for attachment_id in data.get(field.name) or []:
            known = parse_id(attachment_id)  # a number beyond the id column's range names no file
            row = session.get(Attachment, known) if known is not None else None
            if (
                row is None
                or (row.case_id is None and row.uploaded_by != actor.user_id)
                or (row.case_id is not None and row.case_id != case.case_id)
            ):
                raise ValidationFailed(
                    _("附件不存在或不属于您"),
                    {field.name: _("附件 %(attachment)s 不存在或不可用", attachment=attachment_id)},
                )
            if row.case_id is None:
                row.case_id = case.case_id
                row.task_name = task_name
                row.round_no = round_no


def attachment_dict(row: Attachment) -> dict:
    return {
        "attachment_id": row.attachment_id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "uploaded_at": row.uploaded_at,
        "task_name": row.task_name,
        "round_no": row.round_no,
        "case_id": row.case_id,
    }


def open_attachment(eng, actor: Actor, attachment_id: int) -> tuple[dict, bytes]:
    """Metadata and content of a file the actor may see (its case is visible to them, or they uploaded it).

    :raises NotFound: no such attachment, one the actor may not see, or its file is not in its store (a file
        kept in a machine's local folder asked of another machine before `jienan move-attachments` ran).
    """
    with eng.db.read() as session:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(_("附件不存在"))
        if row.case_id is None:
            if row.uploaded_by != actor.user_id:
                raise NotFound(_("附件不存在"))
        else:
            can_see_case(session, actor, session.get(Case, row.case_id), raise_error=True)
        try:
            content = eng.files.get(row.store).get(session, row.storage_key)
        except (FileMissing, StoreNotConfigured) as error:
            log.error(
                "attachment %s: no file %s in the %s store (%s)",
                attachment_id,
                row.storage_key,
                row.store,
                error,
            )
            raise NotFound(_("附件“%(name)s”的文件不在存储中，请联系管理员", name=row.filename)) from None
        return attachment_dict(row), content


def move_attachments(eng, batch: int = 50) -> dict:
    """Move every attachment not yet in the configured store into it; returns counts per outcome.

    Idempotent and safe to interrupt: each file is its own transaction (read from its old store, checked against
    its SHA-256, written to the new one, the row repointed); a file written before a crash is simply written
    again. Files of the local store that are not on this machine are counted as missing and left for the run
    on the machine that has them. The old copies are not deleted (remove the old folder after a backup).
    """
    target = eng.files.current
    counts = {"moved": 0, "missing": 0, "corrupt": 0, "already": 0}
    with eng.db.read() as session:
        counts["already"] = session.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.store == target.name)
        )
    after = 0
    while True:
        with eng.db.read() as session:
            ids = list(
                session.scalars(
                    select(Attachment.attachment_id)
                    .where(Attachment.store != target.name, Attachment.attachment_id > after)
                    .order_by(Attachment.attachment_id)
                    .limit(batch)
                )
            )
        if not ids:
            return counts
        for attachment_id in ids:
            counts[_move_one(eng, target, attachment_id)] += 1
        after = ids[-1]


def _move_one(eng, target, attachment_id: int) -> str:
    """Move one file (one transaction): "moved", "missing", "corrupt" or "already"."""
    with eng.db.transaction() as session:
        row = session.get(Attachment, attachment_id)
        if row is None or row.store == target.name:
            return "already"
        try:
            content = eng.files.get(row.store).get(session, row.storage_key)
        except (FileMissing, StoreNotConfigured):
            log.warning(
                "attachment %s: %s not in the %s store here", attachment_id, row.storage_key, row.store
            )
            return "missing"
        if hashlib.sha256(content).hexdigest() != row.sha256:
            log.error("attachment %s: content does not match its SHA-256; not moved", attachment_id)
            return "corrupt"
        target.put(session, row.storage_key, content)
        row.store = target.name
        return "moved"
