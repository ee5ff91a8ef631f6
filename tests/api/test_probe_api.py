"""``POST /api/cameras/{id}/probe`` (docs/design/camera-probe.md) on a real uvicorn against the real simulator:
operators probe cameras of their districts with the registry's sealed credentials and see what the camera sends,
never its password; each probe is audited; a user probes at most once per ``api.probe_min_interval_s`` (429), a
camera is probed by one request at a time (409), the window is bounded (422), viewers may not (403) and a camera
outside the user's districts does not exist (404)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from camgrid.audit.models import AuditEntry
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import AuditAction, GapReason
from tests.api.served import Served, serve
from tests.backends import wait_for
from tests.ingest.simthread import FPS, GOP, HEIGHT, PASSWORD, USER, WIDTH, Sim, running_sim, spec
from tests.seeding import SEED

WRONG = "wrong-password-5"
USERS: dict[str, tuple[str, list[str] | None]] = {
    "op": ("operator", ["D-01"]),
    "op2": ("operator", None),
    "sup": ("supervisor", None),
    "adm": ("admin", None),
    "viewer": ("viewer", None),
    "far": ("operator", ["D-02"]),
}


def _camera(cid: str, url: str, password: str) -> CameraIn:
    return CameraIn(
        id=cid, name=cid, lat=27.69, lon=85.31, district="D-01", site="S-1", feeder="F-1", uplink="U-1",
        rtsp_url=url, username=USER, password=password,
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Sim]]:
    with running_sim([spec("cam-p", 0)]) as sim, serve(tmp_path_factory.mktemp("probe"), USERS) as served:
        with unit_of_work(served.ctx.factory) as s:
            registry.import_cameras(
                session=s,
                audit=served.log,
                actor=SEED,
                rows=[_camera("cam-p", sim.url("cam-p"), PASSWORD), _camera("cam-wrong", sim.url("cam-p"), WRONG)],
                now_ns=0,
                box=SecretBox(served.ctx.settings.secrets_key_path),
            )
        yield served, sim


def _probe(served: Served, user: str, camera: str, body: Any) -> tuple[int, Any]:
    status, out, _ = served.call("POST", f"/api/cameras/{camera}/probe", body, cookie=served.login(user))
    return status, out


def test_an_operator_sees_what_the_camera_sends(world: tuple[Served, Sim]) -> None:
    served, _ = world
    status, body = _probe(served, "op", "cam-p", {"seconds": 2.5})
    assert status == 200, body
    assert body["ok"] and (body["width"], body["height"]) == (WIDTH, HEIGHT)
    assert abs(body["fps"] - FPS) <= 0.1 * FPS and body["gop_pictures"] == GOP
    assert body["server"] == "camgrid-sim" and body["transport"] == "tcp"
    assert PASSWORD not in json.dumps(body)
    with unit_of_work(served.ctx.factory) as s:
        entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    probes = [e for e in entries if e["action"] == AuditAction.CAMERA_PROBE]
    assert [(e["who"], e["camera"], e["details"]) for e in probes] == [("op", "cam-p", {"seconds": 2.5})]

    again, refused = _probe(served, "op", "cam-p", {"seconds": 1})
    assert again == 429 and "one probe per" in refused["detail"]


def test_a_camera_that_refuses_is_a_clear_error(world: tuple[Served, Sim]) -> None:
    served, _ = world
    status, body = _probe(served, "adm", "cam-wrong", {"seconds": 1})
    assert status == 200 and not body["ok"]
    assert body["error"]["reason"] == GapReason.AUTH_REFUSED
    assert "refused the registered credentials" in body["error"]["detail"]
    assert WRONG not in json.dumps(body)


def test_who_may_probe_and_the_bounds(world: tuple[Served, Sim]) -> None:
    served, _ = world
    assert _probe(served, "viewer", "cam-p", {})[0] == 403
    assert _probe(served, "far", "cam-p", {})[0] == 404
    assert _probe(served, "far", "cam-nowhere", {})[0] == 429  # the same user, within the interval
    for seconds in (0.5, 31, "a lot"):
        assert _probe(served, "sup", "cam-p", {"seconds": seconds})[0] == 422
    assert _probe(served, "sup", "cam-p", {"seconds": 1, "port": 22})[0] == 422


def test_one_probe_of_a_camera_at_a_time(world: tuple[Served, Sim]) -> None:
    served, sim = world
    first: list[int] = []
    cookie = served.login("op2")
    thread = threading.Thread(
        target=lambda: first.append(served.call("POST", "/api/cameras/cam-p/probe", {"seconds": 3}, cookie=cookie)[0])
    )
    thread.start()
    try:
        wait_for(
            lambda: any(c.playing for c in list(sim.cameras["cam-p"].sessions)),
            10,
            interval=0.02,
            what="the first probe's session",
        )
        status, body = _probe(served, "sup", "cam-p", {"seconds": 1})
        assert status == 409 and "being probed already" in body["detail"]
    finally:
        thread.join(20)
    assert first == [200]


def test_probe_bounds_are_in_the_openapi_document(world: tuple[Served, Sim]) -> None:
    served, _ = world
    status, doc, _ = served.call("GET", "/api/openapi.json", cookie=served.login("adm"))
    assert status == 200
    seconds = doc["components"]["schemas"]["ProbeIn"]["properties"]["seconds"]
    assert (seconds["minimum"], seconds["maximum"], seconds["default"]) == (1.0, 30.0, 5.0)
