"""WS /api/events resynchronises a reconnecting control room (docs/design/never-stale.md).

Before, a socket that blipped reconnected with nothing: every change during the cut was lost and the map stayed
wrong until a reload. Now every event has an id; ``?since=&epoch=`` replays what was missed from the ring (scoped as
live events are), or answers ``resync`` when the ring no longer holds it or the process restarted, and
``GET /api/cameras`` says which event its states contain (``event_id``), so a snapshot and the events after it
compose without loss or reordering.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.api.event_ring import EventRing, with_id
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.vocabulary import CameraState, GapReason
from tests.access.world import ADMIN, PASSWORD, T0, build
from tests.backends import backend_env
from tests.seeding import BROWSER


def test_the_ring_replays_only_what_it_still_holds() -> None:
    ring = EventRing()
    ring.ring = deque(maxlen=3)
    ring.publish(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'])
    assert ring.after(4, ring.epoch) == []
    assert ring.after(2, ring.epoch) == [(3, '{"n":3}'), (4, '{"n":4}')]
    assert ring.after(1, ring.epoch) == [(2, '{"n":2}'), (3, '{"n":3}'), (4, '{"n":4}')]
    assert ring.after(0, ring.epoch) is None  # event 1 fell out of the ring
    assert ring.after(2, "another-process") is None
    assert ring.after(5, ring.epoch) is None  # from the future: a restarted process reusing the epoch cannot be
    assert with_id(7, '{"type":"x"}') == '{"eid":7,"type":"x"}'


@pytest.fixture
def app(tmp_path: Path) -> tuple[AppContext, TestClient]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)  # cam-a in D-01, cam-b in D-02; "viewer" sees every district
    with unit_of_work(w.factory) as s:
        access.create_user(
            session=s, audit=w.log, actor=ADMIN, username="op1", password=PASSWORD, role="operator",
            districts=["D-01"], now_ns=T0,
        )  # fmt: skip
    ctx = AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log)
    return ctx, TestClient(create_app(ctx), headers=BROWSER)


def _set(client: TestClient, ctx: AppContext, cam: str, state: str, t: int) -> None:
    assert client.portal is not None
    client.portal.call(ctx.states.set, cam, state, GapReason.UNREACHABLE if state == "offline" else "", t)


def _until_hello(ws: Any) -> list[dict[str, Any]]:
    got = []
    while (m := ws.receive_json())["type"] != "hello":
        got.append(m)
    return [*got, m]


def test_a_reconnect_gets_what_it_missed_scoped_then_hello(app: tuple[AppContext, TestClient]) -> None:
    ctx, client = app
    with client:
        for user in ("viewer", "op1"):
            r = client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
            assert r.status_code == 200
            cols = client.get("/api/cameras").json()
            epoch, since = cols["epoch"], cols["event_id"]
            with client.websocket_connect(f"/api/events?since={since}&epoch={epoch}") as ws:
                assert _until_hello(ws) == [{"type": "hello", "epoch": epoch, "eid": since}]
            # the socket is cut: changes happen meanwhile
            _set(client, ctx, "cam-a", CameraState.OFFLINE, 10)
            _set(client, ctx, "cam-b", CameraState.OFFLINE, 11)
            _set(client, ctx, "cam-a", CameraState.RECORDING, 12)
            with client.websocket_connect(f"/api/events?since={since}&epoch={epoch}") as ws:
                got = _until_hello(ws)
            expected = [("cam-a", "offline"), ("cam-b", "offline"), ("cam-a", "recording")]
            if user == "op1":
                expected = [e for e in expected if e[0] == "cam-a"]  # D-02 never reaches a D-01 operator
            assert [(m["id"], m["state"]) for m in got[:-1]] == expected
            assert [m["eid"] for m in got[:-1]] == sorted(m["eid"] for m in got[:-1])
            assert got[-1] == {"type": "hello", "epoch": epoch, "eid": since + 3}
            after = client.get("/api/cameras").json()
            assert after["event_id"] == since + 3
            client.post("/api/auth/logout")


def test_a_position_the_ring_cannot_serve_asks_for_a_snapshot(app: tuple[AppContext, TestClient]) -> None:
    ctx, client = app
    ctx.states.events.ring = deque(maxlen=2)
    with client:
        assert client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD}).status_code == 200
        cols = client.get("/api/cameras").json()
        for i in range(3):
            _set(client, ctx, "cam-a", CameraState.OFFLINE, 20 + i)
        for query in (f"since={cols['event_id']}&epoch={cols['epoch']}", "since=0&epoch=restarted", "since=x&epoch="):
            with client.websocket_connect(f"/api/events?{query}") as ws:
                first = ws.receive_json()
                assert first["type"] == "resync" and first["eid"] == cols["event_id"] + 3, query
                assert ws.receive_json()["type"] == "hello"
        snap = client.get("/api/cameras").json()
        assert snap["event_id"] == cols["event_id"] + 3
        assert snap["state"][snap["id"].index("cam-a")] == "offline"
