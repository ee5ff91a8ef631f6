"""The simulator's Media2 privacy masks, answered to the real onvif-python client, and really burned into the video:
the RTSP stream a client receives is decoded (PyAV) and the masked polygon checked; ``mask_tamper`` stops the burn
while GetMasks still lists the mask; a model without masks refuses. Design: docs/design/camera-side-masks.md.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import pytest

from camgrid.media.rtp import AccessUnit, Depacketizer, rtp_header
from camgrid.onvif import masks as onvif_masks
from camgrid.onvif.connect import OnvifError, OnvifTarget, connect
from camgrid.privacy.camera_masks import decode_keyframe
from camgrid.privacy.geometry import raster, validate
from camgrid.privacy.verify import check_area, inset
from camgrid.sim.faults import FaultInjector
from camgrid.sim.layout import OnvifTraits, SimCameraSpec, onvif_address
from camgrid.sim.onvif.http import OnvifHttpServer
from tests.sim.wire import Harness

T = TypeVar("T")
RING = [[0.05, 0.55], [0.45, 0.55], [0.45, 0.95], [0.05, 0.95]]
BLACK = (16.0, 128.0, 128.0)


def _spec(camera_id: str, index: int) -> SimCameraSpec:
    return SimCameraSpec(camera_id, index, camera_id, 27.7, 85.3, "d", "s", "f", "u", "h264", "admin", "s3cret", 0.0)


class Sim:
    def __init__(self) -> None:
        self.h = Harness([_spec("cam-0001", 1), _spec("cam-0002", 2)], clip_seconds=2.0)
        self.h.cameras["cam-0002"].onvif = OnvifTraits(masks=False)
        self.onvif = OnvifHttpServer(self.h.sim)
        self.port = self.h.aio.run_until_complete(self.onvif.start(0))
        self.faults = FaultInjector(self.h.sim, None)

    def call(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run a blocking client call on a thread while this thread's event loop serves it."""
        fut: Future[T] = Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        threading.Thread(target=run, daemon=True).start()
        for _ in range(int(timeout / 0.005)):
            if fut.done():
                return fut.result()
            self.h.spin()
            threading.Event().wait(0.005)
        raise AssertionError("the ONVIF call did not finish")

    def client(self, index: int, password: str = "s3cret") -> Any:
        url = f"http://{onvif_address(index)}:{self.port}/onvif/device_service"
        return self.call(lambda: connect(OnvifTarget(url, "admin", password)))

    def close(self) -> None:
        self.h.aio.run_until_complete(self.onvif.close())
        self.h.close()


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.close()


AUTH = "Basic " + base64.b64encode(b"admin:s3cret").decode()


def _play(sim: Sim) -> Any:
    client = sim.h.connect("cam-0001")
    client.request("DESCRIBE", Accept="application/sdp", Authorization=AUTH)
    tr = "RTP/AVP/TCP;unicast;interleaved=0-1"
    client.request("SETUP", client.url + "/trackID=0", Transport=tr, Authorization=AUTH)
    assert client.request("PLAY", Authorization=AUTH).status == 200
    return client


def _keyframes(sim: Sim, seconds: float) -> list[AccessUnit]:
    """Play cam-0001 for ``seconds`` of camera time over RTSP and depacketize what arrived: its keyframes."""
    client = _play(sim)
    sim.h.advance(seconds)
    dep = Depacketizer("h264")
    keys = []
    for p in client.packets():
        dep.push(rtp_header(p.seq, p.ts, p.ssrc, p.marker, p.pt) + p.payload)
        keys += [au for au in dep.ready if au.key]
        dep.ready.clear()
    client.close()
    assert dep.lost == 0 and len(keys) >= seconds - 0.5  # a keyframe a second
    return keys


def _masked(au: AccessUnit) -> bool:
    planes = decode_keyframe("h264", au)
    assert planes is not None
    h, w = planes[0].shape
    return check_area(planes[0], planes[1], planes[2], inset(raster(validate([RING]), w, h)), BLACK).ok


