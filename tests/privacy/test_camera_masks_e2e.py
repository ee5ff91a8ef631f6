"""Camera-side masks end to end (docs/design/camera-side-masks.md): the simulated city (RTSP and ONVIF), camgrid's
single-role runtime, the real onvif-python client and PyAV decode.

cam-0001's model holds Media2 masks: camgrid sets the mask on the camera, checks its pictures, and stores its
stream as sent (every stored picture is one of the camera's masked pictures, byte for byte). ``mask_tamper``: the
camera stops burning the mask in (GetMasks still lists it); from the first keyframe checked after that, the recorder
masks again (decoded and checked), a ``mask_unverified`` camera incident opens and the failure is audited. An admin
re-arms (audited), a fresh check passes, and then someone deletes the mask on the camera behind camgrid's back: the
GetMasks poll fails it again. cam-0002's model has no Media2 masks: the recorder masks it, as before.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.onvif import masks as onvif_masks
from camgrid.onvif.connect import OnvifTarget, connect
from camgrid.privacy import camera_mask_service as cms
from camgrid.privacy import service as privacy
from camgrid.privacy.camera_masks import BLACK
from camgrid.privacy.geometry import raster, validate
from camgrid.privacy.verify import check_area, inset
from camgrid.runtime import build
from camgrid.sim import layout, sendloop
from camgrid.sim.masked_clips import SimMask, burn
from camgrid.sim.service import prepare
from camgrid.vocabulary import AuditAction, MaskMode, ProcessRole
from tests.conftest import CLIP_CACHE, City, wait_for
from tests.interop.pictures import recorded_pictures
from tests.seeding import SEED, seed_log

RING = [[0.05, 0.55], [0.45, 0.55], [0.45, 0.95], [0.05, 0.95]]
W, H, FPS, GOP_S = 320, 180, 25, 1.0
ENV = {
    "CAMGRID_SIM__WIDTH": str(W),
    "CAMGRID_SIM__HEIGHT": str(H),
    "CAMGRID_SIM__BITRATE_KBPS": "400",
    "CAMGRID_SIM__GOP_SECONDS": str(GOP_S),
    "CAMGRID_SIM__ONVIF_PORT": "0",
    "CAMGRID_SIM__DISCOVERY_PORT": "0",
    "CAMGRID_RECORDER__SEGMENT_SECONDS": "2",
    "CAMGRID_PRIVACY__VERIFY_INTERVAL_S": "0.5",  # every keyframe (one a second) is checked
    "CAMGRID_PRIVACY__CAMERA_MASK_POLL_S": "1",
}


def _digests(city: City) -> tuple[set[str], set[str]]:
    """The digests of cam-0001's pictures as the camera sends them: with the mask burned in, and without."""
    specs = [s for s in layout.read_registry(city.registry) if s.id == "cam-0001"]
    cam = prepare(
        specs,
        cache_dir=CLIP_CACHE,
        width=W,
        height=H,
        fps=FPS,
        bitrate_kbps=400,
        gop_seconds=GOP_S,
        clip_seconds=4,
    )["cam-0001"]
    masked = burn(cam.clip, [SimMask("m", "v", onvif_masks.to_onvif(RING), BLACK)], FPS)
    return (
        {sendloop.picture_digest("h264", au) for au in masked.frames},
        {sendloop.picture_digest("h264", au) for au in cam.clip.frames},
    )


def _stored(city: City, camera: str) -> list[tuple[int, Path]]:
    return [(int(s[1]), Path(s[3])) for s in city.segments(camera)]


def _classes(paths: list[Path], masked: set[str], plain: set[str]) -> str:
    """One letter per stored picture: C the camera's own masked picture, P the camera's unmasked one, R re-encoded
    by the recorder."""
    return "".join("C" if p.digest in masked else "P" if p.digest in plain else "R" for p in recorded_pictures(paths))


