"""Motion search as a service and over HTTP (docs/design/motion-search.md, "Motion search"): the audit entry is
written first with who, camera, range and region (and the search is refused, nothing read, when it cannot be), the
camera's masks in force are always taken out of the region, out of scope is 404 as unknown, bad bounds are 422.

World: tests/access/world.py (cam-a in D-01 and cam-b in D-02, each masked in its top-right quarter); cam-a gets
the scene of tests/motion/media.py recorded at T1."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.auditing import AuditWriteError
from camgrid.db.engine import unit_of_work
from camgrid.motion import service as motion
from camgrid.motion.search import SearchError
from camgrid.registry.service import CameraNotFound
from camgrid.storage.models import Segment
from camgrid.vocabulary import AuditAction
from tests.access.world import OP, SUP_D2, T0, Refusing, World
from tests.api.test_api_services import MS, _as, app  # noqa: F401  (the fixture)
from tests.motion import media as scene
from tests.motion.test_search import Series

NS = scene.NS
T1 = T0 + 100 * NS  # after the world's own ten seconds of cam-a
END = T1 + scene.SECONDS * NS


def _record(w: World) -> None:
    for path, a, b, size in scene.write_recording(w.home / "recordings" / "cam-a" / "motion", T1):
        with unit_of_work(w.factory) as s:
            s.add(Segment(camera_id="cam-a", start_ns=a, end_ns=b, path=str(path), bytes=size, codec="h264",
                          status="complete"))  # fmt: skip


def _spans(hits: list[Any], key: str = "ns") -> list[tuple[float, float]]:
    if key == "ns":
        return [((h.start_ns - T1) / NS, (h.end_ns - T1) / NS) for h in hits]
    return [((h["start_ms"] - T1 // MS) / 1000, (h["end_ms"] - T1 // MS) / 1000) for h in hits]


def _meets(spans: list[tuple[float, float]], a: float, b: float) -> bool:
    return any(s < b and e > a for s, e in spans)


class Spy:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, segment: Segment, scratch: Path) -> Path:
        self.calls += 1
        return Path(segment.path)


def test_the_entry_is_written_first_and_the_masks_in_force_are_never_searched(app: tuple[World, TestClient]) -> None:  # noqa: F811
    w, _ = app
    _record(w)
    start = w.log.size
    spy = Spy()
    with unit_of_work(w.factory) as s:
        result = motion.search_motion(
            session=s, audit=w.log, actor=OP, store=None, camera_id="cam-a", region=scene.WHOLE, start_ns=T1,
            end_ns=END, sources=spy,
        )  # fmt: skip
    entry = json.loads(w.log.entry_data(start))
    assert w.log.size == start + 1 and result.audit_entry == start
    assert (entry["who"], entry["action"], entry["camera"]) == ("op", AuditAction.MOTION_SEARCH, "cam-a")
    assert (entry["t_from_ns"], entry["t_to_ns"]) == (T1, END)
    assert entry["details"]["region"] == [[0, 0], [1, 0], [1, 1], [0, 1]] and entry["details"]["masked"] == 1
    spans = _spans(result.outcome.hits)
    assert _meets(spans, *scene.MOVES_TL) and _meets(spans, *scene.FLASH_BL)
    assert not _meets(spans, scene.MOVES_MASKED[0] + 0.5, scene.MOVES_MASKED[1] - 0.5), "under cam-a's mask"
    assert result.masked and spy.calls == 3 and result.narrowing.spans is None


def test_a_search_is_refused_when_its_entry_cannot_be_written(app: tuple[World, TestClient]) -> None:  # noqa: F811
    w, _ = app
    _record(w)
    spy = Spy()
    with unit_of_work(w.factory) as s, pytest.raises(AuditWriteError):
        motion.search_motion(
            session=s, audit=Refusing(), actor=OP, store=None, camera_id="cam-a", region=scene.WHOLE, start_ns=T1,
            end_ns=END, sources=spy,
        )  # fmt: skip
    assert spy.calls == 0, "no recording is read before the entry is written"


def test_scope_and_bounds_are_checked_before_anything_is_written(app: tuple[World, TestClient]) -> None:  # noqa: F811
    w, _ = app
    start = w.log.size
    kw: dict[str, Any] = {"session": None, "audit": w.log, "store": None, "region": scene.WHOLE}
    with unit_of_work(w.factory) as s:
        kw["session"] = s
        with pytest.raises(CameraNotFound, match="no camera 'cam-a'"):
            motion.search_motion(**kw, actor=SUP_D2, camera_id="cam-a", start_ns=T1, end_ns=END)
        with pytest.raises(SearchError, match="24 hours"):
            motion.search_motion(**kw, actor=OP, camera_id="cam-a", start_ns=T1, end_ns=T1 + 25 * 3600 * NS)
        with pytest.raises(SearchError, match="24 hours"):
            motion.search_motion(**kw, actor=OP, camera_id="cam-a", start_ns=END, end_ns=T1)
        with pytest.raises(SearchError, match="privacy masks"):
            motion.search_motion(
                **{**kw, "region": [0.6, 0.1, 0.9, 0.4]}, actor=OP, camera_id="cam-a", start_ns=T1, end_ns=END
            )
    assert w.log.size == start


def test_over_http_hits_come_with_thumbnails_and_refusals_answer_as_elsewhere(app: tuple[World, TestClient]) -> None:  # noqa: F811
    w, client = app
    _record(w)
    url = "/api/cameras/cam-a/motion-search"
    body = {"from_ms": T1 // MS, "to_ms": END // MS, "region": scene.REGION_TL}
    r = _as(client, "op").post(url, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert _meets(_spans(out["hits"], "ms"), *scene.MOVES_TL) and not _meets(_spans(out["hits"], "ms"), 11, 30)
    assert out["keyframes"] == scene.SECONDS and out["narrowed"] is False and out["masked"] is True
    thumb = out["hits"][0]["thumb"]
    assert thumb.startswith("data:image/jpeg;base64,") and base64.b64decode(thumb.split(",", 1)[1])[:2] == b"\xff\xd8"
    assert _as(client, "sup2").post(url, json=body).status_code == 404, "cam-a is in D-01"
    assert client.post("/api/cameras/no-such/motion-search", json=body).status_code == 404
    client = _as(client, "op")
    for bad in (
        {**body, "to_ms": body["from_ms"] + 25 * 3_600_000},
        {**body, "to_ms": body["from_ms"] - 1},
        {**body, "region": [[0, 0], [1.5, 0], [0, 1]]},
        {**body, "region": [[0, 0], [1, 0]]},
        {**body, "region": [[0, 0], [1, 1], [1, 0], [0, 1]]},
        {**body, "region": [[i / 100, (i % 2) / 100] for i in range(65)]},
        {**body, "region": [[0.6, 0.1], [0.9, 0.1], [0.9, 0.4], [0.6, 0.4]]},  # all under the mask
    ):
        r = client.post(url, json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert _as(client, "viewer").post(url, json=body).status_code == 403  # a viewer does not search recordings
    client = _as(client, "op")  # signed in while the log still writes (a login is audited too)
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    ctx.audit, log = Refusing(), ctx.audit
    try:
        r = client.post(url, json=body)
    finally:
        ctx.audit = log
    assert r.status_code == 503 and "audit log" in r.json()["detail"], r.text


class Store:
    """The activity store as the service reads it: levels for T1's seconds, or a failure."""

    def __init__(self, levels: bytes | None) -> None:
        self.levels = levels

    def read(self, *, camera_id: str, start_s: int, end_s: int) -> Series:
        if self.levels is None:
            raise OSError("injected: the activity file is damaged")
        assert camera_id == "cam-a" and start_s == T1 // NS
        return Series(start_s, self.levels[: end_s - start_s])


def test_activity_data_narrows_the_search_and_unreadable_data_narrows_nothing(app: tuple[World, TestClient]) -> None:  # noqa: F811
    w, _ = app
    _record(w)
    levels = bytearray([65] * scene.SECONDS)
    levels[5:8] = bytes([140] * 3)  # the box in the top-left quarter (4-9 s)
    for store, keyframes in ((Store(bytes(levels)), range(2, 12)), (Store(None), range(30, 31))):
        with unit_of_work(w.factory) as s:
            result = motion.search_motion(
                session=s, audit=w.log, actor=OP, store=store, camera_id="cam-a", region=scene.REGION_TL,
                start_ns=T1, end_ns=END,
            )  # fmt: skip
        assert _meets(_spans(result.outcome.hits), *scene.MOVES_TL)
        assert result.outcome.keyframes in keyframes, result.outcome.keyframes
        assert (result.narrowing.spans is None) == (store.levels is None)
