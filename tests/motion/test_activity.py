"""Activity levels from picture sizes and types (docs/design/motion-search.md, "Activity"): the level formula and
the camera's own baseline by tables, and the tap's counting of real AccessUnit objects per camera-second."""

from __future__ import annotations

from pathlib import Path

import pytest

from camgrid.clock import FakeClock
from camgrid.media.rtp import AccessUnit
from camgrid.motion.activity import ActivityTap, Baseline, SecondStats, level_of
from camgrid.motion.activity_store import ActivityStore

NS = 1_000_000_000
T0 = 1_800_000_000  # a whole hour (UTC 02:00... whatever: only its hour of day matters)


@pytest.mark.parametrize(
    ("ratio", "level"),
    [(0.0, 1), (0.1, 7), (0.5, 33), (1.0, 65), (1.5, 97), (2.0, 129), (3.0, 193), (3.97, 255), (10.0, 255), (-1, 1)],
)
def test_level_of_a_ratio(ratio: float, level: int) -> None:
    assert level_of(ratio) == level


def steady(base: Baseline, seconds: int, *, start: int = T0, p_bytes: int = 1000, fps: int = 25, gop_s: int = 2) -> int:
    """Feed ``seconds`` of a VBR camera (a keyframe every ``gop_s``, 20x a P-frame); the last level."""
    level = 0
    for k in range(seconds):
        key = k % gop_s == 0
        level = base.judge(start + k, fps, int(key), 20 * p_bytes if key else 0, p_bytes * (fps - int(key)))
    return level


@pytest.mark.parametrize(
    ("after_p_bytes", "expect"),
    [
        (1000, 65),  # as usual
        (3000, 193),  # three times the usual change: motion
        (2000, 129),
        (100, 7),  # collapsed: covered or frozen
        (0, 1),  # empty P-frames (a frozen encoder)
    ],
)
def test_a_second_against_the_cameras_own_baseline(after_p_bytes: int, expect: int) -> None:
    base = Baseline()
    assert steady(base, 120) == 65
    assert not base.cbr  # keyframes make a VBR camera's per-second totals swing
    assert base.judge(T0 + 121, 25, 0, 0, after_p_bytes * 25) == expect


def test_nothing_received_is_level_zero_and_a_first_second_is_as_usual() -> None:
    base = Baseline()
    assert base.judge(T0, 0, 0, 0, 0) == 0
    assert base.judge(T0, 25, 0, 0, 25_000) == 65
    assert base.judge(T0 + 1, 1, 1, 40_000, 0) == 65  # keyframes only: nothing to compare


def test_a_minute_of_motion_barely_moves_the_baseline() -> None:
    base = Baseline()
    steady(base, 600)
    levels = [base.judge(T0 + 600 + k, 25, 0, 0, 25 * 4000) for k in range(60)]
    assert levels[0] == 255 and min(levels) >= 200  # still "far more than usual" after a minute
    assert steady(base, 5, start=T0 + 700) <= 70  # and the still scene is soon usual again


def test_each_hour_of_day_has_its_own_habit() -> None:
    """Night (hour 2) gives bigger P-frames (noise, IR): it is usual at night, not in the day."""
    base = Baseline()
    night, day = T0 - T0 % 86400 + 2 * 3600, T0 - T0 % 86400 + 12 * 3600
    steady(base, 3000, start=day, p_bytes=1000)
    assert steady(base, 3000, start=night, p_bytes=2500) == 65  # learnt by the end of the night hour
    assert base.judge(day + 86400, 25, 0, 0, 25 * 2500) >= 150  # the same sizes in the day's hour: more than usual
    assert base.judge(day + 86401, 25, 0, 0, 25 * 1000) == 65


def test_a_new_hour_starts_from_the_last_one() -> None:
    base = Baseline()
    steady(base, 600, start=T0)
    assert base.judge(T0 + 3600, 25, 0, 0, 25 * 1000) == 65  # not a first second "as usual" by default: learnt
    assert base.judge(T0 + 3601, 25, 0, 0, 25 * 3000) == 193


def cbr_second(base: Baseline, second: int, p_bytes: int) -> int:
    """A CBR camera: every second the same total, keyframes included (the encoder squeezes them)."""
    key = second % 2 == 0
    total = 50_000
    other = (total - 10_000) if key else total
    return base.judge(second, 25, int(key), 10_000 if key else 0, int(other * p_bytes / 1000))


