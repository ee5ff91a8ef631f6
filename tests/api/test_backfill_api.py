"""The control room shows edge backfill (docs/design/onvif.md, "Edge backfill"): a camera's jobs
(``GET /api/cameras/{id}/backfill``), and each timeline segment's source, so recovered video is drawn apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.storage import backfill
from camgrid.storage.backfill_plan import GapInfo
from camgrid.storage.models import Segment
from camgrid.vocabulary import BackfillState, GapReason, SegmentSource
from tests.api.test_api_roles import PASSWORD, _camera, _login
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

NS = 1_000_000_000
T0 = 1_800_000_000 * NS


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home: Path = tmp_path_factory.mktemp("backfill-api")
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=SEED, rows=[_camera("cam-a", "D-01")], now_ns=0)
    for role in ("operator", "viewer"):
        with unit_of_work(factory) as s:
            access.create_user(
                session=s, audit=log, actor=SEED, username=role, password=PASSWORD, role=role, districts=None, now_ns=0
            )
    with unit_of_work(factory) as s:
        backfill.add_jobs(s, [GapInfo("cam-a", T0, T0 + 300 * NS, GapReason.UNREACHABLE)], node_id="local", now_ns=T0)
    with unit_of_work(factory) as s:
        job = backfill.begin_job(
            session=s, audit=log, actor=SEED, camera_id="cam-a", start_ns=T0, end_ns=T0 + 300 * NS, node_id="local",
            now_ns=T0 + NS,
        )  # fmt: skip
        backfill.finish_job(s, job_id=job, state=BackfillState.DONE, recovered_ns=299 * NS, detail="299.0 s of 300.0 s",
                            now_ns=T0 + 40 * NS)  # fmt: skip
        for i, source in enumerate((SegmentSource.LIVE, SegmentSource.EDGE)):
            s.add(
                Segment(camera_id="cam-a", start_ns=T0 - NS + i * NS, end_ns=T0 + i * NS, path=f"/x/{i}.mp4", bytes=1,
                        frames=1, codec="h264", status="complete", node_id="local", source=source)
            )  # fmt: skip
    app = create_app(AppContext(settings=settings, factory=factory, clock=SystemClock()))
    yield TestClient(app, headers={"Origin": "http://testserver"})
    log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    engine.dispose()


def test_a_cameras_backfill_jobs(client: TestClient) -> None:
    _login(client, "operator")
    r = client.get("/api/cameras/cam-a/backfill")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["camera"] == "cam-a"
    (job,) = body["jobs"]
    assert (job["start_ms"], job["end_ms"], job["state"], job["recovered_ms"], job["attempts"]) == (
        T0 // 1_000_000, (T0 + 300 * NS) // 1_000_000, "done", 299_000, 1,
    )  # fmt: skip
    assert client.get("/api/cameras/no-such/backfill").status_code == 404
    assert client.get("/api/cameras/cam-a/backfill?limit=0").status_code == 422
    _login(client, "viewer")
    assert client.get("/api/cameras/cam-a/backfill").status_code == 403


def test_timeline_segments_carry_their_source(client: TestClient) -> None:
    _login(client, "operator")
    r = client.get(
        f"/api/cameras/cam-a/timeline?from_ms={(T0 - 10 * NS) // 1_000_000}&to_ms={T0 // 1_000_000 + 10_000}"
    )
    assert r.status_code == 200, r.text
    assert [s["source"] for s in r.json()["segments"]] == ["live", "edge"]
