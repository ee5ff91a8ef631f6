"""Two-factor sign-in: TOTP (RFC 6238) codes and single-use recovery codes (docs/design/sign-in.md).

A secret is sealed at rest with the installation's key ($CAMGRID_HOME/keys/totp.key, mode 600, never in the
database) and shown once, at enrolment. A code is accepted once: its time step must be later than the last one
accepted (the same code replayed in its window is refused). Recovery codes are random (80 bits), kept as SHA-256,
and spent on use. Services here are keyword-only, write their audit entry first and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from camgrid.access.models import RecoveryCode, User, UserTotp
from camgrid.access.service import AccessError, user_for
from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.config import AccessConfig
from camgrid.vocabulary import AuditAction, SecondFactor

NS = 1_000_000_000
STEP_S = 30
DIGITS = 6
RECOVERY_CODES = 10
ISSUER = "camgrid"
KEY_NAME = "totp.key"
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class TotpError(AccessError):
    """A second-factor request that cannot be honoured; the message is safe to show."""


class SecretBox:
    """Seals TOTP secrets with a key kept outside the database (mode 600; refused when others can read it)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def open(cls, home: Path) -> SecretBox:
        path = home / "keys" / KEY_NAME
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise TotpError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
            return cls(path.read_bytes().strip())
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Fernet.generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
        return cls(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def unseal(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise TotpError("the two-factor secret cannot be read with this installation's key") from None


@dataclass(frozen=True)
class Enrolment:
    """Shown once: the otpauth URI (for an authenticator app), its secret, and the recovery codes."""

    uri: str
    secret: str
    recovery_codes: tuple[str, ...]


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def _normal(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))  # 16 base32 characters: 80 bits
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def enrolment_of(session: Session, user: User) -> UserTotp | None:
    return session.get(UserTotp, user.id)


def second_factor_for(*, session: Session, config: AccessConfig, user: User) -> SecondFactor | None:
    """What a user must give after their password: a code (enrolled: always asked), an enrolment (their role
    requires two factors and they have none confirmed), or nothing."""
    row = session.get(UserTotp, user.id)
    if row is not None and row.confirmed:
        return SecondFactor.TOTP
    if config.two_factor and user.role in config.require_2fa_roles:
        return SecondFactor.ENROL
    return None


@audited(AuditAction.TOTP_ENROL)
def enrol(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    user: User,
    box: SecretBox,
    now_ns: int,
    confirmed: bool,
) -> Enrolment:
    """A new secret and recovery codes for ``user`` (returned once). ``confirmed``: usable now (an administrator
    handed it out); else the user's first good code confirms it (the browser's enrolment at first login). A confirmed
    enrolment is never replaced here: it must be reset first."""
    row = session.get(UserTotp, user.id)
    if row is not None and row.confirmed:
        raise TotpError(f"user {user.username!r} is already enrolled: reset their second factor first")
    write_first(audit, actor, AuditAction.TOTP_ENROL, details={"user": user.username, "confirmed": confirmed})
    secret = pyotp.random_base32(32)  # 160 bits, RFC 4226's recommendation
    codes = tuple(_new_recovery_code() for _ in range(RECOVERY_CODES))
    if row is None:
        row = UserTotp(user_id=user.id, secret_sealed="", enrolled_ns=now_ns, last_step=-1)
        session.add(row)
    row.secret_sealed = box.seal(secret)
    row.confirmed = confirmed
    row.enrolled_ns = now_ns
    row.last_step = -1
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(c)) for c in codes)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(uri=uri, secret=secret, recovery_codes=codes)


@audited(AuditAction.TOTP_RESET)
def reset(*, session: Session, audit: AuditWriter, actor: Actor, username: str) -> bool:
    """Forget a user's second factor (lost phone): they enrol again at their next login. False: none was set."""
    user = user_for(session=session, actor=actor, username=username)
    row = session.get(UserTotp, user.id)
    codes = session.scalar(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id).limit(1))
    if row is None and codes is None:
        return False
    write_first(audit, actor, AuditAction.TOTP_RESET, details={"user": username})
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if row is not None:
        session.delete(row)
    session.flush()
    return True


def _matching_step(secret: str, code: str, now_ns: int, after: int) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is, if later than ``after``."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    now_step = now_ns // NS // STEP_S
    for step in (now_step - 1, now_step, now_step + 1):
        if step > after and hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


@audited(AuditAction.TOTP_VERIFY)
def verify(
    *, session: Session, audit: AuditWriter, actor: Actor, user: User, box: SecretBox, code: str, now_ns: int
) -> bool:
    """True when ``code`` is the user's current TOTP code (not used before) or an unspent recovery code; the step or
    the recovery code is then spent. A wrong or replayed code changes nothing (the route throttles and audits it)."""
    row = session.get(UserTotp, user.id)
    if row is None:
        return False
    code = code.strip()
    if code.isdigit() and len(code) == DIGITS:
        step = _matching_step(box.unseal(row.secret_sealed), code, now_ns, row.last_step)
        if step is None:
            return False
        write_first(audit, actor, AuditAction.TOTP_VERIFY, details={"user": user.username, "first": not row.confirmed})
        row.last_step = step
        row.confirmed = True
        session.flush()
        return True
    if not row.confirmed:
        return False  # recovery codes count only once the app is proven to hold the secret
    spent = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(code), RecoveryCode.used_ns.is_(None)
        )
    )
    if spent is None:
        return False
    left = session.query(RecoveryCode).filter_by(user_id=user.id, used_ns=None).count() - 1
    write_first(audit, actor, AuditAction.TOTP_RECOVERY, details={"user": user.username, "left": left})
    spent.used_ns = now_ns
    session.flush()
    return True


@dataclass
class _Pending:
    user_id: int
    factor: SecondFactor
    expires: float
    tries: int = 0


@dataclass
class PendingLogins:
    """Logins whose password was right, waiting for their second factor: a random ticket (kept as its hash) per
    login, good for a few minutes and a few tries, spent on success. Times: the injected clock's monotonic seconds."""

    max_tries: int = 5
    _open: dict[str, _Pending] = field(default_factory=dict)

    @staticmethod
    def _key(ticket: str) -> str:
        return hashlib.sha256(ticket.encode()).hexdigest()

    def open(self, user_id: int, factor: SecondFactor, now: float, ttl_s: float) -> str:
        self._open = {k: p for k, p in self._open.items() if p.expires > now}
        ticket = secrets.token_urlsafe(32)
        self._open[self._key(ticket)] = _Pending(user_id, factor, now + ttl_s)
        return ticket

    def peek(self, ticket: str, now: float) -> _Pending | None:
        p = self._open.get(self._key(ticket))
        if p is None or p.expires <= now or p.tries >= self.max_tries:
            return None
        return p

    def failed(self, ticket: str) -> None:
        p = self._open.get(self._key(ticket))
        if p is not None:
            p.tries += 1

    def close(self, ticket: str) -> None:
        self._open.pop(self._key(ticket), None)
