"""The segmenter, picture by picture: durations from RTP, cuts on keyframes, keyframe waits, pauses and clock steps.

Real H.264 pictures (a clip encoded once by ffmpeg, cached); the callbacks are the segmenter's output ports, kept
in lists here as the recorder would hand them on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from camgrid.media.nal import H264
from camgrid.media.rtp import AccessUnit
from camgrid.sim import clips
from camgrid.storage.segmenter import OpenSegment, Segmenter
from tests.conftest import CLIP_CACHE

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
TICK = 3600  # 90 kHz ticks per picture at 25 fps
FRAME_NS = NS // 25
CLIP = clips.load(clips.encode(clips.ClipSpec(H264, 320, 240, 25, 300, 25, 50, "SEG", 1), CLIP_CACHE), H264)


class Out:
    def __init__(self) -> None:
        self.opened: list[int] = []
        self.closed: list[tuple[int, int, int]] = []  # (start, end, frames)

    def open(self, seg: OpenSegment, init: bytes) -> None:
        self.opened.append(seg.start_ns)

    def append(self, seg: OpenSegment, data: list[bytes | bytearray]) -> None:
        pass

    def close(self, seg: OpenSegment, end_ns: int) -> None:
        self.closed.append((seg.start_ns, end_ns, seg.frames))


@pytest.fixture
def out() -> Out:
    return Out()


def segmenter(out: Out, tmp_path: Path, seconds: float = 2.0) -> Segmenter:
    s = Segmenter(
        "cam",
        tmp_path,
        segment_seconds=seconds,
        fragment_seconds=1.0,
        write_open=out.open,
        write_append=out.append,
        write_close=out.close,
    )
    s.set_codec(H264, CLIP.params)
    return s


def au(i: int, wall: int) -> AccessUnit:
    nals = CLIP.frames[i % len(CLIP.frames)]
    data = b"".join(len(n).to_bytes(4, "big") + n for n in nals)
    return AccessUnit(ts=(1000 + i * TICK) & 0xFFFFFFFF, data=data, key=CLIP.keys[i % len(CLIP.keys)], arrival_ns=wall)


def feed(s: Segmenter, first: int, n: int, wall0: int, *, shift: int = 0) -> None:
    for i in range(first, first + n):
        s.push(au(i, wall0 + (i - first) * FRAME_NS), 1000 + i * TICK + shift, False)


def test_steady_stream_cuts_on_keyframes_and_tiles(out: Out, tmp_path: Path) -> None:
    s = segmenter(out, tmp_path)
    feed(s, 0, 150, T0)  # 6 s, a keyframe every second
    end = s.finish()
    assert out.opened == [T0, T0 + 2 * NS, T0 + 4 * NS]
    assert [(a, b) for a, b, _ in out.closed] == [(T0, T0 + 2 * NS), (T0 + 2 * NS, T0 + 4 * NS), (T0 + 4 * NS, end)]
    assert end == T0 + 150 * FRAME_NS
    assert sum(f for _, _, f in out.closed) == 150


def test_waits_for_a_keyframe(out: Out, tmp_path: Path) -> None:
    s = segmenter(out, tmp_path)
    feed(s, 10, 20, T0)  # starts mid-GOP: pictures 10..24 cannot decode alone
    assert s.dropped_waiting_key == 15
    assert out.opened == [T0 + 15 * FRAME_NS]


def test_a_short_pause_holds_the_last_picture(out: Out, tmp_path: Path) -> None:
    s = segmenter(out, tmp_path, seconds=10)
    feed(s, 0, 30, T0)
    resumed = T0 + 29 * FRAME_NS + FRAME_NS + 1_500_000_000
    feed(s, 30, 20, resumed)  # RTP time went on by one picture; wall time by 1.5 s more
    end = s.finish()
    assert out.opened == [T0] and not s.cut_on_pause
    assert end == resumed + 20 * FRAME_NS, "the held picture lasts until the next one came"


def test_a_long_pause_cuts_the_segment_at_its_own_end(out: Out, tmp_path: Path) -> None:
    s = segmenter(out, tmp_path, seconds=10)
    feed(s, 0, 30, T0)
    resumed = T0 + 30 * FRAME_NS + 2_500_000_000
    s.push(au(30, resumed), 1000 + 30 * TICK, False)
    assert out.closed == [(T0, T0 + 30 * FRAME_NS, 30)], "ends where its last picture ended"
    assert s.cut_on_pause and s.pause_ns == 2_500_000_000
    assert s.seg is None, "picture 30 is no keyframe: it waits for one"
    feed(s, 31, 30, resumed + FRAME_NS)
    assert out.opened == [T0, resumed + 20 * FRAME_NS] and not s.cut_on_pause


def test_a_clock_step_keeps_the_previous_duration(out: Out, tmp_path: Path) -> None:
    s = segmenter(out, tmp_path, seconds=10)
    feed(s, 0, 30, T0)
    # The anchor restarted (jump): the RTP step of 1 s + one picture means nothing.
    s.push(au(30, T0 + 30 * FRAME_NS), 1000 + 30 * TICK + 90_000, True)
    feed(s, 31, 19, T0 + 31 * FRAME_NS, shift=90_000)
    assert s.finish() == T0 + 50 * FRAME_NS


def test_a_new_segment_starts_at_the_last_end_within_the_slew(out: Out, tmp_path: Path) -> None:
    s = segmenter(out, tmp_path)
    feed(s, 0, 25, T0)
    s.finish()
    feed(s, 25, 25, T0 + 25 * FRAME_NS + 5_000_000)  # the anchor slewed 5 ms forward meanwhile
    assert out.opened == [T0, T0 + NS], "no 5 ms hole"
    s.finish()
    feed(s, 50, 25, T0 + 3 * NS)  # a second later: a real hole, which the recorder covers with a gap row
    assert out.opened[-1] == T0 + 3 * NS


def test_an_anchor_pulled_back_small_keeps_every_picture(out: Out, tmp_path: Path) -> None:
    """The anchor pulls back 60 ms (within AHEAD_TOLERANCE_NS): every picture keeps its own 40 ms (shortened
    pictures fall two to a frame slot of a player, which drops one), the lead is left to the anchor's later steps."""
    s = segmenter(out, tmp_path, seconds=60.0)
    durations: list[int] = []
    real_add = s._add

    def spy(a: AccessUnit, dur: int, cto: int = 0) -> None:
        durations.append(dur)
        real_add(a, dur, cto)

    s._add = spy  # type: ignore[method-assign]
    feed(s, 0, 25, T0)
    s.push(au(25, T0 + 25 * FRAME_NS - 60_000_000), 1000 + 25 * TICK, False)  # stamped 60 ms earlier
    feed(s, 26, 24, T0 + 26 * FRAME_NS - 60_000_000)
    s.finish()
    assert min(durations) == TICK, f"a picture was shortened: {sorted(set(durations))}"
    (start, end, frames), *_ = out.closed
    assert frames == 50 and end - start == 50 * FRAME_NS


