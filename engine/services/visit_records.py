"""Recording a visit: what the visitor submits (the visit's fields, the campaign's questionnaire, the problems found
— the recording page's flattened fields or the API's nested JSON), its checks, and saving it: the visit row, one
row per answer (to count and filter them) and each problem registered as a case (channel 走访) linked to the visit.
Also the campaign's record (programme events). Called by engine.services.visits inside its transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.domain.clock import LOCAL_TZ
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.cases import REGISTER_FORM
from engine.services.cases import create_case
from engine.services.common import Actor
from engine.storage.models import Enterprise
from engine.storage.models import ProgrammeEvent
from engine.storage.models import Visit
from engine.storage.models import VisitAnswer
from engine.storage.models import VisitCampaign
from engine.storage.models import VisitCase

VISIT_FORM = "visit_record"  # the recording task's form: date, who went, whom they met, problems or none
DEFAULT_SURVEY = "visit_survey"  # the questionnaire shipped with the code (活动走访调查表)
VISIT_CHANNEL = "走访"
MAX_PROBLEMS = 10


def questionnaire_choices(eng, lang: str = "zh") -> list[dict]:
    """The forms a campaign may use as its questionnaire: those designers keep under a key starting visit_ (the
    shipped 活动走访调查表 visit_survey, or new ones made in the form editor), except the recording form itself."""
    result = []
    for key, form in eng.forms.all().items():
        if key.startswith("visit_") and key != VISIT_FORM and not form.file_fields:
            result.append({"key": key, "title": form.label(lang), "fields": len(form.fields)})
    return result


def today(eng) -> dt.date:
    return eng.now().astimezone(LOCAL_TZ).date()


def record_fields(raw) -> dict:
    """A submission of the recording page as the shape the service takes (see `_record_fields`)."""
    return _record_fields(raw)


def _record_fields(raw) -> dict:
    """The submission as a dict: {visit fields…, "answers": {…}, "problems": [{…}]} (the API sends this shape;
    the page's fields are flattened as answers-<field> and problems-<n>-<field>)."""
    if hasattr(raw, "getlist"):
        data: dict = {"answers": {}, "problems": []}
        problems: dict[int, dict] = {}
        for key in raw.keys():
            values = [v for v in raw.getlist(key)]
            value = values[0] if len(values) == 1 else values
            if key.startswith("answers-"):
                data["answers"][key[8:]] = value
            elif key.startswith("problems-"):
                _p, number, name = (key.split("-", 2) + ["", ""])[:3]
                if number.isdigit() and int(number) < MAX_PROBLEMS:
                    problems.setdefault(int(number), {})[name] = value
            elif not key.startswith("_") and key != "csrf_token":
                data[key] = value
        data["problems"] = [
            p
            for _n, p in sorted(problems.items())
            if any(str(v).strip() for k, v in p.items() if k in ("title", "description"))
        ]
        return data
    return dict(raw) if isinstance(raw, dict) else {}


def parse_record(eng, campaign: VisitCampaign, enterprise: Enterprise, raw) -> tuple[dict, dict, list[dict]]:
    """(visit fields, questionnaire answers, problems as register-form data) of a submission.

    :raises ValidationFailed: every problem at once, keyed by field: a visit field, answers.<field>,
    problems.<n>.<field>."""
    data = _record_fields(raw)
    if not data and not isinstance(raw, dict):
        raise ValidationFailed(_("走访记录应为键值对象"), {"": _("提交的数据应为键值对象")})
    errors: dict[str, str] = {}
    record_form = eng.forms.get(VISIT_FORM)
    record: dict = {}
    try:
        record = record_form.parse_submission({k: v for k, v in data.items() if k in record_form.field_names})
    except ValidationFailed as exc:
        errors.update(exc.errors)
    unknown = [k for k in data if k not in record_form.field_names and k not in ("answers", "problems")]
    for key in unknown[:5]:
        errors[str(key)[:50]] = _("字段 %(name)s 不在走访记录中", name=str(key)[:50])
    visited_on = record.get("visited_on")
    if visited_on:
        day = dt.date.fromisoformat(visited_on)
        today = eng.now().astimezone(LOCAL_TZ).date()
        if day > today:
            errors["visited_on"] = _("走访日期不能晚于今天")
        elif day < campaign.start_date - dt.timedelta(days=31):
            errors["visited_on"] = _("走访日期早于活动开始，请核对")
    answers: dict = {}
    if campaign.form_key:
        survey = eng.forms.get(campaign.form_key)
        given = data.get("answers") if isinstance(data.get("answers"), dict) else {}
        try:
            answers = survey.parse_submission(given)
        except ValidationFailed as exc:
            errors.update({f"answers.{k}": v for k, v in exc.errors.items()})
    problems_raw = data.get("problems") or []
    if not isinstance(problems_raw, list) or len(problems_raw) > MAX_PROBLEMS:
        errors["problems"] = _("一次走访最多登记 %(n)s 个问题", n=MAX_PROBLEMS)
        problems_raw = []
    findings = record.get("findings") or (
        data.get("findings") if data.get("findings") in ("none", "problems") else None
    )
    if findings == "problems" and not problems_raw:
        errors["problems"] = _("选择了“发现问题”，请至少登记一个问题；没有问题请选择“未发现问题”")
    if findings == "none" and problems_raw:
        errors["findings"] = _("登记了问题，请选择“发现问题”，或删去问题")
    register = eng.forms.get(REGISTER_FORM)
    problems = []
    for number, problem in enumerate(problems_raw):
        problem = problem if isinstance(problem, dict) else {}
        given = {
            k: v
            for k, v in problem.items()
            if k in register.field_names and k not in ("enterprise_id", "channel", "attachments")
        }
        given.update(enterprise_id=enterprise.enterprise_id, channel=VISIT_CHANNEL)
        for key in ("contact_name", "contact_phone"):
            if not given.get(key):
                given.pop(key, None)
        try:
            problems.append(register.parse_submission(given))
        except ValidationFailed as exc:
            errors.update({f"problems.{number}.{k}": v for k, v in exc.errors.items()})
    if errors:
        raise ValidationFailed(_("走访记录有误，请按提示修改"), errors)
    return record, answers, problems


def answer_rows(visit: Visit, answers: dict) -> list[dict]:
    rows = []
    for name, value in answers.items():
        values = value if isinstance(value, list) else [value]
        for item in dict.fromkeys(values):
            if item in (None, ""):
                continue
            text = "true" if item is True else "false" if item is False else str(item)
            rows.append(
                {
                    "visit_id": visit.visit_id,
                    "field": name[:100],
                    "value": text[:200],
                    "campaign_id": visit.campaign_id,
                }
            )
    return rows


@dataclasses.dataclass
class SavedVisit:
    visit_id: int
    cases: list[dict]


def save_visit(eng, session, actor, campaign, target, enterprise, record, answers, problems) -> SavedVisit:
    now = eng.now()
    visit = Visit(
        campaign_id=campaign.campaign_id,
        target_id=target.target_id,
        enterprise_id=enterprise.enterprise_id,
        visited_on=dt.date.fromisoformat(record["visited_on"]),
        visitors=record["visitors"],
        met_with=record["met_with"],
        summary=record.get("summary") or None,
        unit_id=target.visitor_unit_id or actor.unit_id,
        user_id=actor.user_id,
        person_id=target.visitor_person_id,
        area_id=enterprise.area_id,
        form_key=campaign.form_key,
        answers=answers,
        problems=len(problems),
        recorded_at=now,
    )
    session.add(visit)
    session.flush()
    rows = answer_rows(visit, answers)
    if rows:
        session.execute(insert(VisitAnswer), rows)
    register = eng.forms.get(REGISTER_FORM)
    cases = []
    registrar = actor.has_role("registrar")
    for problem in problems:
        case = create_case(
            session,
            eng,
            actor,
            register,
            enterprise,
            problem,
            **({} if registrar else {"registrar_id": None}),
        )
        session.add(VisitCase(visit_id=visit.visit_id, case_id=case.case_id))
        cases.append({"case_id": case.case_id, "case_no": case.case_no, "title": case.title})
    target.status = "visited"
    target.visited_at = now
    target.flag = None if target.flag in ("yellow",) else target.flag
    campaign_event(
        session,
        eng,
        actor,
        campaign.campaign_id,
        "visited",
        f"走访{enterprise.name}：" + (f"发现 {len(problems)} 个问题" if problems else "未发现问题"),
        enterprise.enterprise_id,
        {"visit_id": visit.visit_id, "cases": [c["case_id"] for c in cases]},
    )
    return SavedVisit(visit.visit_id, cases)


def campaign_event(
    session: Session,
    eng,
    actor: Actor | None,
    campaign_id: int,
    action: str,
    title: str,
    enterprise_id=None,
    data=None,
):
    session.add(
        ProgrammeEvent(
            at=eng.now(),
            actor_id=actor.user_id if actor else None,
            actor_name=actor.display_name if actor else None,
            subject="campaign",
            subject_id=campaign_id,
            enterprise_id=enterprise_id,
            action=action,
            title=title[:300],
            data=data,
        )
    )
