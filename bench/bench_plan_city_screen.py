"""``make bench-plan-city-screen``: issue 18's "a planner plans the 100 km² city from the control room with a
progress bar and sees its bound", end to end with the parts a city runs: ``camgrid plan city-gen`` (the 10 x 10 km
synthetic city), ``camgrid users add`` (a planner), ``camgrid serve`` (its background plan worker, the server's
``plan_runs.city_time_limit_s``) and Debian's Chromium on the planner screen. The planner picks the whole city, one
year of 15,000 cameras of the model the bench's planner uses (dome-90: 90°, 60 m, cost 1), starts the run, reloads the
page while it runs, watches the bar to the end, reads objective, bound and gap from the row, and imports the plan
as planned cameras. Prints one last line
``bench-plan-city-screen: km2=A plan_s=T gap=G bound=B objective=O phases=N bar_moves=M first_bound_s=F import_s=I``.

Its baseline is ``make bench-plan-city`` (the same problem from the command line, no server); both take the
machine's two cores for half an hour, so they are run one after the other, not in one run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
PASSWORD = "bench-planner-Pass-1"  # a throwaway home's only user


CAMGRID = str(Path(sys.executable).parent / "camgrid")  # the virtualenv's entry point


def _camgrid(home: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([CAMGRID, "--home", str(home), *args], check=True, env=env)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, check: Any, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"bench-plan-city-screen: {what} did not happen within {timeout_s:.0f} s")


def _row(page: Any, rid: int) -> dict[str, Any]:
    """What the planner screen shows of run ``rid`` now."""
    out: dict[str, Any] = page.evaluate(
        """(id) => {
          const q = (k) => document.querySelector(`[data-testid="planner-${k}-${id}"]`);
          const row = document.querySelector(`[data-testid="planner-run-${id}"]`);
          const bar = q("progress");
          return {state: row ? row.dataset.state : null, value: bar ? bar.value : null, max: bar ? bar.max : null,
                  objective: q("objective")?.textContent ?? null, bound: q("bound")?.textContent ?? null,
                  gap: q("gap")?.textContent ?? null, phase: q("phase")?.textContent ?? null};
        }""",
        rid,
    )
    return out


def _number(text: str | None) -> float | None:
    try:
        return float((text or "").replace(",", "").replace("\u202f", "").replace("\xa0", "").strip())
    except ValueError:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--km", type=float, default=10.0, help="side of the synthetic city (km)")
    ap.add_argument("--budget", type=int, default=15_000, help="cameras of the one year planned")
    ap.add_argument("--time-limit", type=float, default=1800.0, help="the server's plan_runs.city_time_limit_s")
    ap.add_argument("--home", type=Path, default=None, help="camgrid home (default: a new temporary folder)")
    ap.add_argument("--shots", type=Path, default=None, help="screenshots folder (default: <home>/shots)")
    ap.add_argument("--no-import", action="store_true", help="do not import the plan as planned cameras")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("bench-plan-city-screen: needs Debian's chromium (make deps installs it)")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    home = args.home or Path(tempfile.mkdtemp(prefix="camgrid-bench-screen-"))
    shots = args.shots or home / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    city = home / "city.json"
    if not city.exists():
        _camgrid(home, "plan", "city-gen", "--km", str(args.km), "--out", str(city))
    env = {**os.environ, "CAMGRID_NEW_PASSWORD": PASSWORD}
    _camgrid(home, "users", "add", "plan", "--role", "planner", env=env)
    port = _free_port()
    env = {
        **os.environ,
        "CAMGRID_PLAN_RUNS__MAP_PATH": str(city),
        "CAMGRID_PLAN_RUNS__CITY_TIME_LIMIT_S": str(args.time_limit),
        "CAMGRID_PLAN_RUNS__MAX_BUDGET": str(max(100_000, args.budget)),
    }
    log = (home / "serve.log").open("wb")
    server = subprocess.Popen(
        [CAMGRID, "--home", str(home), "serve", "--no-record", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if server.poll() is not None:
            raise SystemExit(f"bench-plan-city-screen: camgrid serve exited ({home / 'serve.log'})")
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                return True
        except OSError:
            return False

    seen: list[tuple[float, dict[str, Any]]] = []
    try:
        _wait("camgrid serve answering", up, 300)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: d.accept())
            page.goto(base + "/#/login")
            page.fill('[data-testid="login-username"]', "plan")
            page.fill('[data-testid="login-password"]', PASSWORD)
            page.click('[data-testid="login-submit"]')
            page.wait_for_selector('[data-testid="current-user"]:not(:empty)', timeout=30_000)
            page.click('[data-testid="nav-planner"]')
            page.wait_for_selector('[data-testid="planner-area-city"]', timeout=60_000)
            page.check('[data-testid="planner-area-city"]')
            page.fill('[data-testid="planner-budget-1"]', str(args.budget))
            for name in ("dome-90", "wide-120", "long-60"):
                page.set_checked(f'[data-testid="planner-model-{name}"]', name == "dome-90")
            page.screenshot(path=str(shots / "city-screen-start.png"), full_page=True)
            t0 = time.monotonic()
            page.click('[data-testid="planner-start"]')
            page.wait_for_selector('[data-testid^="planner-run-"]', timeout=60_000)
            error = page.text_content('[data-testid="planner-error"]')
            if error:
                raise SystemExit(f"bench-plan-city-screen: the run was refused: {error}")
            testid = page.locator('[data-testid^="planner-run-"]').first.get_attribute("data-testid") or ""
            rid = int(testid.rsplit("-", 1)[1])
            first_bound_s: float | None = None
            reloaded = False
            limit = 2 * args.time_limit + 1800  # the preparation and the first sweep always complete
            while time.monotonic() - t0 < limit:
                now = _row(page, rid)
                seen.append((time.monotonic() - t0, now))
                bound = _number(now["bound"])
                if first_bound_s is None and bound is not None and bound > 0:
                    first_bound_s = time.monotonic() - t0
                    page.screenshot(path=str(shots / "city-screen-first-bound.png"), full_page=True)
                    print(f"first bound after {first_bound_s:.0f} s: {now}", flush=True)
                if now["state"] in ("done", "failed", "stopped"):
                    break
                if now["state"] == "running" and not reloaded and time.monotonic() - t0 > 60:
                    page.reload()  # the run lives in the server's worker, not in the page
                    page.wait_for_selector(f'[data-testid="planner-run-{rid}"]', timeout=60_000)
                    reloaded = True
                if len(seen) % 30 == 0:
                    print(f"{seen[-1][0]:.0f} s: {now}", flush=True)
                page.wait_for_timeout(2000)
            plan_s = time.monotonic() - t0
            done = _row(page, rid)
            page.screenshot(path=str(shots / "city-screen-done.png"), full_page=True)
            if done["state"] != "done":
                raise SystemExit(f"bench-plan-city-screen: the run ended {done['state']}: {done}")
            import_s = -1.0  # -1: not asked, or the screen did not show the plan imported within 10 minutes
            if not args.no_import:
                t1 = time.monotonic()
                page.click(f'[data-testid="planner-import-{rid}"]')
                try:
                    page.wait_for_selector(f'[data-testid="planner-imported-{rid}"]', timeout=600_000)
                    import_s = time.monotonic() - t1
                except PlaywrightTimeout:
                    print("the screen did not show the plan imported within 600 s", flush=True)
                page.screenshot(path=str(shots / "city-screen-imported.png"), full_page=True)
            detail = page.evaluate(
                "(id) => fetch(`/api/planner/runs/${id}`, {credentials: 'same-origin'}).then(r => r.json())", rid
            )
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
    phases = [r["phase"].strip() for _, r in seen if (r["phase"] or "").strip()]
    distinct = list(dict.fromkeys(phases))
    moves = sum(1 for (_, a), (_, b) in itertools.pairwise(seen) if (a["value"], a["max"]) != (b["value"], b["max"]))
    print("phases shown:", " | ".join(distinct))
    print("run detail:", json.dumps(detail)[:2000])
    if errors:
        print("page errors:", errors)
    print(f"the row at the end: {done}")
    # the figures the screen showed, at the API's precision
    objective, bound, gap = detail.get("objective"), detail.get("bound"), detail.get("gap")
    print(
        f"bench-plan-city-screen: km2={args.km * args.km:.1f} plan_s={plan_s:.1f} gap={gap:.4f} bound={bound:.1f} "
        f"objective={objective:.0f} phases={len(distinct)} bar_moves={moves} "
        f"first_bound_s={-1.0 if first_bound_s is None else round(first_bound_s, 1)} import_s={import_s:.1f}"
    )
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
