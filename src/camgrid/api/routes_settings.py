"""The signed-in user's own settings: the control room's language, calendar and digits (docs/design/languages.md).

Any signed-in user reads and changes only their own (no permission beyond being signed in). The answer also names
the city's default language (config ``language``), which applies while the user has chosen none.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from camgrid.access import settings as ui
from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.deps import DB_SESSION, User, ctx_of
from camgrid.vocabulary import UiCalendar, UiDigits, UiLanguage

router = APIRouter(prefix="/api/me", tags=["auth"])


class UiSettingsIn(BaseModel):
    """The whole setting (null: not chosen, the defaults apply); unknown fields and values are refused (422)."""

    model_config = ConfigDict(extra="forbid")
    language: UiLanguage | None = Field(None, description="en, fa-AF (Dari), ps (Pashto), ne (Nepali)")
    calendar: UiCalendar | None = Field(None, description="gregory or persian (Solar Hijri)")
    digits: UiDigits | None = Field(
        None, description="latn (0-9), arabext (Persian digits) or deva (Devanagari digits)"
    )


class UiSettingsOut(BaseModel):
    language: UiLanguage | None
    calendar: UiCalendar | None
    digits: UiDigits | None
    city_language: UiLanguage = Field(description="The city's default language (while the user has chosen none)")


def _out(s: ui.UiSettings, request: Request) -> UiSettingsOut:
    city = ctx_of(request).settings.language
    return UiSettingsOut(language=s.language, calendar=s.calendar, digits=s.digits, city_language=city)


@router.get("/settings", response_model=UiSettingsOut)
def get_settings(request: Request, who: Principal = User, session: Session = DB_SESSION) -> UiSettingsOut:
    with answering():
        return _out(ui.ui_settings(session=session, user_id=who.user_id), request)


@router.put("/settings", response_model=UiSettingsOut)
def put_settings(
    body: UiSettingsIn, request: Request, who: Principal = User, session: Session = DB_SESSION
) -> UiSettingsOut:
    chosen = ui.UiSettings(language=body.language, calendar=body.calendar, digits=body.digits)
    with answering():
        done = ui.set_ui_settings(
            session=session, audit=writer(request), actor=actor(request, who), user_id=who.user_id, settings=chosen
        )
    session.commit()
    return _out(done, request)
