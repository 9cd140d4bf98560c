"""Users, passwords (argon2) and API bearer tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.vocabulary import ROLES
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.i18n import _
from engine.services.common import Actor
from engine.services.common import require_role
from engine.storage.models import ApiToken
from engine.storage.models import Unit
from engine.storage.models import User
from engine.storage.models import UserRole

_HASHER = PasswordHasher()
LOGIN_TOKEN_HOURS = 12


def verify_password(password_hash: str, password: str) -> None:
    """:raises VerificationError: (or InvalidHashError) when the password does not match."""
    _HASHER.verify(password_hash, password)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def actor_of(session: Session, user: User) -> Actor:
    roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user.user_id)))
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    return Actor(
        user_id=user.user_id,
        username=user.username,
        display_name=user.display_name,
        roles=roles,
        unit_id=unit.unit_id if unit else None,
        unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None,
    )


def authenticate(eng, username: str, password: str) -> Actor | None:
    """The actor for a correct username/password of an active user, else None (same answer for both mistakes)."""
    with eng.db.read() as session:
        user = session.scalars(select(User).where(User.username == (username or "").strip())).first()
        if user is None or not user.is_active:
            _HASHER.hash("timing-equaliser")
            return None
        try:
            _HASHER.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            return None
        return actor_of(session, user)


def load_actor(eng, user_id: int) -> Actor | None:
    with eng.db.read() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        return actor_of(session, user)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_login_token(eng, actor: Actor) -> dict:
    """A short-lived bearer token for the user who just proved their password."""
    return _issue(
        eng, actor.user_id, "login", eng.now() + dt.timedelta(hours=LOGIN_TOKEN_HOURS), None, kind="login"
    )


def issue_service_token(eng, admin: Actor, username: str, name: str, days: int | None) -> dict:
    """A long-lived token an admin issues for another system acting as `username`."""
    require_role(admin, "admin")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("请填写令牌用途（100 字以内）"), {"name": _("请填写令牌用途（100 字以内）")})
    if days is not None and not (1 <= days <= 3650):
        raise ValidationFailed(_("有效期应为 1–3650 天"), {"days": _("有效期应为 1–3650 天")})
    with eng.db.read() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise ValidationFailed(
                _("用户 %(username)s 不存在", username=username), {"username": _("用户不存在")}
            )
        user_id = user.user_id
    expires = eng.now() + dt.timedelta(days=days) if days else None
    return _issue(eng, user_id, name, expires, admin.user_id)


def _issue(eng, user_id: int, name: str, expires_at, created_by, kind: str = "service") -> dict:
    token = secrets.token_urlsafe(32)
    with eng.db.transaction() as session:
        row = ApiToken(
            user_id=user_id,
            token_hash=token_hash(token),
            name=name,
            created_at=eng.now(),
            expires_at=expires_at,
            created_by=created_by,
            kind=kind,
        )
        session.add(row)
        session.flush()
        return {"token": token, "token_id": row.token_id, "expires_at": expires_at, "name": name}


def actor_for_token(eng, token: str) -> Actor | None:
    """The actor of a live (not revoked, not expired) API token of an active user, else None: one statement."""
    if not token:
        return None
    with eng.db.read() as session:
        row = token_row(session, token, browser=False)
    if row is None or row.revoked_at is not None or not row.is_active:
        return None
    if row.expires_at is not None and row.expires_at <= eng.now():
        return None
    return token_actor(row)


def token_row(session: Session, token: str, *, browser: bool):
    """The token (a browser session's, or an API one) with its user, the user's unit and roles, in one
    statement; None when there is no such token."""
    return session.execute(_TOKEN_ACTOR[browser], {"token_hash": token_hash(token)}).first()


def token_actor(row) -> Actor:
    """The actor of a `token_row`."""
    return Actor(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        roles=frozenset(row.roles.split(",")) if row.roles else frozenset(),
        unit_id=row.unit_id,
        unit_code=row.unit_code,
        unit_name=row.unit_name,
    )


def _token_actor_statement(browser: bool):
    """Built once per kind (role names hold no commas)."""
    roles = (
        select(func.aggregate_strings(UserRole.role, ","))
        .where(UserRole.user_id == User.user_id)
        .scalar_subquery()
    )
    kind = ApiToken.kind == "session" if browser else ApiToken.kind != "session"
    return (
        select(
            ApiToken.token_id,
            ApiToken.revoked_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
            User.user_id,
            User.username,
            User.display_name,
            User.is_active,
            Unit.unit_id,
            Unit.code.label("unit_code"),
            Unit.name.label("unit_name"),
            roles.label("roles"),
        )
        .join(User, User.user_id == ApiToken.user_id)
        .outerjoin(Unit, Unit.unit_id == User.unit_id)
        .where(ApiToken.token_hash == bindparam("token_hash"), kind)
        .limit(1)
    )


_TOKEN_ACTOR = {browser: _token_actor_statement(browser) for browser in (False, True)}


def list_tokens(eng, admin: Actor) -> list[dict]:
    require_role(admin, "admin")
    with eng.db.read() as session:
        rows = session.execute(
            select(ApiToken, User.username)
            .join(User, User.user_id == ApiToken.user_id)
            .where(ApiToken.kind == "service")
            .order_by(ApiToken.token_id.desc())
        ).all()
        return [
            {
                "token_id": t.token_id,
                "username": username,
                "name": t.name,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
            }
            for t, username in rows
        ]


def revoke_token(eng, admin: Actor, token_id: int) -> None:
    require_role(admin, "admin")
    with eng.db.transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(_("令牌不存在"))
        if row.revoked_at is None:
            row.revoked_at = eng.now()


def create_user(session: Session, eng, *, username, display_name, password, roles, unit_id=None) -> User:
    """Used by seeding and admin tools inside their own transaction."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValidationFailed(_("未知角色：%(roles)s", roles=", ".join(sorted(unknown))))
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        unit_id=unit_id,
        created_at=eng.now(),
    )
    session.add(user)
    session.flush()
    for role in roles:
        session.add(UserRole(user_id=user.user_id, role=role))
    return user


def list_users(eng, role: str | None = None) -> list[dict]:
    """Active users, optionally with one role (for pickers such as the responsible leader)."""
    with eng.db.read() as session:
        query = select(User.user_id, User.username, User.display_name).where(User.is_active.is_(True))
        if role:
            query = query.join(UserRole, UserRole.user_id == User.user_id).where(UserRole.role == role)
        return [
            {"user_id": uid, "username": uname, "display_name": name}
            for uid, uname, name in session.execute(query.order_by(User.username))
        ]


def list_units(eng) -> list[dict]:
    with eng.db.read() as session:
        return [
            {"unit_id": u.unit_id, "code": u.code, "name": u.name, "kind": u.kind}
            for u in session.scalars(select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.unit_id))
        ]
