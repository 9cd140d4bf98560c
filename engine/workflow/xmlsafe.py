"""Parsing uploaded or stored XML without entity expansion, DTDs, network access or unbounded size."""

from __future__ import annotations

from lxml import etree

from engine.errors import SpecError
from engine.i18n import _

MAX_XML_BYTES = 2 * 1024 * 1024


def parse_xml(data: bytes | str, *, what: str = "XML") -> etree._Element:
    """Parse `data` safely and return the root element.

    :raises SpecError: for oversized input, DOCTYPE/ENTITY declarations (XXE, billion laughs) or malformed XML.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_XML_BYTES:
        raise SpecError(
            _(
                "%(what)s 文件过大（%(size)s KB），上限为 %(limit)s MB",
                what=what,
                size=len(raw) // 1024,
                limit=MAX_XML_BYTES // 1024 // 1024,
            )
        )
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise SpecError(_doctype_refused(what))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SpecError(
            _("%(what)s 文件格式错误（第 %(line)s 行）：%(error)s", what=what, line=exc.lineno, error=exc.msg)
        ) from None
    if root is None:
        raise SpecError(_("%(what)s 文件为空", what=what))
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SpecError(_doctype_refused(what))
    return root


def _doctype_refused(what: str) -> str:
    return _("%(what)s 文件含有 DOCTYPE/实体声明，出于安全原因不予接受，请删除后重新上传", what=what)