def test_a_constant_bitrate_camera_is_noticed_and_its_small_swings_count_more() -> None:
    base = Baseline()
    for k in range(300):
        cbr_second(base, T0 + k, 1000 + (7 if k % 3 else -7))  # under 1 % of noise
    assert base.cbr
    level = cbr_second(base, T0 + 301, 1100)  # 10 % more: for a CBR camera, that is a lot
    vbr = Baseline()
    steady(vbr, 300)
    vbr_level = vbr.judge(T0 + 301, 25, 0, 0, 25 * 1100)
    assert vbr_level == 71 and level >= vbr_level + 20


def test_baseline_state_round_trip_and_garbage() -> None:
    base = Baseline()
    steady(base, 100)
    again = Baseline.from_state(base.state())
    assert again is not None and again.state() == base.state()
    assert Baseline.from_state({"mean": [1.0]}) is None
    assert Baseline.from_state({**base.state(), "count": [1] * 3}) is None


def au(t_s: float, size: int, *, key: bool = False, continuation: bool = False) -> AccessUnit:
    return AccessUnit(ts=0, data=b"x" * size, key=key, arrival_ns=int(t_s * NS), continuation=continuation)


def test_the_tap_counts_each_camera_second() -> None:
    clock = FakeClock(T0 * NS)
    tap = ActivityTap(clock=clock, store=None)
    got: list[SecondStats] = []
    tap.add_listener(got.append)
    tap("cam-1", au(T0 + 0.00, 5000, key=True), 0, False)
    tap("cam-1", au(T0 + 0.00, 700, key=True, continuation=True), 0, False)  # a second slice: bytes, not a picture
    for k in range(1, 25):
        tap("cam-1", au(T0 + k / 25, 100), 0, False)
    tap("cam-2", au(T0 + 0.5, 300), 0, False)
    tap("cam-1", au(T0 + 1.0, 100), 0, False)  # the next second closes the first
    assert got == [SecondStats("cam-1", T0, 25, 1, 5700, 2400, 65)]
    tap("cam-1", au(T0 + 0.96, 100), 0, False)  # a reordered B-frame of the closed second: counted in the open one
    tap("cam-1", au(T0 + 2.0, 100), 0, False)
    assert got[-1] == SecondStats("cam-1", T0 + 1, 2, 0, 0, 200, got[-1].level)
    tap("cam-1", au(T0 - 100.0, 100), 0, True)  # the camera's clock was set back: a new second, not the open one
    assert got[-1].second == T0 + 2
    clock.advance(10)
    tap.flush()  # quiet cameras' seconds close on the housekeeping thread
    assert {(s.camera_id, s.second) for s in got[-2:]} == {("cam-1", T0 - 100), ("cam-2", T0)}


def test_only_recorded_cameras_are_told_and_kept(tmp_path: Path) -> None:
    clock = FakeClock(T0 * NS)
    store = ActivityStore(tmp_path)
    tap = ActivityTap(clock=clock, store=store, records=lambda cid: not cid.endswith("#sub"), flush_s=10)
    got: list[SecondStats] = []
    tap.add_listener(got.append)
    for k in range(50):
        for cid in ("cam-1", "cam-1#sub"):
            tap(cid, au(T0 + k / 10, 1000 if k < 40 else 4000, key=k % 20 == 0), 0, False)
    clock.advance(10)
    tap.tick()
    assert {s.camera_id for s in got} == {"cam-1"}
    assert tap.store is store and store.cameras() == ["cam-1"]
    series = store.read(camera_id="cam-1", start_s=T0 - 1, end_s=T0 + 6)
    assert series.levels[0] == 0 and series.levels[6] == 0 and all(series.levels[1:6])
    assert series.levels[5] > 150  # the last second's pictures were four times the usual
    tap.close()
    assert store.load_baseline("cam-1") is not None


def test_a_restart_keeps_the_learnt_baseline(tmp_path: Path) -> None:
    clock = FakeClock(T0 * NS)
    store = ActivityStore(tmp_path)
    tap = ActivityTap(clock=clock, store=store)
    for k in range(300 * 5):
        tap("cam-1", au(T0 + k / 5, 20_000 if k % 10 == 0 else 1000, key=k % 10 == 0), 0, False)
    tap.close()
    again = ActivityTap(clock=clock, store=store)
    got: list[SecondStats] = []
    again.add_listener(got.append)
    for k in range(6):
        again("cam-1", au(T0 + 400 + k / 5, 3000), 0, False)
    again.flush()  # loads the stored baseline (off the ingest thread) for the seconds still to close
    for k in range(6, 15):
        again("cam-1", au(T0 + 400 + k / 5, 3000), 0, False)
    assert got[-1].level == 193  # three times what the first process learnt, not "a first second, as usual"
