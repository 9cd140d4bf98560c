"""Parsing uploaded or stored XML without entity expansion, DTDs, network access or unbounded size."""

from __future__ import annotations

from lxml import etree

from engine.errors import SpecError

MAX_XML_BYTES = 2 * 1024 * 1024


def parse_xml(data: bytes | str, *, what: str = "XML") -> etree._Element:
    """Parse `data` safely and return the root element.

    :raises SpecError: for oversized input, DOCTYPE/ENTITY declarations (XXE, billion laughs) or malformed XML.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_XML_BYTES:
        raise SpecError(
            f"{what} 文件过大（{len(raw) // 1024} KB），上限为 {MAX_XML_BYTES // 1024 // 1024} MB"
        )
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise SpecError(f"{what} 文件含有 DOCTYPE/实体声明，出于安全原因不予接受，请删除后重新上传")
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
        raise SpecError(f"{what} 文件格式错误（第 {exc.lineno} 行）：{exc.msg}") from None
    if root is None:
        raise SpecError(f"{what} 文件为空")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SpecError(f"{what} 文件含有 DOCTYPE/实体声明，出于安全原因不予接受，请删除后重新上传")
    return root
