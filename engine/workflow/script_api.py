"""The functions BPMN scripts, conditions and timer expressions may call, and the effects they request.

Scripts run inside the workflow and must not touch the database. What they want done (raise a flag, notify
people, note something on the record) is collected as an effect and applied by the service that runs the
step, in the same transaction (engine.services.flow.settle).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from engine.domain import calendar
from engine.domain.clock import LOCAL_TZ
from engine.domain.vocabulary import FLAGS
from engine.domain.vocabulary import TIERS
from engine.errors import ScriptError
from engine.i18n import _

AUDIENCES = ("handler", "unit", "dispatcher", "supervisor", "registrar", "leader", "manager")


# Names scripts can call; form fields and task data may not use them.
SCRIPT_FUNCTIONS = (
    "now_iso",
    "working_days_after",
    "working_days_before",
    "is_past",
    "tier_label",
    "case_flag",
    "case_notices",
    "set_flag",
    "notify",
    "record",
)


@dataclasses.dataclass
class Effect:
    kind: str  # flag / notify / record
    args: dict


def _parse(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise ScriptError(
                _("时间格式不对：%(value)s（应为 ISO 8601，如 2025-10-09T18:00:00+08:00）", value=repr(value))
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def _days(value) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value != int(value)
        or not 0 <= value <= 365
    ):
        raise ScriptError(_("工作日数应为 0–365 的整数，而不是 %(value)s", value=repr(value)))
    return int(value)


class ScriptApi:
    """Helpers bound to one unit of work: its clock and the case it runs for. `effects` collects requests.

    Working days are counted on the process's calendar, or on `working_calendar` when given (a timer re-armed on
    the calendar as it stands after a holiday schedule is entered, before that change is committed).
    """

    def __init__(self, clock, case_state: dict | None = None, working_calendar=None):
        self.clock = clock
        self.case_state = dict(case_state or {})
        self.effects: list[Effect] = []
        self.working_calendar = working_calendar

    def _calendar(self):
        return self.working_calendar or calendar.current()

    def functions(self) -> dict:
        return {name: getattr(self, name) for name in SCRIPT_FUNCTIONS}

    def now_iso(self) -> str:
        """The current time (Asia/Shanghai) as an ISO string."""
        return _iso(self.clock.now())

    def working_days_after(self, start, days) -> str:
        """End (18:00) of the Nth working day after `start`, on China's official calendar."""
        return _iso(self._calendar().add_working_days(_parse(start), _days(days)))

    def working_days_before(self, end, days) -> str:
        """Start (09:00) of the working day N working days before `end`'s day."""
        return _iso(self._calendar().subtract_working_days(_parse(end), _days(days)))

    def is_past(self, moment) -> bool:
        return _parse(moment) <= self.clock.now()

    def tier_label(self, tier) -> str:
        """The Chinese name of a rung of the ladder (部门办, 市领导办, …) for notes and notifications."""
        return TIERS.get(tier, (str(tier), ""))[0]

    def case_flag(self) -> str | None:
        """The case's flag as it stands (a just-requested set_flag counts)."""
        for effect in reversed(self.effects):
            if effect.kind == "flag":
                return effect.args["flag"]
        return self.case_state.get("flag")

    def case_notices(self) -> int:
        """How many public notices (通报) the case has had (a just-requested one counts)."""
        requested = sum(1 for e in self.effects if e.kind == "record" and e.args["kind"] == "public_notice")
        return int(self.case_state.get("notices") or 0) + requested

    def set_flag(self, flag: str) -> None:
        if flag not in FLAGS:
            raise ScriptError(
                _("旗帜颜色应为 %(flags)s，而不是 %(flag)s", flags="/".join(FLAGS), flag=repr(flag))
            )
        self.effects.append(Effect("flag", {"flag": flag}))

    def notify(self, audience: str, message: str, kind: str = "reminder") -> None:
        if audience not in AUDIENCES:
            raise ScriptError(
                _(
                    "通知对象应为 %(audiences)s 之一，而不是 %(audience)s",
                    audiences="/".join(AUDIENCES),
                    audience=repr(audience),
                )
            )
        self.effects.append(
            Effect("notify", {"audience": audience, "message": str(message)[:500], "kind": kind})
        )

    def record(self, title: str, kind: str = "note") -> None:
        self.effects.append(Effect("record", {"title": str(title)[:200], "kind": kind}))
