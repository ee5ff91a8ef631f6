"""Wall-clock anchoring (docs/design/packet-path.md, "Time"): durations from RTP, absolute time from the recorder."""

from __future__ import annotations

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