def test_masks_over_media2_are_burned_in_and_tamper_stops_them(sim: Sim) -> None:
    cam = sim.h.cameras["cam-0001"]
    c = sim.client(1)
    vsc = sim.call(lambda: onvif_masks.video_source_token(c))
    opts = sim.call(lambda: onvif_masks.mask_options(c, vsc))
    assert opts is not None and opts.max_masks >= 1 and "Color" in opts.types
    assert sim.call(lambda: onvif_masks.read_masks(c)) == []
    # before any mask: the area shows the scene (the check can fail)
    assert not any(_masked(k) for k in _keyframes(sim, 2.0))

    pts = onvif_masks.to_onvif(RING)
    token = sim.call(lambda: onvif_masks.create_mask(c, vsc, pts, BLACK))
    listed = sim.call(lambda: onvif_masks.read_masks(c))
    assert [m.token for m in listed] == [token]
    assert onvif_masks.mismatch(listed, [pts]) is None
    for _ in range(600):  # burned on the simulator's worker thread, never on its event loop
        if cam.mask_loops is not None:
            break
        threading.Event().wait(0.05)
    assert cam.mask_loops is not None
    keys = _keyframes(sim, 4.0)
    assert len(keys) >= 3 and all(_masked(k) for k in keys)

    # the camera stops masking but still lists the mask
    sim.faults.apply("mask_tamper", "cam-0001")
    assert onvif_masks.mismatch(sim.call(lambda: onvif_masks.read_masks(c)), [pts]) is None
    assert not any(_masked(k) for k in _keyframes(sim, 2.0))
    sim.faults.apply("mask_restore", "cam-0001")
    assert all(_masked(k) for k in _keyframes(sim, 2.0))

    # another client moves it (SetMask): GetMasks no longer matches what camgrid set
    moved = [(x + 0.2, y) for x, y in pts]
    mask = {
        "token": token,
        "ConfigurationToken": vsc,
        "Polygon": {"Point": [{"x": x, "y": y} for x, y in moved]},
        "Type": "Color",
        "Color": {"X": 16, "Y": 128, "Z": 128, "Colorspace": onvif_masks.YCBCR},
        "Enabled": True,
    }
    sim.call(lambda: c.media2().SetMask(Mask=mask))
    assert "not the one camgrid set" in (onvif_masks.mismatch(sim.call(lambda: onvif_masks.read_masks(c)), [pts]) or "")

    # another client deletes it behind camgrid's back
    sim.call(lambda: onvif_masks.delete_mask(c, token))
    assert sim.call(lambda: onvif_masks.read_masks(c)) == []
    assert cam.mask_loops is None


def test_a_running_session_switches_at_a_loop_boundary_without_a_break(sim: Sim) -> None:
    cam = sim.h.cameras["cam-0001"]
    c = sim.client(1)
    vsc = sim.call(lambda: onvif_masks.video_source_token(c))
    client = _play(sim)
    sim.h.advance(1.0)
    sim.call(lambda: onvif_masks.create_mask(c, vsc, onvif_masks.to_onvif(RING), BLACK))
    for _ in range(600):
        if cam.mask_loops is not None:
            break
        threading.Event().wait(0.05)
    sim.h.advance(5.0)
    dep = Depacketizer("h264")
    seqs = [p.seq for p in client.packets()]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))  # sequence numbers continue
    keys = []
    for p in client.packets():
        dep.push(rtp_header(p.seq, p.ts, p.ssrc, p.marker, p.pt) + p.payload)
        keys += [au for au in dep.ready if au.key]
        dep.ready.clear()
    verdicts = [_masked(k) for k in keys]
    assert verdicts[0] is False and verdicts[-1] is True
    first = verdicts.index(True)
    assert all(verdicts[first:])  # once switched, it stays masked


def test_bad_masks_are_refused_and_a_model_without_masks_says_so(sim: Sim) -> None:
    c = sim.client(1)
    vsc = sim.call(lambda: onvif_masks.video_source_token(c))
    with pytest.raises(OnvifError):
        sim.call(lambda: onvif_masks.create_mask(c, vsc, [(0.0, 0.0), (0.5, 0.5)], BLACK))  # two points
    with pytest.raises(OnvifError):
        sim.call(lambda: onvif_masks.create_mask(c, vsc, [(0.0, 0.0), (5.0, 0.5), (0.0, 0.5)], BLACK))
    with pytest.raises(OnvifError):
        sim.call(lambda: onvif_masks.create_mask(c, vsc, [(0.0, 0.0)] * 40, BLACK))  # too many points
    assert sim.call(lambda: onvif_masks.read_masks(c)) == []
    plain = sim.client(2)
    assert sim.call(lambda: onvif_masks.mask_options(plain, vsc)) is None
    with pytest.raises(OnvifError):
        sim.call(lambda: onvif_masks.read_masks(plain))
    with pytest.raises(OnvifError):  # a wrong password is refused
        bad = sim.client(1, password="nope")
        sim.call(lambda: onvif_masks.read_masks(bad))
