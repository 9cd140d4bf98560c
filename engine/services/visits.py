"""Visit campaigns (走访活动), run by processes/visit.bpmn: creating a campaign (scope, waves, visitors), launching it
(one visit instance and task per enterprise, made in bulk), the visit task as the task services drive it (load,
complete = record the visit, wake on a timer) and closing a campaign.

A launched campaign gives each enterprise in scope one instance of the `visit` process, waiting on its user task
"走访企业并记录" for the enterprise's visitor, with the wave's end as deadline (`due`). The diagram's timers raise the
yellow and red flags and ask for supervision (督办) like a case's. Launching thousands of enterprises does not run
the engine once per enterprise: every instance of a wave starts in the same state, so the engine runs one of them
and the others are copies of its stored state with fresh task ids (`_clone_state`), inserted in bulk with their
task projection rows. From then on each instance is loaded, run and saved by the engine like any other.

Recording a visit completes the task (engine.services.visit_records checks and saves it): the visit row, its
questionnaire answers and each problem found registered as a case (channel 走访) linked to the visit, in one
transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.domain.clock import LOCAL_TZ
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import SpecError
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import flow
from engine.services import notifications
from engine.services.common import Actor
from engine.services.common import in_id_range
from engine.services.common import require_role
from engine.services.enterprises import enterprise_query
from engine.services.enterprises import normalise_credit_code
from engine.services.visit_records import DEFAULT_SURVEY  # noqa: F401 - the campaigns' default questionnaire
from engine.services.visit_records import MAX_PROBLEMS  # noqa: F401 - the recording page's slots
from engine.services.visit_records import VISIT_CHANNEL
from engine.services.visit_records import VISIT_FORM
from engine.services.visit_records import campaign_event
from engine.services.visit_records import parse_record
from engine.services.visit_records import questionnaire_choices  # noqa: F401 - for the campaign form
from engine.services.visit_records import record_fields  # noqa: F401 - for the recording page
from engine.services.visit_records import save_visit
from engine.services.visit_records import today  # noqa: F401 - for the recording page
from engine.services.xlsx import check_row
from engine.services.xlsx import open_workbook
from engine.storage.models import Enterprise
from engine.storage.models import HumanTask
from engine.storage.models import Pairing
from engine.storage.models import PairingLevel
from engine.storage.models import RosterPerson
from engine.storage.models import Unit
from engine.storage.models import User
from engine.storage.models import UserRole
from engine.storage.models import VisitCampaign
from engine.storage.models import VisitTarget
from engine.storage.models import VisitWave
from engine.storage.models import WorkflowInstance
from engine.workflow import runtime
from engine.workflow.script_api import ScriptApi
from engine.workflow.script_api import _iso

KIND = "visit"
PROCESS_ID = "visit"
OFFICE = ("manager", "dispatcher", "admin")  # create, launch and close campaigns
MAX_TARGETS = 20_000
MAX_WAVES = 12
DUE_TIME = dt.time(18, 0)  # a wave ends at the end of the working day of its last date
# The role a visitor's task is held under when the diagram's lane role is not theirs, in this order.
ROLE_ORDER = ("registrar", "leader", "handler", "dispatcher", "supervisor", "manager", "admin")
STATUSES = {"draft": "草稿", "running": "进行中", "closed": "已结束"}
TARGET_STATUSES = {"pending": "待走访", "visited": "已走访", "withdrawn": "未走访（活动已结束）"}


# ---------------------------------------------------------------------------------------------------------
# Creating a campaign


@dataclasses.dataclass
class _Visitor:
    user_id: int | None = None
    person_id: int | None = None
    unit_id: int | None = None
    name: str | None = None


def _text(value, limit: int) -> str:
    return str(value or "").strip()[:limit] if value is not None else ""


def _date(value, field: str, errors: dict) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = _("请填写日期，如 2026-03-31")
        return None


def _check_campaign(eng, session: Session, data: dict) -> dict:
    """The campaign's fields as understood. :raises ValidationFailed: each problem named by its field."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("走访活动的内容应为键值对象"), {"": _("提交的数据应为键值对象")})
    errors: dict[str, str] = {}
    name = _text(data.get("name"), 200)
    if not 2 <= len(name) <= 100:
        errors["name"] = _("请填写活动名称（2–100 字）")
    elif session.scalar(select(VisitCampaign.campaign_id).where(VisitCampaign.name == name)):
        errors["name"] = _("已有同名的走访活动")
    description = _text(data.get("description"), 3000) or None
    form_key = _text(data.get("form_key"), 100) or None
    if form_key:
        try:
            survey = eng.forms.get(form_key)
        except SpecError:
            survey = None
            errors["form_key"] = _("没有这个表单：请先在表单设计中建好调查表")
        if survey is not None:
            clash = set(survey.field_names) & set(eng.forms.get(VISIT_FORM).field_names)
            if clash:
                errors["form_key"] = _(
                    "调查表的字段 %(fields)s 与走访记录重名，请在表单设计中改名",
                    fields="、".join(sorted(clash)),
                )
            if survey.file_fields:
                errors["form_key"] = _("调查表不能有上传文件的字段")
    waves = data.get("waves") or []
    if not isinstance(waves, list) or not waves:
        start = _date(data.get("start_date"), "start_date", errors)
        end = _date(data.get("end_date"), "end_date", errors)
        waves = [{"name": _("第一批"), "start_date": start, "end_date": end}] if start and end else []
    if len(waves) > MAX_WAVES:
        errors["waves"] = _("最多 %(n)s 个批次", n=MAX_WAVES)
        waves = []
    clean_waves = []
    for number, wave in enumerate(waves, 1):
        wave = wave if isinstance(wave, dict) else {}
        prefix = f"waves.{number - 1}."
        wave_name = _text(wave.get("name"), 100) or _("第%(n)s批", n=number)
        start = _date(wave.get("start_date"), prefix + "start_date", errors)
        end = _date(wave.get("end_date"), prefix + "end_date", errors)
        if start and end and end < start:
            errors[prefix + "end_date"] = _("批次的截止日期不能早于开始日期")
        if len(wave_name) > 50:
            errors[prefix + "name"] = _("批次名称最多 50 字")
        clean_waves.append({"name": wave_name, "start_date": start, "end_date": end})
    if "start_date" not in errors and "end_date" not in errors and not clean_waves and not errors:
        errors["start_date"] = _("请填写活动的起止日期或批次")
    if errors:
        raise ValidationFailed(_("走访活动有误，请按提示修改"), errors)
    return {
        "name": name,
        "description": description,
        "form_key": form_key,
        "waves": clean_waves,
        "scope": data.get("scope") if isinstance(data.get("scope"), dict) else {},
        "assignment": data.get("assignment") if isinstance(data.get("assignment"), dict) else {},
    }


