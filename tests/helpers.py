"""Test builders: register a case and act on its tasks through the real services."""

from __future__ import annotations

from sqlalchemy import select

from engine.services import cases
from engine.services import tasks
from engine.services import visits
from engine.storage.models import Enterprise


class Journey:
    def __init__(self, eng, actors):
        self.eng = eng
        self.actors = actors

    def enterprise_id(self, name: str = "杭叉集团") -> int:
        with self.eng.db.read() as session:
            return session.scalar(select(Enterprise.enterprise_id).where(Enterprise.name == name))

    def register(self, user: str = "registrar", **fields) -> dict:
        data = {
            "enterprise_id": self.enterprise_id(),
            "channel": "走访",
            "field": "工业",
            "category": "水电气",
            "urgency": "紧急",
            "title": "夏季用电高峰生产用电保障",
            "description": "夏季用电高峰期生产用电保障等问题。",
        }
        data.update(fields)
        return cases.register_case(self.eng, self.actors(user), data)

    def visit(
        self, name: str = "杭叉集团", visited_on: str = "2026-03-10", user: str = "registrar", **fields
    ) -> dict:
        """A one-enterprise campaign for `user`, launched, and the visit recorded (no problem unless given)."""
        with self.eng.db.read() as session:
            code = session.scalar(select(Enterprise.credit_code).where(Enterprise.name == name))
        campaign = visits.create_campaign(
            self.eng,
            self.actors("manager"),
            {
                "name": f"走访{name}{visited_on}{fields.get('met_with', '')}",
                "start_date": "2026-03-01",
                "end_date": "2026-12-31",
                "scope": {"list": [{"credit_code": code}]},
                "assignment": {"mode": "hand", "user": user},
                "launch": True,
            },
        )
        mine = tasks.list_tasks(self.eng, self.actors(user), "mine", per_page=200)["items"]
        task = next(t for t in mine if t["kind"] == "visit" and t["case_title"] == campaign["name"])
        data = {"visited_on": visited_on, "visitors": "王芳", "met_with": "赵建华 董事长", "findings": "none"}
        data.update(fields)
        return tasks.complete_task(self.eng, self.actors(user), task["task_id"], data)

    def task(self, user: str, case_id: int) -> dict:
        """The user's open task on this case (fails the test if there is none)."""
        actor = self.actors(user)
        for scope in ("mine", "unit"):
            for item in tasks.list_tasks(self.eng, actor, scope, per_page=200)["items"]:
                if item["case_id"] == case_id and item["can_act"]:
                    return item
        raise AssertionError(f"{user} has no task on case {case_id}")

    def act(self, user: str, case_id: int, data: dict) -> dict:
        task = self.task(user, case_id)
        return tasks.complete_task(self.eng, self.actors(user), task["task_id"], data)

    def dispatch(self, case_id: int, lead: str = "power", **extra) -> dict:
        data = {
            "tier": "department",
            "lead_unit": lead,
            "co_units": [],
            "time_limit_days": 5,
            "dispatch_note": "请按时办理",
        }
        data.update(extra)
        return self.act("dispatcher", case_id, data)

    def handle_to_revisit(
        self, case_id: int, lead: str = "power", outcome: str = "resolved", **feedback
    ) -> None:
        self.act(f"handler_{lead}", case_id, {"sign_decision": "sign"})
        data = {"outcome": outcome, "handling_actions": "现场协调，已解决供电问题。"}
        data.update(feedback)
        self.act(f"handler_{lead}", case_id, data)
        self.act("dispatcher", case_id, {"verdict": "accept"})

    def close_late(self, clock, lead: str, late_at) -> int:
        """A new case the unit signs for now and reports resolved at `late_at` (after its deadline), then
        accepted, revisited (satisfied) and closed out: closed, but not on time. Leaves the clock at late_at."""
        case_id = self.register()["case_id"]
        self.dispatch(case_id, lead=lead)
        self.act(f"handler_{lead}", case_id, {"sign_decision": "sign"})
        clock.set(late_at)
        self.act(f"handler_{lead}", case_id, {"outcome": "resolved", "handling_actions": "逾期办结。"})
        self.act("dispatcher", case_id, {"verdict": "accept"})
        self.revisit(case_id, "satisfied")
        self.act("dispatcher", case_id, {"closing_summary": "已解决，销号。"})
        return case_id

    def revisit(self, case_id: int, satisfaction: str = "satisfied", **extra) -> dict:
        data = {
            "solved": "yes" if satisfaction != "unsatisfied" else "no",
            "satisfaction": satisfaction,
            "revisit_method": "phone",
        }
        if satisfaction == "unsatisfied":
            data["revisit_comment"] = "问题没有真正解决。"
        data.update(extra)
        return self.act("registrar", case_id, data)

    def case(self, case_id: int, user: str = "dispatcher") -> dict:
        return cases.get_case(self.eng, self.actors(user), case_id)


