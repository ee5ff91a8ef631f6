"""A camera's ONVIF events on its timeline (the camera's time and ours) and its clock offset and conditions in its
detail; scoped: a user of one district never sees another district's events or conditions (the answer for a camera
outside the user's districts is the answer for one that does not exist)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health import onvif_service
from camgrid.health.wiring import LiveIncidents
from camgrid.onvif.clock import ClockReading
from camgrid.onvif.events import CameraEvent
from camgrid.vocabulary import CameraEventKind
from tests.access.world import ADMIN, PASSWORD, T0, World, build
from tests.backends import backend_env
from tests.seeding import BROWSER

NS = 1_000_000_000
MS = 1_000_000
USERS = (("op1", "operator", ["D-01"]), ("view1", "viewer", ["D-01"]), ("op2", "operator", ["D-02"]))


@pytest.fixture
def app(tmp_path: Path) -> tuple[World, TestClient]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)
    for name, role, districts in USERS:
        with unit_of_work(w.factory) as s:
            access.create_user(
                session=s, audit=w.log, actor=ADMIN, username=name, password=PASSWORD, role=role,
                districts=districts, now_ns=T0,
            )  # fmt: skip
    with unit_of_work(w.factory) as s:
        onvif_service.record_camera_events(
            session=s,
            events=[
                CameraEvent("cam-a", CameraEventKind.TAMPER, True, T0 + 10 * NS - 90 * NS, T0 + 10 * NS,
                            "tns1:VideoSource/GlobalSceneChange/ImagingService", "Changed State=true"),
                CameraEvent("cam-a", CameraEventKind.MOTION, True, None, T0 + 20 * NS, "tns1:VideoSource/MotionAlarm",
                            "Changed State=true"),
                CameraEvent("cam-a", CameraEventKind.OTHER, True, T0, T0 + 5000 * NS, "tns1:Vendor/X", ""),  # later
                CameraEvent("cam-b", CameraEventKind.STORAGE_FAILURE, True, T0, T0 + 15 * NS,
                            "tns1:Device/HardwareFailure/StorageFailure", "Changed Failed=true"),
            ],
        )  # fmt: skip
        onvif_service.record_clock(session=s, camera_id="cam-a", reading=ClockReading(-90 * NS, T0, 4 * MS))
        onvif_service.record_clock(session=s, camera_id="cam-b", reading=ClockReading(NS, T0, 4 * MS))
    live = LiveIncidents(factory=w.factory, clock=w.clock)
    ctx = AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log, incidents=live)
    return w, TestClient(create_app(ctx), headers=BROWSER)


def _as(client: TestClient, name: str) -> TestClient:
    client.cookies.clear()
    assert client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    return client


def timeline(client: TestClient, camera: str) -> object:
    t0 = T0 // MS
    return client.get(f"/api/cameras/{camera}/timeline", params={"from_ms": t0, "to_ms": t0 + 3600_000})


def test_the_timeline_carries_events_with_both_times(app: tuple[World, TestClient]) -> None:
    _, client = app
    r = timeline(_as(client, "op1"), "cam-a")
    assert r.status_code == 200  # type: ignore[attr-defined]
    events = r.json()["events"]  # type: ignore[attr-defined]
    assert [(e["kind"], e["active"], e["camera_ms"], e["received_ms"]) for e in events] == [
        ("tamper", True, (T0 - 80 * NS) // MS, (T0 + 10 * NS) // MS),
        ("motion", True, None, (T0 + 20 * NS) // MS),
    ]  # the one outside the range is not there
    assert events[0]["topic"] == "tns1:VideoSource/GlobalSceneChange/ImagingService"


def test_camera_detail_shows_clock_offset_and_conditions(app: tuple[World, TestClient]) -> None:
    _, client = app
    onvif = _as(client, "view1").get("/api/cameras/cam-a").json()["onvif"]
    assert onvif["clock_offset_ms"] == -90_000 and onvif["clock_tolerance_ms"] == 2000
    assert onvif["conditions"] == ["clock_off", "tamper"]  # motion is not trouble
    onvif = _as(client, "op2").get("/api/cameras/cam-b").json()["onvif"]
    assert onvif["conditions"] == ["storage_failure"] and onvif["clock_offset_ms"] == 1000


def test_another_districts_events_are_never_seen(app: tuple[World, TestClient]) -> None:
    _, client = app
    c = _as(client, "op1")
    outside, unknown = timeline(c, "cam-b"), timeline(c, "cam-zz")
    assert outside.status_code == unknown.status_code == 404  # type: ignore[attr-defined]
    assert outside.json() == {"detail": unknown.json()["detail"].replace("cam-zz", "cam-b")}  # type: ignore[attr-defined]
    r = c.get("/api/cameras/cam-b")
    assert r.status_code == 404 and "storage" not in r.text
    assert _as(client, "view1").get("/api/cameras/cam-a/timeline", params={"from_ms": 0, "to_ms": 1}).status_code == 403