def read_enterprise_list(data: bytes) -> list[dict]:
    """An imported list of enterprises (.xlsx): a column 统一社会信用代码 (or the first column), optionally 批次 (1, 2,
    … or the wave's name) and 走访人账号 (the visitor's username). Rows as [{credit_code, wave, visitor, row}].

    :raises ValidationFailed: not a readable workbook, no credit code column, too many rows."""
    rows: list[dict] = []
    with open_workbook(data) as workbook:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        for number, row in enumerate(sheet.iter_rows(), 1):
            check_row(number, row)
            values = [str(c.value).strip() if c.value is not None else "" for c in row]
            if header is None and any("信用代码" in v for v in values):
                header = values  # the template's header row
                continue
            header = header or ["统一社会信用代码"]  # no header: the credit codes are in the first column
            if not any(values):
                continue
            if len(rows) >= MAX_TARGETS:
                raise ValidationFailed(
                    _("名单过长"), {"file": _("一个走访活动最多 %(n)s 家企业", n=MAX_TARGETS)}
                )
            cells = dict(zip(header, values, strict=False))
            code = next((v for k, v in cells.items() if "信用代码" in k), values[0] if values else "")
            rows.append(
                {
                    "credit_code": code,
                    "wave": next((v for k, v in cells.items() if k.startswith("批次")), ""),
                    "visitor": next((v for k, v in cells.items() if "走访人" in k), ""),
                    "row": number,
                }
            )
    if not rows:
        raise ValidationFailed(
            _("名单是空的"), {"file": _("第一张工作表没有企业：请按模板填写统一社会信用代码")}
        )
    return rows


