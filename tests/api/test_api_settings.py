"""A user's own control-room settings (issue 16, languages; docs/design/languages.md): GET/PUT /api/me/settings keep
language, calendar and digits per user on the server, refuse unknown values and fields (422, never a 500), audit the
change, and name the city's default language from the config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.audit.models import AuditEntry
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.vocabulary import AuditAction, UiLanguage
from tests.api.served import PASSWORD, seed
from tests.backends import backend_env
from tests.seeding import BROWSER, seed_log


@pytest.fixture
def app(tmp_path: Path) -> tuple[TestClient, AppContext]:
    settings = load_settings(tmp_path, backend_env(tmp_path)).model_copy(update={"language": UiLanguage.FA_AF})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    seed(log, factory, {"op": ("operator", ["D-01"]), "viewer": ("viewer", None)}, [])
    ctx = AppContext(settings=settings, factory=factory, clock=SystemClock(), audit=log)
    return TestClient(create_app(ctx), headers=BROWSER), ctx


def _login(c: TestClient, user: str) -> None:
    c.cookies.clear()
    assert c.post("/api/auth/login", json={"username": user, "password": PASSWORD}).status_code == 200


def test_each_user_keeps_their_own_language_calendar_and_digits(app: tuple[TestClient, AppContext]) -> None:
    c, ctx = app
    _login(c, "op")
    assert c.get("/api/me/settings").json() == {
        "language": None,
        "calendar": None,
        "digits": None,
        "city_language": "fa-AF",
    }
    r = c.put("/api/me/settings", json={"language": "ps", "calendar": "persian", "digits": "arabext"})
    assert r.status_code == 200, r.text
    assert r.json()["language"] == "ps"
    _login(c, "viewer")  # another user's choice is not theirs
    assert c.get("/api/me/settings").json()["language"] is None
    assert (
        c.put("/api/me/settings", json={"language": "ne", "calendar": "gregory", "digits": "deva"}).status_code == 200
    )
    _login(c, "op")
    assert c.get("/api/me/settings").json() == {
        "language": "ps",
        "calendar": "persian",
        "digits": "arabext",
        "city_language": "fa-AF",
    }
    assert c.put("/api/me/settings", json={}).json()["language"] is None  # back to the defaults
    with unit_of_work(ctx.factory) as s:
        entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    changes = [e for e in entries if e["action"] == AuditAction.USER_SETTINGS]
    assert [e["details"]["language"] for e in changes] == ["ps", "ne", None]


@pytest.mark.parametrize(
    "body",
    [
        {"language": "fr"},
        {"calendar": "bikram-sambat"},
        {"digits": "thai"},
        {"language": "en", "theme": "dark"},
        {"language": "x" * 10_000},
        [],
    ],
)
def test_settings_refuse_what_is_not_ours(app: tuple[TestClient, AppContext], body: object) -> None:
    c, _ = app
    _login(c, "op")
    assert c.put("/api/me/settings", json=body).status_code == 422
    c.cookies.clear()
    assert c.get("/api/me/settings").status_code == 401
