"""Who may see a case and who may act on a task: the permission checks the services share."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.i18n import _
from engine.services.common import Actor
from engine.storage.models import Case
from engine.storage.models import CaseUnit
from engine.storage.models import HumanTask


def can_see_case(session: Session, actor: Actor, case: Case | None, *, raise_error: bool = False) -> bool:
    """Everyone but a pure handler sees all cases; a handler sees cases its unit is or was involved in."""
    if case is None:
        if raise_error:
            raise NotFound(_("诉求不存在"))
        return False
    if actor.sees_all_cases:
        return True
    visible = actor.unit_id is not None and session.get(CaseUnit, (case.case_id, actor.unit_id)) is not None
    if not visible and raise_error:
        raise PermissionDenied(_("这件诉求不属于您所在单位，无权查看"))
    return visible


def can_act(actor: Actor, task: HumanTask) -> bool:
    """May this user complete this task? Role, then unit, then personal assignment."""
    if task.role not in actor.roles:
        return False
    if task.unit_id is not None and task.unit_id != actor.unit_id:
        return False
    if task.assignee_id is not None and task.assignee_id != actor.user_id:
        return False
    return True
