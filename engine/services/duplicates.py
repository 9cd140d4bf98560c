"""Likely duplicates of a problem being registered, and linking a repeated report to the case it repeats.

A company often reports the same difficulty twice (at a visit and on the hotline, or again a month later).
Candidates: recent cases of the same enterprise (found by id or by credit code), and recent cases of the same
category whose text is very similar. Similarity is the overlap of character bigrams (works for Chinese, where
words are not separated)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_
from sqlalchemy import select

from engine.domain.vocabulary import CASE_STATUSES
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.i18n import reader_language
from engine.services.access import can_see_case
from engine.services.common import Actor
from engine.services.common import parse_id
from engine.services.common import record_event
from engine.services.common import require_role
from engine.services.enterprises import normalise_credit_code
from engine.storage.models import Case
from engine.storage.models import Enterprise
from engine.storage.search import grams

SAME_ENTERPRISE_DAYS = 180
SAME_CATEGORY_DAYS = 30
SAME_ENTERPRISE_MIN = (
    0.25  # same enterprise: shown when the text overlaps a little, or the case is still open
)
OTHER_ENTERPRISE_MIN = 0.55  # another enterprise: only near-identical text
LIMIT = 5


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of the character bigrams of two texts (0 … 1)."""
    x, y = set(grams(a).split()), set(grams(b).split())
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def find_duplicates(
    eng,
    actor: Actor,
    *,
    enterprise_id=None,
    credit_code: str = "",
    category: str = "",
    title: str = "",
    description: str = "",
) -> list[dict]:
    """Up to five likely duplicates, most similar first, each with why it was proposed."""
    require_role(actor, "registrar", "dispatcher")
    text = f"{title or ''} {description or ''}".strip()
    if len(text) < 4 and enterprise_id in (None, ""):
        return []
    now = eng.now()
    found: dict[int, dict] = {}
    same_enterprise: set[int] = set()  # ranked first among equals
    with eng.db.read() as session:
        enterprise_ids = set()
        if enterprise_id not in (None, ""):
            known = parse_id(enterprise_id)  # a number beyond the id column's range names no enterprise
            if known is None:
                raise ValidationFailed(_("企业编号有误"), {"enterprise_id": _("应为数字")})
            enterprise_ids.add(known)
        code = normalise_credit_code(credit_code)
        if code:
            enterprise_ids.update(
                session.scalars(select(Enterprise.enterprise_id).where(Enterprise.credit_code == code))
            )
        conditions = []
        if enterprise_ids:
            conditions.append(
                (Case.enterprise_id.in_(enterprise_ids))
                & (Case.created_at >= now - dt.timedelta(days=SAME_ENTERPRISE_DAYS))
            )
        if category and len(text) >= 4:
            conditions.append(
                (Case.category == category) & (Case.created_at >= now - dt.timedelta(days=SAME_CATEGORY_DAYS))
            )
        if not conditions:
            return []
        rows = session.scalars(
            select(Case).where(or_(*conditions)).order_by(Case.created_at.desc()).limit(500)
        )
        name = 1 if reader_language() == "en" else 0  # CASE_STATUSES: code -> (Chinese, English)
        for case in rows:
            if not can_see_case(session, actor, case):
                continue
            score = similarity(text, f"{case.title} {case.description}") if text else 0.0
            same = case.enterprise_id in enterprise_ids
            open_case = case.status != "closed"
            if same and (score >= SAME_ENTERPRISE_MIN or open_case):
                reasons = [_("同一企业"), _("仍在办理") if open_case else _("已销号")]
            elif not same and score >= OTHER_ENTERPRISE_MIN:
                reasons = [_("同类问题，内容相近")]
            else:
                continue
            if score >= 0.25:
                reasons.append(_("内容相似度 %(score)s", score=f"{score:.0%}"))
            found[case.case_id] = {
                "case_id": case.case_id,
                "case_no": case.case_no,
                "title": case.title,
                "enterprise_name": case.enterprise_name,
                "status": case.status,
                "status_label": CASE_STATUSES.get(case.status, (case.status, case.status))[name],
                "created_at": case.created_at,
                "score": round(score, 3),
                "reasons": reasons,
            }
            if same:
                same_enterprise.add(case.case_id)
    ranked = sorted(
        found.values(),
        key=lambda d: d["score"] + (0.2 if d["case_id"] in same_enterprise else 0),
        reverse=True,
    )
    return ranked[:LIMIT]


def link_report(eng, actor: Actor, case_id: int, channel: str, text: str) -> dict:
    """Record a repeated report on the case it repeats instead of registering a new case."""
    require_role(actor, "registrar", "dispatcher")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("请写明这次反映的内容"), {"description": _("请填写问题描述")})
    if len(text) > 2000:
        raise ValidationFailed(_("内容太长"), {"description": _("最多 %(limit)s 字", limit=2000)})
    with eng.db.transaction() as session:
        case = session.get(Case, int(case_id))
        if case is None:
            raise NotFound(_("找不到这件诉求"))
        can_see_case(session, actor, case, raise_error=True)
        record_event(
            session,
            eng,
            case_id=case.case_id,
            round_no=case.round_no,
            kind="repeat_report",
            title=f"企业再次反映同一问题（{channel or '未注明渠道'}）",
            actor=actor,
            data={"channel": channel, "description": text},
        )
        case.updated_at = eng.now()
        return {"case_id": case.case_id, "case_no": case.case_no}
