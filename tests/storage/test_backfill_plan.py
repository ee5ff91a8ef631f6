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
        (_gap(-300, -10), LIVE, set(), True),  # the uplink was cut for five minutes, camera back
        (_gap(-300, -10, GapReason.STALLED), LIVE, set(), True),
        (_gap(-300, -10, GapReason.NOT_RUNNING), LIVE, set(), True),  # our recorder was down: the card was not
        (_gap(-300, -10, GapReason.AUTH_REFUSED), LIVE, set(), False),  # the camera refused: its card won't differ
        (_gap(-300, -10, GapReason.DISK_FULL), LIVE, set(), False),  # our disk, not the path
        (_gap(-300, -10, GapReason.PACKET_LOSS), LIVE, set(), False),  # gaps of a GOP: not worth a session
        (_gap(-300, None), LIVE, set(), False),  # still open
        (_gap(-15, -10), LIVE, set(), False),  # 5 s < min_gap_s
        (_gap(-20, -10), LIVE, set(), True),  # exactly min_gap_s
        (_gap(-8 * 86400, -7 * 86400 - 1), LIVE, set(), False),  # ended before max_age_s
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=False, live=True), set(), False),  # no ONVIF address
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=True, live=False), set(), False),  # still down
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=True, live=True, profile_g=False), set(), False),
        (_gap(-300, -10), CameraInfo("cam", "up-1", onvif=True, live=True, profile_g=True), set(), True),
        (_gap(-300, -10), LIVE, {("cam", NOW - 300 * NS)}, False),  # a job exists: never twice
        (_gap(-300, -10, cam="other"), LIVE, set(), False),  # camera not in the registry (any more)
    ],
)
def test_candidates(gap: GapInfo, camera: CameraInfo, known: set[tuple[str, int]], chosen: bool) -> None:
    got = candidates([gap], {"cam": camera}, known, now_ns=NOW, min_gap_s=10, max_age_s=7 * 86400)
    assert got == ([gap] if chosen else [])


def test_candidates_oldest_first() -> None:
    gaps = [_gap(-100, -50), _gap(-1000, -900), _gap(-500, -400, cam="b")]
    cams = {"cam": LIVE, "b": CameraInfo("b", "up-2", onvif=True, live=True)}
    got = candidates(gaps, cams, set(), now_ns=NOW, min_gap_s=10, max_age_s=86400)
    assert [g.start_ns for g in got] == sorted(g.start_ns for g in gaps)


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
