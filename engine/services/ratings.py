"""Enterprises rate the departments (测评): rating rounds, the enterprises' private links, their ratings, and the
figures per unit that the quarterly evaluation can take.

The programme office opens a round for a period and a scope of enterprises. Each enterprise in scope that had
cases handled in the period (as lead or co-handling unit) gets a private link — no account, like the tracking
link — to rate those units from 1 (很不满意) to 5 (很满意), once. Submissions are limited per client address and
each served form submits once (the public channel's stamps). Per unit: ratings, the average score and the rating
rate (the average as a percentage of the best score, 0–100) — `unit_ratings` gives the evaluation its
`rating_rate`.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.clock import LOCAL_TZ
from engine.errors import Conflict
from engine.errors import NotFound
from engine.errors import RateLimited
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.common import Actor
from engine.services.common import in_id_range
from engine.services.common import require_role
from engine.services.common import unit_names
from engine.services.enterprises import enterprise_query
from engine.services.figures import parse_period
from engine.storage.models import Case
from engine.storage.models import CaseUnit
from engine.storage.models import Enterprise
from engine.storage.models import FormStamp
from engine.storage.models import RateEvent
from engine.storage.models import Rating
from engine.storage.models import RatingInvite
from engine.storage.models import RatingRound

OFFICE = ("manager", "dispatcher", "admin")
READ_ALL = ("manager", "dispatcher", "admin", "supervisor", "leader")
SCORES = {5: "很满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "很不满意"}
BEST = max(SCORES)
PER_HOUR = 20  # rating submissions per client address per hour
MAX_COMMENT = 500


def _day(value, field: str, errors: dict) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = _("请填写日期，如 2026-03-31")
        return None


def _moment(day: dt.date, end: bool = False) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), tzinfo=LOCAL_TZ)


def served_units(
    session: Session, enterprise_ids: list[int], start: dt.date, end: dt.date
) -> dict[int, list[int]]:
    """enterprise_id -> the units (lead or co-handling) of its cases open at some moment in the period."""
    found: dict[int, set[int]] = {}
    for first in range(0, len(enterprise_ids), 900):
        chunk = enterprise_ids[first : first + 900]
        rows = session.execute(
            select(Case.enterprise_id, CaseUnit.unit_id)
            .join(CaseUnit, CaseUnit.case_id == Case.case_id)
            .where(
                Case.enterprise_id.in_(chunk),
                CaseUnit.relation.in_(("lead", "co")),
                Case.created_at < _moment(end, end=True),
                or_(Case.closed_at.is_(None), Case.closed_at >= _moment(start)),
            )
            .distinct()
        )
        for enterprise_id, unit_id in rows:
            found.setdefault(enterprise_id, set()).add(unit_id)
    return {e: sorted(units) for e, units in found.items()}


def open_round(eng, actor: Actor, data: dict) -> dict:
    """Open a rating round: a link for each enterprise in scope that had cases handled in the period.

    :raises ValidationFailed: bad name, dates or scope; no enterprise had a unit to rate (nothing saved)."""
    require_role(actor, *OFFICE)
    if not isinstance(data, dict):
        raise ValidationFailed(_("测评的内容应为键值对象"), {"": _("提交的数据应为键值对象")})
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not 2 <= len(name) <= 100:
        errors["name"] = _("请填写测评名称（2–100 字）")
    start = _day(data.get("period_start"), "period_start", errors)
    end = _day(data.get("period_end"), "period_end", errors)
    closes = _day(data.get("closes_on"), "closes_on", errors)
    if start and end and end < start:
        errors["period_end"] = _("测评期间的结束日期不能早于开始日期")
    scope = data.get("scope") if isinstance(data.get("scope"), dict) else {}
    with eng.db.transaction() as session:
        if name and session.scalar(select(RatingRound.round_id).where(RatingRound.name == name)):
            errors["name"] = _("已有同名的测评")
        if errors:
            raise ValidationFailed(_("测评有误，请按提示修改"), errors)
        query, understood = enterprise_query(session, str(scope.get("q") or ""), scope.get("filters") or {})
        ids = session.scalars(query.with_only_columns(Enterprise.enterprise_id)).all()
        served = served_units(session, list(ids), start, end)
        if not served:
            raise ValidationFailed(
                _("范围内的企业在这段时间没有诉求由部门办理，没有可测评的部门"),
                {"period_start": _("请调整测评期间或范围")},
            )
        row = RatingRound(
            name=name,
            period_start=start,
            period_end=end,
            closes_on=closes,
            scope={"q": scope.get("q") or "", "filters": understood},
            status="open",
            created_at=eng.now(),
            created_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        session.execute(
            insert(RatingInvite),
            [
                {
                    "round_id": row.round_id,
                    "enterprise_id": e,
                    "token": secrets.token_urlsafe(24),
                    "units": units,
                }
                for e, units in sorted(served.items())
            ],
        )
        return {"round_id": row.round_id, "name": row.name, "invites": len(served)}


def close_round(eng, actor: Actor, round_id) -> dict:
    """Close a round: its links no longer take ratings. :raises Conflict: already closed."""
    require_role(actor, *OFFICE)
    with eng.db.transaction() as session:
        row = _round(session, round_id)
        if row.status != "open":
            raise Conflict(_("这次测评已经结束"))
        row.status = "closed"
        return {"round_id": row.round_id, "status": row.status}


def _round(session: Session, round_id) -> RatingRound:
    try:
        number = int(round_id)
    except (TypeError, ValueError):
        raise NotFound(_("没有这次测评")) from None
    row = session.get(RatingRound, number) if in_id_range(number) else None
    if row is None:
        raise NotFound(_("没有这次测评"))
    return row


def _unit_rows(session: Session, conditions: list) -> dict[int, dict]:
    rows = session.execute(
        select(
            Rating.unit_id,
            func.count(),
            func.avg(Rating.score),
            func.sum(case((Rating.score >= 4, 1), else_=0)),
        )
        .where(*conditions)
        .group_by(Rating.unit_id)
    ).all()
    return {
        unit_id: {
            "ratings": int(n),
            "average": round(float(avg), 2),
            "rating_rate": round(100.0 * float(avg) / BEST, 1),
            "satisfied_rate": round(100.0 * int(satisfied or 0) / int(n), 1),
        }
        for unit_id, n, avg, satisfied in rows
    }


def unit_ratings(session: Session, start: dt.date, end: dt.date) -> dict[int, dict]:
    """Per unit, the ratings given in [start, end]: count, average score, rating_rate (average ÷ 5, in %) and the
    share rated 满意 or better. Units without ratings are absent (no data, never 0)."""
    return _unit_rows(session, [Rating.at >= _moment(start), Rating.at < _moment(end, end=True)])


def _visible_units(actor: Actor) -> int | None:
    """None: the actor sees every unit's ratings; else only this unit's."""
    return None if actor.has_role(*READ_ALL) else (actor.unit_id or -1)


def list_rounds(eng, actor: Actor) -> dict:
    """Every round with its invites answered and, per unit (the actor's own for a unit), the figures."""
    with eng.db.read() as session:
        rounds = session.scalars(
            select(RatingRound).order_by(RatingRound.period_end.desc(), RatingRound.round_id.desc())
        ).all()
        counts = {
            round_id: (int(total), int(done or 0))
            for round_id, total, done in session.execute(
                select(
                    RatingInvite.round_id,
                    func.count(),
                    func.count(RatingInvite.submitted_at),
                ).group_by(RatingInvite.round_id)
            )
        }
        return {
            "items": [
                _round_dict(r)
                | {
                    "invites": counts.get(r.round_id, (0, 0))[0],
                    "answered": counts.get(r.round_id, (0, 0))[1],
                }
                for r in rounds
            ],
            "can_manage": actor.has_role(*OFFICE),
        }


def _round_dict(row: RatingRound) -> dict:
    return {
        "round_id": row.round_id,
        "name": row.name,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "closes_on": row.closes_on,
        "status": row.status,
        "scope": row.scope or {},
        "created_at": row.created_at,
    }


def get_round(eng, actor: Actor, round_id) -> dict:
    """A round: per unit its ratings, average and rates; comments; and for the office, every enterprise's link and
    whether it answered. A unit's staff see their own unit's row and comments only."""
    only = _visible_units(actor)
    with eng.db.read() as session:
        row = _round(session, round_id)
        units = unit_names(session)
        figures = _unit_rows(session, [Rating.round_id == row.round_id])
        invited: dict[int, int] = {}
        invites = session.execute(
            select(RatingInvite, Enterprise.name)
            .join(Enterprise, Enterprise.enterprise_id == RatingInvite.enterprise_id)
            .where(RatingInvite.round_id == row.round_id)
            .order_by(Enterprise.name)
        ).all()
        for invite, _name in invites:
            for unit_id in invite.units:
                invited[unit_id] = invited.get(unit_id, 0) + 1
        per_unit = [
            {"unit_id": unit_id, "unit": units.get(unit_id, str(unit_id)), "invited": invited.get(unit_id, 0)}
            | figures.get(
                unit_id, {"ratings": 0, "average": None, "rating_rate": None, "satisfied_rate": None}
            )
            for unit_id in sorted(set(invited) | set(figures), key=lambda u: units.get(u, ""))
            if only is None or unit_id == only
        ]
        per_unit.sort(key=lambda r: (r["average"] is None, -(r["average"] or 0)))
        comments = session.execute(
            select(Rating.unit_id, Rating.score, Rating.comment, Rating.at)
            .where(
                Rating.round_id == row.round_id,
                Rating.comment.is_not(None),
                *([Rating.unit_id == only] if only is not None else []),
            )
            .order_by(Rating.at.desc())
            .limit(100)
        ).all()
        result = _round_dict(row) | {
            "units": per_unit,
            "comments": [
                {"unit": units.get(u, str(u)), "score": s, "label": SCORES[s], "comment": c, "at": at}
                for u, s, c, at in comments
            ],
            "invites": len(invites),
            "answered": sum(1 for invite, _n in invites if invite.submitted_at),
            "can_manage": actor.has_role(*OFFICE),
        }
        if actor.has_role(*OFFICE):
            result["links"] = [
                {
                    "enterprise": name,
                    "token": invite.token,
                    "submitted_at": invite.submitted_at,
                    "units": [units.get(u, str(u)) for u in invite.units],
                }
                for invite, name in invites
            ]
        return result


# ---------------------------------------------------------------------------------------------------------
# The enterprise's side (no account)


def _invite(session: Session, token: str) -> tuple[RatingInvite, RatingRound]:
    if not token or len(token) > 64:
        raise NotFound(_("测评链接无效，请核对链接是否完整"))
    invite = session.scalars(select(RatingInvite).where(RatingInvite.token == token)).first()
    if invite is None:
        raise NotFound(_("测评链接无效，请核对链接是否完整"))
    return invite, session.get(RatingRound, invite.round_id)


def rating_form(eng, token: str) -> dict:
    """What the enterprise's rating page shows: the round, the enterprise and the units to rate (or that it has
    answered, or that the round is over). :raises NotFound: an unknown link."""
    with eng.db.read() as session:
        invite, row = _invite(session, token)
        units = unit_names(session)
        enterprise = session.get(Enterprise, invite.enterprise_id)
        given = {
            r.unit_id: {"score": r.score, "comment": r.comment}
            for r in session.scalars(select(Rating).where(Rating.invite_id == invite.invite_id))
        }
        return {
            "round": row.name,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "closes_on": row.closes_on,
            "open": row.status == "open" and _today(eng) <= row.closes_on,
            "enterprise": enterprise.name,
            "submitted_at": invite.submitted_at,
            "units": [{"unit_id": u, "unit": units.get(u, str(u)), **given.get(u, {})} for u in invite.units],
            "scores": SCORES,
        }


STAMP_DAYS = 1  # a served rating form submits once (its stamp is kept a day, like the public channel's)


def _use_stamp(session: Session, eng, stamp: str) -> None:
    """Record the served form's one-time stamp; a second submission of the same form is refused."""
    if not stamp or len(stamp) > 64 or session.get(FormStamp, stamp) is not None:
        raise ValidationFailed(_("这份测评表已经提交过了"), {"": _("这份测评表已经提交过了")})
    session.execute(delete(FormStamp).where(FormStamp.used_at < eng.now() - dt.timedelta(days=STAMP_DAYS)))
    session.add(FormStamp(stamp=stamp, used_at=eng.now()))
    session.flush()


def _today(eng) -> dt.date:
    return eng.now().astimezone(LOCAL_TZ).date()


def _limit(session: Session, eng, client: str) -> None:
    since = eng.now() - dt.timedelta(hours=1)
    mine = session.scalar(
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.bucket == "rating", RateEvent.key == client[:100], RateEvent.at >= since)
    )
    if mine >= PER_HOUR:
        raise RateLimited(_("提交太频繁，请一小时后再试"))
    session.execute(delete(RateEvent).where(RateEvent.bucket == "rating", RateEvent.at < since))
    session.add(RateEvent(bucket="rating", key=client[:100], at=eng.now()))


