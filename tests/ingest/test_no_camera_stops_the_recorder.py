"""No camera can stop the recorder: not one dark for hours, not one whose data makes camgrid itself fail.

Driven through the injected clock (tests/ingest/stepped.py): the real simulator, sockets, RTSP client, segmenter,
disk writer and index, ticked directly, so that hours of failures take seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from camgrid.ingest import supervisor as sv
from camgrid.media.rtp import AccessUnit
from camgrid.vocabulary import GapReason
from tests.backends import free_port
from tests.ingest.stepped import NS, Rig, assert_tiles, make_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    # Reconnect delays capped at 1 s, as a feeder's cameras use after a power cut: 2,000 failures in ~25 minutes.
    yield from make_rig(tmp_path, ["good", "bad"], backoff_max_s="1.0", segment_seconds="10")


def test_a_camera_dark_for_thousands_of_attempts_never_stops_the_others(rig: Rig) -> None:
    """Failures past 1,025 overflowed the backoff's ``2 ** n`` and the exception ended the ingest loop: no camera
    of the node recorded again. Now the count is bounded and the healthy camera records throughout."""
    rig.add(rig.source("good"))
    rig.add(rig.source("dark", port=free_port()))  # nothing listens there: connection refused, again and again
    rig.step(0.5)
    dark = rig.recorder._loop.sessions["dark"]
    while dark.reconnects < 2100:
        rig.step(0.5)
    hours = (rig.clock.wall_ns() - rig.started_ns) / NS / 3600
    assert dark.failures <= sv.MAX_COUNTED_FAILURES
    assert rig.recorder._loop.sessions["good"].up
    end = rig.finish()

    assert_tiles(rig.timeline("good"), rig.started_ns, end)
    segs, gaps = rig.rows("good")
    recorded = sum(s.end_ns - s.start_ns for s in segs) / NS
    assert recorded > 0.99 * hours * 3600 - 3, f"{recorded:.0f} s recorded of {hours * 3600:.0f}"
    assert [g.reason for g in gaps] == [GapReason.STARTING, GapReason.NOT_RUNNING]

    timeline = rig.timeline("dark")
    assert_tiles(timeline, rig.started_ns, end)
    reasons = [GapReason.STARTING, GapReason.UNREACHABLE, GapReason.NOT_RUNNING]
    assert [r[2] for r in timeline] == reasons, "one gap, not one per attempt"


class Breaker:
    """A fault injector: a live-view tap that raises on one camera's pictures while ``broken``."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self.broken = False
        self.raised = 0

    def __call__(self, camera_id: str, au: AccessUnit, ext: int, jump: bool) -> None:
        if self.broken and camera_id == self.camera_id:
            self.raised += 1
            raise ValueError(f"cannot handle picture {ext}")


def test_one_cameras_failing_data_is_its_internal_error_gap_only(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """camgrid failing on one camera's pictures closes that camera's session with an ``internal_error`` gap, logs the
    traceback once, retries it with backoff, and the other camera never notices."""
    breaker = Breaker("bad")
    rig.recorder.add_tap(breaker)
    rig.add(rig.source("good"))
    rig.add(rig.source("bad"))
    rig.run(20)
    breaker.broken = True
    broke_at = rig.clock.wall_ns()
    with caplog.at_level(logging.WARNING, logger="camgrid.ingest"):
        rig.run(60)
    assert breaker.raised >= 10, "retried, and failed again each time"
    breaker.broken = False
    mended_at = rig.clock.wall_ns()
    rig.run(20)
    end = rig.finish()

    tracebacks = [r for r in caplog.records if r.exc_info and "bad" in r.getMessage()]
    assert len(tracebacks) == 1, "the traceback once, not at every retry"
    assert not [r for r in caplog.records if "good" in r.getMessage()]

    good = rig.timeline("good")
    assert_tiles(good, rig.started_ns, end)
    assert [r[2] for r in good if r[2] != "segment"] == [GapReason.STARTING, GapReason.NOT_RUNNING]

    bad = rig.timeline("bad")
    assert_tiles(bad, rig.started_ns, end)
    internal = [r for r in bad if r[2] == GapReason.INTERNAL_ERROR]
    assert len(internal) == 1
    start, stop, _ = internal[0]
    assert stop is not None
    assert broke_at - NS <= start <= broke_at + NS
    assert mended_at <= stop <= mended_at + 5 * NS, "recording again within the backoff once the fault is gone"
    assert any(r[2] == "segment" and r[0] >= stop for r in bad)


class PassThrough:
    """A picture transform (as privacy masks are) that hands pictures on unchanged, and fails while ``broken``."""

    def __init__(self) -> None:
        self.queue: list[tuple[AccessUnit, int, bool]] = []
        self.broken = False

    def submit(self, au: AccessUnit, ext: int, jump: bool) -> None:
        self.queue.append((au, ext, jump))

    def drain(self) -> list[tuple[AccessUnit, int, bool]]:
        if self.broken and self.queue:
            raise RuntimeError("transform failed")
        out, self.queue = self.queue, []
        return out

    def reset(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        pass


def test_a_failing_picture_transform_is_its_cameras_gap_only(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    transform = PassThrough()
    rig.recorder.set_transform("bad", transform)
    rig.add(rig.source("good"))
    rig.add(rig.source("bad"))
    rig.run(10)
    transform.broken = True
    with caplog.at_level(logging.WARNING, logger="camgrid.storage"):
        rig.run(30)
    transform.broken = False
    rig.run(15)
    end = rig.finish()
    assert len([r for r in caplog.records if r.exc_info and "bad" in r.getMessage()]) == 1
    good = rig.timeline("good")
    assert_tiles(good, rig.started_ns, end)
    assert [r[2] for r in good if r[2] != "segment"] == [GapReason.STARTING, GapReason.NOT_RUNNING]
    bad = rig.timeline("bad")
    assert_tiles(bad, rig.started_ns, end)
    assert [r[2] for r in bad if r[2] != "segment"] == [
        GapReason.STARTING,
        GapReason.INTERNAL_ERROR,
        GapReason.NOT_RUNNING,
    ]
    assert bad[-2][2] == "segment", "recording again once the transform works"
