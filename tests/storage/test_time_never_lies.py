"""Time in the index never lies when a camera's media pauses or its clock steps (docs/design/packet-path.md, "Time").

A pause under the stall timeout stops the camera's RTP clock too. The old anchor slewed such a skew at 1000 ppm:
the rest of the session was stamped early by the pause, and a pause of 2-3 s left a hole with neither a segment
nor a gap row. A +1 s step of the camera's clock was stored as one picture lasting a second, and everything after
it a second late. Driven through the injected clock with the in-process simulator (tests/ingest/stepped.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from camgrid.vocabulary import GapReason
from tests.ingest.stepped import NS, Rig, assert_tiles, make_rig

FRAME_NS = NS // 4


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(tmp_path, ["cam"], segment_seconds="4")


def record_with(rig: Rig, fault: str, seconds: float) -> int:
    rig.add(rig.source("cam"))
    rig.run(10)
    cam = rig.cameras["cam"]
    if fault == "pause":
        cam.stalled = True
        rig.run(seconds)
        cam.stalled = False
    else:
        cam.ts_jump += round(seconds * 90_000)
    rig.run(10)
    last_sent = rig.clock.wall_ns()
    end = rig.finish()
    assert_tiles(rig.timeline("cam"), rig.started_ns, end)
    segs, _ = rig.rows("cam")
    # The last picture came at ``last_sent`` and lasts one frame: recorded time ends there, not a pause earlier.
    assert abs(segs[-1].end_ns - (last_sent + FRAME_NS)) <= FRAME_NS, (segs[-1].end_ns - last_sent) / NS
    return end


def reasons(rig: Rig) -> list[str]:
    return [r[2] for r in rig.timeline("cam") if r[2] != "segment"]


def test_a_short_pause_is_the_last_picture_held(rig: Rig) -> None:
    record_with(rig, "pause", 1.5)
    assert reasons(rig) == [GapReason.STARTING, GapReason.NOT_RUNNING]
    segs, _ = rig.rows("cam")
    assert all(s.frames > 0 for s in segs)


def test_a_longer_pause_is_a_stalled_gap(rig: Rig) -> None:
    record_with(rig, "pause", 2.5)
    assert reasons(rig) == [GapReason.STARTING, GapReason.STALLED, GapReason.NOT_RUNNING]
    stalled = next(r for r in rig.timeline("cam") if r[2] == GapReason.STALLED)
    assert stalled[1] is not None
    # From the end of the last picture before the pause to the next keyframe after it (one a second).
    assert 2.5 * NS <= stalled[1] - stalled[0] <= 2.5 * NS + NS + 2 * FRAME_NS


@pytest.mark.parametrize("step", [1.0, -1.0, 3600.0])
def test_a_camera_clock_step_is_never_stored_as_time(rig: Rig, step: float) -> None:
    record_with(rig, "step", step)
    assert reasons(rig) == [GapReason.STARTING, GapReason.NOT_RUNNING]
