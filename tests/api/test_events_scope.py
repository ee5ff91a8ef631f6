"""The events WebSocket shows a district-scoped user only their district, incidents included, cut exactly as
``GET /api/incidents`` cuts them (one rule: ``health.scope.scope_incident``; docs/design/scopes.md).

An incident that spans districts (a feeder crossing a district border) used to reach a scoped user whole, with the
other districts' camera ids. Then only its members were cut: an incident a D-01 camera joined by place still named
the D-02 feeder it blames, and its suggestion proposed it (finding 6 of issue 13). The test drives the real path: the
incident feed's listener (as the pump calls it) -> the subscribers' queues -> the WebSocket, beside REST.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.api.routes_live import _scope_message
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health import service as health
from camgrid.health.models import IncidentCamera, IncidentRow, IncidentSuggestion
from camgrid.health.schemas import IncidentEvent, IncidentView
from camgrid.health.scope import Scope
from camgrid.health.wiring import LiveIncidents
from camgrid.registry import service as registry
from camgrid.vocabulary import OUTSIDE_SCOPE
from tests.access.world import ADMIN, PASSWORD, T0, World, build, camera
from tests.backends import backend_env
from tests.seeding import BROWSER

SCOPE = Scope(frozenset({"cam-a1", "cam-a2"}), frozenset({"F-D-01", "S-cam-a1", "S-cam-a2", "U-1"}))


def _incident(kind: str, subject: str, cameras: list[str], unexplained: list[str], suggested: list[str]) -> str:
    return IncidentEvent(
        id=7, kind=kind, subject=subject, opened_ms=1, resolved_ms=None, confidence=0.9, n_members=len(cameras),
        reason=None, flaps=0, evidence="", merged_into_id=None, acknowledged_ms=None, acknowledged_by=None,
        cameras=cameras, unexplained=unexplained, actions=[],
        suggestions=[
            {"id": i, "camera_id": c, "field": "feeder", "registry_value": "F-D-01", "suggested_value": subject,
             "status": "open"}
            for i, c in enumerate(suggested)
        ],
    ).model_dump_json()  # fmt: skip


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        (json.dumps({"type": "camera", "id": "cam-a1", "state": "offline"}), "same"),
        (json.dumps({"type": "camera", "id": "cam-b1", "state": "offline"}), None),
        (_incident("power", "F-D-02", ["cam-b1", "cam-b2"], ["cam-b1"], ["cam-b2"]), None),
        (_incident("camera", "cam-b1", ["cam-b1"], [], []), None),
    ],
)
def test_messages_outside_the_scope_are_dropped_and_inside_kept(msg: str, expected: str | None) -> None:
    out = _scope_message(msg, SCOPE)
    assert out == (msg if expected == "same" else expected)


def test_an_incident_across_districts_is_cut_to_the_users_cameras() -> None:
    msg = _incident("power", "F-D-01", ["cam-a1", "cam-b1", "cam-b2"], ["cam-a1", "cam-b1"], ["cam-b2", "cam-a1"])
    out = _scope_message(msg, SCOPE)
    assert out is not None
    doc = json.loads(out)
    assert doc["cameras"] == ["cam-a1"] and doc["n_members"] == 1 and doc["unexplained"] == ["cam-a1"]
    assert doc["subject"] == "F-D-01"  # the feeder feeds cam-a1: theirs
    assert [s["camera_id"] for s in doc["suggestions"]] == ["cam-a1"]
    assert "cam-b" not in out


def test_a_feeder_of_another_district_is_not_named() -> None:
    """cam-a1 joined a D-02 feeder's incident by place: the feeder, and the suggestion naming it, are not theirs."""
    msg = _incident("power", "F-D-02", ["cam-b1", "cam-a1"], [], ["cam-a1"])
    out = _scope_message(msg, SCOPE)
    assert out is not None
    doc = json.loads(out)
    assert doc["subject"] == OUTSIDE_SCOPE and doc["cameras"] == ["cam-a1"] and doc["suggestions"] == []
    assert "F-D-02" not in out and "cam-b" not in out


