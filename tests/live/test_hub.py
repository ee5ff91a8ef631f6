"""The live hub on its own: what each viewer receives, in what order, and what a slow or late viewer gets.

Real parameter sets (from a real H.264 encode), a real event loop; the ingest thread's calls are made from the test's
thread, which is what ``call_soon_threadsafe`` hands over in production too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from camgrid.live.hub import MAX_QUEUE, LiveHub, Message
from camgrid.media.nal import H264
from camgrid.media.rtp import AccessUnit
from tests.exports.media import _params

NS = 1_000_000_000
STEP = 3600  # 90 kHz ticks per picture at 25 fps
T0 = 1_800_000_000 * NS


class Rig:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.hub = LiveHub(self.loop, codec_of=lambda cam: H264)
        self.sps, self.pps = _params()
        self.n = 0
        self.got: dict[str, list[Message]] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def join(self, name: str, camera: str = "cam") -> None:
        """A viewer connects (its generator runs until it waits for its first message)."""
        out = self.got.setdefault(name, [])

        async def collect() -> None:
            async for m in self.hub.watch(camera):
                out.append(m)

        self.tasks[name] = self.loop.create_task(collect())
        self.settle()

    def leave(self, name: str) -> None:
        self.tasks.pop(name).cancel()
        self.settle()

    def settle(self) -> None:
        self.loop.run_until_complete(asyncio.sleep(0.01))

    def picture(self, *, key: bool, camera: str = "cam", jump: bool = False) -> None:
        """One picture from the recorder's ingest thread (a keyframe carries the parameter sets, as cameras do)."""
        self.n += 1
        nal = bytes([0x65 if key else 0x41, 0x88, 0x84])
        au = AccessUnit(
            ts=self.n * STEP,
            data=len(nal).to_bytes(4, "big") + nal,
            key=key,
            params=[self.sps, self.pps] if key else [],
            arrival_ns=T0 + self.n * NS // 25,
        )
        self.hub.tap(camera, au, self.n * STEP, jump)

    def gop(self, pictures: int = 25, camera: str = "cam") -> None:
        for i in range(pictures):
            self.picture(key=i == 0, camera=camera)
        self.settle()

    def close(self) -> None:
        for t in self.tasks.values():
            t.cancel()
        self.settle()
        self.loop.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


def kinds(msgs: list[Message]) -> list[str]:
    return [json.loads(m)["type"] if isinstance(m, str) else ("init" if b"ftyp" in m[:16] else "frag") for m in msgs]


