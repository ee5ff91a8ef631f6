"""City plan over several years planned jointly, optionally power-aware: per-year value, bound and gap.

Not a target of issue 18's benchmark line; it measures what the years (and power) cost on top of ``plan_city``
(docs/design/planner-city.md, "Years"). Example: ``python bench/bench_plan_city_years.py --km 1 --budget 150
--years 4 --tile-m 500``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from camgrid.config import PlannerConfig
from camgrid.planner.city_phases import plan_city_phases
from camgrid.planner.citymap import generate_city, write_manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--km", type=float, default=1.0, help="side of the square synthetic city (km)")
    ap.add_argument("--budget", type=float, default=150.0, help="total budget, split equally over the years")
    ap.add_argument("--years", type=int, default=4)
    ap.add_argument("--power", action="store_true", help="power-aware (planner.power_aware)")
    ap.add_argument("--tile-m", type=float, default=500.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--heuristic-time", type=float, default=3.0)
    args = ap.parse_args(argv)
    cfg = PlannerConfig(power_aware=args.power)
    budgets = [args.budget / args.years] * args.years
    with tempfile.TemporaryDirectory(prefix="camgrid-bench-years-") as tmp:
        manifest = Path(tmp) / "city.json"
        write_manifest(generate_city(args.km, cfg), manifest)
        t0 = time.perf_counter()
        plan, years = plan_city_phases(
            instance_source=manifest,
            budgets=budgets,
            cfg=cfg,
            tile_m=args.tile_m,
            workers=args.workers,
            heuristic_time_s=args.heuristic_time,
        )
        plan_s = time.perf_counter() - t0
    for y in years.as_dicts():
        print(f"  year {y['phase']}: {y}")
    info = " ".join(f"{k}={v:.1f}" for k, v in years.info.items())
    print(f"plan: objective={plan.objective:.1f} bound={plan.bound:.1f} timings={plan.timings}")
    print(
        f"bench-plan-city-years: km2={plan.km2:.1f} years={len(budgets)} power={int(args.power)} plan_s={plan_s:.1f} "
        f"{info} joint_objective={years.objective:.1f} joint_bound={years.bound:.1f} joint_gap={years.gap:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