# The live path, beside REST ---------------------------------------------------------------------------------------
def _store(w: World, kind: str, subject: str, members: list[str], suggestion: tuple[str, str, str] | None) -> int:
    with unit_of_work(w.factory) as s:
        row = IncidentRow(
            engine_key=f"test:{subject}", kind=kind, subject=subject, opened_ns=T0, n_members=len(members)
        )
        s.add(row)
        s.flush()
        for c in members:
            s.add(IncidentCamera(incident_id=row.id, camera_id=c, role="member", down_ns=T0))
        if suggestion is not None:
            cam, was, proposed = suggestion
            s.add(IncidentSuggestion(
                incident_id=row.id, camera_id=cam, field="feeder", registry_value=was, suggested_value=proposed,
            ))  # fmt: skip
        return row.id


@pytest.fixture
def world(tmp_path: Path) -> tuple[World, AppContext]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)  # cam-a: D-01, feeder F-D-01; cam-b: D-02, feeder F-D-02
    extra = camera("cam-a2", "D-01").model_copy(update={"feeder": "F-D-01b"})
    with unit_of_work(w.factory) as s:
        registry.import_cameras(session=s, audit=w.log, actor=ADMIN, rows=[extra], now_ns=T0)
    with unit_of_work(w.factory) as s:
        access.create_user(
            session=s, audit=w.log, actor=ADMIN, username="op1", password=PASSWORD, role="operator",
            districts=["D-01"], now_ns=T0,
        )  # fmt: skip
    live = LiveIncidents(factory=w.factory, clock=w.clock)  # its pump is not started: the test publishes
    return w, AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log, incidents=live)


def test_the_websocket_sends_each_incident_as_rest_shows_it(world: tuple[World, AppContext]) -> None:
    w, ctx = world
    across = _store(w, "power", "F-D-01", ["cam-a", "cam-b"], None)
    by_place = _store(w, "power", "F-D-02", ["cam-a2", "cam-b"], ("cam-a2", "F-D-01b", "F-D-02"))
    theirs = _store(w, "camera", "cam-b", ["cam-b"], None)
    with unit_of_work(w.factory) as s:
        items = [health.get_incident(session=s, incident_id=i) for i in (theirs, across, by_place)]
    with TestClient(create_app(ctx), headers=BROWSER) as client:
        assert client.post("/api/auth/login", json={"username": "op1", "password": PASSWORD}).status_code == 200
        rest = {i["id"]: i for i in client.get("/api/incidents").json()}
        # cam-a's own mask incident (no members: it is no outage) is op1's too: cam-a is in D-01
        own = {i for i, r in rest.items() if r["kind"] == "camera" and r["subject"] == "cam-a" and not r["cameras"]}
        assert len(own) == 1 and set(rest) == {across, by_place} | own
        assert client.get(f"/api/incidents/{theirs}").status_code == 404
        with client.websocket_connect("/api/events") as ws:
            assert ws.receive_json()["type"] == "hello"
            for publish in ctx.incidents.feed.listeners:  # as the incident pump publishes a change
                publish(items)
            got: list[dict[str, Any]] = [ws.receive_json(), ws.receive_json()]
    assert [g["id"] for g in got] == [across, by_place]  # the D-02 camera's own incident never arrived
    for g in got:
        assert g.pop("type") == "incident" and g.pop("eid") > 0
        assert g == rest[g["id"]] == IncidentView.model_validate(g).model_dump()
    assert got[0]["cameras"] == ["cam-a"] and got[0]["n_members"] == 1 and got[0]["subject"] == "F-D-01"
    assert got[1]["cameras"] == ["cam-a2"] and got[1]["subject"] == OUTSIDE_SCOPE and got[1]["suggestions"] == []
    assert "cam-b" not in json.dumps(got) and "F-D-02" not in json.dumps(got)