def add_review_step(xml: str) -> str:
    """The case-handling diagram with a new user task 复核 (dispatcher, verify form) between a passed
    verification and the revisit — what a designer adds in the modeler (engine-only: no diagram shape)."""
    import re

    old = 'sourceRef="gw_verify" targetRef="gw_merge_revisit"'
    assert old in xml
    xml = xml.replace(old, 'sourceRef="gw_verify" targetRef="review"')
    xml = xml.replace(
        "<bpmn:incoming>flow_verify_pass</bpmn:incoming>",
        "<bpmn:incoming>flow_review_to_revisit</bpmn:incoming>",
    )
    task = (
        '<bpmn:userTask id="review" name="复核"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formKey" value="verify" /></spiffworkflow:properties>'
        "</bpmn:extensionElements><bpmn:incoming>flow_verify_pass</bpmn:incoming>"
        "<bpmn:outgoing>flow_review_to_revisit</bpmn:outgoing></bpmn:userTask>"
        '<bpmn:sequenceFlow id="flow_review_to_revisit" sourceRef="review" targetRef="gw_merge_revisit" />'
    )
    xml = xml.replace(
        '<bpmn:textAnnotation id="note_continue_as_new">',
        task + '<bpmn:textAnnotation id="note_continue_as_new">',
    )
    xml = re.sub(
        r'(<bpmn:lane id="lane_dispatcher" name="企业服务办公室">)',
        r"\1<bpmn:flowNodeRef>review</bpmn:flowNodeRef>",
        xml,
    )
    return xml


def make_modeler_export(name: str = "企业走访登记", *, pool: bool = False) -> str:
    """A diagram as bpmn.io / Camunda Modeler save it: process `Process_1`, drawn on a plane that names the
    process, or (pool=True) inside a pool whose participant refers to it. It runs here: start → end."""
    participant = (
        '<bpmn:collaboration id="Collaboration_1"><bpmn:participant id="Participant_1" name="走访" '
        'processRef="Process_1" /></bpmn:collaboration>'
        if pool
        else ""
    )
    pool_shape = (
        '<bpmndi:BPMNShape id="Participant_1_di" bpmnElement="Participant_1" isHorizontal="true">'
        '<dc:Bounds x="120" y="40" width="400" height="160" /></bpmndi:BPMNShape>'
        if pool
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.30.0">
  {participant}
  <bpmn:process id="Process_1" name="{name}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="开始"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Event_1" />
    <bpmn:endEvent id="Event_1" name="结束"><bpmn:incoming>Flow_1</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="{"Collaboration_1" if pool else "Process_1"}">
      {pool_shape}
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="179" y="99" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_1_di" bpmnElement="Event_1"><dc:Bounds x="372" y="99" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="215" y="117" /><di:waypoint x="372" y="117" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def enterprise_workbook(enterprises=(), memberships=(), years=(), sheets=None) -> bytes:
    """An enterprise-list .xlsx as a user fills in the template: rows as dicts by heading (missing cells empty)."""
    import io

    from openpyxl import Workbook

    from engine.services import enterprise_xlsx

    workbook = Workbook()
    workbook.remove(workbook.active)
    rows_of = {
        enterprise_xlsx.ENTERPRISES: enterprises,
        enterprise_xlsx.MEMBERSHIPS: memberships,
        enterprise_xlsx.YEARS: years,
    }
    for title, columns in enterprise_xlsx.SHEETS.items():
        if sheets is not None and title not in sheets:
            continue
        sheet = workbook.create_sheet(title)
        headings = [heading for heading, _field, _required, _width in columns]
        sheet.append(headings)
        for row in rows_of[title]:
            sheet.append([row.get(heading) for heading in headings])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
