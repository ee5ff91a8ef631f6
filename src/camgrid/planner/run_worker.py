"""The background worker of the planner screen: solves queued plan runs in ``camgrid serve``'s process.

Built by ``camgrid.runtime`` for a process that serves the control room. One thread looks every ``plan_runs.poll_s``
for queued runs (starting at most ``max_concurrent`` at once, each in its own thread) and for stop requests (a flag
in the run's row, set by ``runs.stop_run``: any process's API can stop a run). Everything a browser shows is in the
``plan_runs`` row, so a reload loses nothing; a run that was solving when the server stopped is marked interrupted
at the next start. Design: docs/design/planner-screen.md.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import Clock
from camgrid.config import PlannerConfig, PlanRunsConfig
from camgrid.db.engine import unit_of_work
from camgrid.geo.osm import City
from camgrid.planner import runs
from camgrid.planner.installed import installed_cameras
from camgrid.planner.instance import ExistingCamera
from camgrid.planner.models import PlanRun
from camgrid.planner.run_map import LatLonBox, RunMap, as_run_map
from camgrid.planner.run_solve import NothingToPlan, RunSpec, execute
from camgrid.vocabulary import PlanAreaKind, PlanRunState

log = logging.getLogger("camgrid.planner.runs")


class PlanWorker:
    """Queued runs to plans: ``start()``, ``stop()``; ``districts()``, ``map_box()`` and ``area_km2()`` for the
    API's checks. ``load_map`` gives the map (``run_map.open_run_map``: an OSM map or a city-gen manifest; a City
    is taken as an OSM map)."""

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        clock: Clock,
        planner: PlannerConfig,
        cfg: PlanRunsConfig,
        plans_dir: Path,
        cache_dir: Path | None,
        load_map: Callable[[], City | RunMap],
        map_path: Path | None = None,
    ) -> None:
        self.factory, self.clock, self.planner, self.cfg = factory, clock, planner, cfg
        self.plans_dir, self.cache_dir, self._load_map = plans_dir, cache_dir, load_map
        self.map_path = map_path  # what load_map reads (None: the shipped extract); the city planner reads it too
        self._map: RunMap | None = None
        self._map_lock = threading.Lock()
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._active: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._lock = threading.Lock()
        self._loop: threading.Thread | None = None

    # the map, loaded once (the API validates districts, boxes and area sizes against it)
    def map(self) -> RunMap:
        """The run map (raises ``run_map.MapUnreadable`` when ``plan_runs.map_path`` cannot be read; tried again
        at the next call)."""
        with self._map_lock:
            if self._map is None:
                self._map = as_run_map(self._load_map(), path=self.map_path, cell_m=self.planner.district_cell_m)
            return self._map

    def districts(self) -> dict[str, LatLonBox]:
        return self.map().districts()

    def map_box(self) -> LatLonBox:
        return self.map().bounds_latlon

    def area_km2(self, kind: PlanAreaKind, districts: tuple[str, ...], bbox: LatLonBox | None) -> float:
        """The area a run would plan (the bound ``plan_runs.max_district_km2`` applies to district and box runs)."""
        try:
            return self.map().area_km2(kind, districts, bbox)
        except NothingToPlan:
            return 0.0  # unknown districts and boxes off the map are refused by the service's own checks

    def start(self) -> None:
        with unit_of_work(self.factory) as session:
            n = runs.mark_interrupted(session, now_ns=self.clock.wall_ns())
        if n:
            log.warning("%d plan run(s) were interrupted by the last stop", n)
        self._closing.clear()
        self._loop = threading.Thread(target=self._main, name="plan-worker", daemon=True)
        self._loop.start()

    def wake(self) -> None:
        """Look for new runs and stops now (the API calls it after a start or a stop)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop every run after its current step (it is marked interrupted), then the loop."""
        self._closing.set()
        self._wake.set()
        with self._lock:
            active = list(self._active.values())
        for _thread, flag in active:
            flag.set()
        for thread, _flag in active:
            thread.join(timeout_s)
        if self._loop is not None:
            self._loop.join(timeout_s)
            self._loop = None

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._active)

    def _main(self) -> None:
        while not self._closing.is_set():
            try:
                self._tick()
            except Exception:  # the next tick retries (a database blip must not end planning for good)
                log.exception("plan worker tick failed")
            self._wake.wait(self.cfg.poll_s)
            self._wake.clear()

    def _tick(self) -> None:
        with self._lock:
            for rid in [r for r, (t, _f) in self._active.items() if not t.is_alive()]:
                del self._active[rid]
            active = dict(self._active)
        with unit_of_work(self.factory) as session:
            for rid in runs.stop_requested(session, list(active)):
                active[rid][1].set()
        while len(self.running()) < self.cfg.max_concurrent and not self._closing.is_set():
            with unit_of_work(self.factory) as session:
                claimed = runs.claim_next(session, now_ns=self.clock.wall_ns())
            if claimed is None:
                return
            flag = threading.Event()
            thread = threading.Thread(target=self._run, args=(claimed, flag), name=f"plan-run-{claimed}", daemon=True)
            with self._lock:
                self._active[claimed] = (thread, flag)
            thread.start()

    def _spec(self, rid: int) -> RunSpec:
        with unit_of_work(self.factory) as session:
            row = session.get(PlanRun, rid)
            assert row is not None
            area = json.loads(row.area or "{}")
            names = json.loads(row.models)
            weights = json.loads(row.weights or "{}")
            budgets = tuple(float(b) for b in json.loads(row.budgets))
            kind, solver = PlanAreaKind(row.area_kind), row.solver
        by_name = {m.name: m for m in self.cfg.models}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise NothingToPlan(f"camera model {missing[0]!r} is no longer configured")
        bbox = area.get("bbox")
        districts = tuple(area.get("districts", ()))
        models = tuple(by_name[n] for n in names)
        return RunSpec(
            area_kind=kind, districts=districts, bbox=tuple(bbox) if bbox else None, budgets=budgets, models=models,
            weights=weights, solver=solver, existing=self._installed(kind, districts, bbox, models),
        )  # fmt: skip

    def _installed(
        self, kind: PlanAreaKind, districts: tuple[str, ...], bbox: list[float] | None, models: tuple[Any, ...]
    ) -> tuple[ExistingCamera, ...]:
        """The active registry cameras that can see into the run's area (``planner.installed``): within twice the
        longest model range of it (at least 200 m)."""
        if kind == PlanAreaKind.BBOX and bbox:
            boxes: list[LatLonBox] = [(bbox[0], bbox[1], bbox[2], bbox[3])]
        elif kind == PlanAreaKind.DISTRICTS:
            known = self.districts()
            boxes = [known[d] for d in districts if d in known]
        else:
            boxes = [self.map_box()]
        margin = max([200.0] + [2.0 * float(m.range_m) for m in models])
        with unit_of_work(self.factory) as session:
            return tuple(installed_cameras(session, boxes=boxes, margin_m=margin))

    def _run(self, rid: int, flag: threading.Event) -> None:
        def progress(objective: float, bound: float, gap: float, done: int, total: int, phase: str = "") -> None:
            with unit_of_work(self.factory) as session:
                runs.record_progress(session, run_id=rid, objective=objective, bound=bound, gap=gap, done=done,
                                     total=total, phase=phase, now_ns=self.clock.wall_ns())  # fmt: skip

        try:
            spec = self._spec(rid)
            result = execute(
                self.map(), self.planner, spec, heuristic_time_s=self.cfg.heuristic_time_s,
                time_limit_s=self.cfg.time_limit_s, city_workers=self.cfg.city_workers,
                city_tile_m=self.cfg.city_tile_m, city_min_km2=self.cfg.city_solver_min_km2,
                max_area_km2=self.cfg.max_district_km2,
                city_time_limit_s=self.cfg.city_time_limit_s or None,
                cache_dir=self.cache_dir, progress=progress, stop=flag,
            )  # fmt: skip
            path = self._write(rid, result.doc)
        except NothingToPlan as exc:
            state = PlanRunState.INTERRUPTED if self._closing.is_set() else PlanRunState.FAILED
            self._finish(rid, state, str(exc) if state is PlanRunState.FAILED else "the server stopped")
            return
        except Exception as exc:
            log.exception("plan run %d failed", rid)
            self._finish(rid, PlanRunState.FAILED, f"{type(exc).__name__}: {exc}")
            return
        if result.stopped and self._closing.is_set():
            state, detail = PlanRunState.INTERRUPTED, "the server stopped; the plan so far is kept"
        elif result.stopped:
            state, detail = PlanRunState.STOPPED, "stopped by a planner; the best plan so far is kept"
        else:
            state, detail = PlanRunState.DONE, ""
        planner = result.doc.get("planner")
        skipped = planner.get("skipped_for_time") if isinstance(planner, dict) else None
        if skipped:  # the city planner's time limit (plan_runs.city_time_limit_s): the bound and plan say so
            detail = f"{detail}; " if detail else ""
            detail += f"skipped for the time limit: {', '.join(map(str, skipped))}"
        self._finish(rid, state, detail, str(path), (result.objective, result.bound, result.gap), result.cameras,
                     result.engine)  # fmt: skip

    def _finish(
        self,
        rid: int,
        state: PlanRunState,
        detail: str,
        path: str = "",
        figures: tuple[float, float, float] | None = None,
        cameras: int = 0,
        engine: str = "",
    ) -> None:
        with unit_of_work(self.factory) as session:
            runs.finish_run(session, run_id=rid, state=state, now_ns=self.clock.wall_ns(), detail=detail,
                            result_path=path, figures=figures, cameras=cameras, engine=engine)  # fmt: skip

    def _write(self, rid: int, doc: dict[str, object]) -> Path:
        """``<home>/plans/run-<id>.geojson``, written whole (the control room's plan list reads the folder)."""
        self.plans_dir.mkdir(parents=True, exist_ok=True)
        path = self.plans_dir / f"run-{rid}.geojson"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
        return path
