"""Diagrams made elsewhere: which executable process a file holds, and giving that process another id.

Every bpmn.io and Camunda Modeler export calls its process `Process_1`, and a diagram exported from here keeps
the id of the live process; so an import must be able to take a new, unused id. The process id is referred to
by a pool (participant@processRef) and, in a diagram without pools, by the drawing plane (BPMNPlane@bpmnElement);
both follow the rename so the diagram still draws and parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from engine.errors import SpecError
from engine.i18n import _
from engine.workflow.specs import BPMN_NS
from engine.workflow.xmlsafe import parse_xml

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
MAX_PROCESS_ID = 100  # process_version.process_id, design_draft.key
_NOT_ID = re.compile(r"[^A-Za-z0-9_]+")
_FILE_SUFFIXES = (".bpmn20.xml", ".bpmn", ".xml")


@dataclass(frozen=True)
class DiagramProcess:
    """The executable process of a BPMN file: its id and name, and every id the file already uses."""

    process_id: str
    name: str
    ids: frozenset[str]


def executable_process(xml: str) -> DiagramProcess:
    """The file's one executable process.

    :raises SpecError: the XML is unsafe or malformed, or the file holds no executable process or several.
    """
    root = parse_xml(xml, what="BPMN")
    processes = [
        p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable") == "true" and p.get("id")
    ]
    if not processes:
        raise SpecError(_('图中没有可执行的流程（process 需设置 isExecutable="true"）'))
    if len(processes) > 1:
        ids = "、".join(p.get("id") for p in processes)
        raise SpecError(_("一个文件只能包含一个可执行流程，当前有：%(ids)s", ids=ids))
    ids = frozenset(node.get("id") for node in root.iter() if isinstance(node.tag, str) and node.get("id"))
    return DiagramProcess(processes[0].get("id"), (processes[0].get("name") or "").strip(), ids)


def rename_process(xml: str, old_id: str, new_id: str) -> str:
    """The same diagram with process `old_id` called `new_id`, and the pool and plane that name it following.

    Comments are dropped (the safe parser removes them); everything else is kept as it was.
    """
    root = parse_xml(xml, what="BPMN")
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == old_id:
            process.set("id", new_id)
    for participant in root.iter(f"{{{BPMN_NS}}}participant"):
        if participant.get("processRef") == old_id:
            participant.set("processRef", new_id)
    for plane in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
        if plane.get("bpmnElement") == old_id:
            plane.set("bpmnElement", new_id)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8").decode("utf-8")


def new_process_id(filename: str, diagram: DiagramProcess, taken: set[str]) -> str:
    """An id no process uses yet, made from the file's name, else the process name, else the file's own id.

    Only ASCII letters, digits and underscores are kept (what a URL and an XML id both accept); `_2`, `_3`, …
    is added until the id is free in `taken` and in the file itself.
    """
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    for suffix in _FILE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    base = "process"
    for source in (stem, diagram.name, diagram.process_id):
        slug = _NOT_ID.sub("_", source).strip("_")[:60]
        if slug:
            base = slug if slug[0].isalpha() or slug[0] == "_" else f"p_{slug}"
            break
    unavailable = set(taken) | set(diagram.ids)
    candidate, number = base, 1
    while candidate in unavailable:
        number += 1
        candidate = f"{base}_{number}"
    return candidate
