"""``GET /api/recorder``: the control room learns when camgrid itself is not recording (a dead thread, a full disk).

A real recorder with its real threads; a thread's death is injected (``tests/storage/test_watchdog.Fault``), and
the watchdog's pass is made by the test (``supervise``) so nothing waits on a heartbeat.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.api.schemas import RecorderHealth
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work
from camgrid.storage.recorder import Recorder
from tests.conftest import wait_for
from tests.seeding import SEED, seed_log
from tests.storage.test_watchdog import Fault, recorder  # noqa: F401 (the fixture)

PASSWORD = "pw-123456789"


def _client(rec: Recorder) -> TestClient:
    settings, engine, factory = rec._settings, rec._engine, rec._factory
    with unit_of_work(factory) as s:
        access.create_user(
            session=s,
            audit=seed_log(engine, settings.home),
            actor=SEED,
            username="viewer1",
            password=PASSWORD,
            role="viewer",
            districts=None,
            now_ns=0,
        )
    client = TestClient(create_app(AppContext(settings=settings, factory=factory, clock=SystemClock(), recorder=rec)))
    assert client.post("/api/auth/login", json={"username": "viewer1", "password": PASSWORD}).status_code == 200
    return client


def _health(client: TestClient) -> RecorderHealth:
    r = client.get("/api/recorder")
    assert r.status_code == 200, r.text
    return RecorderHealth.model_validate(r.json())


def test_the_control_room_sees_a_dead_recorder_thread_until_it_is_restarted(recorder: Recorder) -> None:  # noqa: F811
    rec = recorder
    client = _client(rec)
    before = _health(client)
    assert before.present and not before.recording, "a recorder that has not started is not recording"
    fault = Fault(rec._writer._sync_all)
    rec._writer._sync_all = fault  # type: ignore[method-assign]
    rec.start()
    ok = _health(client)
    assert ok.recording and ok.paused is None and {t.name for t in ok.threads} >= {"ingest", "disk-writer"}
    fault.armed = True
    wait_for(lambda: not _health(client).recording, 20, what="the API to report the dead disk writer")
    sick = _health(client)
    assert [t.name for t in sick.threads if not t.running] == ["disk-writer"]
    assert rec.supervise() == ["disk-writer"]
    healed = _health(client)
    assert healed.recording
    assert {t.name: t.restarts for t in healed.threads}["disk-writer"] == 1


def test_an_anonymous_caller_learns_nothing(recorder: Recorder) -> None:  # noqa: F811
    client = TestClient(
        create_app(
            AppContext(settings=recorder._settings, factory=recorder._factory, clock=SystemClock(), recorder=recorder)
        )
    )
    assert client.get("/api/recorder").status_code == 401
