"""Tamper over the API (docs/design/tamper.md), on a real uvicorn: an operator re-takes a camera's reference
(audited first, scoped: a camera outside the user's districts is 404, a viewer 403); a tamper incident's stills go
to users who watch video (JPEG), never to an auditor or an admin without a video role; the camera's health shows
the ``tamper`` condition while the incident is open."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from camgrid.audit.models import AuditEntry
from camgrid.db.engine import unit_of_work
from camgrid.motion import tamper_service as ts
from camgrid.motion.models import TamperReference
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import AuditAction, CameraCondition, TamperKind
from tests.api.served import Served, serve

USERS: dict[str, tuple[str, list[str] | None]] = {
    "op": ("operator", ["D-01"]),
    "far": ("operator", ["D-02"]),
    "viewer": ("viewer", None),
    "aud": ("auditor", None),
    "adm": ("admin", None),
}
JPEG = b"\xff\xd8\xff\xe0" + b"still" * 20 + b"\xff\xd9"


def _camera(cid: str, district: str) -> CameraIn:
    return CameraIn(
        id=cid, name=cid, lat=27.69, lon=85.31, district=district, site="S-1", feeder="F-1", uplink="U-1",
        rtsp_url=f"rtsp://10.0.0.1/{cid}",
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, int]]:
    cams = (_camera("cam-a", "D-01"), _camera("cam-b", "D-02"))
    with serve(tmp_path_factory.mktemp("tamper"), USERS, cams) as served:
        with unit_of_work(served.ctx.factory) as s:
            iid = ts.raise_tamper(
                session=s, camera_id="cam-a", kind=TamperKind.COVERED, now_ns=10**18, after=JPEG, before=JPEG[::-1]
            )
        yield served, iid


def _get(served: Served, user: str, path: str) -> tuple[int, Any]:
    status, body, _ = served.call("GET", path, cookie=served.login(user))
    return status, body


def test_stills_go_to_users_who_watch_video_in_their_districts(world: tuple[Served, int]) -> None:
    served, iid = world
    for user in ("op", "viewer"):
        assert _get(served, user, f"/api/incidents/{iid}/stills/after") == (200, JPEG)
    assert _get(served, "op", f"/api/incidents/{iid}/stills/before") == (200, JPEG[::-1])
    assert _get(served, "far", f"/api/incidents/{iid}/stills/after")[0] == 404  # outside D-02: no such incident
    assert _get(served, "op", f"/api/incidents/{iid + 999}/stills/after")[0] == 404
    for user in ("aud", "adm"):
        assert _get(served, user, f"/api/incidents/{iid}/stills/after")[0] == 403
    assert _get(served, "op", f"/api/incidents/{iid}/stills/during")[0] == 422
    assert _get(served, "op", "/api/incidents/0/stills/after")[0] == 422


def test_the_camera_shows_the_tamper_condition_while_the_incident_is_open(world: tuple[Served, int]) -> None:
    served, _ = world
    status, body = _get(served, "op", "/api/cameras/cam-a")
    assert status == 200, body
    assert body["onvif"]["conditions"] == [CameraCondition.TAMPER]
    assert body["onvif"]["condition_since_ms"][CameraCondition.TAMPER] == 10**18 // 10**6


def test_an_operator_retakes_the_reference_audited_and_scoped(world: tuple[Served, int]) -> None:
    served, _ = world
    path = "/api/cameras/cam-a/tamper/reference"
    assert served.call("POST", path, cookie=served.login("viewer"))[0] == 403
    assert served.call("POST", "/api/cameras/cam-b/tamper/reference", cookie=served.login("op"))[0] == 404
    status, body, _ = served.call("POST", path, cookie=served.login("op"))
    assert status == 200 and body["camera"] == "cam-a" and body["requested_ms"] > 0, body
    with unit_of_work(served.ctx.factory) as s:
        ref = s.get(TamperReference, "cam-a")
        assert ref is not None and ref.retake_ns is not None and ref.retake_ns // 10**6 == body["requested_ms"]
        entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    retakes = [e for e in entries if e["action"] == AuditAction.TAMPER_REFERENCE]
    assert [(e["who"], e["camera"]) for e in retakes] == [("op", "cam-a")]
    assert retakes[0]["details"]["open_incident"] is not None


def test_a_district_operator_sees_the_tamper_incident_of_a_camera_of_theirs(world: tuple[Served, int]) -> None:
    """A tamper incident has no member cameras (it is no outage): its camera decides who sees it."""
    served, iid = world
    status, mine = _get(served, "op", "/api/incidents?open=1")
    assert status == 200 and [(i["id"], i["subject"]) for i in mine] == [(iid, "cam-a")]
    status, theirs = _get(served, "far", "/api/incidents?open=1")
    assert status == 200 and theirs == []
    assert _get(served, "far", f"/api/incidents/{iid}")[0] == 404
