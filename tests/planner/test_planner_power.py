"""The power-aware objective on a table of cases (docs/design/planner.md, "Power"): sites on one feeder fail
together, feeders fail independently."""

from __future__ import annotations

import numpy as np
import pytest

from camgrid.planner.formulation import Instance, State, expected_capped
from camgrid.planner.visibility import Coverage

# (cameras per feeder, feeder availability, k, expected value of a weight-1 point)
CASES = [
    ([1], [0.8], 1, 0.8),
    ([2], [0.8], 1, 0.8),  # a second camera on the same feeder adds nothing: they fail together
    ([1, 1], [0.8, 0.5], 1, 1 - 0.2 * 0.5),  # different feeders: independent
    ([2, 1], [0.8, 0.5], 1, 1 - 0.2 * 0.5),
    ([0, 0], [0.8, 0.5], 1, 0.0),
    ([1], [1.0], 1, 1.0),
    ([3], [0.0], 1, 0.0),
    ([1], [0.8], 2, 0.4),  # asks for two cameras, has one: half the point, when powered
    ([2], [0.8], 2, 0.8),  # two on one feeder: both or neither
    ([1, 1], [0.8, 0.5], 2, (0.8 + 0.5) / 2),  # E[min(N, 2)] / 2 = (a + b) / 2
    ([3], [0.9], 2, 0.9),  # min(3, 2) = 2 when up
    ([1, 1, 1], [0.5, 0.5, 0.5], 2, (0.375 * 1 + 0.5 * 2) / 2),  # N ~ Bin(3, 0.5)
]


def _reference(counts: list[int], avail: list[float], k: int) -> float:
    """Enumerate every up/down combination of the feeders."""
    total = 0.0
    n = len(counts)
    for mask in range(1 << n):
        p, cams = 1.0, 0
        for f in range(n):
            up = bool(mask >> f & 1)
            p *= avail[f] if up else 1 - avail[f]
            cams += counts[f] if up else 0
        total += p * min(cams, k) / k
    return total


@pytest.mark.parametrize(("counts", "avail", "k", "expected"), CASES)
def test_expected_value_table(counts: list[int], avail: list[float], k: int, expected: float) -> None:
    got = float(expected_capped(np.array([counts]), np.array(avail), np.array([k]))[0])
    assert got == pytest.approx(expected)
    assert got == pytest.approx(_reference(counts, avail, k))


def test_state_fast_path_equals_general_path_and_reference() -> None:
    # three poses see one point: two on feeder 0, one on feeder 1
    cov = Coverage(3, 1, np.array([0, 1, 2], dtype=np.int32), np.array([0, 0, 0], dtype=np.int32))
    inst = Instance(
        np.array([10.0]), np.ones(3), cov, pose_feeder=np.array([0, 0, 1]), feeder_availability=np.array([0.8, 0.5])
    )
    assert State(inst, np.array([0])).value() == pytest.approx(8.0)
    assert State(inst, np.array([0, 1])).value() == pytest.approx(8.0)
    assert State(inst, np.array([0, 2])).value() == pytest.approx(10 * (1 - 0.2 * 0.5))
    st = State(inst, np.array([0]))
    assert st.gain(1) == pytest.approx(0.0)
    assert st.gain(2) == pytest.approx(10 * (1 - 0.2 * 0.5) - 8.0)


def test_power_changes_the_choice() -> None:
    # one camera to add; the point is already seen by an installed camera on feeder 0.
    # pose 1 (feeder 0, sees 11 weight) vs pose 2 (feeder 1, sees 10 weight, incl. the point)
    cov = Coverage(
        3,
        2,
        np.array([0, 1, 1, 2], dtype=np.int32),
        np.array([0, 0, 1, 0], dtype=np.int32),
    )
    weights = np.array([10.0, 1.0])
    plain = Instance(weights, np.array([0.0, 1.0, 1.0]), cov, fixed=np.array([0]))
    power = Instance(
        weights,
        np.array([0.0, 1.0, 1.0]),
        cov,
        fixed=np.array([0]),
        pose_feeder=np.array([0, 0, 1]),
        feeder_availability=np.array([0.5, 0.9]),
    )
    from camgrid.planner.exact import solve_exact

    assert solve_exact(plain, 1, rel_gap=0.0).poses.tolist() == [1]  # more weight
    assert solve_exact(power, 1, rel_gap=0.0).poses.tolist() == [2]  # a second feeder for the important point
