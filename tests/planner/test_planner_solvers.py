"""Solvers against brute force on small random instances (docs/design/planner.md, "Solvers"): the exact solver
equals brute force (so the model reductions keep the optimum), greedy keeps its guarantee, the local search never
loses to greedy, and every reported bound is a true upper bound."""

from __future__ import annotations

import dataclasses
import math

import highspy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planner_helpers import random_instance

from camgrid.planner.exact import build_model, lp_guided_start, reduce_instance, solve_exact, solve_textbook
from camgrid.planner.formulation import State, evaluate
from camgrid.planner.lns import lns_improve
from camgrid.planner.solvers import brute_force, lazy_greedy, local_search

GUARANTEE = 1 - 1 / math.e
TOL = 1e-6


def check_solution(inst, budget, sol, opt):  # type: ignore[no-untyped-def]
    assert float(inst.cost[sol.poses].sum()) <= budget + TOL
    assert not set(sol.poses.tolist()) & set(inst.fixed.tolist())
    assert sol.objective == pytest.approx(evaluate(inst, sol.poses), abs=TOL)
    assert sol.objective <= opt + TOL
    assert sol.bound >= opt - TOL  # a bound is a bound


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), budget=st.integers(1, 5), density=st.floats(0.1, 0.6))
def test_unit_costs_exact_equals_brute_and_greedy_keeps_its_guarantee(seed: int, budget: int, density: float) -> None:
    inst = random_instance(seed, density=density)
    opt = brute_force(inst, budget).objective
    greedy = lazy_greedy(inst, budget)
    local = local_search(inst, budget, greedy, time_limit_s=2.0, max_iters=50)
    exact = solve_exact(inst, budget, start=local, rel_gap=0.0, time_limit_s=20)
    for sol in (greedy, local, exact):
        check_solution(inst, budget, sol, opt)
    assert exact.objective == pytest.approx(opt, abs=TOL)
    assert greedy.objective >= GUARANTEE * opt - TOL
    assert local.objective >= greedy.objective - TOL


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), budget=st.integers(1, 7))
def test_unequal_costs_k_coverage_and_fixed_cameras(seed: int, budget: int) -> None:
    inst = random_instance(seed, unit_cost=False, k_max=2, n_fixed=1, density=0.35)
    opt = brute_force(inst, budget).objective
    greedy = lazy_greedy(inst, budget)
    local = local_search(inst, budget, greedy, time_limit_s=2.0, max_iters=50)
    exact = solve_exact(inst, budget, start=local, rel_gap=0.0, time_limit_s=20)
    for sol in (greedy, local, exact):
        check_solution(inst, budget, sol, opt)
    assert exact.objective == pytest.approx(opt, abs=TOL)
    # cost-effective greedy with the best-single-item rule: (1 - 1/e) / 2 for any costs
    assert greedy.objective >= GUARANTEE / 2 * opt - TOL
    assert local.objective >= greedy.objective - TOL


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), budget=st.integers(1, 4))
def test_power_aware_exact_equals_brute(seed: int, budget: int) -> None:
    inst = random_instance(seed, feeders=3, density=0.4, n_fixed=seed % 2)
    opt = brute_force(inst, budget).objective
    greedy = lazy_greedy(inst, budget)
    exact = solve_exact(inst, budget, start=greedy, rel_gap=0.0, time_limit_s=20)
    for sol in (greedy, exact):
        check_solution(inst, budget, sol, opt)
    assert exact.objective == pytest.approx(opt, abs=1e-6)
    assert greedy.objective >= GUARANTEE * opt - TOL


def test_power_aware_k2_runs_in_heuristics_and_is_refused_by_exact() -> None:
    inst = random_instance(3, feeders=2, k_max=2, density=0.4)
    opt = brute_force(inst, 3).objective
    local = local_search(inst, 3, time_limit_s=1.0, max_iters=20)
    check_solution(inst, 3, local, opt)
    with pytest.raises(ValueError, match="k = 1"):
        solve_exact(inst, 3, start=local)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_reduction_keeps_the_optimum_and_shrinks(seed: int) -> None:
    inst = random_instance(seed, n_poses=14, n_points=10, density=0.25)
    red = reduce_instance(inst, 3)
    assert red.poses.size <= inst.n_poses
    assert len(red.groups) <= inst.n_points
    assert sum(m.size for m in red.point_members) <= inst.n_points
    # every removed pose has a kept (transitive) dominator that sees at least what it sees
    kept = set(red.poses.tolist())
    for p, q in red.dominator.items():
        while q not in kept:
            q = red.dominator[q]
        assert set(inst.points_of(p).tolist()) <= set(inst.points_of(q).tolist())
        assert inst.cost[q] <= inst.cost[p]
    opt = brute_force(inst, 3, max_poses=14).objective
    assert solve_exact(inst, 3, rel_gap=0.0, time_limit_s=20).objective == pytest.approx(opt)


