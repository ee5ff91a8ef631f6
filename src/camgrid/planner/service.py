"""Plans: one solver or all side by side, over one or several phases (a budget per year, each extending the last).

Phases are solved in order: year t fixes every camera of years < t (they are installed) and spends its own budget on
the best additions; the report says what each year adds. This is the myopic plan a city can actually follow (each
year's plan is final when it is bought); docs/design/planner.md discusses the alternative of one joint model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from camgrid.planner.exact import solve_exact
from camgrid.planner.formulation import Instance, Solution, State
from camgrid.planner.instance import PlanInstance
from camgrid.planner.lns import lns_improve
from camgrid.planner.solvers import lazy_greedy, local_search

SOLVERS = ("greedy", "local", "exact")


@dataclass
class Phase:
    index: int  # 1-based
    budget: float
    solution: Solution  # poses added this phase
    objective: float  # value of everything installed after this phase
    gain: float  # what this phase adds
    alternatives: dict[str, Solution] = field(default_factory=dict)


@dataclass
class Plan:
    phases: list[Phase]
    base_value: float  # value of the existing cameras alone
    seconds: float

    @property
    def poses(self) -> np.ndarray:
        parts = [p.solution.poses for p in self.phases]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def phase_of(self) -> dict[int, int]:
        return {int(p): ph.index for ph in self.phases for p in ph.solution.poses}

    @property
    def objective(self) -> float:
        return self.phases[-1].objective if self.phases else self.base_value

    @property
    def bound(self) -> float:
        """Bound of the last phase given the earlier phases (the plan's own gap)."""
        return self.phases[-1].solution.bound if self.phases else self.base_value

    @property
    def gap(self) -> float:
        return self.phases[-1].solution.gap if self.phases else 0.0


def with_fixed(inst: Instance, fixed: np.ndarray) -> Instance:
    """The same instance with more installed cameras."""
    return Instance(
        weights=inst.weights,
        cost=inst.cost,
        coverage=inst.coverage,
        k=inst.k,
        pose_feeder=inst.pose_feeder,
        feeder_availability=inst.feeder_availability,
        fixed=np.union1d(inst.fixed, fixed),
        pose_xy=inst.pose_xy,
    )


def solve(
    inst: Instance,
    budget: float,
    solver: str,
    *,
    time_limit_s: float = 60.0,
    heuristic_time_s: float = 8.0,
    rel_gap: float = 1e-3,
    lns_stall: int = 0,
) -> dict[str, Solution]:
    """Run ``solver`` ("greedy", "local", "exact" or "all"); the heuristics feed each other and the exact solver.
    ``lns_stall``: the neighbourhood search stops after that many sub-problems in a row without a gain (0: never)."""
    if solver not in (*SOLVERS, "all"):
        raise ValueError(f"unknown solver {solver!r}; use one of {', '.join((*SOLVERS, 'all'))}")
    out: dict[str, Solution] = {}
    greedy = lazy_greedy(inst, budget)
    out["greedy"] = greedy
    if solver == "greedy":
        return out
    ls = local_search(inst, budget, greedy, time_limit_s=heuristic_time_s * 0.15)
    left = max(0.0, heuristic_time_s - (ls.seconds))
    local = lns_improve(inst, budget, ls, time_limit_s=left, stall=lns_stall) if left > 0 else ls
    out["local"] = local
    if solver == "local":
        return out
    exact = solve_exact(inst, budget, time_limit_s=time_limit_s, rel_gap=rel_gap, start=local)
    exact.seconds += local.seconds
    out["exact"] = exact
    # the proven bound is valid for every solver's plan of this instance
    for s in out.values():
        s.bound = max(s.objective, min(s.bound, exact.bound))
    return out


def best_of(solutions: dict[str, Solution]) -> Solution:
    return max(solutions.values(), key=lambda s: (s.objective, -s.seconds))


def plan_phases(
    inst: Instance,
    budgets: Sequence[float],
    solver: str = "local",
    *,
    time_limit_s: float = 60.0,
    heuristic_time_s: float = 8.0,
    rel_gap: float = 1e-3,
) -> Plan:
    """One phase per budget; each phase keeps what the earlier ones installed."""
    t0 = time.perf_counter()
    base_value = State(inst, inst.fixed).value()
    phases: list[Phase] = []
    installed = np.zeros(0, dtype=np.int64)
    before = base_value
    for i, b in enumerate(budgets, start=1):
        cur = with_fixed(inst, installed) if installed.size else inst
        sols = solve(
            cur, float(b), solver, time_limit_s=time_limit_s, heuristic_time_s=heuristic_time_s, rel_gap=rel_gap
        )
        chosen = sols[solver] if solver != "all" else best_of(sols)
        installed = np.union1d(installed, chosen.poses)
        phases.append(Phase(i, float(b), chosen, chosen.objective, chosen.objective - before, sols))
        before = chosen.objective
    return Plan(phases, base_value, time.perf_counter() - t0)


def coverage_summary(pi: PlanInstance, poses: np.ndarray) -> dict[str, Any]:
    """Expected covered weight per district and per category, for the chosen poses plus the existing cameras."""
    inst = pi.instance
    state = State(inst, np.union1d(inst.fixed, poses))
    idx = np.arange(inst.n_points)
    values = state.point_values(idx, state.counts)
    out: dict[str, Any] = {"by_district": {}, "by_category": {}}
    for key, attr in (("by_district", "district"), ("by_category", "category")):
        table: dict[str, dict[str, float]] = {}
        for i, p in enumerate(pi.points):
            name = getattr(p, attr)
            row = table.setdefault(name, {"points": 0, "covered_points": 0, "weight": 0.0, "covered_weight": 0.0})
            row["points"] += 1
            row["weight"] += p.weight
            row["covered_weight"] += float(values[i])
            if state.counts[i].sum() > 0:
                row["covered_points"] += 1
        for row in table.values():
            row["share"] = round(row["covered_weight"] / row["weight"], 4) if row["weight"] else 0.0
            row["covered_weight"] = round(row["covered_weight"], 3)
        out[key] = dict(sorted(table.items()))
    total_w = float(inst.weights.sum())
    out["total"] = {
        "weight": total_w,
        "covered_weight": round(float(values.sum()), 3),
        "share": round(float(values.sum()) / total_w, 4) if total_w else 0.0,
    }
    return out
