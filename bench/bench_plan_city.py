"""``make bench-plan-city``: a 10 x 10 km synthetic city tiled from the shipped Kathmandu extract, planned with the
decomposed planner (docs/design/planner-city.md) for a budget of 15,000 cameras.

The city: ``camgrid plan city-gen --km 10`` (mirrored and shifted copies of the extract, © OpenStreetMap
contributors, ODbL; districts and feeders synthetic), the planner defaults of ``make bench-plan`` (points every 5 m,
sites every 5 m with 12 orientations, 90° / 60 m cameras, cost 1). ``gap`` is against the proven global bound of
the run; ``peak_rss_mb`` is the larger of this process's and its worker processes' peaks; ``plan_s`` covers
visibility, bounds and solves (not the city generation). Targets: gap <= 0.01, plan_s <= 1800, peak_rss_mb <= 8000.
Last line: ``bench-plan-city: km2=A poses=P points=D plan_s=T gap=G peak_rss_mb=M``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from camgrid.config import CITY_TILE_M, PlannerConfig
from camgrid.planner.city import plan_city
from camgrid.planner.citymap import generate_city, write_manifest


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # Linux reports KiB


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--km", type=float, default=10.0, help="side of the square city (km)")
    ap.add_argument("--budget", type=float, default=15_000.0)
    ap.add_argument("--tile-m", type=float, default=CITY_TILE_M, help="tile side (m); see planner-city.md, Measured")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--heuristic-time", type=float, default=8.0, help="local search time per tile (s)")
    ap.add_argument("--exact-time", type=float, default=0.0, help="exact solver time per tile (s; 0 = none)")
    ap.add_argument(
        "--consensus-rounds", type=int, default=2, help="bound consensus rounds (planner-city.md; 0 = none)"
    )
    ap.add_argument("--bound-time", type=float, default=0.0, help="integer Lagrangian bound per tile (s; 0 = none)")
    ap.add_argument(
        "--time-limit",
        type=float,
        default=1800.0,
        help="time limit of the plan (s; 0 = none): later steps are skipped when the time left cannot cover them",
    )
    ap.add_argument("--no-border-windows", action="store_true", help="skip the border windows (planner-city.md)")
    ap.add_argument("--no-grid-windows", action="store_true", help="plan without the city-wide windows")
    ap.add_argument("--border-time", type=float, default=2.0, help="search time per border window (s)")
    args = ap.parse_args(argv)
    cfg = PlannerConfig()
    with tempfile.TemporaryDirectory(prefix="camgrid-bench-city-") as tmp:
        manifest = Path(tmp) / "city.json"
        t0 = time.perf_counter()
        doc = generate_city(args.km, cfg)
        write_manifest(doc, manifest)
        gen_s = time.perf_counter() - t0
        print(f"city: {doc['km2']} km² from {doc['copies']} copies ({doc['attribution']}) in {gen_s:.1f}s")
        last = [0.0, ""]

        def progress(obj: float, bound: float, gap: float, done: int, total: int, phase: str) -> None:
            now = time.perf_counter()
            if now - float(last[0]) > 30 or done == total or phase != last[1]:
                last[0], last[1] = now, phase
                shown = f"{now - t0:.0f}s {phase} {done}/{total} objective={obj:.0f} bound={bound:.1f} gap={gap:.4f}"
                print(f"  {shown}", flush=True)

        t1 = time.perf_counter()
        plan = plan_city(
            instance_source=manifest,
            budget=args.budget,
            cfg=cfg,
            tile_m=args.tile_m,
            workers=args.workers,
            heuristic_time_s=args.heuristic_time,
            exact_time_s=args.exact_time,
            consensus_rounds=args.consensus_rounds,
            bound_time_s=args.bound_time,
            time_limit_s=args.time_limit or None,
            border_windows=not args.no_border_windows,
            border_time_s=args.border_time,
            grid_windows_on=not args.no_grid_windows,
            progress=progress,
        )
        plan_s = time.perf_counter() - t1
    print(
        f"plan: objective={plan.objective:.0f} bound={plan.bound:.1f} cameras={plan.poses.size} spent={plan.spent:.0f} "
        f"tiles={plan.tiles} covered_points={plan.covered_points} pairs={plan.n_pairs} timings={plan.timings} "
        f"skipped_for_time={plan.extra.get('skipped_for_time')} cut_for_time={plan.extra.get('cut_for_time')}"
    )
    print(
        f"bench-plan-city: km2={plan.km2:.1f} poses={plan.n_poses} points={plan.n_points} plan_s={plan_s:.1f} "
        f"gap={plan.gap:.4f} peak_rss_mb={_peak_rss_mb():.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
