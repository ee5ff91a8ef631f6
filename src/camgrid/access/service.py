"""Users, sessions and tokens. Keyword-only, never commit: the request or command owns the unit of work."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from camgrid.access.models import User, UserSession
from camgrid.access.passwords import hash_password, verify_password

ROLES = ("viewer", "operator", "supervisor", "auditor", "admin")
NS = 1_000_000_000
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request."""

    user_id: int
    username: str
    role: str
    districts: tuple[str, ...]  # empty tuple = all districts


class AccessError(ValueError):
    """A user or credential request that cannot be honoured; the message is safe to show."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    *, session: Session, username: str, password: str, role: str, districts: list[str] | None, now_ns: int
) -> User:
    if not USERNAME.match(username):
        raise AccessError("username: 2-64 letters, digits, . _ -")
    if role not in ROLES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 10:
        raise AccessError("password: at least 10 characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccessError(f"user {username!r} exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        districts=",".join(districts) if districts else "*",
        created_ns=now_ns,
    )
    session.add(user)
    session.flush()
    return user


def principal(user: User) -> Principal:
    districts = () if user.districts in ("", "*") else tuple(d for d in user.districts.split(",") if d)
    return Principal(user.id, user.username, user.role, districts)


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or user.disabled:
        return None
    return user


def issue(*, session: Session, user: User, kind: str, ttl_s: float, now_ns: int, name: str = "") -> str:
    """A new random secret for a browser session or a script token; only its hash is stored."""
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_digest(secret),
            user_id=user.id,
            kind=kind,
            name=name,
            created_ns=now_ns,
            expires_ns=now_ns + int(ttl_s * NS),
            last_seen_ns=now_ns,
        )
    )
    return secret


def resolve(*, session: Session, secret: str, now_ns: int) -> Principal | None:
    row = session.get(UserSession, _digest(secret))
    if row is None or row.expires_ns <= now_ns:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return principal(user)


def revoke(*, session: Session, secret: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == _digest(secret)))
