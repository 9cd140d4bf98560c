"""Safe XML intake for DMN files: size limit, no DTD/entities/network, DMN 1.1-1.5 root only."""

from __future__ import annotations

import re
from typing import NoReturn

from lxml import etree

from engine.errors import RuleError
from engine.i18n import _

MAX_BYTES = 2 * 1024 * 1024
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
# Files in the wild mix up http and https in these URIs; accept both schemes for every version.
_ACCEPTED = {uri.replace("https://", "http://") for uri in DMN_NAMESPACES} | {
    uri.replace("http://", "https://") for uri in DMN_NAMESPACES
}
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def dmn_version(namespace: str) -> str:
    """The DMN version ("1.1" … "1.5") of an accepted namespace, "" otherwise."""
    tail = namespace.split("://", 1)[-1]
    return next((version for uri, version in DMN_NAMESPACES.items() if uri.split("://", 1)[1] == tail), "")


def parse_xml(xml: bytes | str, source: str = "") -> etree._Element:
    """Parse `xml` and return the DMN `definitions` element.

    :raises RuleError: too large, DTD/entity declarations, malformed XML (with the line) or not DMN.
    """
    data = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
    where = _("（%(source)s）", source=source) if source else ""
    if len(data) > MAX_BYTES:
        _refuse(
            _(
                "DMN 文件%(where)s过大：%(size)s 字节，上限为 %(limit)s 字节（2 MB）",
                where=where,
                size=len(data),
                limit=MAX_BYTES,
            )
        )
    if _DECLARATION.search(data):
        _refuse(_refuse_dtd() + where)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else None)
        _refuse(
            _(
                "DMN 文件%(where)s不是合法的 XML（第 %(line)s 行）：%(error)s",
                where=where,
                line=line,
                error=exc.msg,
            ),
            line=line,
        )
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        _refuse(_refuse_dtd() + where)
    qname = etree.QName(root)
    if qname.namespace not in _ACCEPTED or qname.localname != "definitions":
        _refuse(
            _(
                "文件%(where)s不是 DMN：根元素是 %(root)s（命名空间 %(namespace)s），"
                "应为 DMN 1.1-1.5 的 definitions；请从 dmn-js 导出后再上传",
                where=where,
                root=qname.localname,
                namespace=qname.namespace or _("无"),
            )
        )
    return root


def _refuse_dtd() -> str:
    return _("DMN 文件含有 DOCTYPE/ENTITY 声明，出于安全原因拒绝处理：请删除 <!DOCTYPE …> 部分后重新上传")


def _refuse(message: str, line: int | None = None) -> NoReturn:
    problem = {"element_id": None, "message": message}
    if line is not None:
        problem["line"] = line
    raise RuleError(message, problems=[problem])