def test_a_viewer_starts_at_a_keyframe_with_codec_origin_and_init(rig: Rig) -> None:
    rig.join("a")
    for _ in range(10):  # mid-GOP: nothing a browser could decode yet
        rig.picture(key=False)
    rig.settle()
    assert rig.got["a"] == []
    rig.gop(25)
    k = kinds(rig.got["a"])
    assert k[:3] == ["codec", "origin", "init"] and k[3:] == ["frag"] * 25
    codec = json.loads(rig.got["a"][0])
    assert codec["codec"] == "h264" and codec["mime"].startswith('video/mp4; codecs="avc1.')
    origin = json.loads(rig.got["a"][1])
    assert isinstance(origin["wall_ms"], int) and origin["wall_ms"] == (T0 + 11 * NS // 25) // 1_000_000


def test_unwatched_cameras_cost_no_work(rig: Rig) -> None:
    rig.join("a", camera="cam")
    rig.gop(25, camera="other")
    assert rig.got["a"] == []


def test_a_late_viewer_gets_the_header_again_at_the_next_keyframe(rig: Rig) -> None:
    rig.join("a")
    rig.gop(25)
    rig.join("b")
    rig.picture(key=False)
    rig.settle()
    assert rig.got["b"] == []
    rig.gop(25)
    assert kinds(rig.got["b"]) == ["codec", "origin", "init"] + ["frag"] * 25
    assert kinds(rig.got["a"]) == ["codec", "origin", "init"] + ["frag"] * 51


def test_a_viewer_that_falls_behind_is_moved_to_the_next_keyframe_and_the_others_are_not(rig: Rig) -> None:
    rig.join("fast")
    before = set(rig.hub.viewers["cam"])
    first: list[Message] = []

    async def stalled() -> None:  # a browser that takes its first message, then stops reading
        agen = rig.hub.watch("cam")
        first.append(await agen.__anext__())
        await asyncio.Event().wait()

    rig.tasks["slow"] = rig.loop.create_task(stalled())
    rig.settle()
    (slow,) = set(rig.hub.viewers["cam"]) - before
    for _ in range(4):  # 100 pictures: more than a viewer may hold
        rig.gop(25)
    assert slow.dropped >= 1, "a viewer past the limit is cut back"
    assert slow.queue.qsize() <= MAX_QUEUE + 1
    # What it holds now starts at a keyframe with the stream's header again: it can decode from there.
    held = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
    assert kinds(held)[:3] == ["codec", "origin", "init"] and set(kinds(held)[3:]) == {"frag"}
    assert kinds(rig.got["fast"]) == ["codec", "origin", "init"] + ["frag"] * 100


def test_a_camera_going_down_says_offline_and_its_next_session_is_a_new_stream(rig: Rig) -> None:
    rig.join("a")
    rig.gop(25)
    rig.hub.on_state("cam", False, "unreachable", T0 + 5 * NS + 123_456)
    rig.settle()
    offline = json.loads(rig.got["a"][-1])
    assert offline == {"type": "offline", "reason": "unreachable", "since_ms": (T0 + 5 * NS) // 1_000_000}
    rig.got["a"].clear()
    rig.picture(key=False)  # the camera is back, mid-GOP: nothing until a keyframe, then a new header
    rig.gop(25)
    assert kinds(rig.got["a"]) == ["codec", "origin", "init"] + ["frag"] * 25


def test_a_clock_jump_restarts_the_stream_for_every_viewer(rig: Rig) -> None:
    rig.join("a")
    rig.gop(25)
    rig.got["a"].clear()
    rig.picture(key=True, jump=True)
    rig.settle()
    assert kinds(rig.got["a"]) == ["codec", "origin", "init", "frag"]


def test_a_viewer_leaving_does_not_disturb_another(rig: Rig) -> None:
    rig.join("a")
    rig.join("b")
    rig.gop(10)
    rig.leave("a")
    rig.gop(10)
    assert kinds(rig.got["b"]) == ["codec", "origin", "init"] + ["frag"] * 20
    assert len(rig.hub.viewers["cam"]) == 1


def test_a_camera_splitting_pictures_into_marked_slices_is_held_and_merged(rig: Rig) -> None:
    """live555: every slice comes as its own access unit. Once seen, the hub holds each picture until the next one
    starts and appends its slices: one fragment per picture, each sample the whole picture; viewers restart at a
    keyframe so nothing half-drawn stays on screen."""
    from camgrid.media import fmp4
    from camgrid.media.rtp import sample_nals

    rig.join("a")
    second = bytes([0x41, 0x16, 0x00])  # a further slice: first_mb_in_slice != 0

    def sliced(key: bool) -> None:
        rig.picture(key=key)
        cont = AccessUnit(rig.n * STEP, len(second).to_bytes(4, "big") + second, False, continuation=True, part=1)
        cont.arrival_ns = T0 + rig.n * NS // 25
        rig.hub.tap("cam", cont, rig.n * STEP, False)

    for i in range(50):
        sliced(i % 25 == 0)
    rig.settle()
    msgs = rig.got["a"]
    k = kinds(msgs)
    assert k.count("init") == 2, "restarted at the keyframe after the first split picture"
    last_init = max(i for i, x in enumerate(k) if x == "init")
    init = msgs[last_init]
    assert isinstance(init, bytes)
    frags = [m for m in msgs[last_init + 1 :] if isinstance(m, bytes)]
    assert len(frags) == 24, "one fragment per picture (the last is still held)"
    for frag in frags:
        (sample,) = fmp4.read_samples(init + frag)
        assert len(sample_nals(sample.data)) == 2, "the whole picture: both slices"


def test_b_frames_go_live_with_increasing_decode_times_and_composition_offsets(rig: Rig) -> None:
    """RTP timestamps of a B-frame stream come out of order (I0 P3 B1 B2 ...): each live fragment's decode time
    increases and its sample carries presentation - decode as a composition offset (before: decode times went
    back, which a browser's MediaSource refuses)."""
    from camgrid.media import fmp4

    rig.join("a")
    order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11]
    for n, p in enumerate(order):
        key = n == 0
        nal = bytes([0x65 if key else 0x41, 0x88, 0x84])
        au = AccessUnit(
            ts=1000 + p * STEP,
            data=len(nal).to_bytes(4, "big") + nal,
            key=key,
            params=[rig.sps, rig.pps] if key else [],
            arrival_ns=T0 + p * NS // 25,
        )
        rig.hub.tap("cam", au, 1000 + p * STEP, False)
    rig.settle()
    msgs = rig.got["a"]
    init = msgs[2]
    assert isinstance(init, bytes)
    samples = [fmp4.read_samples(init + m)[0] for m in msgs[3:] if isinstance(m, bytes)]
    decode = [s.time for s in samples]
    assert decode == sorted(decode) and len(set(decode)) == len(decode)
    shown = [s.time + s.cto for s in samples]
    assert [t - shown[0] for t in shown] == [p * STEP for p in order], "each picture shown at its RTP time"


def test_new_parameter_sets_send_a_new_init(rig: Rig) -> None:
    """The camera changes resolution: viewers get a new codec/origin/init at the keyframe carrying the new SPS,
    never pictures of the new stream under the old init."""
    rig.join("a")
    rig.gop(25)
    rig.sps = rig.sps[:-1] + bytes([rig.sps[-1] ^ 0x01])  # another SPS
    rig.gop(25)
    k = kinds(rig.got["a"])
    assert k == ["codec", "origin", "init"] + ["frag"] * 25 + ["codec", "origin", "init"] + ["frag"] * 25
