"""The ONVIF replay session (ingest/replay.py) against a real RTSP replay server (tests/ingest/replay_server.py):
it asks for the replay as the ONVIF Streaming Specification says, times pictures from the extension, ends at the
range's end or the camera's BYE, reads no faster than allowed, and cuts off garbage and endless replays."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from camgrid.clock import SystemClock
from camgrid.ingest.replay import ReplayError, ReplayOutcome, ReplayPicture, clock_range, replay
from camgrid.media.nal import H264
from camgrid.sim import clips
from tests.conftest import CLIP_CACHE
from tests.ingest.replay_server import PERIOD_NS, Card, ReplayServer

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
OFFSET = -2 * NS  # the camera's clock is 2 s behind ours
CLIP = clips.load(clips.encode(clips.ClipSpec(H264, 320, 240, 25, 300, 25, 50, "REC", 1), CLIP_CACHE), H264)


@pytest.fixture
def make_server() -> Iterator[object]:
    servers: list[ReplayServer] = []

    def make(**kw: object) -> ReplayServer:
        srv = ReplayServer(Card(CLIP.frames, CLIP.keys, CLIP.params, T0 + OFFSET, 125), **kw)  # type: ignore[arg-type]
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()


def play(srv: ReplayServer, start: int, end: int, **kw: object) -> tuple[ReplayOutcome, list[ReplayPicture]]:
    got: list[ReplayPicture] = []
    args: dict[str, object] = {
        "url": srv.url,
        "username": "",
        "password": "",
        "start_ns": start + OFFSET,
        "end_ns": end + OFFSET,
        "clock_offset_ns": OFFSET,
        "on_picture": got.append,
        "on_stream": lambda sdp: None,
        "max_bytes_per_s": 1e7,
        "stop": threading.Event(),
        "clock": SystemClock(),
        "idle_timeout_s": 5.0,
    }
    args.update(kw)
    return replay(**args), got  # type: ignore[arg-type]


def test_clock_range_is_iso_basic_with_milliseconds() -> None:
    assert clock_range(T0 + 1_234_567_890, T0 + 61 * NS) == "clock=20231114T221321.234Z-20231114T221421.000Z"


def test_pictures_timed_by_the_extension_until_the_range_end(make_server) -> None:  # type: ignore[no-untyped-def]
    srv = make_server()
    out, got = play(srv, T0 + NS, T0 + 3 * NS)
    # complete once the last picture before the end came (the next one would be past it): no wait for a BYE
    assert out.ended == "range_end" and out.bad_extensions == 0 and out.unstamped == 0, out
    # from the keyframe at the start (1 s) to the last picture before the end
    assert [p.wall_ns - T0 for p in got] == [i * PERIOD_NS for i in range(25, 75)]
    assert got[0].au.key and not got[0].jump
    assert [p.ext for p in got] == [i * 3600 for i in range(50)]
    hdr = srv.stats.plays[0]
    assert hdr["require"] == "onvif-replay" and hdr["rate-control"] == "no"
    assert hdr["range"] == clock_range(T0 + NS + OFFSET, T0 + 3 * NS + OFFSET)


def test_ends_at_the_cameras_bye(make_server) -> None:  # type: ignore[no-untyped-def]
    out, got = play(make_server(), T0 + 4 * NS, T0 + 60 * NS)  # the card ends at 5 s
    assert out.ended == "bye" and len(got) == 25, out


def test_media_stopping_without_bye_ends_after_the_idle_timeout(make_server) -> None:  # type: ignore[no-untyped-def]
    t = time.monotonic()
    out, got = play(make_server(no_bye=True), T0 + 4 * NS, T0 + 60 * NS, idle_timeout_s=1.0)
    assert out.ended == "idle" and len(got) == 25 and time.monotonic() - t < 5, out


def test_a_camera_sending_past_the_range_end_is_stopped_there(make_server) -> None:  # type: ignore[no-untyped-def]
    out, got = play(make_server(endless=True), T0, T0 + 2 * NS)
    assert out.ended == "range_end" and len(got) == 50, out


def test_malformed_extensions_are_dropped_and_counted(make_server) -> None:  # type: ignore[no-untyped-def]
    out, got = play(make_server(bad_extension_every=7), T0, T0 + 2 * NS)
    assert out.bad_extensions > 0 and out.ended == "range_end", out
    assert 0 < len(got) < 50  # pictures that lost a packet are not delivered (loss), the rest are


def test_no_extension_is_a_clear_error(make_server) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReplayError, match="no ONVIF replay timestamps"):
        play(make_server(no_extension=True), T0, T0 + 4 * NS)


def test_endless_replay_is_cut_off(make_server) -> None:  # type: ignore[no-untyped-def]
    srv = make_server(endless=True)
    with pytest.raises(ReplayError, match="did not end within"):
        play(srv, T0, T0 + 10_000 * NS, max_seconds=1.0, max_bytes_per_s=20_000.0)


def test_reads_no_faster_than_allowed(make_server) -> None:  # type: ignore[no-untyped-def]
    rate = 20_000.0
    t = time.monotonic()
    out, got = play(make_server(), T0, T0 + NS, max_bytes_per_s=rate)
    took = time.monotonic() - t
    assert out.ended == "range_end" and len(got) == 25
    assert out.bytes > 2 * rate, "too little data to measure a rate"
    assert out.bytes <= rate * took + 5000, (out.bytes, took)  # the bucket's quarter second of burst at most


def test_stop_event(make_server) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    stop.set()
    out, got = play(make_server(), T0, T0 + 4 * NS, stop=stop)
    assert out.ended == "stopped" and not got