def _scope_targets(session: Session, scope: dict) -> list[dict]:
    """The enterprises a scope names, as [{enterprise, wave (text or ""), visitor (username or "")}].

    :raises ValidationFailed: an unknown filter value, unknown credit codes (each row named), nothing in scope."""
    listed = scope.get("list")
    if listed:
        if not isinstance(listed, list) or len(listed) > MAX_TARGETS:
            raise ValidationFailed(_("名单有误"), {"scope": _("名单最多 %(n)s 家企业", n=MAX_TARGETS)})
        codes = {}
        errors = {}
        for index, item in enumerate(listed):
            item = item if isinstance(item, dict) else {"credit_code": item}
            code = normalise_credit_code(str(item.get("credit_code") or ""))
            where = _("第 %(row)s 行", row=item.get("row") or index + 1)
            if code in codes:
                errors[f"scope.{index}"] = _("%(where)s：企业重复（%(code)s）", where=where, code=code)
            codes[code] = (item, where, index)
        known = {}
        for start in range(0, len(codes), 900):
            chunk = list(codes)[start : start + 900]
            known.update(
                {
                    e.credit_code: e
                    for e in session.scalars(select(Enterprise).where(Enterprise.credit_code.in_(chunk)))
                }
            )
        for code, (_item, where, index) in codes.items():
            if code not in known:
                errors[f"scope.{index}"] = _(
                    "%(where)s：企业档案中没有统一社会信用代码 %(code)s，请先建档或导入企业名录",
                    where=where,
                    code=code or "—",
                )
        if errors:
            shown = dict(list(errors.items())[:50])
            raise ValidationFailed(_("名单中有 %(n)s 行有误，未保存", n=len(errors)), shown)
        return [
            {
                "enterprise": known[code],
                "wave": str(item.get("wave") or "").strip(),
                "visitor": str(item.get("visitor") or "").strip(),
            }
            for code, (item, _where, _index) in codes.items()
        ]
    query, _f = enterprise_query(session, str(scope.get("q") or ""), scope.get("filters") or {})
    enterprises = session.scalars(
        query.order_by(Enterprise.area_id, Enterprise.name, Enterprise.enterprise_id).limit(MAX_TARGETS + 1)
    ).all()
    if len(enterprises) > MAX_TARGETS:
        raise ValidationFailed(
            _("范围内企业过多"), {"scope": _("一个走访活动最多 %(n)s 家企业，请缩小范围", n=MAX_TARGETS)}
        )
    return [{"enterprise": e, "wave": "", "visitor": ""} for e in enterprises]


class _Visitors:
    """Who visits each enterprise: its pairing at the chosen level (a person with an account, a person without one
    — their unit's staff hold the task — or a unit), else the campaign's visitor chosen by hand."""

    def __init__(self, session: Session, assignment: dict, enterprise_ids: list[int]):
        self.session = session
        self.errors: dict[str, str] = {}
        mode = assignment.get("mode") or "pairing"
        if mode not in ("pairing", "hand"):
            self.errors["assignment.mode"] = _("走访人应按包联关系（pairing）或手工指定（hand）")
        self.mode = mode
        self.default = self._chosen(assignment.get("user"), assignment.get("unit"))
        self.by_enterprise: dict[int, _Visitor] = {}
        self.usernames: dict[str, _Visitor] = {}
        self.level = None
        if mode == "pairing" and not self.errors:
            code = str(assignment.get("level") or "").strip()
            self.level = session.scalars(
                select(PairingLevel).where((PairingLevel.code == code) | (PairingLevel.name == code))
            ).first()
            if self.level is None or self.level.kind == "enterprise":
                self.errors["assignment.level"] = _(
                    "请选择一个包联层级（人员或单位），按它的包联关系安排走访人"
                )
            else:
                self._load_pairings(enterprise_ids)

    def _chosen(self, username, unit_code) -> _Visitor | None:
        if username:
            user = self.session.scalars(select(User).where(User.username == str(username).strip())).first()
            if user is None or not user.is_active:
                self.errors["assignment.user"] = _("没有这个账号：%(name)s", name=str(username)[:50])
                return None
            return _Visitor(user_id=user.user_id, unit_id=user.unit_id, name=user.display_name)
        if unit_code:
            unit = self.session.scalars(select(Unit).where(Unit.code == str(unit_code).strip())).first()
            if unit is None:
                self.errors["assignment.unit"] = _("没有这个单位：%(code)s", code=str(unit_code)[:50])
                return None
            return _Visitor(unit_id=unit.unit_id, name=unit.name)
        return None

    def _load_pairings(self, enterprise_ids: list[int]) -> None:
        for start in range(0, len(enterprise_ids), 900):
            chunk = enterprise_ids[start : start + 900]
            rows = self.session.execute(
                select(Pairing, RosterPerson, User, Unit)
                .outerjoin(RosterPerson, RosterPerson.person_id == Pairing.person_id)
                .outerjoin(User, User.user_id == RosterPerson.user_id)
                .outerjoin(Unit, Unit.unit_id == Pairing.unit_id)
                .where(Pairing.level_id == self.level.level_id, Pairing.enterprise_id.in_(chunk))
                .order_by(Pairing.pairing_id)
            )
            for pairing, person, user, unit in rows:
                if pairing.enterprise_id in self.by_enterprise:
                    continue
                if person is not None:
                    visitor = _Visitor(
                        user_id=user.user_id if user is not None and user.is_active else None,
                        person_id=person.person_id,
                        unit_id=person.unit_id or pairing.unit_id or (user.unit_id if user else None),
                        name=person.name,
                    )
                elif unit is not None:
                    visitor = _Visitor(unit_id=unit.unit_id, name=unit.name)
                else:
                    continue
                self.by_enterprise[pairing.enterprise_id] = visitor

    def by_username(self, username: str) -> _Visitor | None:
        if username not in self.usernames:
            user = self.session.scalars(select(User).where(User.username == username)).first()
            self.usernames[username] = (
                _Visitor(user_id=user.user_id, unit_id=user.unit_id, name=user.display_name)
                if user is not None and user.is_active
                else None
            )
        return self.usernames[username]

    def of(self, enterprise_id: int, listed: str = "") -> _Visitor | None:
        if listed:
            return self.by_username(listed)
        if self.mode == "pairing":
            return self.by_enterprise.get(enterprise_id) or self.default
        return self.default