def submit_rating(eng, token: str, data: dict, *, client: str, stamp: str | None = None) -> dict:
    """The enterprise's ratings: {"scores": {unit_id: 1–5 or "" for 未接触}, "comments": {unit_id: text}}, at least
    one unit rated. Once per link. :raises ValidationFailed: a bad score or nothing rated (nothing saved), or the
    form was submitted before. :raises Conflict: answered already or the round is over. :raises RateLimited."""
    scores = data.get("scores") if isinstance(data, dict) else None
    comments = (
        data.get("comments") if isinstance(data, dict) and isinstance(data.get("comments"), dict) else {}
    )
    if not isinstance(scores, dict):
        raise ValidationFailed(_("请为办理过您诉求的部门打分"), {"scores": _("应为 {单位编号: 分数}")})
    with eng.db.transaction() as session:
        invite, row = _invite(session, token)
        if invite.submitted_at is not None:
            raise Conflict(_("您已经提交过这次测评，感谢参与"))
        if row.status != "open" or _today(eng) > row.closes_on:
            raise Conflict(_("这次测评已经结束"))
        _limit(session, eng, client)
        errors, rated = {}, []
        for unit_id in invite.units:
            value = scores.get(str(unit_id), scores.get(unit_id))
            if value in (None, ""):
                continue
            try:
                score = int(value)
            except (TypeError, ValueError):
                score = 0
            if isinstance(value, bool) or score not in SCORES:
                errors[f"scores.{unit_id}"] = _("请选择 1–5 分")
                continue
            comment = str(comments.get(str(unit_id), comments.get(unit_id)) or "").strip()
            if len(comment) > MAX_COMMENT:
                errors[f"comments.{unit_id}"] = _("意见最多 %(n)s 字", n=MAX_COMMENT)
            rated.append((unit_id, score, comment or None))
        unknown = [k for k in scores if str(k) not in {str(u) for u in invite.units}]
        if unknown:
            errors["scores"] = _("只能为办理过您诉求的部门打分")
        if not rated and not errors:
            errors["scores"] = _("请至少为一个部门打分；没有接触过的部门可以不打分")
        if errors:
            raise ValidationFailed(_("测评有误，请按提示修改"), errors)
        if stamp is not None:
            _use_stamp(session, eng, stamp)
        now = eng.now()
        session.execute(
            insert(Rating),
            [
                {
                    "round_id": row.round_id,
                    "invite_id": invite.invite_id,
                    "enterprise_id": invite.enterprise_id,
                    "unit_id": u,
                    "score": s,
                    "comment": c,
                    "at": now,
                }
                for u, s, c in rated
            ],
        )
        invite.submitted_at = now
        return {"rated": len(rated)}


def figures_view(eng, actor: Actor, period_code=None, date_from=None, date_to=None) -> dict:
    """Per unit, the enterprises' ratings given in a period (统计报表's 企业测评 section); a unit's staff see their own
    unit's row. :raises ValidationFailed: the period."""
    period = parse_period(period_code, date_from, date_to, today=_today(eng))
    only = _visible_units(actor)
    with eng.db.read() as session:
        rows = unit_ratings(session, period.start, period.end)
        names = unit_names(session)
        items = [
            {"unit_id": unit_id, "unit": names.get(unit_id, str(unit_id))} | figures
            for unit_id, figures in rows.items()
            if only is None or unit_id == only
        ]
        items.sort(key=lambda r: -r["average"])
        return {"period": period.code, "label": period.label, "rows": items}
