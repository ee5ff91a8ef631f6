"""The optimisation instance and its objective, independent of maps and solvers.

Objective (docs/design/planner.md): a demand point ``i`` with weight ``w_i`` that asks for ``k_i`` cameras is worth
``w_i * E[min(N_i, k_i)] / k_i``, where ``N_i`` is the number of chosen poses that see it *and have power*.
Without power modelling every camera has power, so a point counts ``w_i * min(n_i, k_i) / k_i``. With power, each
feeder ``f`` is up with probability ``a_f``, independently of other feeders, and every site on a feeder is down when
the feeder is down (they fail together). For ``k_i = 1`` this is ``w_i * (1 - prod_{f covering i} (1 - a_f))``: a
second camera on the same feeder adds nothing, one on another feeder does. The value is monotone and submodular in the
chosen set, which is what the greedy guarantee needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from camgrid.planner.visibility import Coverage


@dataclass
class Instance:
    """Poses (site x orientation) with costs, demand points with weights and k, and who sees whom."""

    weights: np.ndarray  # float64 [D]
    cost: np.ndarray  # float64 [P]
    coverage: Coverage
    k: np.ndarray | None = None  # int [D], cameras each point asks for (default 1)
    pose_feeder: np.ndarray | None = None  # int [P] feeder index; None = power not modelled
    feeder_availability: np.ndarray | None = None  # float [F]
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # poses already installed
    pose_xy: np.ndarray | None = None  # [P, 2] metres, lets the local search ruin a neighbourhood

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.float64)
        self.cost = np.asarray(self.cost, dtype=np.float64)
        d = self.weights.size
        self.k = np.ones(d, dtype=np.int64) if self.k is None else np.asarray(self.k, dtype=np.int64)
        self.fixed = np.unique(np.asarray(self.fixed, dtype=np.int64))
        if self.coverage.n_points != d or self.coverage.n_poses != self.cost.size:
            raise ValueError("coverage does not match weights/costs")
        if np.any(self.k < 1):
            raise ValueError("k must be >= 1")
        if (self.pose_feeder is None) != (self.feeder_availability is None):
            raise ValueError("give both pose_feeder and feeder_availability, or neither")
        if self.pose_feeder is not None and self.feeder_availability is not None:
            self.pose_feeder = np.asarray(self.pose_feeder, dtype=np.int64)
            self.feeder_availability = np.asarray(self.feeder_availability, dtype=np.float64)
            if self.pose_feeder.size != self.cost.size:
                raise ValueError("pose_feeder must have one entry per pose")
            if np.any((self.feeder_availability < 0) | (self.feeder_availability > 1)):
                raise ValueError("availability must be in [0, 1]")
        # point-major view of the same pairs
        order = np.argsort(self.coverage.pair_point, kind="stable")
        self.pt_pair = order.astype(np.int64)  # pairs sorted by point
        self.pt_ptr = np.searchsorted(self.coverage.pair_point[order], np.arange(d + 1)).astype(np.int64)
        self.pose_ptr = self.coverage.pose_ptr()

    @property
    def n_poses(self) -> int:
        return int(self.cost.size)

    @property
    def n_points(self) -> int:
        return int(self.weights.size)

    @property
    def power(self) -> bool:
        return self.pose_feeder is not None

    @property
    def n_feeders(self) -> int:
        return 1 if self.feeder_availability is None else int(self.feeder_availability.size)

    @property
    def kmax(self) -> int:
        assert self.k is not None
        return int(self.k.max()) if self.k.size else 1

    def feeder_of(self, poses: np.ndarray) -> np.ndarray:
        if self.pose_feeder is None:
            return np.zeros(np.asarray(poses).size, dtype=np.int64)
        return np.asarray(self.pose_feeder[poses])

    def availability(self) -> np.ndarray:
        return np.ones(1) if self.feeder_availability is None else self.feeder_availability

    def points_of(self, pose: int) -> np.ndarray:
        return self.coverage.pair_point[self.pose_ptr[pose] : self.pose_ptr[pose + 1]]

    def total_weight(self) -> float:
        return float(self.weights.sum())


def expected_capped(counts: np.ndarray, avail: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``E[min(N, k)] / k`` per row, where ``N = sum_f up_f * counts[:, f]`` and feeder ``f`` is up with probability
    ``avail[f]``, feeders independent. ``counts`` is [n, F]. This is the power-aware value of a point (times w)."""
    counts = np.asarray(counts)
    n, nf = counts.shape
    k = np.asarray(k, dtype=np.int64)
    kmax = int(k.max()) if n else 1
    dist = np.zeros((n, kmax + 1))
    dist[:, 0] = 1.0
    rows = np.arange(n)
    for f in range(nf):
        c = np.minimum(counts[:, f], kmax)
        active = c > 0
        if not active.any():
            continue
        a = float(avail[f])
        shifted = np.zeros_like(dist)
        for level in range(kmax + 1):
            tgt = np.minimum(level + c, kmax)
            np.add.at(shifted, (rows, tgt), dist[:, level])
        dist = np.where(active[:, None], (1 - a) * dist + a * shifted, dist)
    levels = np.arange(kmax + 1)
    capped = np.minimum(levels[None, :], k[:, None]) / k[:, None]
    return np.asarray((dist * capped).sum(axis=1))


