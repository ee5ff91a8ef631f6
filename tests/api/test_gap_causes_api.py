"""The playback timeline names the incident behind each gap (``GapOut.cause``), scoped like the incidents list: a
feeder none of whose cameras is in the user's districts is not named (docs/design/playback-review.md)."""

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
from camgrid.health.models import IncidentCamera, IncidentRow
from camgrid.health.wiring import LiveIncidents
from camgrid.storage.models import Gap
from camgrid.vocabulary import OUTSIDE_SCOPE
from tests.access.world import ADMIN, PASSWORD, T0, build
from tests.backends import backend_env
from tests.seeding import BROWSER

NS = 1_000_000_000
MS = 1_000_000


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)
    for name, districts in (("op1", ["D-01"]), ("opall", None)):
        with unit_of_work(w.factory) as s:
            access.create_user(
                session=s, audit=w.log, actor=ADMIN, username=name, password=PASSWORD, role="operator",
                districts=districts, now_ns=T0,
            )  # fmt: skip
    with unit_of_work(w.factory) as s:
        # cam-a (D-01, feeder F-D-01): a power cut of its own feeder, then one of a feeder outside D-01, then a gap
        # no incident explains.
        s.add_all(
            [
                Gap(camera_id="cam-a", start_ns=T0 + 100 * NS, end_ns=T0 + 160 * NS, reason="unreachable"),
                Gap(camera_id="cam-a", start_ns=T0 + 300 * NS, end_ns=T0 + 320 * NS, reason="unreachable"),
                Gap(camera_id="cam-a", start_ns=T0 + 500 * NS, end_ns=T0 + 510 * NS, reason="stalled"),
            ]
        )
        for k, (subject, t0, t1) in enumerate((("F-D-01", 103, 161), ("F-ELSEWHERE", 303, 321))):
            row = IncidentRow(
                engine_key=f"run:{k}", kind="power", subject=subject, opened_ns=T0 + t0 * NS, resolved_ns=T0 + t1 * NS
            )
            s.add(row)
            s.flush()
            s.add(IncidentCamera(incident_id=row.id, camera_id="cam-a", role="member", down_ns=T0 + (t0 - 3) * NS))
    live = LiveIncidents(factory=w.factory, clock=w.clock)
    ctx = AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log, incidents=live)
    return TestClient(create_app(ctx), headers=BROWSER)


def causes(client: TestClient, user: str) -> list[tuple[str, str] | None]:
    client.cookies.clear()
    assert client.post("/api/auth/login", json={"username": user, "password": PASSWORD}).status_code == 200
    t0 = T0 // MS
    r = client.get("/api/cameras/cam-a/timeline", params={"from_ms": t0, "to_ms": t0 + 3600_000})
    assert r.status_code == 200, r.text
    return [None if g["cause"] is None else (g["cause"]["kind"], g["cause"]["subject"]) for g in r.json()["gaps"]]


def test_each_gap_carries_its_incident_scoped(client: TestClient) -> None:
    assert causes(client, "opall") == [("power", "F-D-01"), ("power", "F-ELSEWHERE"), None]
    assert causes(client, "op1") == [("power", "F-D-01"), ("power", OUTSIDE_SCOPE), None]
