"""Users, sessions and tokens. Keyword-only, never commit: the request or command owns the unit of work.

Every change of who may do what (users, roles, districts, tokens, sessions) is audited here, before it is made, so
that the API and the command line (``camgrid users``) cannot differ (docs/design/services-own-invariants.md).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from camgrid.access.models import User, UserSession
from camgrid.access.passwords import hash_password, verify_password
from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, write_first
from camgrid.vocabulary import ALL_ROLES, AuditAction

ROLES: tuple[str, ...] = tuple(str(r) for r in ALL_ROLES)
NS = 1_000_000_000
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
SESSION = "session"
TOKEN = "token"
DAY_S = 86400.0
# The longest any credential may live whatever the configuration says (config.AccessConfig bounds its own fields).
TOKEN_TTL_CEILING_S = 365 * DAY_S
PASSWORD_MIN = 10
# Stored in place of a deleted user's password hash: no password verifies against it.
NO_PASSWORD = "!deleted"


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request."""

    user_id: int
    username: str
    role: str
    districts: tuple[str, ...]  # empty tuple = all districts

    def actor(self, address: str = "") -> Actor:
        """The same user as the services' :class:`~camgrid.auditing.Actor` (name, role, scope, address)."""
        return Actor(self.username, self.role, self.districts, address)


class AccessError(ValueError):
    """A user or credential request that cannot be honoured; the message is safe to show."""


