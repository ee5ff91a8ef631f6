"""Wall-clock anchoring (docs/design/packet-path.md, "Time"): durations from RTP, absolute time from the recorder."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.ingest.timing import NS, Anchor

T0 = 1_700_000_000 * NS


def test_steady_stream_tracks_arrival() -> None:
    a = Anchor()
    for i in range(500):
        wall, _ext, jump = a.place((4_000_000_000 + i * 3600) & 0xFFFFFFFF, T0 + i * 40_000_000 + 5_000_000)
        assert jump == (i == 0)
        assert abs(wall - (T0 + i * 40_000_000 + 5_000_000)) < 10_000_000


def test_wraparound_is_not_a_jump() -> None:
    a = Anchor()
    start = 0xFFFFFFFF - 3600 * 3
    jumps = [a.place((start + i * 3600) & 0xFFFFFFFF, T0 + i * 40_000_000)[2] for i in range(10)]
    assert jumps == [True] + [False] * 9


def test_clock_jump_restarts_the_anchor() -> None:
    a = Anchor()
    a.place(1000, T0)
    a.place(1000 + 3600, T0 + 40_000_000)
    wall, _, jump = a.place(1000 + 3600 * 2 + 90_000 * 3600, T0 + 80_000_000)  # +1 h on the camera clock
    assert jump and wall == T0 + 80_000_000
    wall, _, jump = a.place(1000 + 3600 * 3 + 90_000 * 3600, T0 + 120_000_000)
    assert not jump and abs(wall - (T0 + 120_000_000)) < 1_000_000


@given(st.floats(-500, 500), st.integers(0, 30_000_000))
@settings(max_examples=100, deadline=None)
def test_drift_is_slewed_within_bounds(ppm: float, jitter_ns: int) -> None:
    """A camera clock off by up to 500 ppm stays within a window's slew of the recorder clock for an hour."""
    a = Anchor()
    worst = 0
    for i in range(0, 25 * 3600, 25):  # one sample a second for an hour
        camera_ticks = int(i * 3600 * (1 + ppm / 1e6))
        arrival = T0 + i * 40_000_000 + (jitter_ns if i % 7 else 0)
        wall, _, jump = a.place(camera_ticks & 0xFFFFFFFF, arrival)
        assert not jump or i == 0
        worst = max(worst, abs(arrival - wall))
    assert worst < 60_000_000


def frames(a: Anchor, start: int, n: int, ts0: int, at0: int) -> list[tuple[int, int, bool]]:
    return [a.place((ts0 + (start + i) * 3600) & 0xFFFFFFFF, at0 + i * 40_000_000) for i in range(n)]


def test_a_pause_moves_the_anchor_by_the_pause() -> None:
    """The camera stops sending for 1.5 s and its RTP clock stops with it: the next picture is stamped when it came,
    not 1.5 s early (the slew took half an hour to catch up)."""
    a = Anchor()
    frames(a, 0, 100, 1000, T0)
    resumed = T0 + 99 * 40_000_000 + 1_540_000_000
    wall, _, jump = a.place(1000 + 100 * 3600, resumed)
    assert not jump, "a pause is no clock jump: the segment goes on"
    assert abs(wall - resumed) < 1_000_000
    wall, _, _ = a.place(1000 + 101 * 3600, resumed + 40_000_000)
    assert abs(wall - (resumed + 40_000_000)) < 1_000_000


def test_jitter_and_bursts_are_not_pauses() -> None:
    """A keyframe late by 400 ms and the burst after it: the stamps stay on the camera's own time."""
    a = Anchor()
    frames(a, 0, 50, 1000, T0)
    late = [a.place(1000 + (50 + i) * 3600, T0 + 50 * 40_000_000 + 400_000_000) for i in range(10)]
    assert not any(j for _, _, j in late)
    assert [w for w, _, _ in late] == [T0 + (50 + i) * 40_000_000 for i in range(10)]


def test_a_one_second_step_of_the_camera_clock_restarts_the_anchor() -> None:
    """Within the old 2 s jump limit, a +1 s step was stored as time; now any step beyond the tolerance is a jump."""
    a = Anchor()
    frames(a, 0, 50, 1000, T0)
    at = T0 + 50 * 40_000_000
    wall, _, jump = a.place(1000 + 50 * 3600 + 90_000, at)
    assert jump and wall == at
    wall, _, jump = a.place(1000 + 51 * 3600 + 90_000, at + 40_000_000)
    assert not jump and wall == at + 40_000_000


@pytest.mark.parametrize("late_s", [0.0, 1.5])
def test_a_recorder_that_was_held_up_sees_no_pause_in_the_burst(late_s: float) -> None:
    """The recorder's own loop was held up 1.5 s (a busy machine): the pictures waiting in the socket arrive at once,
    their RTP time went on. That wait is the recorder's: with it declared, the burst keeps the camera's own times;
    undeclared (late 0), the same arrivals are a camera pause (the case the declaration exists for)."""
    a = Anchor()
    frames(a, 0, 100, 1000, T0)
    burst_at = T0 + 99 * 40_000_000 + 1_540_000_000  # 38 pictures' worth of time waited in the socket
    late_ns = int(late_s * 1e9)
    placed = [a.place(1000 + (100 + i) * 3600, burst_at, late_ns=late_ns) for i in range(39)]
    assert not any(j for _, _, j in placed)
    first = placed[0][0]
    if late_s:
        assert first == T0 + 100 * 40_000_000, "stamped at its own time, not when the busy recorder read it"
    else:
        assert abs(first - burst_at) < 1_000_000, "undeclared, the same arrivals look like a pause"