def create_campaign(eng, actor: Actor, data: dict) -> dict:
    """A new campaign as a draft: its waves, the enterprises in scope (filters, or an imported list) and each
    one's visitor. Enterprises are spread over the waves in order (by area, then name) unless the list names
    their wave. With data["launch"] true it is launched at once (one transaction).

    :raises PermissionDenied: not the programme office. :raises ValidationFailed: bad fields, scope or visitors
    (each named; nothing saved)."""
    require_role(actor, *OFFICE)
    with eng.db.transaction() as session:
        clean = _check_campaign(eng, session, data)
        targets = _scope_targets(session, clean["scope"])
        if not targets:
            raise ValidationFailed(_("范围内没有企业"), {"scope": _("按这些条件找不到企业，请调整范围")})
        visitors = _Visitors(session, clean["assignment"], [t["enterprise"].enterprise_id for t in targets])
        errors = dict(visitors.errors)
        waves = clean["waves"]
        wave_of = _spread(targets, waves, errors)
        chosen = []
        missing = []
        for index, item in enumerate(targets):
            visitor = visitors.of(item["enterprise"].enterprise_id, item["visitor"])
            if visitor is None and item["visitor"]:
                errors[f"scope.{index}"] = _("走访人账号 %(name)s 不存在", name=item["visitor"][:50])
            if visitor is None:
                missing.append(item["enterprise"].name)
            chosen.append(visitor)
        if missing and not errors:
            errors["assignment"] = _(
                "%(n)s 家企业没有走访人（如 %(names)s）：请补全包联关系，或指定一名默认走访人或单位",
                n=len(missing),
                names="、".join(missing[:3]),
            )
        if errors:
            raise ValidationFailed(_("走访活动有误，请按提示修改"), errors)
        now = eng.now()
        scope = {k: v for k, v in clean["scope"].items() if k != "list"}
        if clean["scope"].get("list"):
            scope["listed"] = len(targets)
        campaign = VisitCampaign(
            name=clean["name"],
            description=clean["description"],
            form_key=clean["form_key"],
            status="draft",
            scope=scope,
            assignment={k: clean["assignment"].get(k) for k in ("mode", "level", "user", "unit")},
            start_date=min(w["start_date"] for w in waves),
            end_date=max(w["end_date"] for w in waves),
            created_at=now,
            created_by=actor.user_id,
        )
        session.add(campaign)
        session.flush()
        wave_rows = []
        for number, wave in enumerate(waves):
            row = VisitWave(campaign_id=campaign.campaign_id, sort_order=number, **wave)
            session.add(row)
            wave_rows.append(row)
        session.flush()
        session.execute(
            insert(VisitTarget),
            [
                {
                    "campaign_id": campaign.campaign_id,
                    "wave_id": wave_rows[wave_of[index]].wave_id,
                    "enterprise_id": item["enterprise"].enterprise_id,
                    "area_id": item["enterprise"].area_id,
                    "visitor_user_id": visitor.user_id,
                    "visitor_person_id": visitor.person_id,
                    "visitor_unit_id": visitor.unit_id,
                    "visitor_name": (visitor.name or "")[:100] or None,
                    "status": "pending",
                }
                for index, (item, visitor) in enumerate(zip(targets, chosen, strict=True))
            ],
        )
        campaign_event(
            session,
            eng,
            actor,
            campaign.campaign_id,
            "created",
            f"创建走访活动（{len(targets)} 家企业，{len(waves)} 个批次）",
        )
        if data.get("launch"):
            _launch(eng, session, actor, campaign)
        return {
            "campaign_id": campaign.campaign_id,
            "name": campaign.name,
            "status": campaign.status,
            "targets": len(targets),
        }


