"""H.265 → H.264 for viewers (live/transcode.py through the hub): shared per stream, bounded, stopped with its last
viewer, and H.264 out with keyframes where the source has them. Real H.265 pictures (libx265 through PyAV)."""

from __future__ import annotations

import asyncio
import itertools
import json
import struct
import time
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
import pytest

from camgrid.live.hub import AS_H264, LiveHub, Message
from camgrid.media.nal import H265, is_parameter_set, nal_type, split_annexb
from camgrid.media.rtp import AccessUnit

STEP = 3600
GOP = 10


def h265_pictures(n: int = 2 * GOP) -> list[AccessUnit]:
    enc = av.CodecContext.create("libx265", "w")
    enc.width, enc.height, enc.pix_fmt = 160, 96, "yuv420p"
    enc.time_base = Fraction(1, 90_000)
    enc.framerate = Fraction(25, 1)
    enc.options = {"preset": "ultrafast", "x265-params": f"keyint={GOP}:min-keyint={GOP}:bframes=0:log-level=error"}
    out: list[AccessUnit] = []

    def take(packets: list[av.Packet]) -> None:
        for pkt in packets:
            nals = split_annexb(bytes(pkt))
            params = [x for x in nals if is_parameter_set(H265, nal_type(H265, x))]
            data = b"".join(struct.pack(">I", len(x)) + x for x in nals)
            ts = len(out) * STEP
            out.append(AccessUnit(ts, data, bool(pkt.is_keyframe), params, arrival_ns=time.time_ns()))

    for i in range(n):
        img = np.full((96, 160, 3), (i * 12) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i * STEP
        take(enc.encode(frame))
    take(enc.encode(None))
    return out


@pytest.fixture(scope="module")
def pictures() -> list[AccessUnit]:
    return h265_pictures()


class Rig:
    def __init__(self, max_transcodes: int = 4) -> None:
        self.loop = asyncio.new_event_loop()
        self.hub = LiveHub(self.loop, codec_of=lambda key: H265, max_transcodes=max_transcodes)
        self.got: dict[str, list[Message]] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def join(self, name: str, key: str) -> None:
        out = self.got.setdefault(name, [])

        async def collect() -> None:
            async for m in self.hub.watch(key):
                out.append(m)

        self.tasks[name] = self.loop.create_task(collect())
        self.settle()

    def leave(self, name: str) -> None:
        self.tasks.pop(name).cancel()
        self.settle()

    def settle(self, s: float = 0.01) -> None:
        self.loop.run_until_complete(asyncio.sleep(s))

    def until(self, cond: object, timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while not cond():  # type: ignore[operator]
            assert time.monotonic() < end, "timed out"
            self.settle(0.05)


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    for name in list(r.tasks):
        r.leave(name)
    r.loop.close()


def texts(msgs: list[Message]) -> list[dict[str, object]]:
    return [json.loads(m) for m in msgs if isinstance(m, str)]


def test_two_viewers_share_one_transcode_that_stops_when_both_leave(rig: Rig, pictures: list[AccessUnit]) -> None:
    key = rig.hub.h264_key("cam")
    assert key == "cam" + AS_H264
    rig.join("a", key)
    rig.join("b", key)
    assert [(t["key"], t["viewers"]) for t in rig.hub.transcodes()] == [(key, 2)]
    assert "cam" in rig.hub.watched  # the source is tapped for the transcode, though no one watches it natively
    for i, au in enumerate(pictures):
        rig.hub.tap("cam", au, i * STEP, False)
    rig.until(lambda: all(sum(isinstance(m, bytes) for m in rig.got[n]) > len(pictures) for n in "ab"))
    for n in "ab":
        codec = texts(rig.got[n])[0]
        assert codec["type"] == "codec" and codec["codec"] == "h264" and codec["path"] == "h264-transcode"
        assert "avc1." in str(codec["mime"])
    assert rig.hub.transcodes_started == 1
    rig.leave("a")
    assert rig.hub.transcodes()[0]["viewers"] == 1
    rig.leave("b")
    assert rig.hub.transcodes() == [] and "cam" not in rig.hub.watched


def test_keyframes_out_where_the_source_has_them(rig: Rig, pictures: list[AccessUnit]) -> None:
    out: list[AccessUnit] = []
    from camgrid.live.transcode import Transcoder

    tc = Transcoder("cam#h264", lambda au, ext, jump: out.append(au))
    params = pictures[0].params
    for i, au in enumerate(pictures):
        tc.feed(H265, au, i * STEP, False, params)
    end = time.monotonic() + 20
    while len(out) < len(pictures) and time.monotonic() < end:
        time.sleep(0.02)
    tc.stop()
    assert [au.key for au in out] == [au.key for au in pictures]
    assert out[0].params  # SPS and PPS with every keyframe (a viewer joining there gets an init)


def test_beyond_the_limit_a_viewer_is_told_not_left_black(pictures: list[AccessUnit]) -> None:
    rig = Rig(max_transcodes=1)
    try:
        rig.join("a", "one" + AS_H264)
        rig.join("b", "two" + AS_H264)
        assert texts(rig.got["b"]) == [{"type": "transcode_limit", "limit": 1}]
        assert "b" in rig.tasks and rig.tasks["b"].done()
        assert [t["key"] for t in rig.hub.transcodes()] == ["one" + AS_H264]
    finally:
        for name in list(rig.tasks):
            rig.leave(name)
        rig.loop.close()


def test_a_transcode_behind_skips_to_the_next_keyframe(pictures: list[AccessUnit]) -> None:
    """A slow machine: pictures that waited too long are dropped up to a keyframe, so viewers never drift late."""
    from camgrid.live.transcode import Transcoder

    out: list[AccessUnit] = []

    def slow(au: AccessUnit, ext: int, jump: bool) -> None:
        out.append(au)
        time.sleep(0.05)

    tc = Transcoder("cam#h264", slow, max_lag_s=0.12)
    for i, au in enumerate(pictures):
        tc.feed(H265, au, i * STEP, False, pictures[0].params)
    end = time.monotonic() + 20
    while tc.frames_in + tc.dropped < len(pictures) and time.monotonic() < end:
        time.sleep(0.02)
    tc.stop()
    assert tc.dropped > 0 and 0 < len(out) < len(pictures)
    assert out[0].key
    for a, b in itertools.pairwise(out):
        if b.ts - a.ts > STEP:
            assert b.key, "after a skip the viewers start again at a keyframe"


def test_an_h264_camera_is_never_transcoded_even_before_its_substream_spoke() -> None:
    """A wall of H.264 cameras in a browser without H.265 must not take every transcode slot (codec unknown yet)."""
    codecs = {"cam": "h264", "cam#sub": "", "hevc": "h265", "hevc#sub": ""}
    hub = LiveHub(asyncio.new_event_loop(), codec_of=lambda key: codecs.get(key, ""))
    assert hub.h264_key("cam") == "cam" and hub.h264_key("cam#sub") == "cam#sub"
    assert hub.h264_key("hevc") == "hevc" + AS_H264 and hub.h264_key("hevc#sub") == "hevc#sub" + AS_H264
    assert hub.h264_key("unknown") == "unknown" + AS_H264  # nothing known: the twin passes H.264 through
    hub.loop.close()