def _area_masked(path: Path) -> list[bool]:
    out = []
    with av.open(str(path)) as box:
        for frame in box.decode(video=0):
            yuv = frame.to_ndarray(format="yuv420p")
            h, w = frame.height, frame.width
            y, u, v = yuv[:h], yuv[h : h + h // 4].reshape(h // 2, w // 2), yuv[h + h // 4 :].reshape(h // 2, w // 2)
            area = inset(raster(validate([RING]), w, h))
            out.append(check_area(np.ascontiguousarray(y), u, v, area, BLACK).ok)
    return out


def _state(city: City, camera: str) -> Any:
    rows = city.db("select mode, verified_ns, failed_ns, reason from camera_side_masks where camera_id = :c", c=camera)
    return rows[0] if rows else None


def test_camera_side_masks_verified_tampered_rearmed_and_changed_behind_our_back(city_factory: Any) -> None:
    city: City = city_factory(2, h265_every=0, extra_env=ENV)
    settings = load_settings(city.home, {k: v for k, v in city.env.items() if k.startswith("CAMGRID_")})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    audit = seed_log(engine, settings.home)
    for cam in ("cam-0001", "cam-0002"):
        with unit_of_work(factory) as session:  # one transaction each: the audit log writes on its own connection
            privacy.set_mask(
                session=session, audit=audit, actor=SEED, camera_id=cam, polygons=[RING], now_ns=time.time_ns()
            )
    masked, plain = _digests(city)
    rt = build(settings, role=ProcessRole.SINGLE, engine=engine, factory=factory, clock=SystemClock(), api=False)
    assert rt.camera_masks is not None
    try:
        rt.start()
        wait_for(lambda: (s := _state(city, "cam-0001")) and s[1], 60, what="cam-0001's own mask verified")
        wait_for(lambda: (s := _state(city, "cam-0002")) and s[0] == MaskMode.RECORDER, 30, what="cam-0002 on recorder")
        assert "no Media2 masks" in _state(city, "cam-0002")[3]
        verified = int(_state(city, "cam-0001")[1])
        wait_for(lambda: city.recording_since("cam-0001", verified + 3 * 10**9), 30, what="segments after verification")

        # the camera stops burning its mask in: the recorder masks again within one keyframe interval
        tamper = time.time_ns()
        city.fault("mask_tamper", "cam-0001")
        wait_for(lambda: _state(city, "cam-0001")[0] == MaskMode.CAMERA_FAILED, 30, what="the check failing")
        failed = int(_state(city, "cam-0001")[2])
        # the simulated camera switches at its next loop boundary (4 s), the next keyframe (1 s) is checked
        assert failed - tamper < 4 * 10**9 + round(GOP_S * 10**9) + 5 * 10**9  # (slack for a busy machine)
        assert "polygon 1" in _state(city, "cam-0001")[3]
        wait_for(lambda: city.recording_since("cam-0001", failed + 3 * 10**9), 30, what="segments after the failure")
        incidents = city.db("select kind, subject, reason, resolved_ns from incidents where subject = 'cam-0001'")
        assert [(i[0], i[1], i[3]) for i in incidents] == [("camera", "cam-0001", None)]
        assert incidents[0][2].startswith("mask_unverified")
        actions = [r[0] for r in city.db("select action from audit_entries where camera = 'cam-0001' order by idx")]
        assert actions.count(AuditAction.MASK_CAMERA_SET) == 1 and actions[-1] == AuditAction.MASK_CAMERA_FAILED
        who = city.db("select who from audit_entries where action = :a", a=AuditAction.MASK_CAMERA_FAILED)
        assert who == [("camgrid",)]

        # re-armed by an admin, the camera masks again: a fresh check passes
        city.fault("mask_restore", "cam-0001")
        with unit_of_work(factory) as session:
            cms.rearm_camera_masks(
                session=session, audit=audit, actor=SEED, camera_id="cam-0001", now_ns=time.time_ns()
            )
        rt.camera_masks.rearmed("cam-0001")
        wait_for(
            lambda: (s := _state(city, "cam-0001")) and s[0] == MaskMode.CAMERA and s[1], 60, what="verified again"
        )
        assert city.db("select resolved_ns from incidents where subject = 'cam-0001'")[0][0] is not None

        # someone deletes the mask on the camera behind camgrid's back: the GetMasks poll fails it
        url = city.db("select onvif_url from cameras where id = 'cam-0001'")[0][0]
        spec = next(s for s in layout.read_registry(city.registry) if s.id == "cam-0001")
        other = connect(OnvifTarget(url, spec.username, spec.password))
        for m in onvif_masks.read_masks(other):
            onvif_masks.delete_mask(other, m.token)
        wait_for(lambda: _state(city, "cam-0001")[0] == MaskMode.CAMERA_FAILED, 30, what="the GetMasks check failing")
        assert "GetMasks" in _state(city, "cam-0001")[3]
        assert len(city.db("select id from incidents where subject = 'cam-0001' and resolved_ns is null")) == 1
        behind = int(_state(city, "cam-0001")[2])
        wait_for(lambda: city.recording_since("cam-0001", behind + 3 * 10**9), 30, what="segments after that")
    finally:
        rt.stop()

    segs = _stored(city, "cam-0001")
    story = _classes([p for t, p in segs if t < failed + 3 * 10**9], masked, plain)
    # until the first check passes the recorder masks (R); then every stored picture is the camera's own, byte for
    # byte (C); after the tamper the camera's unmasked pictures (P) for at most a loop boundary and one GOP (here:
    # none, every keyframe is checked), then the recorder's again
    assert re.fullmatch(rf"R*C+P{{0,{round(2 * FPS * GOP_S)}}}R+", story), story
    assert story.count("C") >= 3 * FPS
    for t, p in segs:
        if failed + 10**9 <= t < failed + 3 * 10**9:
            assert all(_area_masked(p)), p  # the recorder's pictures: the area really masked
    # the camera without Media2 masks: masked by the recorder throughout, never its own pictures
    other_segs = [p for _, p in _stored(city, "cam-0002")]
    assert other_segs and all(all(_area_masked(p)) for p in other_segs[:3])
    engine.dispose()