def test_an_anchor_pulled_back_far_never_leaves_a_segment_ending_in_the_future(out: Out, tmp_path: Path) -> None:
    """The anchor pulls back 130 ms: stored time runs 130 ms ahead of the recorder's clock, and every later segment
    started at the previous end, in the future (the index ended a minute ahead on live555). Pictures in the middle
    of a segment keep their 40 ms (players drop one of two pictures in one frame slot); the segment's last picture
    gives the lead back (all it can: 39 ms), and the recording ends within AHEAD_TOLERANCE_NS of the anchor."""
    s = segmenter(out, tmp_path, seconds=2.0)
    durations: list[int] = []
    real_add = s._add

    def spy(a: AccessUnit, dur: int, cto: int = 0) -> None:
        durations.append(dur)
        real_add(a, dur, cto)

    s._add = spy  # type: ignore[method-assign]
    pull = 130_000_000
    for i in range(150):  # 6 s, a keyframe every second, segments of 2 s
        s.push(au(i, T0 + i * FRAME_NS - (pull if i >= 25 else 0)), 1000 + i * TICK, False)
    end = s.finish()
    assert end is not None and end <= T0 + 150 * FRAME_NS - pull + 100_000_000, "the index ends in the future"
    starts = [a for a, _, _ in out.closed]
    assert starts[1] == T0 + 50 * FRAME_NS - 39_000_000, "the first segment's last picture gave back 39 ms"
    short = [i for i, d in enumerate(durations) if d < TICK]
    assert short == [49], f"only the first segment's last picture gives the lead back: {short}"


