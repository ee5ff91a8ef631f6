"""Finding 1 of issue 13, through the API with two people: an edit that uncovers part of a mask (an empty list, a
tiny triangle) is only requested (the answer shows it pending); the mask in force stays until another holder of
``masks.approve`` approves it; the requester's next edit can neither replace nor cancel the pending request (409);
requested, approved and refused are in the audit log (docs/design/privacy-masks.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.privacy import service as masks
from camgrid.vocabulary import AuditAction
from tests.access.world import ADMIN, PASSWORD, QUARTER, T0, World, build
from tests.backends import backend_env
from tests.seeding import BROWSER

TINY = [[[0.5, 0.0], [0.5001, 0.0], [0.5, 0.0001]]]
SMALLER = [[[0.5, 0.0], [1.0, 0.0], [1.0, 0.25], [0.5, 0.25]]]
BIGGER = [[[0.4, 0.0], [1.0, 0.0], [1.0, 0.6], [0.4, 0.6]]]
URL = "/api/cameras/cam-a/mask"


@pytest.fixture
def app(tmp_path: Path) -> tuple[World, TestClient]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)
    for name, role, districts in (("alice", "admin", None), ("bob", "supervisor", None), ("dora", "admin", ["D-02"])):
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


def _in_force(w: World) -> list[list[list[float]]]:
    """What the recorder's mask sync installs (``MaskSync.sync`` reads exactly this)."""
    with unit_of_work(w.factory) as s:
        return masks.all_masks(session=s)["cam-a"][1]


def _mask_actions(w: World, since: int) -> list[tuple[str, str]]:
    entries = (json.loads(w.log.entry_data(i)) for i in range(since, w.log.size))
    return [(e["who"], e["action"]) for e in entries if e["action"].startswith("mask.")]


@pytest.mark.parametrize("smaller", [TINY, [], SMALLER], ids=["tiny-triangle", "empty", "smaller"])
def test_a_reduction_waits_for_a_second_person(app: tuple[World, TestClient], smaller: list[object]) -> None:
    w, client = app
    start = w.log.size
    r = _as(client, "alice").put(URL, json={"polygons": smaller})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["polygons"] == QUARTER and body["removal_requested_by"] == "alice"
    assert body["pending_polygons"] == (smaller or None)
    assert _in_force(w) == QUARTER  # recording and live keep the old mask
    # The requester can neither replace nor cancel the request, nor approve it.
    assert client.put(URL, json={"polygons": QUARTER}).status_code == 409
    assert client.put(URL, json={"polygons": BIGGER}).status_code == 409
    assert client.put(URL, json={"polygons": []}).status_code == 409
    assert client.delete(URL).status_code == 409
    assert client.post(URL + "/approve-removal").status_code == 409
    assert _as(client, "dora").post(URL + "/approve-removal").status_code == 404  # cam-a is in D-01
    assert _in_force(w) == QUARTER
    r = _as(client, "bob").post(URL + "/approve-removal")
    assert r.status_code == 200, r.text
    assert r.json()["polygons"] == smaller and r.json()["removal_requested_by"] is None
    with unit_of_work(w.factory) as s:
        assert masks.all_masks(session=s).get("cam-a", (0, []))[1] == smaller
    requested = AuditAction.MASK_REDUCTION_REQUEST if smaller else AuditAction.MASK_REMOVAL_REQUEST
    approved = AuditAction.MASK_REDUCTION_APPROVE if smaller else AuditAction.MASK_REMOVAL_APPROVE
    assert _mask_actions(w, start) == [("alice", requested), ("bob", approved)]


def test_a_refused_reduction_leaves_the_mask_and_growth_applies_at_once(app: tuple[World, TestClient]) -> None:
    w, client = app
    start = w.log.size
    assert _as(client, "alice").put(URL, json={"polygons": TINY}).json()["removal_requested_by"] == "alice"
    r = _as(client, "bob").post(URL + "/refuse-removal")
    assert r.status_code == 200 and r.json()["polygons"] == QUARTER and r.json()["pending_polygons"] is None
    assert client.post(URL + "/refuse-removal").status_code == 409  # nothing pending any more
    assert client.post(URL + "/approve-removal").status_code == 409
    assert _in_force(w) == QUARTER
    r = _as(client, "alice").put(URL, json={"polygons": BIGGER})  # grows: no second person needed
    assert r.status_code == 200 and r.json()["polygons"] == BIGGER and r.json()["revision"] == 2
    assert client.put(URL, json={"polygons": BIGGER}).status_code == 200  # unchanged
    assert _in_force(w) == BIGGER
    assert (
        client.put(URL, json={"polygons": QUARTER}).json()["removal_requested_by"] == "alice"
    )  # back to the smaller one: a reduction
    assert client.post(URL + "/refuse-removal").status_code == 200  # the requester may withdraw it
    assert _mask_actions(w, start) == [
        ("alice", AuditAction.MASK_REDUCTION_REQUEST),
        ("bob", AuditAction.MASK_REMOVAL_REFUSE),
        ("alice", AuditAction.MASK_SET),
        ("alice", AuditAction.MASK_SET),
        ("alice", AuditAction.MASK_REDUCTION_REQUEST),
        ("alice", AuditAction.MASK_REMOVAL_REFUSE),
    ]
    last = json.loads(w.log.entry_data(w.log.size - 1))
    assert last["details"]["withdrawn"] is True


def test_a_pending_removal_is_not_cancelled_by_the_next_edit(app: tuple[World, TestClient]) -> None:
    """The finding's second half: ``PUT`` used to clear a pending removal request as a side effect."""
    _, client = app
    assert _as(client, "alice").delete(URL).json()["removal_requested_by"] == "alice"
    assert client.put(URL, json={"polygons": BIGGER}).status_code == 409
    assert client.get(URL).json()["removal_requested_by"] == "alice"


def test_the_approver_approves_only_the_change_they_saw(app: tuple[World, TestClient]) -> None:
    """A request withdrawn and replaced between the approver's look and their click is not approved."""
    w, client = app
    assert _as(client, "alice").put(URL, json={"polygons": SMALLER}).json()["removal_requested_by"] == "alice"
    seen = _as(client, "bob").get(URL).json()["pending_polygons"]
    assert seen == SMALLER
    assert _as(client, "alice").post(URL + "/refuse-removal").status_code == 200  # withdrawn...
    assert (
        client.put(URL, json={"polygons": []}).json()["removal_requested_by"] == "alice"
    )  # ...and replaced by a removal
    r = _as(client, "bob").post(URL + "/approve-removal", json={"pending_polygons": seen})
    assert r.status_code == 409 and _in_force(w) == QUARTER
    assert client.post(URL + "/approve-removal", json={"pending_polygons": SMALLER}).status_code == 409
    r = client.post(URL + "/approve-removal", json={"pending_polygons": None})  # the removal, as now shown
    assert r.status_code == 200 and r.json()["revision"] == 0
