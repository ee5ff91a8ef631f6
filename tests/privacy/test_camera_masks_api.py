"""Camera-side masks over the API (docs/design/camera-side-masks.md): who burns a camera's mask in is readable; an
admin re-arms a camera whose own mask failed a check (audited, its ``mask_unverified`` incident resolved); a second
re-arm, or one outside the admin's districts, is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health.models import IncidentRow
from camgrid.vocabulary import AuditAction, MaskMode
from tests.access.world import ADMIN, PASSWORD, T0, World, build
from tests.backends import backend_env
from tests.seeding import BROWSER

URL = "/api/cameras/cam-a/mask/camera-side"


@pytest.fixture
def app(tmp_path: Path) -> tuple[World, TestClient]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)  # cam-a's own mask failed a check (seeded)
    for name, role, districts in (("alice", "admin", None), ("olga", "operator", None), ("dora", "admin", ["D-02"])):
        with unit_of_work(w.factory) as s:
            access.create_user(
                session=s, audit=w.log, actor=ADMIN, username=name, password=PASSWORD, role=role,
                districts=districts, now_ns=T0,
            )  # fmt: skip
    ctx = AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log)
    return w, TestClient(create_app(ctx), headers=BROWSER)


def _as(client: TestClient, name: str) -> TestClient:
    client.cookies.clear()
    assert client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    return client


def test_read_and_rearm(app: tuple[World, TestClient]) -> None:
    w, client = app
    c = _as(client, "olga")
    got = c.get(URL).json()
    assert got["mode"] == MaskMode.CAMERA_FAILED and got["reason"] == "seeded" and got["failed_ms"] is not None
    assert c.post(URL + "/rearm").status_code == 403  # operators read, admins re-arm
    assert c.get("/api/cameras/cam-b/mask/camera-side").json()["mode"] == MaskMode.RECORDER  # no row: as before
    assert _as(client, "dora").post(URL + "/rearm").status_code == 404  # not in her districts
    c = _as(client, "alice")
    size = w.log.size
    r = c.post(URL + "/rearm")
    assert r.status_code == 200 and r.json()["mode"] == MaskMode.RECORDER  # set anew, checked before trusted
    entry = json.loads(w.log.entry_data(size))
    assert (entry["action"], entry["who"], entry["camera"]) == (AuditAction.MASK_CAMERA_REARM, "alice", "cam-a")
    with unit_of_work(w.factory) as s:
        inc = s.scalars(select(IncidentRow).where(IncidentRow.subject == "cam-a")).one()
        assert inc.reason is not None and inc.reason.startswith("mask_unverified") and inc.resolved_ns is not None
    assert c.post(URL + "/rearm").status_code == 409  # nothing failed any more
    assert w.log.size == size + 1
