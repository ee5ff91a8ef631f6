"""The mutation routes call the audited services (docs/design/services-own-invariants.md): exports keep their JSON
shape over the new table, holds can be released, a user outside the camera's districts gets 404, and a log that
refuses the entry answers 503 with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.storage.models import Hold
from camgrid.vocabulary import AuditAction
from tests.access.world import ADMIN, PASSWORD, T0, Refusing, World, build
from tests.backends import backend_env

MS = 1_000_000


@pytest.fixture
def app(tmp_path: Path) -> tuple[World, TestClient]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)
    for name, role, districts in (
        ("op", "operator", None),
        ("sup", "supervisor", None),
        ("sup2", "supervisor", ["D-02"]),
    ):
        with unit_of_work(w.factory) as s:
            access.create_user(
                session=s,
                audit=w.log,
                actor=ADMIN,
                username=name,
                password=PASSWORD,
                role=role,
                districts=districts,
                now_ns=T0,
            )
    ctx = AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log)
    return w, TestClient(create_app(ctx), headers={"Origin": "http://testserver"})  # a browser sends Origin


def _as(client: TestClient, name: str) -> TestClient:
    client.cookies.clear()
    assert client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    return client


def _actions(w: World, since: int) -> list[tuple[str, str]]:
    return [(e["who"], e["action"]) for e in (json.loads(w.log.entry_data(i)) for i in range(since, w.log.size))]


def test_export_over_the_api_keeps_its_shape_and_four_eyes(app: tuple[World, TestClient]) -> None:
    _, client = app
    body = {"camera": "cam-a", "from_ms": (T0 + 2_000 * MS) // MS, "to_ms": (T0 + 5_000 * MS) // MS, "reason": "case 9"}
    r = _as(client, "op").post("/api/exports", json=body)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    assert made["status"] == "pending" and made["files"] == [] and made["requested_by"] == "op"
    assert (made["from_ms"], made["to_ms"], made["decided_ms"]) == (body["from_ms"], body["to_ms"], None)
    assert client.post(f"/api/exports/{made['id']}/approve", json={}).status_code == 403  # role: operators ask
    assert _as(client, "sup2").post(f"/api/exports/{made['id']}/approve", json={}).status_code == 404  # D-01
    r = _as(client, "sup").post(f"/api/exports/{made['id']}/approve", json={"reason": "ok"})
    assert r.status_code == 200, r.text
    ready = r.json()
    assert ready["status"] == "ready" and ready["decided_by"] == "sup" and ready["actual_from_ms"] == body["from_ms"]
    names = {f["name"] for f in ready["files"]}
    assert names == {"clip.mp4", "README.html", "manifest.json", "manifest.sig", "key.pub"}  # the page: issue 16
    assert client.post(f"/api/exports/{made['id']}/refuse", json={}).status_code == 409
    clip = _as(client, "op").get(f"/api/exports/{made['id']}/files/clip.mp4")
    assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"
    assert client.get(f"/api/exports/{made['id']}/files/request.json").status_code == 404
    assert made["id"] in [e["id"] for e in client.get("/api/exports").json()]


def test_holds_create_release_and_scope(app: tuple[World, TestClient]) -> None:
    w, client = app
    start = w.log.size
    body = {"camera": "cam-a", "from_ms": T0 // MS, "to_ms": T0 // MS + 1000, "reason": "case 10"}
    assert _as(client, "sup2").post("/api/holds", json=body).status_code == 404  # cam-a is in D-01
    r = _as(client, "sup").post("/api/holds", json=body)
    assert r.status_code == 201, r.text
    hold = r.json()
    assert _as(client, "sup2").post(f"/api/holds/{hold['id']}/release", json={"reason": "done"}).status_code == 404
    r = _as(client, "sup").post(f"/api/holds/{hold['id']}/release", json={"reason": "done"})
    assert r.status_code == 200 and r.json()["until_ms"] == w.clock.wall_ns() // MS
    assert client.post(f"/api/holds/{hold['id']}/release", json={"reason": "again"}).status_code == 409
    audited = [a for a in _actions(w, start) if a[1] in (AuditAction.HOLD_CREATE, AuditAction.HOLD_RELEASE)]
    assert audited == [("sup", AuditAction.HOLD_CREATE), ("sup", AuditAction.HOLD_RELEASE)]


def test_a_refusing_log_answers_503_and_nothing_changes(app: tuple[World, TestClient]) -> None:
    w, client = app
    _as(client, "sup")
    client.app.state.ctx.audit = Refusing()  # type: ignore[attr-defined]
    body = {"camera": "cam-a", "from_ms": T0 // MS, "to_ms": T0 // MS + 1000, "reason": "case 11"}
    r = client.post("/api/holds", json=body)
    assert r.status_code == 503 and "action refused" in r.json()["detail"]
    r = client.post(f"/api/exports/{w.ids['pending']}/approve", json={"reason": "ok"})
    assert r.status_code == 503
    client.app.state.ctx.audit = w.log  # type: ignore[attr-defined]
    with unit_of_work(w.factory) as s:
        assert [h.reason for h in s.query(Hold)] == ["case 1"]
    assert client.get(f"/api/exports/{w.ids['pending']}").json()["status"] == "pending"


def test_maintenance_on_off_shown_scoped_and_audited(app: tuple[World, TestClient]) -> None:
    w, client = app
    start = w.log.size
    url = "/api/cameras/cam-a/maintenance"
    assert _as(client, "sup2").post(url, json={"on": True, "note": "x"}).status_code == 404  # cam-a is in D-01
    assert _as(client, "op").post(url, json={"on": True, "note": "n" * 501}).status_code == 422
    r = client.post(url, json={"on": True, "note": "lens cracked; technician on the way"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "camera": "cam-a",
        "on": True,
        "since_ms": w.clock.wall_ns() // MS,
        "until_ms": None,
        "by": "op",
        "note": "lens cracked; technician on the way",
    }
    assert client.post(url, json={"on": True, "note": "again"}).status_code == 409  # one open window per camera
    cams = client.get("/api/cameras").json()
    shown = dict(zip(cams["id"], cams["maintenance_since_ms"], strict=True))
    assert shown == {"cam-a": w.clock.wall_ns() // MS, "cam-b": None}
    assert client.get("/api/cameras/cam-a").json()["maintenance"]["by"] == "op"
    r = _as(client, "sup").post(url, json={"on": False, "note": "lens replaced"})
    assert r.status_code == 200 and r.json()["on"] is False and r.json()["by"] == "sup"
    assert client.post(url, json={"on": False}).status_code == 409
    assert client.get("/api/cameras/cam-a").json()["maintenance"] is None
    assert client.get("/api/cameras").json()["maintenance_since_ms"] == [None, None]
    audited = [a for a in _actions(w, start) if a[1] == AuditAction.CAMERA_MAINTENANCE]
    assert audited == [("op", AuditAction.CAMERA_MAINTENANCE), ("sup", AuditAction.CAMERA_MAINTENANCE)]