def test_live555_two_slices_per_picture_store_each_picture_once_in_real_time(out: Out, tmp_path: Path) -> None:
    """live555 sets the marker after every slice: 60 s of 25 fps with two slices a picture, through the real
    depacketizer and anchor with the injected clock. Each picture is one sample of 40 ms; stored time ends where
    the wall clock is (today's bug: 3,000 samples of 40 ms, stored time twice as fast, the index in the future)."""
    from camgrid.clock import FakeClock
    from camgrid.ingest.timing import Anchor
    from camgrid.media.rtp import Depacketizer
    from tests.media.streams import annexb_aus, encode, live555_packets

    aus = annexb_aus(
        encode(["-preset", "ultrafast", "-bf", "0", "-g", "25", "-x264-params", "slices=2"], 2, CLIP_CACHE)
    )
    assert all(sum(1 for n in a if n[0] & 0x1F in (1, 5)) == 2 for a in aus), "two slices in every picture"
    clock = FakeClock(T0)
    anchor = Anchor()
    dep = Depacketizer(H264)
    frames: list[int] = []
    s = segmenter(out, tmp_path, seconds=10.0)
    s.set_codec(H264, [n for n in aus[0] if n[0] & 0x1F in (7, 8)])
    s._close_cb = lambda seg, end: (out.close(seg, end), frames.append(seg.frames))  # type: ignore[assignment,func-returns-value]
    seq = 0
    pictures = 60 * 25
    for i in range(pictures):
        packets = live555_packets(aus[i % len(aus)], 1000 + i * TICK, seq)
        seq += len(packets)
        for pkt in packets:
            dep.push(pkt)
            for a in dep.ready:
                wall, ext, jump = anchor.place(a.ts, clock.wall_ns())
                a.arrival_ns = wall
                s.push(a, ext, jump)
            dep.ready.clear()
        clock.advance(0.04)
    end = s.finish()
    assert end is not None
    # Every picture once; the last is held when the recording stops and may lack slices that never came: a part
    # of a picture is never stored, so that one is left out.
    assert sum(f for _, _, f in out.closed) == pictures - 1, "every picture stored exactly once"
    assert s.dropped_incomplete == 1
    stored = sum(b - a for a, b, _ in out.closed)
    assert abs(stored - 60 * NS) <= 2 * FRAME_NS, f"stored {stored / NS:.3f} s for 60 s"
    assert end <= clock.wall_ns(), "the index ends in the future"


def test_a_duplicate_timestamp_is_a_new_picture_with_the_last_duration(out: Out, tmp_path: Path) -> None:
    """A camera reusing a timestamp for a whole new picture: never zero long, never pushing stored time ahead."""
    s = segmenter(out, tmp_path, seconds=60.0)
    for i in range(50):
        ts = i if i != 20 else 19  # picture 20 carries picture 19's timestamp; 21 goes on from 21
        s.push(au(i, T0 + ts * FRAME_NS), 1000 + ts * TICK, False)
    end = s.finish()
    assert out.closed[0][2] == 50
    assert end is not None and end <= T0 + 50 * FRAME_NS + 20_000_000


def test_new_parameter_sets_start_a_new_segment_with_a_new_init(tmp_path: Path) -> None:
    """The camera changes resolution mid-stream: the segment ends before the first picture with the new SPS, and
    the next one starts at that keyframe with an init describing it: no picture under an init that is not its."""
    from camgrid.media import fmp4
    from camgrid.media.nal import parse_sps

    other = clips.load(clips.encode(clips.ClipSpec(H264, 640, 360, 25, 300, 25, 50, "SEG2", 2), CLIP_CACHE), H264)
    inits: list[bytes] = []
    out = Out()
    s = segmenter(out, tmp_path, seconds=60.0)
    s._open_cb = lambda seg, init: (out.open(seg, init), inits.append(init))  # type: ignore[assignment,func-returns-value]
    feed(s, 0, 30, T0)
    for i in range(30, 60):  # from picture 30 on the camera sends the 640x360 stream (key at 0, 25, 50)
        nals = other.frames[i - 30]
        data = b"".join(len(n).to_bytes(4, "big") + n for n in nals)
        params = [n for n in nals if n[0] & 0x1F in (7, 8)]
        a = AccessUnit(1000 + i * TICK, data, other.keys[i - 30], params, arrival_ns=T0 + i * FRAME_NS)
        s.push(a, 1000 + i * TICK, False)
    s.finish()
    assert [f for _, _, f in out.closed] == [30, 30] and s.param_cuts == 1
    assert out.closed[0][1] == out.closed[1][0] == T0 + 30 * FRAME_NS, "the two segments tile time"
    sizes = []
    for init in inits:
        sps = [p for p in _init_params(init) if p[0] & 0x1F == 7]
        info = parse_sps(H264, sps[0])
        sizes.append((info.width, info.height))
    assert sizes == [(320, 240), (640, 360)]
    assert fmp4.TIMESCALE == 90_000


def _init_params(init: bytes) -> list[bytes]:
    i = init.index(b"avcC") + 4
    n_sps = init[i + 5] & 0x1F
    j = i + 6
    out = []
    for _ in range(n_sps):
        size = int.from_bytes(init[j : j + 2], "big")
        out.append(init[j + 2 : j + 2 + size])
        j += 2 + size
    return out
