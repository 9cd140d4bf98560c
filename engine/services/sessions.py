"""Signing in and staying signed in: wrong passwords throttled per account and per client address, browser
sessions and API tokens that end on the server (logout, a password change, an admin's or the user's revoke),
and the lists of them a user and an admin see.

A browser session is a token like an API token (kind "session"; only its SHA-256 is stored): the signed cookie
carries it, and every request checks it is still live, so a cookie copied before logout opens nothing after.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import RateLimited
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services import auth
from engine.services.common import Actor
from engine.services.common import require_role
from engine.storage.models import ApiToken
from engine.storage.models import RateEvent
from engine.storage.models import User

log = logging.getLogger(__name__)

# Throttling wrong passwords. One person mistyping is never slowed down; a guesser is, first per account and
# address, then per account from anywhere, then per address for any account. Waits are short and end by
# themselves, so a guesser cannot lock a real user out for long.
WINDOW = dt.timedelta(minutes=15)
PAIR_FREE, PAIR_WAIT, PAIR_MAX_WAIT = 5, 60, 900  # wait doubles per extra failure, up to 15 min
ACCOUNT_FREE, ACCOUNT_WAIT = 20, 300
ADDRESS_FREE, ADDRESS_WAIT = 50, 900
BUCKET = "login_fail"

SESSION_DAYS = 7  # a browser session ends after this long in any case
SESSION_IDLE = dt.timedelta(hours=8)  # … or after this long unused
TOUCH_EVERY = dt.timedelta(minutes=5)  # last use is written at most this often (no write per page view)
MIN_PASSWORD = 10


def _wall() -> dt.datetime:
    """Sessions age in real time, not on the engine's (injectable, business) clock: a test travelling through a
    quarter is not logged out, and production has one time anyway."""
    return dt.datetime.now(dt.UTC)


def _failures(session, key: str, since) -> tuple[int, dt.datetime | None]:
    count, last = session.execute(
        select(func.count(), func.max(RateEvent.at)).where(
            RateEvent.bucket == BUCKET, RateEvent.key == key, RateEvent.at >= since
        )
    ).one()
    return count, last


def _wait(session, eng, username: str, client: str) -> int:
    """Seconds the next attempt must wait (0: go ahead)."""
    now, since = eng.now(), eng.now() - WINDOW
    waits = []
    count, last = _failures(session, f"p:{username}|{client}"[:100], since)
    if count >= PAIR_FREE:
        waits.append((last, min(PAIR_WAIT * 2 ** (count - PAIR_FREE), PAIR_MAX_WAIT)))
    count, last = _failures(session, f"u:{username}"[:100], since)
    if count >= ACCOUNT_FREE:
        waits.append((last, ACCOUNT_WAIT))
    count, last = _failures(session, f"a:{client}"[:100], since)
    if count >= ADDRESS_FREE:
        waits.append((last, ADDRESS_WAIT))
    remaining = [int((last + dt.timedelta(seconds=wait) - now).total_seconds()) + 1 for last, wait in waits]
    return max([r for r in remaining if r > 0], default=0)


def log_in(eng, username: str, password: str, client: str) -> Actor | None:
    """The actor for a correct username/password, else None; throttled while guesses pile up.

    :raises RateLimited: too many wrong passwords lately for this account or from this address (retry_after).
    """
    username = (username or "").strip()[:50]
    client = (client or "unknown")[:60]
    with eng.db.read() as session:
        wait = _wait(session, eng, username, client)
    if wait:
        log.warning("login throttled: user %r from %s, %d s to wait", username, client, wait)
        raise RateLimited(
            _(
                "密码错误次数过多，请 %(minutes)s 分钟后再试；忘记密码请联系系统管理员",
                minutes=max(1, -(-wait // 60)),
            ),
            retry_after=wait,
        )
    actor = auth.authenticate(eng, username, password)
    with eng.db.transaction() as session:
        if actor is None:
            now = eng.now()
            for key in (f"p:{username}|{client}", f"u:{username}", f"a:{client}"):
                session.add(RateEvent(bucket=BUCKET, key=key[:100], at=now))
            session.execute(delete(RateEvent).where(RateEvent.bucket == BUCKET, RateEvent.at < now - WINDOW))
            log.info("wrong password for %r from %s", username, client)
        else:
            session.execute(
                delete(RateEvent).where(
                    RateEvent.bucket == BUCKET, RateEvent.key == f"p:{username}|{client}"[:100]
                )
            )
    return actor


# --- browser sessions ---------------------------------------------------------------------------------------


def start_session(eng, actor: Actor, client: str = "") -> str:
    """A new browser session for a user who just proved their password; returns the token the cookie keeps."""
    token = secrets.token_urlsafe(32)
    now = _wall()
    with eng.db.transaction() as session:
        session.add(
            ApiToken(
                user_id=actor.user_id,
                token_hash=auth.token_hash(token),
                name="网页登录",  # stored: the page shows the kind in the reader's language
                kind="session",
                created_at=now,
                expires_at=now + dt.timedelta(days=SESSION_DAYS),
                last_used_at=now,
                client=(client or "")[:200] or None,
            )
        )
    return token


def session_actor(eng, token: str) -> Actor | None:
    """The actor of a live browser session (not ended, not expired, not idle too long), else None."""
    if not token or len(token) > 100:
        return None
    now = _wall()
    with eng.db.read() as session:
        row = auth.token_row(session, token, browser=True)
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    if row.last_used_at and row.last_used_at + SESSION_IDLE <= now:
        return None
    if not row.is_active:
        return None
    actor = auth.token_actor(row)
    stale = row.last_used_at is None or row.last_used_at + TOUCH_EVERY <= now
    token_id = row.token_id
    if stale:
        with eng.db.transaction() as session:
            session.execute(update(ApiToken).where(ApiToken.token_id == token_id).values(last_used_at=now))
    return actor


def end_session(eng, token: str) -> None:
    """Logout: the session (or bearer token) ends on the server; a copy of the cookie opens nothing after."""
    if not token:
        return
    with eng.db.transaction() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == auth.token_hash(token), ApiToken.revoked_at.is_(None))
            .values(revoked_at=_wall())
        )


# --- passwords ----------------------------------------------------------------------------------------------


def change_password(eng, actor: Actor, current: str, new: str, keep_token: str | None = None) -> int:
    """Change one's own password; every other session and login token of the user ends (admin-issued service
    tokens for other systems stay: they do not come from the password). Returns how many were ended.

    :raises ValidationFailed: the current password is wrong, or the new one is too short or the same.
    """
    errors = {}
    new = new or ""
    if len(new) < MIN_PASSWORD:
        errors["new_password"] = _("新密码至少 %(n)s 位", n=MIN_PASSWORD)
    elif new == current:
        errors["new_password"] = _("新密码不能与当前密码相同")
    elif new.strip().lower() == actor.username.lower():
        errors["new_password"] = _("新密码不能与用户名相同")
    with eng.db.read() as session:
        user = session.get(User, actor.user_id)
        try:
            auth.verify_password(user.password_hash, current or "")
        except (VerificationError, InvalidHashError):
            errors["current_password"] = _("当前密码不正确")
    if errors:
        raise ValidationFailed(_("密码没有修改，请按提示更正"), errors)
    keep = auth.token_hash(keep_token) if keep_token else None
    with eng.db.transaction() as session:
        user = session.get(User, actor.user_id)
        user.password_hash = auth.hash_password(new)
        ended = session.execute(
            update(ApiToken)
            .where(
                ApiToken.user_id == actor.user_id,
                ApiToken.kind.in_(("session", "login")),
                ApiToken.revoked_at.is_(None),
                ApiToken.token_hash != (keep or ""),
            )
            .values(revoked_at=eng.now())
        ).rowcount
    log.info("user %s changed their password; %d sessions/tokens ended", actor.username, ended)
    return ended


# --- what a user and an admin see ---------------------------------------------------------------------------


def _token_dict(row: ApiToken, username: str | None = None, current_hash: str | None = None) -> dict:
    return {
        "token_id": row.token_id,
        "kind": row.kind,
        "name": row.name,
        "username": username,
        "client": row.client,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "expires_at": row.expires_at,
        "current": current_hash is not None and row.token_hash == current_hash,
    }


def _live(query, now):
    return query.where(
        ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now)
    )


def my_tokens(eng, actor: Actor, current_token: str | None = None) -> list[dict]:
    """The user's own live sessions and tokens, newest first (the one in use marked `current`)."""
    current = auth.token_hash(current_token) if current_token else None
    with eng.db.read() as session:
        rows = session.scalars(
            _live(select(ApiToken).where(ApiToken.user_id == actor.user_id), eng.now()).order_by(
                ApiToken.token_id.desc()
            )
        ).all()
        return [_token_dict(row, actor.username, current) for row in rows]


