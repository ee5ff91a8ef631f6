"""Small random instances for the solver tests."""

from __future__ import annotations

import numpy as np

from camgrid.planner.formulation import Instance
from camgrid.planner.visibility import Coverage


def random_instance(
    seed: int,
    *,
    n_poses: int = 9,
    n_points: int = 12,
    density: float = 0.3,
    unit_cost: bool = True,
    k_max: int = 1,
    feeders: int = 0,
    n_fixed: int = 0,
) -> Instance:
    rng = np.random.default_rng(seed)
    a = rng.random((n_poses, n_points)) < density
    pose, point = np.nonzero(a)
    cov = Coverage(n_poses, n_points, pose.astype(np.int32), point.astype(np.int32))
    weights = rng.integers(1, 11, n_points).astype(float)
    cost = np.ones(n_poses) if unit_cost else rng.integers(1, 4, n_poses).astype(float)
    k = rng.integers(1, k_max + 1, n_points)
    fixed = rng.choice(n_poses, n_fixed, replace=False) if n_fixed else np.zeros(0, dtype=np.int64)
    cost[fixed] = 0.0
    power = {}
    if feeders:
        power = {
            "pose_feeder": rng.integers(0, feeders, n_poses),
            "feeder_availability": rng.uniform(0.3, 1.0, feeders).round(2),
        }
    return Instance(weights, cost, cov, k=k, fixed=fixed, pose_xy=rng.uniform(0, 300, (n_poses, 2)), **power)
