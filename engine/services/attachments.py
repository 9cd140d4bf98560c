"""Attachments: uploaded files checked for size and type, stored under the upload folder, served back by id."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.access import can_see_case
from engine.services.common import Actor
from engine.services.common import parse_id
from engine.storage.models import Attachment
from engine.storage.models import Case

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
    """Writes files during a transaction and deletes them again if the transaction fails."""

    def __init__(self, root: Path):
        self.root = root
        self.written: list[Path] = []

    def write(self, content: bytes) -> str:
        key = f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.written.append(path)
        return key

    def discard(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
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
        key = stager.write(upload.content)
        row = Attachment(
            filename=name,
            content_type=content_type,
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            storage_key=key,
            uploaded_by=actor.user_id,
            uploaded_at=eng.now(),
        )
        session.add(row)
        session.flush()
        ids.setdefault(upload.field, []).append(row.attachment_id)
    return ids


def upload_attachment(eng, actor: Actor, upload: Upload) -> dict:
    """Store one file not yet linked to a case (API clients upload first, then reference its id in a form)."""
    stager = FileStager(eng.settings.upload_dir)
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


def open_attachment(eng, actor: Actor, attachment_id: int) -> tuple[dict, Path]:
    """Metadata and path of a file the actor may see (its case is visible to them, or they uploaded it)."""
    with eng.db.read() as session:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(_("附件不存在"))
        if row.case_id is None:
            if row.uploaded_by != actor.user_id:
                raise NotFound(_("附件不存在"))
        else:
            can_see_case(session, actor, session.get(Case, row.case_id), raise_error=True)
        return attachment_dict(row), eng.settings.upload_dir / row.storage_key