class UserNotFound(NotVisible):
    """No such user, or one the actor's district scope does not cover."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _districts_text(districts: Sequence[str] | None) -> str:
    return ",".join(districts) if districts else "*"


def _user_districts(user: User) -> tuple[str, ...]:
    return () if user.districts in ("", "*") else tuple(d for d in user.districts.split(",") if d)


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccessError(f"password: at least {PASSWORD_MIN} characters")
    if len(password) > 1000:
        raise AccessError("password: at most 1000 characters")


def _end_credentials(session: Session, user: User) -> int:
    """Every session and token of the user ends now (open WebSockets notice within ``access.revalidate_s``)."""
    n = session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)) or 0
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    return int(n)


def _not_self(actor: Actor, username: str, what: str) -> None:
    """An admin does not lock themselves out by a click: another admin (or the server's shell) does it."""
    if actor.name == username:
        raise AccessError(f"you cannot {what} your own account: ask another admin")


def _grantable(actor: Actor, districts: Sequence[str] | None) -> None:
    """A district-scoped actor grants only districts of theirs, never "all districts"."""
    if not actor.districts:
        return
    if not districts:
        raise AccessError("you may grant only your own districts: name them")
    outside = [d for d in districts if d not in actor.districts]
    if outside:
        raise AccessError(f"district {outside[0]!r} is not among yours")


def user_for(*, session: Session, actor: Actor, username: str) -> User:
    """The user, if the actor's scope covers all of the user's districts; :class:`UserNotFound` otherwise."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.deleted_ns is not None:
        raise UserNotFound(f"no user {username!r}")
    theirs = _user_districts(user)
    if actor.districts and (not theirs or any(d not in actor.districts for d in theirs)):
        raise UserNotFound(f"no user {username!r}")
    return user


@audited(AuditAction.USER_CREATE)
def create_user(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    districts: Sequence[str] | None,
    now_ns: int,
) -> User:
    if not USERNAME.match(username):
        raise AccessError("username: 2-64 letters, digits, . _ -")
    if role not in ROLES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
    _grantable(actor, districts)
    existing = session.scalar(select(User).where(User.username == username))
    if existing is not None and existing.deleted_ns is not None:
        raise AccessError(f"user {username!r} was deleted: a name is never given again (the audit log names them)")
    if existing is not None:
        raise AccessError(f"user {username!r} exists")
    write_first(
        audit,
        actor,
        AuditAction.USER_CREATE,
        details={"user": username, "role": role, "districts": list(districts or [])},
    )
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        districts=_districts_text(districts),
        created_ns=now_ns,
    )
    session.add(user)
    session.flush()
    return user


@audited(AuditAction.USER_UPDATE)
def update_user(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    username: str,
    role: str | None = None,
    districts: Sequence[str] | None = None,
    all_districts: bool = False,
) -> User:
    """Change a user's role and/or districts (``all_districts``: lift the scope). Their sessions and tokens end, so
    the new rights apply from the next login, not from a credential issued under the old ones."""
    user = user_for(session=session, actor=actor, username=username)
    if role is not None and role not in ROLES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}")
    if all_districts and districts:
        raise AccessError("either districts or all districts, not both")
    new_districts = _districts_text(None) if all_districts else (_districts_text(districts) if districts else None)
    if new_districts is not None:
        _grantable(actor, None if all_districts else districts)
    if role is None and new_districts is None:
        raise AccessError("nothing to change: give a role or districts")
    write_first(
        audit,
        actor,
        AuditAction.USER_UPDATE,
        details={
            "user": username,
            "role": [user.role, role or user.role],
            "districts": [user.districts, new_districts or user.districts],
        },
    )
    if role is not None:
        user.role = role
    if new_districts is not None:
        user.districts = new_districts
    _end_credentials(session, user)
    session.flush()
    return user


@audited(AuditAction.USER_DISABLE)
def disable_user(*, session: Session, audit: AuditWriter, actor: Actor, username: str) -> User:
    """The user can no longer log in; every session and token of theirs ends now."""
    user = user_for(session=session, actor=actor, username=username)
    _not_self(actor, username, "disable")
    write_first(audit, actor, AuditAction.USER_DISABLE, details={"user": username})
    user.disabled = True
    _end_credentials(session, user)
    session.flush()
    return user


@audited(AuditAction.USER_ENABLE)
def enable_user(*, session: Session, audit: AuditWriter, actor: Actor, username: str) -> User:
    """A disabled user may log in again (with their password; no old credential comes back)."""
    user = user_for(session=session, actor=actor, username=username)
    if not user.disabled:
        raise AccessError(f"user {username!r} is not disabled")
    write_first(audit, actor, AuditAction.USER_ENABLE, details={"user": username})
    user.disabled = False
    session.flush()
    return user


@audited(AuditAction.USER_DELETE)
def delete_user(*, session: Session, audit: AuditWriter, actor: Actor, username: str, now_ns: int) -> User:
    """Delete a user: a tombstone. The row stays (the audit entries that name them keep one meaning, the name is never
    reused), the password is gone, every session and token ends, and they are no longer listed or found."""
    user = user_for(session=session, actor=actor, username=username)
    _not_self(actor, username, "delete")
    write_first(audit, actor, AuditAction.USER_DELETE, details={"user": username, "role": user.role})
    user.deleted_ns = now_ns
    user.disabled = True
    user.password_hash = NO_PASSWORD
    _end_credentials(session, user)
    session.flush()
    return user


@audited(AuditAction.USER_PASSWORD)
def reset_password(*, session: Session, audit: AuditWriter, actor: Actor, username: str, password: str) -> User:
    """Set a new password; every session and token of the user ends (whoever knew the old one is out)."""
    user = user_for(session=session, actor=actor, username=username)
    _check_password(password)
    write_first(audit, actor, AuditAction.USER_PASSWORD, details={"user": username})
    user.password_hash = hash_password(password)
    _end_credentials(session, user)
    session.flush()
    return user


@audited(AuditAction.USER_REVOKE)
def revoke_access(*, session: Session, audit: AuditWriter, actor: Actor, username: str) -> int:
    """End every session and token of a user now (they may log in again); returns how many ended."""
    user = user_for(session=session, actor=actor, username=username)
    n = session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)) or 0
    write_first(audit, actor, AuditAction.USER_REVOKE, details={"user": username, "count": int(n)})
    return _end_credentials(session, user)


def list_users(*, session: Session, actor: Actor) -> list[User]:
    """The users the actor's scope covers (deleted ones are not listed)."""
    out = []
    for user in session.scalars(select(User).where(User.deleted_ns.is_(None)).order_by(User.username)):
        theirs = _user_districts(user)
        if not actor.districts or (theirs and all(d in actor.districts for d in theirs)):
            out.append(user)
    return out


def list_tokens(*, session: Session, actor: Actor, username: str) -> list[UserSession]:
    """A user's script tokens (names and times; never a secret, which is not kept)."""
    user = user_for(session=session, actor=actor, username=username)
    query = select(UserSession).where(UserSession.user_id == user.id, UserSession.kind == TOKEN)
    return list(session.scalars(query.order_by(UserSession.created_ns)))


def credential_count(*, session: Session, user_id: int) -> tuple[int, int]:
    """How many browser sessions and script tokens a user holds now."""
    rows = session.execute(
        select(UserSession.kind, func.count()).where(UserSession.user_id == user_id).group_by(UserSession.kind)
    )
    counts = {kind: int(n) for kind, n in rows}
    return counts.get(SESSION, 0), counts.get(TOKEN, 0)


def principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, _user_districts(user))


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or user.disabled or user.deleted_ns is not None:
        return None
    return user