class State:
    """Counts of chosen poses per (point, feeder) and the objective, with fast marginal gains."""

    def __init__(self, inst: Instance, chosen: np.ndarray | None = None) -> None:
        self.inst = inst
        self.counts = np.zeros((inst.n_points, inst.n_feeders), dtype=np.int32)
        self.chosen = np.zeros(inst.n_poses, dtype=bool)
        self.avail = inst.availability()
        assert inst.k is not None
        self.k = inst.k
        self.simple = not inst.power  # counts per point only
        self.power1 = inst.power and inst.kmax == 1
        for p in np.asarray(chosen if chosen is not None else [], dtype=np.int64):
            self.add(int(p))

    # value of points given a counts matrix
    def point_values(self, idx: np.ndarray, counts: np.ndarray) -> np.ndarray:
        w = self.inst.weights[idx]
        k = self.k[idx]
        if self.simple:
            return np.asarray(w * np.minimum(counts[:, 0], k) / k)
        if self.power1:
            miss = np.prod(np.where(counts > 0, 1.0 - self.avail[None, :], 1.0), axis=1)
            return np.asarray(w * (1.0 - miss))
        return np.asarray(w * expected_capped(counts, self.avail, k))

    def value(self) -> float:
        idx = np.arange(self.inst.n_points)
        return float(self.point_values(idx, self.counts).sum())

    def add(self, p: int) -> None:
        pts = self.inst.points_of(p)
        f = int(self.inst.feeder_of(np.array([p]))[0])
        self.counts[pts, f] += 1
        self.chosen[p] = True

    def remove(self, p: int) -> None:
        pts = self.inst.points_of(p)
        f = int(self.inst.feeder_of(np.array([p]))[0])
        self.counts[pts, f] -= 1
        self.chosen[p] = False

    def pair_gains(self, pairs: np.ndarray) -> np.ndarray:
        """Marginal gain each pair (pose p sees point i) would add if p were chosen now."""
        cov = self.inst.coverage
        pts = cov.pair_point[pairs]
        feeders = self.inst.feeder_of(cov.pair_pose[pairs])
        w = self.inst.weights[pts]
        k = self.k[pts]
        if self.simple:
            return np.asarray(np.where(self.counts[pts, 0] < k, w / k, 0.0))
        if self.power1:
            c = self.counts[pts]
            miss = np.prod(np.where(c > 0, 1.0 - self.avail[None, :], 1.0), axis=1)
            return np.asarray(np.where(c[np.arange(pts.size), feeders] == 0, w * miss * self.avail[feeders], 0.0))
        before = self.counts[pts]
        after = before.copy()
        after[np.arange(pts.size), feeders] += 1
        return np.asarray(w * (expected_capped(after, self.avail, k) - expected_capped(before, self.avail, k)))

    def gain(self, p: int) -> float:
        lo, hi = self.inst.pose_ptr[p], self.inst.pose_ptr[p + 1]
        if hi == lo:
            return 0.0
        return float(self.pair_gains(np.arange(lo, hi)).sum())

    def all_gains(self) -> np.ndarray:
        g = self.pair_gains(np.arange(self.inst.coverage.n_pairs))
        return np.bincount(self.inst.coverage.pair_pose, weights=g, minlength=self.inst.n_poses)

    def gains_for_points(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(poses, gains) restricted to pairs whose point is in ``pts``: what changes when those points change."""
        inst = self.inst
        if pts.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        starts, stops = inst.pt_ptr[pts], inst.pt_ptr[pts + 1]
        lens = stops - starts
        idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        pairs = inst.pt_pair[idx]
        return inst.coverage.pair_pose[pairs].astype(np.int64), self.pair_gains(pairs)


def evaluate(inst: Instance, poses: np.ndarray) -> float:
    """Objective of a set of poses (the fixed ones are always included)."""
    chosen = np.union1d(np.asarray(poses, dtype=np.int64), inst.fixed)
    return State(inst, chosen).value()


@dataclass
class Solution:
    """A plan's poses (new ones, without the fixed) with its objective, the best bound known and the gap."""

    solver: str
    poses: np.ndarray
    objective: float
    bound: float
    seconds: float
    status: str = ""
    info: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap (bound - objective) / bound; 0 when the bound is 0."""
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.objective) / self.bound)

    def cost(self, inst: Instance) -> float:
        return float(inst.cost[self.poses].sum())
