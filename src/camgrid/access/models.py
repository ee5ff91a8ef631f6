"""Users, browser sessions and script tokens. Only hashes of session and token secrets are stored."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
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
    # A deleted user is a tombstone (docs/design/users-life.md): the row stays so that the audit entries naming them
    # keep one meaning and the name is never given to someone else; no password, no credentials, not listed.
    deleted_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)


class UserSession(Base):
    __tablename__ = "user_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="session")  # session | token
    name: Mapped[str] = mapped_column(String(100), default="")
    created_ns: Mapped[int] = mapped_column(BigInteger)
    expires_ns: Mapped[int] = mapped_column(BigInteger)
    last_seen_ns: Mapped[int] = mapped_column(BigInteger, default=0)
