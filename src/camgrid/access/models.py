"""Users, browser sessions and script tokens. Only hashes of session and token secrets are stored."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    districts: Mapped[str] = mapped_column(String(2000), default="*")  # comma-separated district ids, or *
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    # local | ldap (camgrid.vocabulary.UserSource): a directory user's rights come from their groups at each login
    source: Mapped[str] = mapped_column(String(8), default="local", server_default="local")
    # A deleted user is a tombstone (docs/design/users-life.md): the row stays so that the audit entries naming them
    # keep one meaning and the name is never given to someone else; no password, no credentials, not listed.
    deleted_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    # The control room's language, calendar and digits the user chose (None: not chosen, the city's and the
    # browser's defaults apply; docs/design/languages.md). Values of vocabulary.UiLanguage/UiCalendar/UiDigits.
    ui_language: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)
    ui_calendar: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)
    ui_digits: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)


class UserSession(Base):
    __tablename__ = "user_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="session")  # session | token
    name: Mapped[str] = mapped_column(String(100), default="")
    created_ns: Mapped[int] = mapped_column(BigInteger)
    expires_ns: Mapped[int] = mapped_column(BigInteger)
    last_seen_ns: Mapped[int] = mapped_column(BigInteger, default=0)


class UserTotp(Base):
    """A user's TOTP secret, sealed with the installation's key ($CAMGRID_HOME/keys/totp.key, mode 600), and the
    last time step accepted (a code is good once: the same code again in its window is refused)."""

    __tablename__ = "user_totp"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret_sealed: Mapped[str] = mapped_column(String(400))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)  # a first code proved the app holds the secret
    enrolled_ns: Mapped[int] = mapped_column(BigInteger)
    last_step: Mapped[int] = mapped_column(BigInteger, default=-1)


class RecoveryCode(Base):
    """Single-use recovery codes; only their SHA-256 is kept (each code has 80 random bits)."""

    __tablename__ = "user_recovery_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class WallLayout(Base):
    """A user's saved live wall: its name, size and the camera of each tile (camgrid.access.layouts)."""

    __tablename__ = "wall_layouts"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_wall_layouts_user_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    cameras: Mapped[str] = mapped_column(Text)  # JSON list, one camera id (or "" for an empty tile) per tile
    created_ns: Mapped[int] = mapped_column(BigInteger)
    updated_ns: Mapped[int] = mapped_column(BigInteger)
