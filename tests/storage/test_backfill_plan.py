"""Edge backfill's decisions (docs/design/onvif.md, "Edge backfill"): which gaps become jobs, which jobs may start."""

from __future__ import annotations

import pytest

from camgrid.storage.backfill_plan import NS, CameraInfo, GapInfo, Waiting, admit, candidates
from camgrid.vocabulary import GapReason

NOW = 1_800_000_000 * NS
LIVE = CameraInfo("cam", "up-1", onvif=True, live=True)


def _gap(start_s: float, end_s: float | None, reason: str = GapReason.UNREACHABLE, cam: str = "cam") -> GapInfo:
    return GapInfo(cam, NOW + int(start_s * NS), None if end_s is None else NOW + int(end_s * NS), reason)


@pytest.mark.parametrize(
    ("gap", "camera", "known", "chosen"),
    [
        (_gap(-300, -10), LIVE, {}, True),  # the uplink was cut for five minutes, camera back
        (_gap(-300, -10, GapReason.STALLED), LIVE, {}, True),
        (_gap(-300, -10, GapReason.NOT_RUNNING), LIVE, {}, True),  # our recorder was down: the card was not
        (_gap(-300, -10, GapReason.AUTH_REFUSED), LIVE, {}, False),  # the camera refused: its card won't differ
        (_gap(-300, -10, GapReason.DISK_FULL), LIVE, {}, False),  # our disk, not the path
        (_gap(-300, -10, GapReason.PACKET_LOSS), LIVE, {}, False),  # gaps of a GOP: not worth a session
        (_gap(-300, None), LIVE, {}, False),  # still open
        (_gap(-15, -10), LIVE, {}, False),  # 5 s < min_gap_s
        (_gap(-20, -10), LIVE, {}, True),  # exactly min_gap_s
        (_gap(-8 * 86400, -7 * 86400 - 1), LIVE, {}, False),  # ended before max_age_s
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=False, live=True), {}, False),  # no ONVIF address
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=True, live=False), {}, False),  # still down
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=True, live=True, profile_g=False), {}, False),
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=True, live=True, profile_g=True), {}, True),
        (_gap(-300, -10), LIVE, {"cam": [(NOW - 300 * NS, NOW - 10 * NS)]}, False),  # a job exists: never twice
        (_gap(-200, -10), LIVE, {"cam": [(NOW - 300 * NS, NOW - 100 * NS)]}, False),  # what a job left of a gap
        (_gap(-300, -10), LIVE, {"cam": [(NOW - 900 * NS, NOW - 600 * NS)]}, True),  # an older job
        (_gap(-300, -10, cam="other"), LIVE, {}, False),  # camera not in the registry (any more)
    ],
)
def test_candidates(gap: GapInfo, camera: CameraInfo, known: dict[str, list[tuple[int, int]]], chosen: bool) -> None:
    got = candidates([gap], {"cam": camera}, known, now_ns=NOW, min_gap_s=10, max_age_s=7 * 86400)
    assert got == ([gap] if chosen else [])


def test_candidates_oldest_first() -> None:
    gaps = [_gap(-100, -50), _gap(-1000, -900), _gap(-500, -400, cam="b")]
    cams = {"cam": LIVE, "b": CameraInfo("b", "up-2", onvif=True, live=True)}
    got = candidates(gaps, cams, {}, now_ns=NOW, min_gap_s=10, max_age_s=86400)
    assert [g.start_ns for g in got] == sorted(g.start_ns for g in gaps)


def test_touching_gaps_are_one_interval() -> None:
    """An outage is often ``stalled`` then ``unreachable``: one replay of both, none of what lies apart."""
    gaps = [
        _gap(-300, -292, GapReason.STALLED),
        _gap(-292, -10, GapReason.UNREACHABLE),
        _gap(-8, -4, GapReason.STALLED),  # 4 s on its own: too short, and live video lies between
        _gap(-600, -590, GapReason.AUTH_REFUSED),
        _gap(-590, -500, GapReason.UNREACHABLE),  # touches a gap of another reason: on its own
    ]
    got = candidates(gaps, {"cam": LIVE}, {}, now_ns=NOW, min_gap_s=5, max_age_s=86400)
    assert [((g.start_ns - NOW) // NS, ((g.end_ns or 0) - NOW) // NS) for g in got] == [
        (-590, -500),
        (-300, -10),
    ]


def _w(i: int, up: str, cam: str | None = None) -> Waiting:
    return Waiting(i, cam or f"cam-{i}", up)


@pytest.mark.parametrize(
    ("waiting", "running", "per_uplink", "per_node", "started"),
    [
        ([_w(1, "a"), _w(2, "a"), _w(3, "b")], [], 1, 4, [1, 3]),  # one per uplink
        ([_w(1, "a"), _w(2, "a"), _w(3, "b")], [], 2, 4, [1, 2, 3]),
        ([_w(1, "a"), _w(2, "b"), _w(3, "c")], [], 1, 2, [1, 2]),  # node limit
        ([_w(1, "a"), _w(2, "b")], ["a"], 1, 4, [2]),  # a replay over uplink a is running
        ([_w(1, "a"), _w(2, "b")], ["c", "d"], 1, 2, []),  # the node is full
        ([_w(1, "a", "x"), _w(2, "b", "x")], [], 2, 4, [1]),  # one replay per camera
        ([], ["a"], 1, 1, []),
    ],
)
def test_admit(waiting: list[Waiting], running: list[str], per_uplink: int, per_node: int, started: list[int]) -> None:
    got = admit(waiting, running, per_uplink=per_uplink, per_node=per_node)
    assert [w.job_id for w in got] == started