def check_ttl(ttl_s: float, max_ttl_s: float, what: str) -> None:
    """A credential's lifetime is bounded: refused (with the limit named) beyond ``max_ttl_s``."""
    if not ttl_s > 0:
        raise AccessError(f"a {what} must live a positive time")
    limit = min(max_ttl_s, TOKEN_TTL_CEILING_S)
    if ttl_s > limit:
        raise AccessError(f"a {what} may live at most {limit / DAY_S:g} days (asked {ttl_s / DAY_S:g})")


def _issue(session: Session, user: User, kind: str, ttl_s: float, now_ns: int, name: str) -> str:
    """A new random secret; only its hash is stored."""
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


@audited(AuditAction.LOGIN)
def start_session(*, session: Session, audit: AuditWriter, actor: Actor, user: User, ttl_s: float, now_ns: int) -> str:
    """A browser session for an authenticated user (``actor`` is that user, with the address they came from)."""
    check_ttl(ttl_s, TOKEN_TTL_CEILING_S, "session")
    write_first(audit, actor, AuditAction.LOGIN, details={"ttl_s": ttl_s})
    return _issue(session, user, SESSION, ttl_s, now_ns, "")


@audited(AuditAction.LOGOUT)
def end_session(*, session: Session, audit: AuditWriter, actor: Actor, secret: str | Sequence[str]) -> int:
    """Log out: every credential presented (the cookie's session and/or a bearer token) ends; returns how many."""
    hashes = sorted({_digest(x) for x in ([secret] if isinstance(secret, str) else secret) if x})
    found = list(session.scalars(select(UserSession.kind).where(UserSession.token_hash.in_(hashes))))
    write_first(audit, actor, AuditAction.LOGOUT, details={"ended": sorted(found)} if found else None)
    if found:
        session.execute(delete(UserSession).where(UserSession.token_hash.in_(hashes)))
    return len(found)


@audited(AuditAction.TOKEN_ISSUE)
def issue_token(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    username: str,
    ttl_s: float,
    now_ns: int,
    name: str = "",
    max_ttl_s: float = TOKEN_TTL_CEILING_S,
) -> str:
    """A bearer token for scripts acting as ``username`` (returned once; only its hash is kept). Its lifetime is
    bounded by ``max_ttl_s`` (the configuration's ``access.token_max_days``) and never beyond a year."""
    user = user_for(session=session, actor=actor, username=username)
    if user.disabled:
        raise AccessError(f"user {username!r} is disabled")
    check_ttl(ttl_s, max_ttl_s, "token")
    write_first(audit, actor, AuditAction.TOKEN_ISSUE, details={"user": username, "name": name, "ttl_s": ttl_s})
    return _issue(session, user, TOKEN, ttl_s, now_ns, name)


@audited(AuditAction.TOKEN_REVOKE)
def revoke_tokens(*, session: Session, audit: AuditWriter, actor: Actor, username: str, name: str | None = None) -> int:
    """End a user's script tokens (those named ``name``, or all); returns how many ended."""
    user = user_for(session=session, actor=actor, username=username)
    query = select(UserSession.token_hash).where(UserSession.user_id == user.id, UserSession.kind == TOKEN)
    if name is not None:
        query = query.where(UserSession.name == name)
    hashes = list(session.scalars(query))
    write_first(audit, actor, AuditAction.TOKEN_REVOKE, details={"user": username, "name": name, "count": len(hashes)})
    if hashes:
        session.execute(delete(UserSession).where(UserSession.token_hash.in_(hashes)))
    return len(hashes)


def resolve(*, session: Session, secret: str, now_ns: int) -> Principal | None:
    row = session.get(UserSession, _digest(secret))
    if row is None or row.expires_ns <= now_ns:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled or user.deleted_ns is not None:
        return None
    return principal(user)