def test_textbook_baseline_matches_exact() -> None:
    inst = random_instance(11, n_poses=12, n_points=20)
    opt = brute_force(inst, 4).objective
    base = solve_textbook(inst, 4, time_limit_s=20)
    assert base.status == "Optimal"
    assert base.objective == pytest.approx(opt)


def test_lns_improves_or_keeps_and_respects_budget() -> None:
    inst = random_instance(5, n_poses=60, n_points=80, density=0.08)
    greedy = lazy_greedy(inst, 8)
    better = lns_improve(inst, 8, greedy, time_limit_s=3.0, radius_m=120.0)
    assert better.objective >= greedy.objective - TOL
    assert float(inst.cost[better.poses].sum()) <= 8 + TOL
    assert better.objective == pytest.approx(evaluate(inst, better.poses))
    exact = solve_exact(inst, 8, rel_gap=0.0, time_limit_s=30)
    assert better.objective <= exact.objective + TOL


def test_state_incremental_gains_match_recomputation() -> None:
    inst = random_instance(8, n_poses=15, n_points=25, k_max=2, feeders=3)
    st_ = State(inst, np.array([1, 4]))
    for p in range(inst.n_poses):
        if st_.chosen[p]:
            continue
        direct = State(inst, np.array([1, 4, p])).value() - st_.value()
        assert st_.gain(p) == pytest.approx(direct)
        assert st_.all_gains()[p] == pytest.approx(direct)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    budget=st.integers(1, 6),
    gap=st.sampled_from([0.0, 0.05, 0.2]),
    lp_start=st.booleans(),
    fractional=st.booleans(),
)
def test_exact_bound_is_floored_only_when_the_objective_is_integral_and_the_gap_holds(
    seed: int, budget: int, gap: float, lp_start: bool, fractional: bool
) -> None:
    """planner.md, "Exact solver": with integer weights floor(bound) is a bound, and the solver stops once it is
    within the gap; with fractional weights the bound is HiGHS's own."""
    inst = random_instance(seed, n_poses=14, n_points=30, density=0.25)
    if fractional:
        inst = dataclasses.replace(inst, weights=inst.weights + np.random.default_rng(seed).random(inst.n_points))
    opt = brute_force(inst, budget, max_poses=14).objective
    greedy = lazy_greedy(inst, budget, with_bound=False)
    exact = solve_exact(inst, budget, start=greedy, rel_gap=gap, time_limit_s=20, lp_start=lp_start)
    check_solution(inst, budget, exact, opt)
    assert exact.status == "Optimal"
    assert exact.bound - exact.objective <= gap * exact.objective + TOL
    if gap == 0.0:
        assert exact.objective == pytest.approx(opt, abs=TOL)
    if not fractional:
        assert exact.bound == math.floor(exact.bound)


@pytest.mark.parametrize("seed", range(8))
def test_lp_guided_start_only_uses_the_lp_support_or_the_start_and_keeps_the_budget(seed: int) -> None:
    inst = random_instance(seed, n_poses=40, n_points=60, density=0.12)
    budget = 5.0
    red = reduce_instance(inst, budget)
    lp, n_x, _ = build_model(inst, red, budget)
    x0 = np.zeros(n_x)
    x0[: min(2, n_x)] = 1.0  # a start of the first two kept poses
    relaxed = highspy.Highs()  # type: ignore[no-untyped-call]
    relaxed.setOptionValue("output_flag", False)
    relaxed.setOptionValue("threads", 1)
    relaxed.passModel(lp)
    idx = np.arange(lp.num_col_, dtype=np.int32)
    relaxed.changeColsIntegrality(idx.size, idx, np.full(idx.size, highspy.HighsVarType.kContinuous))
    relaxed.run()
    support = np.asarray(relaxed.getSolution().col_value)[:n_x] > 1e-6
    x = lp_guided_start(lp, red.poses.size, x0, time_limit_s=10.0)
    assert x is not None
    assert set(np.unique(x).tolist()) <= {0.0, 1.0}
    chosen = x > 0.5
    assert not np.any(chosen & ~support & (x0 < 0.5))
    assert float(inst.cost[red.poses[chosen]].sum()) <= budget + TOL
    assert evaluate(inst, red.poses[chosen]) >= evaluate(inst, red.poses[x0 > 0.5]) - TOL
