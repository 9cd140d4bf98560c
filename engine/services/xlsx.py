"""Uploaded .xlsx files opened safely: the archive is checked before openpyxl parses anything.

The 10 MB upload limit is on the compressed file; a zip bomb of a few hundred KB can unpack to gigabytes. So the
archive's entries are counted and their unpacked sizes summed from the central directory (zipfile stops reading an
entry at its declared size and fails its CRC if the data lied), and every XML part is streamed once to refuse a
DTD or entity declaration before openpyxl sees it. Rows, columns and cell lengths are bounded while reading.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Iterator

from openpyxl import load_workbook

from engine.errors import ValidationFailed
from engine.i18n import _

MAX_BYTES = 10 * 1024 * 1024  # the upload
MAX_UNPACKED = 40 * 1024 * 1024  # all entries unpacked together
MAX_ENTRIES = 500
MAX_COLUMNS = 100
MAX_CELL_CHARS = 10_000
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CHUNK = 64 * 1024


def _refuse(message: str, detail: str) -> ValidationFailed:
    return ValidationFailed(message, {"file": detail})


def check_archive(data: bytes) -> None:
    """:raises ValidationFailed: too large, not an .xlsx, too much unpacked data, or a DTD in its XML."""
    if len(data) > MAX_BYTES:
        raise _refuse(_("文件过大"), _("文件不能超过 %(limit)s MB", limit=MAX_BYTES // 1024 // 1024))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse(_("不是 Excel 文件"), _("请上传 .xlsx 格式的文件（可先下载模板）")) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise _refuse(
                _("文件结构异常"), _("压缩包内文件过多（%(count)s 个），不是正常的 .xlsx", count=len(entries))
            )
        unpacked = sum(entry.file_size for entry in entries)
        if unpacked > MAX_UNPACKED:
            raise _refuse(
                _("文件解压后过大"),
                _(
                    "解压后约 %(size)s MB，超过 %(limit)s MB：请删去多余的工作表、图片和空行",
                    size=unpacked // 1024 // 1024,
                    limit=MAX_UNPACKED // 1024 // 1024,
                ),
            )
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")):
                _check_xml_part(archive, entry)


def _check_xml_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    tail = b""
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(_CHUNK):
                if _DECLARATION.search(tail + chunk):
                    raise _refuse(
                        _("文件含有不允许的内容"),
                        _("%(part)s 含有 DTD 或实体声明，不是正常的 .xlsx", part=entry.filename),
                    )
                tail = chunk[-16:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        raise _refuse(_("无法读取这个文件"), _("文件已损坏或不是 .xlsx，请用模板重新填写")) from None


@contextlib.contextmanager
def open_workbook(data: bytes) -> Iterator:
    """The workbook (read-only) of a checked archive; errors while reading become a ValidationFailed."""
    check_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - any failure to open is the user's file, reported as such
        raise _refuse(_("无法读取这个文件"), _("文件已损坏或不是 .xlsx，请用模板重新填写")) from None
    try:
        yield workbook
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - a part openpyxl cannot parse while iterating: still the user's file
        raise _refuse(_("无法读取这个文件"), _("文件内容已损坏或格式不对，请用模板重新填写")) from None
    finally:
        workbook.close()


def check_count(number: int, blank: bool, taken: int, limit: int) -> None:
    """Row `number` of a one-sheet import that has taken `taken` filled rows so far.

    :raises ValidationFailed: thousands of blank rows (not a filled-in template), or a filled row past `limit`.
    """
    if blank and number > limit * 4:
        raise _refuse(_("行数过多"), _("表格超过 %(limit)s 行，请删去多余的空行", limit=limit * 4))
    if not blank and taken >= limit:
        raise _refuse(_("行数过多"), _("一次最多导入 %(limit)s 行，请拆成多个文件分批导入", limit=limit))


def check_row(number: int, row) -> None:
    """:raises ValidationFailed: a row wider than MAX_COLUMNS or a cell longer than MAX_CELL_CHARS."""
    if len(row) > MAX_COLUMNS:
        raise _refuse(
            _("列数过多"),
            _(
                "第 %(row)s 行有 %(count)s 列，最多 %(limit)s 列：请使用系统提供的模板",
                row=number,
                count=len(row),
                limit=MAX_COLUMNS,
            ),
        )
    for cell in row:
        value = getattr(cell, "value", None)
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise _refuse(
                _("单元格内容过长"),
                _("第 %(row)s 行有单元格超过 %(limit)s 字", row=number, limit=MAX_CELL_CHARS),
            )
