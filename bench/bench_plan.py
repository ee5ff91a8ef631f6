"""``make bench-plan``: the coverage planner on the shipped Kathmandu extract against plain HiGHS, in one run.

Instance (issue 5, rebuildable by anyone): demand points are the POIs of the weight table (a POI inside a building
moves to the nearest street point), street junctions (weight 4) and points every 5 m along the streets (weight 1);
candidate sites every 5 m along the streets, 2 m off the centre line, 12 orientations, 90° field of view, 60 m range,
cost 1, budget 150. Streets are every linear highway=* way inside the export box (footways, paths and steps
included). These are the defaults of ``PlannerConfig``.

Measured: visibility (no cache), the heuristic (lazy greedy + local search + neighbourhood re-planning), camgrid's
exact solver (reduced model, warm start, LP-guided start, HiGHS to a 0.1% gap; its time includes the heuristic it
starts from), the same solver run on to the proven optimum (a line of its own: the baseline's stopping rule) and the
baseline: the textbook integer program of the same instance on plain HiGHS (default settings, one thread).
``speedup`` is the baseline's time over ``exact_s``, as issue 5 defined it.
Gaps are against the best bound known (rounded down: the objective is integral). Last line:
``bench-plan: poses=P points=D visibility_s=V heuristic_s=H heuristic_gap=h exact_s=E exact_gap=e
baseline_highs_s=B speedup=X``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from camgrid.config import PlannerConfig
from camgrid.geo.osm import ATTRIBUTION, load_city
from camgrid.planner.exact import solve_exact, solve_textbook
from camgrid.planner.instance import build_instance
from camgrid.planner.service import solve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--map", type=Path, default=None, help="map file (default: shipped Kathmandu extract)")
    ap.add_argument("--budget", type=float, default=150.0)
    ap.add_argument("--heuristic-time", type=float, default=8.0, help="local search time (s)")
    ap.add_argument("--exact-limit", type=float, default=600.0, help="time limit of camgrid's exact solver (s)")
    ap.add_argument(
        "--baseline-limit", type=float, default=900.0, help="plain HiGHS time limit (s); 0 skips the baseline"
    )
    ap.add_argument(
        "--no-prove",
        dest="prove",
        action="store_false",
        help="skip camgrid's exact solver run to the proven optimum (the baseline's stopping rule)",
    )
    args = ap.parse_args(argv)

    cfg = PlannerConfig()
    t0 = time.perf_counter()
    city = load_city(args.map)
    print(
        f"map {city.source}: {len(city.buildings)} buildings, {len(city.streets)} streets ({ATTRIBUTION}); "
        f"map_load_s={time.perf_counter() - t0:.2f}"
    )
    pi = build_instance(city, cfg, cache_dir=None)
    inst = pi.instance
    print(
        f"instance: {inst.n_poses} poses, {inst.n_points} points, {inst.coverage.n_pairs} pairs, "
        f"visibility {pi.visibility_s:.2f}s (built in {time.perf_counter() - t0:.2f}s)",
        flush=True,
    )
    sols = solve(inst, args.budget, "local", heuristic_time_s=args.heuristic_time)
    greedy, heur = sols["greedy"], sols["local"]
    print(
        f"greedy: {greedy.objective:.0f} in {greedy.seconds:.2f}s; "
        f"heuristic: {heur.objective:.0f} in {heur.seconds:.2f}s"
    )
    print(f"heuristic detail: {heur.info}", flush=True)
    exact = solve_exact(inst, args.budget, time_limit_s=args.exact_limit, rel_gap=cfg.mip_rel_gap, start=heur)
    exact_s = heur.seconds + exact.seconds
    print(
        f"exact: {exact.objective:.0f} bound {exact.bound:.3f} status {exact.status} in {exact_s:.2f}s "
        f"(heuristic {heur.seconds:.2f}s + {exact.seconds:.2f}s) {exact.info}",
        flush=True,
    )
    bounds = [exact.bound, heur.bound]
    best_obj = max(greedy.objective, heur.objective, exact.objective)
    proved_s = math.nan
    if args.prove:
        # the same stopping rule as the baseline's: the optimum proven (HiGHS's default gap of 0.01% is below one
        # unit of this integral objective), so both columns below answer the same question
        proved = solve_exact(inst, args.budget, time_limit_s=args.exact_limit, rel_gap=0.0, start=heur)
        proved_s = heur.seconds + proved.seconds
        bounds.append(proved.bound)
        best_obj = max(best_obj, proved.objective)
        print(
            f"exact to the proven optimum: {proved.objective:.0f} bound {proved.bound:.3f} status {proved.status} "
            f"in {heur.seconds + proved.seconds:.2f}s (heuristic {heur.seconds:.2f}s + {proved.seconds:.2f}s) "
            f"{proved.info}",
            flush=True,
        )
    base_s = math.nan
    if args.baseline_limit > 0:
        base = solve_textbook(inst, args.budget, time_limit_s=args.baseline_limit)
        base_s = base.seconds
        bounds.append(base.bound)
        best_obj = max(best_obj, base.objective)
        print(
            f"baseline plain HiGHS: {base.objective:.0f} bound {base.bound:.3f} status {base.status} "
            f"in {base.seconds:.2f}s {base.info}",
            flush=True,
        )
        if base.status != "Optimal":
            print("note: the baseline stopped at its time limit; its time is a lower bound", flush=True)
    bound = min(bounds)
    if np.all(inst.weights == np.round(inst.weights)) and np.all(inst.k == 1) and not inst.power:
        bound = math.floor(bound + 1e-6)  # integral objective
    bound = max(bound, best_obj)

    def gap(v: float) -> float:
        return (bound - v) / bound if bound > 0 else 0.0

    print(f"greedy_gap={gap(greedy.objective):.4f} best_objective={best_obj:.0f} best_bound={bound:.3f}")
    speedup = base_s / exact_s if exact_s > 0 else math.nan
    if args.prove and math.isfinite(base_s):
        print(f"optimum proven by both: camgrid {proved_s:.2f}s, plain HiGHS {base_s:.2f}s, {base_s / proved_s:.2f}x")
    print(
        f"bench-plan: poses={inst.n_poses} points={inst.n_points} visibility_s={pi.visibility_s:.2f} "
        f"heuristic_s={heur.seconds:.2f} heuristic_gap={gap(heur.objective):.4f} exact_s={exact_s:.2f} "
        f"exact_gap={gap(exact.objective):.4f} baseline_highs_s={base_s:.2f} speedup={speedup:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
