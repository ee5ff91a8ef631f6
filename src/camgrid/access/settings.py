"""A user's own control-room settings: language, calendar and digits (docs/design/languages.md).

Stored per user on the server, so the choice follows the operator to any console of the control room. Each is
optional: None means "not chosen" and the control room falls back to the browser's languages and the city's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from camgrid.access.models import User
from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, write_first
from camgrid.vocabulary import AuditAction, UiCalendar, UiDigits, UiLanguage


@dataclass(frozen=True)
class UiSettings:
    language: UiLanguage | None
    calendar: UiCalendar | None
    digits: UiDigits | None


def _row(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.deleted_ns is not None:
        raise NotVisible("no such user")
    return user


E = TypeVar("E", UiLanguage, UiCalendar, UiDigits)


def _enum(kind: type[E], value: str | None) -> E | None:
    """A stored value as its enum; a value no longer known reads as not chosen (never an error on reading)."""
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None


def ui_settings(*, session: Session, user_id: int) -> UiSettings:
    """The user's own settings (read)."""
    u = _row(session, user_id)
    return UiSettings(_enum(UiLanguage, u.ui_language), _enum(UiCalendar, u.ui_calendar), _enum(UiDigits, u.ui_digits))


@audited(AuditAction.USER_SETTINGS)
def set_ui_settings(
    *, session: Session, audit: AuditWriter, actor: Actor, user_id: int, settings: UiSettings
) -> UiSettings:
    """Replace the user's own settings (a user changes only their own: user_id is the caller's)."""
    user = _row(session, user_id)
    details = {k: (str(v) if v is not None else None) for k, v in vars(settings).items()}
    write_first(audit, actor, AuditAction.USER_SETTINGS, details={"user": user.username, **details})
    user.ui_language = details["language"]
    user.ui_calendar = details["calendar"]
    user.ui_digits = details["digits"]
    session.flush()
    return settings
