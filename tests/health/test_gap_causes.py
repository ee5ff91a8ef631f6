"""Which incident a recording gap is labelled with (``camgrid.health.gap_causes.cause_of``), as a table."""

from __future__ import annotations

import pytest

from camgrid.health.gap_causes import SLACK_NS, IncidentSpan, cause_of, scoped
from camgrid.health.scope import Scope
from camgrid.vocabulary import OUTSIDE_SCOPE

S = 1_000_000_000
NOW = 10_000 * S
POWER = IncidentSpan(1, "power", "F-02", 100 * S, 160 * S)
UPLINK = IncidentSpan(2, "uplink", "U-7", 100 * S, 160 * S)
CAMERA = IncidentSpan(3, "camera", "cam-1", 100 * S, 160 * S)
LATER = IncidentSpan(4, "camera", "cam-1", 500 * S, None)
SHORT = IncidentSpan(5, "power", "F-09", 150 * S, 152 * S)
# what the browser test saw: camera down at 771.1 s, incident opened at 774.75 s (it waited for the peers)
REAL = IncidentSpan(6, "power", "F-01", 774_750 * S // 1000, 778_420 * S // 1000, down_ns=771_100 * S // 1000)

CASES = [
    ("no incident", (100 * S, 150 * S), [], None),
    ("incident covers the gap", (100 * S, 150 * S), [POWER], POWER),
    ("incident opens after the hold (within slack)", (98 * S, 150 * S), [POWER], POWER),
    ("incident far before the gap", (300 * S, 310 * S), [POWER], None),
    ("gap ends before the incident (beyond slack)", (0, 100 * S - SLACK_NS - S), [POWER], None),
    ("group before the camera's own on a tie", (100 * S, 150 * S), [CAMERA, POWER], POWER),
    ("uplink before camera", (100 * S, 150 * S), [CAMERA, UPLINK], UPLINK),
    ("power before uplink", (100 * S, 150 * S), [UPLINK, POWER], POWER),
    ("longest overlap wins", (100 * S, 160 * S), [SHORT, CAMERA], CAMERA),
    ("open gap, open incident", (500 * S, None), [POWER, LATER], LATER),
    ("open incident covers a closed gap", (600 * S, 700 * S), [LATER], LATER),
    ("the cut's gap, opened before the incident", (771_087 * S // 1000, 777_802 * S // 1000), [REAL], REAL),
    ("a starting gap ending before the cut is not blamed", (763_111 * S // 1000, 764_287 * S // 1000), [REAL], None),
]


@pytest.mark.parametrize(("gap", "incidents", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cause_of(gap: tuple[int, int | None], incidents: list[IncidentSpan], want: IncidentSpan | None) -> None:
    assert cause_of(gap, incidents, NOW) == want


def test_a_feeder_outside_the_users_districts_is_not_named() -> None:
    mine = Scope(cameras=frozenset({"cam-1"}), groups=frozenset({"F-02"}))
    other = Scope(cameras=frozenset({"cam-1"}), groups=frozenset({"F-99"}))
    assert scoped(POWER, None) == POWER
    assert scoped(POWER, mine) == POWER
    assert scoped(POWER, other).subject == OUTSIDE_SCOPE
    assert scoped(CAMERA, other) == CAMERA
