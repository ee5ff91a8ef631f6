"""``POST /api/cameras/discover``, ``GET /api/cameras/topology`` and ``POST /api/cameras/import`` (docs/design/onvif.md,
"Discovery and set-up") on a real uvicorn against the simulator's WS-Discovery responder and ONVIF services: admins
only; the discovery is audited (``camera.discover``) without the password, never answers one, is bounded (422) and
runs one at a time (409); completed rows import atomically and the cameras then show their ONVIF address; a second
discovery names them as known."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from camgrid.api import routes_discover
from camgrid.audit.models import AuditEntry
from camgrid.db.engine import unit_of_work
from camgrid.sim.layout import onvif_address
from camgrid.vocabulary import AuditAction
from tests.api.served import Served, serve
from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec

CAMERA_PW = "Api-disc0ver!pw"
USERS: dict[str, tuple[str, list[str] | None]] = {
    "adm": ("admin", None),
    "adm-far": ("admin", ["D-09"]),
    "op": ("operator", None),
    "sup": ("supervisor", None),
    "viewer": ("viewer", None),
    "aud": ("auditor", None),
}
World = tuple[Served, OnvifSim]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    specs = [spec(i, password=CAMERA_PW) for i in (1, 2, 3)]
    with running_onvif_sim(specs, discovery=True) as sim, serve(tmp_path_factory.mktemp("disc"), USERS) as served:
        yield served, sim


def body(sim: OnvifSim, *indexes: int, **extra: object) -> dict[str, object]:
    return {
        "addresses": [onvif_address(i) for i in indexes],
        "port": sim.discovery_port,
        "timeout_s": 2,
        "call_timeout_s": 3,
        "username": USER,
        "password": CAMERA_PW,
        **extra,
    }


def discover(served: Served, user: str, payload: object) -> tuple[int, object]:
    status, out, _ = served.call("POST", "/api/cameras/discover", payload, cookie=served.login(user))
    return status, out


def test_only_admins_discover_see_the_topology_and_import(world: World) -> None:
    served, sim = world
    for user in ("op", "sup", "viewer", "aud"):
        cookie = served.login(user)
        assert served.call("POST", "/api/cameras/discover", body(sim, 1), cookie=cookie)[0] == 403
        assert served.call("GET", "/api/cameras/topology", cookie=cookie)[0] == 403
        assert served.call("POST", "/api/cameras/import", {"rows": []}, cookie=cookie)[0] == 403


@pytest.mark.parametrize(
    "change",
    [
        {"addresses": []},
        {"multicast": True},
        {"addresses": [f"10.0.{i}.1" for i in range(65)]},
        {"addresses": ["10.0.0.0/19"]},
        {"addresses": ["camera.local"]},
        {"timeout_s": 60},
        {"call_timeout_s": 0},
        {"password": "p" * 201},
        {"extra": 1},
    ],
)
def test_a_discovery_out_of_bounds_is_refused(world: World, change: dict[str, object]) -> None:
    served, sim = world
    status, out = discover(served, "adm", {**body(sim, 1), **change})
    assert status == 422, out
    assert CAMERA_PW not in json.dumps(out)


def test_one_discovery_at_a_time(world: World) -> None:
    served, sim = world
    assert routes_discover._RUNNING.acquire(timeout=30)  # as a discovery in progress holds it
    try:
        status, out = discover(served, "adm", body(sim, 1))
    finally:
        routes_discover._RUNNING.release()
    assert status == 409 and "running" in json.dumps(out)


def test_discover_complete_import_and_discover_again(world: World) -> None:
    served, sim = world
    status, out = discover(served, "adm", body(sim, 1, 2))
    assert status == 200, out
    assert isinstance(out, dict)
    text = json.dumps(out)
    assert CAMERA_PW not in text and '"password"' not in text
    assert (out["probed"], out["found"], out["known"], out["failed"]) == (2, 2, [], [])
    proposed = sorted(out["proposed"], key=lambda p: p["onvif_url"])
    assert [p["onvif_url"] for p in proposed] == [sim.device_url(f"cam-{i:04d}") for i in (1, 2)]
    first = proposed[0]
    assert first["maker"] == "camgrid-sim" and first["masks"] is True and first["profile_g"] is True
    assert first["rtsp_url"].endswith("/cam-0001") and first["sub_rtsp_url"].endswith("/cam-0001/sub")
    assert abs(first["clock_offset_ms"]) < 1500 and len(first["streams"]) == 2
    assert proposed[1]["masks"] is False  # the second model has no Media2 masks
    with unit_of_work(served.ctx.factory) as s:
        entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    mine = [e for e in entries if e["action"] == AuditAction.CAMERA_DISCOVER]
    assert mine and mine[-1]["who"] == "adm" and mine[-1]["details"]["address_count"] == 2
    assert CAMERA_PW not in json.dumps(entries)

    # the admin completes the rows (as the web panel does: the password typed for the discovery goes with them)
    rows = [
        {
            "id": p["id"], "name": p["name"], "rtsp_url": p["rtsp_url"], "sub_rtsp_url": p["sub_rtsp_url"],
            "onvif_url": p["onvif_url"], "username": p["username"], "password": CAMERA_PW, "lat": 27.7, "lon": 85.3,
            "district": "D-01", "site": "S-NEW", "feeder": "F-01", "uplink": "U-01",
        }
        for p in proposed
    ]  # fmt: skip
    cookie = served.login("adm")
    far = served.call("POST", "/api/cameras/import", {"rows": rows}, cookie=served.login("adm-far"))
    assert far[0] == 404  # D-01 is not among that admin's districts: nothing imported
    twice = served.call("POST", "/api/cameras/import", {"rows": rows + rows[:1]}, cookie=cookie)
    assert twice[0] == 422
    status, summary, _ = served.call("POST", "/api/cameras/import", {"rows": rows}, cookie=cookie)
    assert status == 200 and summary["added"] == 2, summary
    assert CAMERA_PW not in json.dumps(summary)
    status, cam, _ = served.call("GET", f"/api/cameras/{first['id']}", cookie=cookie)
    assert status == 200 and cam["onvif_url"] == first["onvif_url"]
    status, topo, _ = served.call("GET", "/api/cameras/topology", cookie=cookie)
    assert status == 200 and "S-NEW" in [s["id"] for s in topo["sites"]] and topo["districts"][0]["id"] == "D-01"

    status, again = discover(served, "adm", body(sim, 1, 2, 3))
    assert status == 200 and isinstance(again, dict)
    assert sorted(k["known_as"] for k in again["known"]) == sorted(r["id"] for r in rows)
    assert [p["onvif_url"] for p in again["proposed"]] == [sim.device_url("cam-0003")]
