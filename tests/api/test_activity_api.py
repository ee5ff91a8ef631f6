"""``GET /api/cameras/{id}/activity`` (docs/design/motion-search.md, "Activity"): one camera's levels, permission
``playback``, out of scope answered as unknown (404), the range bounded to a day before any file is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.api.routes_activity import ActivityOut
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.motion.activity_store import ActivityStore
from camgrid.registry import service as registry
from tests.api.test_api_roles import PASSWORD, _camera, _login
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

NS = 1_000_000_000
MS = 1_000_000
T0 = 1_800_000_000


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home: Path = tmp_path_factory.mktemp("activity-api")
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    with unit_of_work(factory) as s:
        registry.import_cameras(
            session=s, audit=log, actor=SEED, rows=[_camera("cam-a", "D-01"), _camera("cam-b", "D-02")], now_ns=0
        )
    for name, role, districts in (("operator", "operator", None), ("viewer", "viewer", None),
                                  ("scoped", "operator", ["D-01"])):  # fmt: skip
        with unit_of_work(factory) as s:
            access.create_user(session=s, audit=log, actor=SEED, username=name, password=PASSWORD, role=role,
                               districts=districts, now_ns=0)  # fmt: skip
    store = ActivityStore(home / "activity")
    store.write("cam-a", T0, bytes([65, 65, 200, 3]))
    store.write("cam-b", T0, bytes([90]))
    app = create_app(AppContext(settings=settings, factory=factory, clock=SystemClock(), activity=store))
    yield TestClient(app, headers={"Origin": "http://testserver"})
    log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    engine.dispose()


def get(client: TestClient, camera: str, start_ns: int, end_ns: int) -> tuple[int, dict[str, Any]]:
    r = client.get(f"/api/cameras/{camera}/activity", params={"from_ms": start_ns // MS, "to_ms": end_ns // MS})
    return r.status_code, r.json()


def test_a_cameras_levels(client: TestClient) -> None:
    _login(client, "operator")
    status, body = get(client, "cam-a", (T0 - 2) * NS, (T0 + 5) * NS - MS)
    assert status == 200, body
    assert ActivityOut.model_validate(body) == ActivityOut(
        camera="cam-a", start_s=T0 - 2, levels=[0, 0, 65, 65, 200, 3, 0]
    )
    status, body = get(client, "cam-a", T0 * NS + 500_000_000, T0 * NS + 600_000_000)  # within one second
    assert (status, body["start_s"], body["levels"]) == (200, T0, [65])


def test_bounded_before_any_work(client: TestClient) -> None:
    _login(client, "operator")
    assert get(client, "cam-a", T0 * NS, (T0 + 86_400) * NS)[0] == 200  # a day
    assert get(client, "cam-a", T0 * NS, (T0 + 86_401) * NS)[0] == 422  # more than a day
    assert get(client, "cam-a", T0 * NS, T0 * NS)[0] == 422  # empty
    assert get(client, "cam-a", T0 * NS, T0 * NS - MS)[0] == 422  # reversed
    assert get(client, "cam-a", -MS, T0 * NS)[0] == 422
    assert get(client, "cam-a", 0, 2**63 * MS)[0] == 422  # beyond 2200
    assert client.get("/api/cameras/cam-a/activity").status_code == 422


def test_scope_and_permission(client: TestClient) -> None:
    _login(client, "scoped")
    assert get(client, "cam-a", T0 * NS, (T0 + 1) * NS)[0] == 200
    out_of_scope = get(client, "cam-b", T0 * NS, (T0 + 1) * NS)
    unknown = get(client, "no-such", T0 * NS, (T0 + 1) * NS)
    assert out_of_scope[0] == unknown[0] == 404
    assert out_of_scope[1]["detail"].replace("cam-b", "X") == unknown[1]["detail"].replace("no-such", "X")
    _login(client, "viewer")  # live only: no recordings, no activity
    assert get(client, "cam-a", T0 * NS, (T0 + 1) * NS)[0] == 403
