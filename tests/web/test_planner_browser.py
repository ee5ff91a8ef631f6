"""The planner screen in real Chromium (issue 18; docs/design/planner-screen.md): the menu offers it to planners (not
to operators); a planner picks a box of the map, budgets for two years, two camera models and the exact solver,
starts a run and watches its progress bar to done with its objective, bound and gap, across a reload; stops a
queued run; compares two plans side by side; and imports one as planned cameras. Served by a real uvicorn with the
real background worker (runtime.plan_worker) solving on the shipped Kathmandu extract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from camgrid.runtime import plan_worker
from tests.api.served import serve
from tests.backends import TIMEOUT_SCALE, wait_for
from tests.web.test_control_room_browser import ARGS, CHROMIUM
from tests.web.test_shell_browser import SHOTS
from tests.web.test_users_browser import _sign_in

ENV = {"CAMGRID_PLAN_RUNS__POLL_S": "0.1", "CAMGRID_PLAN_RUNS__HEURISTIC_TIME_S": "1.5"}
WAIT_MS = int(60_000 * TIMEOUT_SCALE)


def _row(page: Any, rid: int) -> dict[str, Any]:
    """What the screen shows of run ``rid`` now (None fields when its row is not drawn)."""
    out: dict[str, Any] = page.evaluate(
        """(id) => {
          const q = (k) => document.querySelector(`[data-testid="planner-${k}-${id}"]`);
          const row = document.querySelector(`[data-testid="planner-run-${id}"]`);
          const bar = q("progress");
          return {state: row ? row.dataset.state : null, value: bar ? bar.value : null, max: bar ? bar.max : null,
                  objective: q("objective")?.textContent, bound: q("bound")?.textContent, gap: q("gap")?.textContent,
                  phase: q("phase")?.textContent ?? null};
        }""",
        rid,
    )
    return out


def _start(page: Any, box: list[float], budgets: list[str], models: list[str], solver: str) -> int:
    page.check('[data-testid="planner-area-bbox"]')
    for i, v in enumerate(box):
        page.fill(f'[data-testid="planner-bbox-{i}"]', str(v))
    for i, b in enumerate(budgets, start=1):
        page.fill(f'[data-testid="planner-budget-{i}"]', b)
    for name in ("dome-90", "wide-120", "long-60"):
        page.set_checked(f'[data-testid="planner-model-{name}"]', name in models)
    page.select_option('[data-testid="planner-solver"]', solver)
    before = page.locator('[data-testid^="planner-run-"]').count()
    page.click('[data-testid="planner-start"]')

    def started() -> bool:
        refused = page.text_content('[data-testid="planner-error"]')
        assert not refused, refused
        return bool(page.locator('[data-testid^="planner-run-"]').count() > before)

    wait_for(started, 60, 0.1, "the new run's row")
    rid = page.locator('[data-testid^="planner-run-"]').first.get_attribute("data-testid").rsplit("-", 1)[1]
    return int(rid)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_a_planner_plans_from_the_control_room(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    users: dict[str, tuple[str, list[str] | None]] = {"plan": ("planner", None), "op": ("operator", None)}
    with serve(tmp_path, users, **ENV) as s, sync_playwright() as pw:
        worker = plan_worker(s.ctx.settings, s.ctx.factory, s.ctx.clock)
        s.ctx.plan_worker = worker
        worker.start()
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            errors: list[str] = []
            op = browser.new_context().new_page()
            _sign_in(op, s.base, "op")
            assert op.locator('[data-testid="nav-planner"]').is_hidden(), "the planner screen offered to an operator"

            page = browser.new_context().new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: d.accept())
            _sign_in(page, s.base, "plan")
            page.click('[data-testid="nav-planner"]')
            page.wait_for_selector('[data-testid="planner-bbox-0"]', timeout=WAIT_MS)
            lat0, lon0 = worker.map_box()[:2]
            box = [lat0, lon0, round(lat0 + 0.002, 6), round(lon0 + 0.002, 6)]
            first = _start(page, box, ["4", "3"], ["dome-90", "wide-120"], "local")

            # Watch the bar: progress shows while it runs (and after a reload: the run lives on the server), to done.
            seen: list[dict[str, Any]] = []
            reloaded = False
            deadline_polls = int(120 * TIMEOUT_SCALE / 0.1)
            for _ in range(deadline_polls):
                now = _row(page, first)
                seen.append(now)
                if now["state"] == "done":
                    break
                if now["state"] == "running" and not reloaded:
                    page.reload()
                    page.wait_for_selector(f'[data-testid="planner-run-{first}"]', timeout=WAIT_MS)
                    reloaded = True
                page.wait_for_timeout(100)
            done = seen[-1]
            assert done["state"] == "done", seen[-3:]
            assert any(r["state"] in ("queued", "running") for r in seen), "never saw the run before it was done"
            assert any(r["value"] is not None and r["value"] < r["max"] for r in seen), "the bar never moved"
            # a running run that has done a step says which one, in words (plan_runs.phase: "local:1" ...)
            assert all("year" in (r["phase"] or "") for r in seen if r["state"] == "running" and r["value"]), seen
            assert done["value"] == done["max"] == 4  # two years of greedy and local search
            objective, bound = float(done["objective"].replace(",", "")), float(done["bound"].replace(",", ""))
            assert bound >= objective > 0 and done["gap"].endswith("%")

            # A second plan, and a third that waits behind it and is stopped before it starts.
            second = _start(page, box, ["2", "2", "2"], ["long-60"], "exact")
            third = _start(page, box, ["1"], ["dome-90"], "greedy")
            page.click(f'[data-testid="planner-stop-{third}"]')
            page.wait_for_selector(f'[data-testid="planner-run-{third}"][data-state="stopped"]', timeout=WAIT_MS)
            page.wait_for_selector(f'[data-testid="planner-run-{second}"][data-state="done"]', timeout=WAIT_MS)

            page.select_option('[data-testid="planner-compare-a"]', str(first))
            page.select_option('[data-testid="planner-compare-b"]', str(second))
            page.click('[data-testid="planner-compare"]')
            page.wait_for_selector('[data-testid="planner-compare-table"]', timeout=WAIT_MS)
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "planner-compare.png"), full_page=True)
            assert page.text_content('[data-testid="planner-compare-a-0"]').startswith(f"#{first}")
            assert page.text_content('[data-testid="planner-compare-b-0"]').startswith(f"#{second}")
            assert page.text_content('[data-testid="planner-compare-a-1"]') == done["objective"]

            page.click(f'[data-testid="planner-import-{first}"]')
            page.wait_for_selector(f'[data-testid="planner-imported-{first}"]', timeout=WAIT_MS)
            cookie = s.login("plan")
            status, cams, _ = s.call("GET", "/api/cameras", cookie=cookie)
            assert status == 200 and any(str(c).startswith("plan-p") for c in cams["id"])
            assert not errors, errors
        finally:
            browser.close()
            worker.stop()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by `make test`")
def test_a_planner_plans_a_whole_synthetic_city_and_sees_its_bound(tmp_path: Path) -> None:
    """plan_runs.map_path is a `camgrid plan city-gen` manifest (a 0.9 km city: one tile, so it takes seconds): the
    screen says it is a synthetic city planned in tiles, and a whole-city run is watched to done with its bound."""
    from playwright.sync_api import sync_playwright

    from camgrid.config import PlannerConfig
    from camgrid.planner.citymap import generate_city, write_manifest

    manifest = tmp_path / "city.json"
    write_manifest(generate_city(0.9, PlannerConfig()), manifest)
    env = {**ENV, "CAMGRID_PLAN_RUNS__MAP_PATH": str(manifest), "CAMGRID_PLAN_RUNS__CITY_WORKERS": "1",
           "CAMGRID_PLAN_RUNS__HEURISTIC_TIME_S": "0.3"}  # fmt: skip
    with serve(tmp_path / "home", {"plan": ("planner", None)}, **env) as s, sync_playwright() as pw:
        worker = plan_worker(s.ctx.settings, s.ctx.factory, s.ctx.clock)
        s.ctx.plan_worker = worker
        worker.start()
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            errors: list[str] = []
            page = browser.new_context().new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(page, s.base, "plan")
            page.click('[data-testid="nav-planner"]')
            about = page.wait_for_selector('[data-testid="planner-map"][data-kind="city-gen"]', timeout=WAIT_MS)
            assert about is not None and "0.81" in about.text_content()
            assert page.locator('[data-testid^="planner-district-D-"]').count() == 4  # the manifest's districts
            page.check('[data-testid="planner-area-city"]')
            page.fill('[data-testid="planner-budget-1"]', "6")
            page.click('[data-testid="planner-start"]')
            page.wait_for_selector('[data-testid^="planner-run-"]', timeout=WAIT_MS)
            rid = int(
                page.locator('[data-testid^="planner-run-"]').first.get_attribute("data-testid").rsplit("-", 1)[1]
            )
            seen: list[dict[str, Any]] = []
            for _ in range(int(600 * TIMEOUT_SCALE / 0.2)):
                seen.append(_row(page, rid))
                if seen[-1]["state"] not in ("queued", "running", None):
                    break
                page.wait_for_timeout(200)
            done = seen[-1]
            assert done["state"] == "done", seen[-3:]
            assert done["value"] == done["max"] > 0, done
            objective, bound = float(done["objective"].replace(",", "")), float(done["bound"].replace(",", ""))
            assert bound >= objective > 0 and done["gap"].endswith("%")
            assert not errors, errors
        finally:
            browser.close()
            worker.stop()