def _spread(targets: list[dict], waves: list[dict], errors: dict) -> list[int]:
    """Each target's wave index: the one its list row names (number or name), else in order, evenly."""
    names = {w["name"]: i for i, w in enumerate(waves)}
    result = []
    per_wave = -(-len(targets) // len(waves))
    for index, item in enumerate(targets):
        named = item.get("wave") or ""
        if named:
            if named in names:
                result.append(names[named])
            elif named.isdigit() and 1 <= int(named) <= len(waves):
                result.append(int(named) - 1)
            else:
                errors[f"scope.{index}"] = _("批次“%(wave)s”不是本活动的批次", wave=named[:20])
                result.append(0)
        else:
            result.append(min(index // per_wave, len(waves) - 1))
    return result


def _campaign(session: Session, campaign_id, *, lock: bool = False) -> VisitCampaign:
    try:
        campaign_id = int(campaign_id)
    except (TypeError, ValueError):
        raise NotFound(_("没有这个走访活动")) from None
    if not in_id_range(campaign_id):
        raise NotFound(_("没有这个走访活动"))
    campaign = session.get(VisitCampaign, campaign_id, with_for_update=lock)
    if campaign is None:
        raise NotFound(_("没有这个走访活动"))
    return campaign


def delete_campaign(eng, actor: Actor, campaign_id: int) -> None:
    """Delete a draft (a launched campaign is closed instead, its visits kept). :raises Conflict: launched."""
    require_role(actor, *OFFICE)
    with eng.db.transaction() as session:
        campaign = _campaign(session, campaign_id, lock=True)
        if campaign.status != "draft":
            raise Conflict(_("已发布的走访活动不能删除，只能结束"))
        session.execute(delete(VisitTarget).where(VisitTarget.campaign_id == campaign.campaign_id))
        session.execute(delete(VisitWave).where(VisitWave.campaign_id == campaign.campaign_id))
        session.delete(campaign)


# ---------------------------------------------------------------------------------------------------------
# Launching: one instance and task per enterprise, in bulk


class VisitApi(ScriptApi):
    """The script helpers of the visit diagram: those of the case loop, the flag being the visit's."""


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _clone_state(state: str, ids: list[str]) -> tuple[str, dict[str, str]]:
    """The stored state of a started instance with every task id replaced by a new one, and old id -> new id."""
    fresh = {old: str(uuid.uuid4()) for old in ids}
    return _UUID.sub(lambda m: fresh.get(m.group(0), m.group(0)), state), fresh


def _due(wave: VisitWave) -> dt.datetime:
    return dt.datetime.combine(wave.end_date, DUE_TIME, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def launch_campaign(eng, actor: Actor, campaign_id: int) -> dict:
    """Launch a draft: a visit task per enterprise in its visitor's inbox. :raises Conflict: already launched."""
    require_role(actor, *OFFICE)
    with eng.db.transaction() as session:
        campaign = _campaign(session, campaign_id, lock=True)
        if campaign.status != "draft":
            raise Conflict(_("这个走访活动已经发布"))
        count = _launch(eng, session, actor, campaign)
        return {"campaign_id": campaign.campaign_id, "status": campaign.status, "tasks": count}


def _user_roles(session: Session, user_ids) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {}
    ids = sorted({u for u in user_ids if u})
    for start in range(0, len(ids), 900):
        for user_id, role in session.execute(
            select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_(ids[start : start + 900]))
        ):
            roles.setdefault(user_id, set()).add(role)
    return roles


def _holder(lane_role: str, target, roles: dict[int, set[str]]) -> tuple[str, int | None, int | None]:
    """(role, unit_id, assignee_id) of a visit task: a task in the visitor's lane (助企干部) is the visitor's own,
    their unit's staff's, or the lane's pool; a task in another lane (督查) is that role's pool."""
    if lane_role != "registrar":
        return lane_role, None, None
    if target.visitor_user_id:
        mine = roles.get(target.visitor_user_id, set())
        role = lane_role if lane_role in mine else next((r for r in ROLE_ORDER if r in mine), lane_role)
        return role, None, target.visitor_user_id
    if target.visitor_unit_id:
        return "handler", target.visitor_unit_id, None
    return lane_role, None, None


def _launch(eng, session: Session, actor: Actor, campaign: VisitCampaign) -> int:
    version_id = flow.latest_version_id(session, PROCESS_ID)
    parsed = flow.parsed_version(eng, session, version_id)
    now = eng.now()
    waves = session.scalars(
        select(VisitWave).where(VisitWave.campaign_id == campaign.campaign_id).order_by(VisitWave.sort_order)
    ).all()
    rows = session.execute(
        select(VisitTarget, Enterprise.name, Enterprise.field)
        .join(Enterprise, Enterprise.enterprise_id == VisitTarget.enterprise_id)
        .where(VisitTarget.campaign_id == campaign.campaign_id, VisitTarget.status == "pending")
        .order_by(VisitTarget.target_id)
    ).all()
    roles = _user_roles(session, [t.visitor_user_id for t, _n, _f in rows])
    by_wave: dict[int, list] = {}
    for row in rows:
        by_wave.setdefault(row[0].wave_id, []).append(row)
    told: dict[tuple, int] = {}
    for wave in waves:
        members = by_wave.get(wave.wave_id, [])
        if not members:
            continue
        due = _due(wave)
        api = VisitApi(eng.clock, {"flag": None})
        engine = flow.rule_script_engine(eng, session, api)
        data = {
            "campaign_id": campaign.campaign_id,
            "campaign": campaign.name,
            "wave": wave.name,
            "due": _iso(due),
        }
        workflow = runtime.create(parsed, str(version_id), engine, data)
        flow.run_engine(eng, workflow)
        flag = next((e.args["flag"] for e in reversed(api.effects) if e.kind == "flag"), None)
        state = runtime.dumps(workflow)
        next_timer = runtime.next_timer(workflow)
        ids = [str(task_id) for task_id in workflow.tasks]
        ready = [t for t in runtime.ready_human_tasks(workflow) if t.task_spec.name in parsed.human_tasks]
        clones = [_clone_state(state, ids) for _row in members]
        instance_ids = session.scalars(
            insert(WorkflowInstance).returning(WorkflowInstance.instance_id, sort_by_parameter_order=True),
            [
                {
                    "case_id": None,
                    "kind": KIND,
                    "round_no": 1,
                    "version_id": version_id,
                    "status": "running",
                    "state": cloned,
                    "next_timer_at": next_timer,
                    "lock_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for cloned, _fresh in clones
            ],
        ).all()
        tasks = []
        for (target, name, field), instance_id, (_state, fresh) in zip(
            members, instance_ids, clones, strict=True
        ):
            target.instance_id = instance_id
            target.due_at = due
            target.flag = flag
            for task in ready:
                spec = parsed.human_tasks[task.task_spec.name]
                role, unit_id, assignee = _holder(spec.role or "registrar", target, roles)
                tasks.append(
                    _task_row(
                        fresh[str(task.id)],
                        instance_id,
                        spec,
                        role,
                        unit_id,
                        assignee,
                        now,
                        due,
                        flag,
                        campaign,
                        wave,
                        name,
                        field,
                    )
                )
                key = ("user", assignee) if assignee else ("unit", unit_id) if unit_id else ("role", role)
                told[key] = told.get(key, 0) + 1
        if tasks:
            session.execute(insert(HumanTask), tasks)
    session.flush()
    for (what, who), count in told.items():
        users = (
            [who]
            if what == "user"
            else notifications.users_with_role(session, "handler", who)
            if what == "unit"
            else notifications.users_with_role(session, who)
        )
        notifications.notify(
            session,
            eng,
            users,
            case_id=None,
            kind="task",
            title=f"新走访任务：{campaign.name}（{count} 家企业）"[:200],
            body=campaign.description,
        )
    campaign.status = "running"
    campaign.launched_at = now
    campaign_event(
        session, eng, actor, campaign.campaign_id, "launched", f"发布走访活动：{len(rows)} 个走访任务"
    )
    return len(rows)


def _task_row(
    task_id,
    instance_id,
    spec,
    role,
    unit_id,
    assignee,
    now,
    due,
    flag,
    campaign,
    wave,
    enterprise_name,
    field,
) -> dict:
    return {
        "task_id": task_id,
        "instance_id": instance_id,
        "case_id": None,
        "kind": KIND,
        "task_name": spec.name,
        "title": spec.title if spec.name != "supervise" else f"{spec.title}：走访 {enterprise_name}"[:200],
        "form_key": spec.form_key,
        "role": role,
        "unit_id": unit_id,
        "assignee_id": assignee,
        "created_at": now,
        "due_at": due if role != "supervisor" else None,
        "flag": flag,
        "case_no": wave.name[:30],
        "case_title": campaign.name[:200],
        "enterprise_name": enterprise_name[:200],
        "field": field or "",
        "category": "",
        "channel": VISIT_CHANNEL,
        "urgency": "",
        "tier": None,
        "round_no": 1,
    }


# ---------------------------------------------------------------------------------------------------------
# One visit instance: load, wake, settle, project


def _target_of(session: Session, instance: WorkflowInstance) -> VisitTarget:
    target = session.scalars(
        select(VisitTarget).where(VisitTarget.instance_id == instance.instance_id)
    ).first()
    if target is None:
        raise NotFound(_("找不到这个走访任务"))
    return target


def load(eng, session: Session, instance: WorkflowInstance, target: VisitTarget | None = None):
    """(workflow, parsed process, script engine) of a visit instance."""
    target = target or _target_of(session, instance)
    parsed = flow.parsed_version(eng, session, instance.version_id)
    engine = flow.rule_script_engine(eng, session, VisitApi(eng.clock, {"flag": target.flag}))
    workflow = runtime.loads(instance.state, lambda _key: parsed, engine)
    return workflow, parsed, engine


def fire(eng, session: Session, instance: WorkflowInstance) -> None:
    """The worker's step for a due visit instance (a flag timer)."""
    target = session.scalars(
        select(VisitTarget).where(VisitTarget.instance_id == instance.instance_id)
    ).first()
    if target is None:
        instance.status = "error"
        instance.next_timer_at = None
        return
    workflow, parsed, engine = load(eng, session, instance, target)
    flow.run_engine(eng, workflow)
    settle(eng, session, target, instance, workflow, parsed, engine)


FLAG_TITLES = {"yellow": "亮黄旗：走访临近截止", "red": "亮红旗：走访已超过截止时间", "green": "恢复绿旗"}


def settle(eng, session: Session, target: VisitTarget, instance, workflow, parsed, engine) -> None:
    """Save the instance, carry out the diagram's requests (flags, notifications) and rebuild its task rows."""
    now = eng.now()
    campaign = session.get(VisitCampaign, target.campaign_id)
    enterprise = session.get(Enterprise, target.enterprise_id)
    for effect in engine.api.effects:
        if effect.kind == "flag" and effect.args["flag"] != target.flag:
            previous, target.flag = target.flag, effect.args["flag"]
            campaign_event(
                session,
                eng,
                None,
                campaign.campaign_id,
                "flag",
                f"{enterprise.name}：{FLAG_TITLES.get(target.flag, target.flag)}",
                enterprise.enterprise_id,
                {"from": previous, "to": target.flag, "unit_id": target.visitor_unit_id},
            )
        elif effect.kind == "notify":
            notifications.notify(
                session,
                eng,
                _audience(session, target, effect.args["audience"]),
                case_id=None,
                kind=effect.args["kind"],
                title=f"{enterprise.name} {effect.args['message']}"[:200],
                body=campaign.name,
            )
    engine.api.effects.clear()
    engine.decisions.clear()
    instance.state = runtime.dumps(workflow)
    instance.next_timer_at = runtime.next_timer(workflow)
    instance.updated_at = now
    existing = {
        row.task_id: row.created_at
        for row in session.execute(
            delete(HumanTask)
            .where(HumanTask.instance_id == instance.instance_id)
            .returning(HumanTask.task_id, HumanTask.created_at)
        )
    }
    if workflow.is_completed():
        instance.status = "completed"
        instance.next_timer_at = None
        return
    wave = session.get(VisitWave, target.wave_id)
    roles = _user_roles(session, [target.visitor_user_id])
    for task in runtime.ready_human_tasks(workflow):
        spec = parsed.human_tasks.get(task.task_spec.name)
        if spec is None:
            continue
        role, unit_id, assignee = _holder(spec.role or "registrar", target, roles)
        row = _task_row(
            str(task.id),
            instance.instance_id,
            spec,
            role,
            unit_id,
            assignee,
            existing.get(str(task.id), now),
            target.due_at,
            target.flag,
            campaign,
            wave,
            enterprise.name,
            enterprise.field,
        )
        session.add(HumanTask(**row))
        if str(task.id) not in existing:
            users = [assignee] if assignee else notifications.users_with_role(session, role, unit_id)
            notifications.notify(
                session,
                eng,
                users,
                case_id=None,
                kind="task",
                title=f"新任务：{row['title']}（{campaign.name}）"[:200],
                body=enterprise.name,
            )


def _audience(session: Session, target: VisitTarget, audience: str) -> list[int]:
    """Who an audience word of the script API means for a visit: the visitor for the visitor's words."""
    if audience in ("registrar", "handler", "unit"):
        if target.visitor_user_id:
            return [target.visitor_user_id]
        return (
            notifications.users_with_role(session, "handler", target.visitor_unit_id)
            if target.visitor_unit_id
            else []
        )
    return notifications.users_with_role(session, audience)


# ---------------------------------------------------------------------------------------------------------
# Recording a visit (completing the visit task)


def complete(
    eng,
    session: Session,
    stager,
    actor: Actor,
    task: HumanTask,
    instance: WorkflowInstance,
    raw,
    uploads,
    lock_version,
) -> dict:
    """Complete a visit task in the caller's transaction: record the visit (the recording task) or the
    supervision (督办), and run the diagram on. `instance` is the task's, locked by the caller
    (tasks._visible_task). :raises ValidationFailed: bad data (nothing saved).
    :raises Conflict: the page is stale or the task is done."""
    if lock_version is not None and int(lock_version) != instance.lock_version:
        raise Conflict(_("页面已过期：这项走访任务刚刚有了变化，请刷新后再提交"))
    target = _target_of(session, instance)
    campaign = session.get(VisitCampaign, target.campaign_id)
    enterprise = session.get(Enterprise, target.enterprise_id)
    workflow, parsed, engine = load(eng, session, instance, target)
    flow.run_engine(eng, workflow)
    live = runtime.find_ready_task(workflow, task.task_id)
    result = {
        "kind": KIND,
        "task_id": task.task_id,
        "title": task.title,
        "case_id": None,
        "campaign_id": campaign.campaign_id,
        "target_id": target.target_id,
        "next_tasks": [],
        "cases": [],
    }
    if task.form_key == VISIT_FORM:
        record, answers, problems = parse_record(eng, campaign, enterprise, raw)
        visit = save_visit(eng, session, actor, campaign, target, enterprise, record, answers, problems)
        result.update(visit_id=visit.visit_id, cases=visit.cases)
        data = {
            "visited_on": record["visited_on"],
            "findings": record["findings"],
            "problems_found": len(problems),
            "visit_id": visit.visit_id,
        }
    else:
        form = eng.forms.get(task.form_key) if task.form_key else None
        data = (
            form.parse_submission(raw if isinstance(raw, dict) or hasattr(raw, "getlist") else {})
            if form
            else {}
        )
        campaign_event(
            session,
            eng,
            actor,
            campaign.campaign_id,
            "supervised",
            f"{enterprise.name}：完成“{task.title}”",
            enterprise.enterprise_id,
            {"form": data},
        )
    flow._run(eng, lambda: runtime.complete_task(workflow, live, data))
    settle(eng, session, target, instance, workflow, parsed, engine)
    return result


def close_campaign(eng, actor: Actor, campaign_id: int) -> dict:
    """End a running campaign: visit tasks not done are withdrawn (their enterprises count as not visited)."""
    require_role(actor, *OFFICE)
    with eng.db.transaction() as session:
        campaign = _campaign(session, campaign_id, lock=True)
        if campaign.status != "running":
            raise Conflict(_("只有进行中的走访活动可以结束"))
        pending = select(VisitTarget.instance_id).where(
            VisitTarget.campaign_id == campaign.campaign_id,
            VisitTarget.status == "pending",
            VisitTarget.instance_id.is_not(None),
        )
        session.execute(delete(HumanTask).where(HumanTask.instance_id.in_(pending)))
        session.execute(
            update(WorkflowInstance)
            .where(WorkflowInstance.instance_id.in_(pending))
            .values(status="completed", end_event="withdrawn", next_timer_at=None)
            .execution_options(synchronize_session=False)
        )
        withdrawn = session.execute(
            update(VisitTarget)
            .where(VisitTarget.campaign_id == campaign.campaign_id, VisitTarget.status == "pending")
            .values(status="withdrawn")
            .execution_options(synchronize_session=False)
        ).rowcount
        campaign.status = "closed"
        campaign.closed_at = eng.now()
        campaign_event(
            session, eng, actor, campaign.campaign_id, "closed", f"结束走访活动（{withdrawn} 家企业未走访）"
        )
        return {"campaign_id": campaign.campaign_id, "status": campaign.status, "withdrawn": withdrawn}


def reassign(eng, actor: Actor, target_id, data: dict) -> dict:
    """Change who visits one enterprise of a campaign (a cadre left, a unit took over): {"user": username} or
    {"unit": unit code}. An open visit task moves to the new visitor at once (and tells them).

    :raises NotFound: unknown row. :raises Conflict: already visited or withdrawn. :raises ValidationFailed: no
    such account or unit, or neither given."""
    require_role(actor, *OFFICE)
    data = data if isinstance(data, dict) else {}
    with eng.db.transaction() as session:
        try:
            number = int(target_id)
        except (TypeError, ValueError):
            raise NotFound(_("没有这家走访企业")) from None
        target = session.get(VisitTarget, number, with_for_update=True) if in_id_range(number) else None
        if target is None:
            raise NotFound(_("没有这家走访企业"))
        if target.status != "pending":
            raise Conflict(_("这家企业已经走访或活动已结束，不能更换走访人"))
        picker = _Visitors(session, {"mode": "hand", "user": data.get("user"), "unit": data.get("unit")}, [])
        if picker.errors or picker.default is None:
            raise ValidationFailed(
                _("请选择新的走访人账号或走访单位"),
                picker.errors or {"user": _("请选择新的走访人账号或走访单位")},
            )
        visitor = picker.default
        before = target.visitor_name
        target.visitor_user_id, target.visitor_person_id = visitor.user_id, None
        target.visitor_unit_id, target.visitor_name = visitor.unit_id, (visitor.name or "")[:100] or None
        enterprise = session.get(Enterprise, target.enterprise_id)
        campaign = session.get(VisitCampaign, target.campaign_id)
        if target.instance_id is not None:
            roles = _user_roles(session, [target.visitor_user_id])
            for task in session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == target.instance_id, HumanTask.form_key == VISIT_FORM
                )
            ):
                task.role, task.unit_id, task.assignee_id = _holder("registrar", target, roles)
                users = (
                    [task.assignee_id]
                    if task.assignee_id
                    else notifications.users_with_role(session, task.role, task.unit_id)
                )
                notifications.notify(
                    session,
                    eng,
                    users,
                    case_id=None,
                    kind="reassignment",
                    title=f"新走访任务：{enterprise.name}（{campaign.name}）"[:200],
                    body=campaign.name,
                )
        campaign_event(
            session,
            eng,
            actor,
            campaign.campaign_id,
            "reassigned",
            f"{enterprise.name}：走访人由 {before or '（未指定）'} 改为 {target.visitor_name}",
            enterprise.enterprise_id,
        )
        return {"target_id": target.target_id, "visitor": target.visitor_name}