def live_sessions(eng, admin: Actor) -> list[dict]:
    """Every live browser session and login token, for the administrator."""
    require_role(admin, "admin")
    with eng.db.read() as session:
        rows = session.execute(
            _live(
                select(ApiToken, User.username)
                .join(User, User.user_id == ApiToken.user_id)
                .where(ApiToken.kind.in_(("session", "login"))),
                eng.now(),
            ).order_by(ApiToken.token_id.desc())
        ).all()
        return [_token_dict(row, username) for row, username in rows]


def revoke(eng, actor: Actor, token_id: int) -> None:
    """End one session or token: one's own, or anyone's for an administrator.

    :raises NotFound: no such token. :raises PermissionDenied: someone else's, for a non-admin."""
    with eng.db.transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(_("令牌不存在"))
        if row.user_id != actor.user_id and not actor.has_role("admin"):
            raise PermissionDenied(_("只能结束自己的登录和令牌"))
        if row.revoked_at is None:
            row.revoked_at = eng.now()


def revoke_all(eng, admin: Actor, username: str) -> int:
    """An administrator ends every session and login token of a user (e.g. a lost phone). Returns how many."""
    require_role(admin, "admin")
    with eng.db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(_("用户不存在"))
        return session.execute(
            update(ApiToken)
            .where(
                ApiToken.user_id == user.user_id,
                ApiToken.kind.in_(("session", "login")),
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=eng.now())
        ).rowcount
