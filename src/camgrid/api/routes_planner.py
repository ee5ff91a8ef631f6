"""The planner screen: plan runs started, watched, stopped, compared and imported (docs/design/planner-screen.md).

Routes parse, call ``camgrid.planner.runs`` (which audits and scopes) and serialise. The runs themselves are solved
by the process's background worker (``planner.run_worker``); a process without one answers 503.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import MAX_ROW_ID, RowId
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.api.schemas import FeatureCollection
from camgrid.planner import runs
from camgrid.planner.run_map import MapUnreadable
from camgrid.planner.run_solve import JUNCTION, STREET
from camgrid.planner.scope import scope_plan
from camgrid.vocabulary import PlanAreaKind, PlanRunState

router = APIRouter(prefix="/api/planner", tags=["planner"])
MS = 1_000_000

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Budget = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0.0, le=runs.MAX_WEIGHT, allow_inf_nan=False)]
Coord = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]


class AreaIn(BaseModel):
    kind: PlanAreaKind
    districts: list[Name] = Field(default_factory=list, max_length=100_000)
    bbox: list[Coord] | None = Field(None, min_length=4, max_length=4, description="minlat, minlon, maxlat, maxlon")


class RunIn(BaseModel):
    area: AreaIn
    budgets: list[Budget] = Field(min_length=1, max_length=runs.MAX_YEARS, description="Budget of each year")
    models: list[Name] = Field(min_length=1, max_length=runs.MAX_MODELS, description="Camera model names")
    weights: dict[Name, Weight] = Field(
        default_factory=dict, max_length=runs.MAX_WEIGHTS, description="Weights by POI tag, 'junction', 'street'"
    )
    solver: Literal["", "greedy", "local", "exact"] = ""


class RunOut(BaseModel):
    id: int
    created_by: str
    created_ms: int
    updated_ms: int
    started_ms: int | None
    finished_ms: int | None
    state: PlanRunState
    area_kind: PlanAreaKind
    districts: list[str]
    bbox: list[float] | None
    budgets: list[float]
    models: list[str]
    weights: dict[str, float]
    solver: str
    engine: str = Field(description="Which planner ran it: district (today's solver) or city (tiled)")
    objective: float | None
    bound: float | None = Field(description="Proven upper bound on the best plan's value")
    gap: float | None = Field(description="(bound - objective) / bound")
    done: int = Field(description="Solver steps done (the city planner: tile tasks done in the current phase)")
    total: int = Field(description="Solver steps in all (the city planner: tile tasks of the current phase)")
    phase: str = Field(
        description=(
            "The step that runs, as name[:k]: prepare, sweep, kelley, consensus, lagrangian, evaluate, moves, years, "
            "done (city planner) or greedy, local, exact with the year (district planner); empty before the first"
        )
    )
    stop_requested: bool
    detail: str
    has_plan: bool
    cameras: int
    imported_ms: int | None


class DistrictBox(BaseModel):
    id: str
    bbox: list[float]


class ModelOut(BaseModel):
    name: str
    fov_deg: float
    range_m: float
    cost: float


class MapOut(BaseModel):
    kind: Literal["osm", "city-gen"] = Field(description="An OSM map, or a synthetic city (camgrid plan city-gen)")
    km2: float = Field(description="Area of the map")
    synthetic: bool
    city_planner: bool = Field(description="Whether a whole-map run uses the city planner (tiles, proven bound)")
    max_district_km2: float = Field(description="Largest district or box run; larger areas: plan the whole city")


class PlannerSetup(BaseModel):
    map_bbox: list[float] = Field(description="minlat, minlon, maxlat, maxlon of the map runs plan on")
    map: MapOut
    districts: list[DistrictBox]
    models: list[ModelOut]
    weights: dict[str, float] = Field(description="Default weights (POI tags, junction, street)")
    solver: str
    max_years: int
    max_budget: float


class PhaseSummary(BaseModel):
    phase: int
    budget: float
    cameras: int
    cost: float
    objective: float
    adds: float


class PlanSummary(BaseModel):
    run: RunOut
    objective: float | None
    bound: float | None
    gap: float | None
    cameras: int
    phases: list[PhaseSummary]
    coverage_share: float | None
    by_district: dict[str, float] = Field(description="Share of each district's weight covered")
    by_category: dict[str, float] = Field(description="Share of each category's weight covered")


class CompareOut(BaseModel):
    a: PlanSummary
    b: PlanSummary
    common_sites: int = Field(description="Camera sites both plans use")


class ImportOut(BaseModel):
    run: int
    cameras: int


def _ms(ns: int | None) -> int | None:
    return None if ns is None else ns // MS


def _out(r: runs.RunOut) -> RunOut:
    return RunOut(
        id=r.id, created_by=r.created_by, created_ms=r.created_ns // MS, updated_ms=r.updated_ns // MS,
        started_ms=_ms(r.started_ns), finished_ms=_ms(r.finished_ns), state=r.state, area_kind=r.area_kind,
        districts=r.districts, bbox=r.bbox, budgets=r.budgets, models=r.models, weights=r.weights, solver=r.solver,
        engine=r.engine, objective=r.objective, bound=r.bound, gap=r.gap, done=r.done, total=r.total, phase=r.phase,
        stop_requested=r.stop_requested, detail=r.detail, has_plan=r.has_plan, cameras=r.cameras,
        imported_ms=_ms(r.imported_ns),
    )  # fmt: skip


def _worker(request: Request) -> Any:
    """The process's plan worker with its map read (503 without a worker or when the map cannot be read)."""
    worker = ctx_of(request).plan_worker
    if worker is None:
        raise HTTPException(503, "this process runs no plan worker")
    try:
        worker.map()
    except MapUnreadable as exc:
        raise HTTPException(503, f"the planner's map (plan_runs.map_path) cannot be read: {exc}") from None
    return worker


def _refused(exc: runs.PlanRunError) -> HTTPException:
    return HTTPException(429 if isinstance(exc, runs.QueueFull) else 422, str(exc))


@router.get("/setup")
def planner_setup(request: Request, who: Principal = require("plan.read")) -> PlannerSetup:
    """What a run may choose from: the map's districts, camera models, default weights and limits."""
    worker = _worker(request)
    settings = ctx_of(request).settings
    planner, cfg = settings.planner, settings.plan_runs
    weights = {**planner.poi_weights, JUNCTION: planner.junction_weight, STREET: planner.street_point_weight}
    districts = worker.districts()
    if who.districts:
        districts = {d: b for d, b in districts.items() if d in who.districts}
    run_map = worker.map()
    about = MapOut(
        kind=run_map.kind, km2=round(run_map.km2, 3), synthetic=run_map.synthetic,
        city_planner=run_map.uses_city_planner(cfg.city_solver_min_km2), max_district_km2=cfg.max_district_km2,
    )  # fmt: skip
    return PlannerSetup(
        map_bbox=list(worker.map_box()), map=about,
        districts=[DistrictBox(id=d, bbox=list(b)) for d, b in sorted(districts.items())],
        models=[ModelOut(**m.model_dump()) for m in cfg.models],
        weights=weights, solver=cfg.solver, max_years=runs.MAX_YEARS, max_budget=cfg.max_budget,
    )  # fmt: skip


@router.get("/runs")
def list_runs(
    limit: int = Query(100, ge=1, le=runs.MAX_LISTED),
    who: Principal = require("plan.read"),
    session: Session = DB_SESSION,
) -> list[RunOut]:
    """Plan runs in the user's scope, newest first, with their progress."""
    return [_out(r) for r in runs.list_runs(session=session, actor=who.actor(), limit=limit)]


@router.post("/runs", status_code=201, response_model=RunOut)
def start_run(
    body: RunIn, request: Request, who: Principal = require("plan.run"), session: Session = DB_SESSION
) -> RunOut:
    """Queue a plan run (audited); the worker solves it in the background."""
    worker = _worker(request)
    ctx = ctx_of(request)
    req = runs.RunRequest(
        area_kind=body.area.kind, budgets=tuple(body.budgets), models=tuple(body.models),
        districts=tuple(body.area.districts),
        bbox=tuple(body.area.bbox) if body.area.bbox is not None else None,  # type: ignore[arg-type]
        weights=dict(body.weights), solver=body.solver,
    )  # fmt: skip
    with answering():
        try:
            rid = runs.start_run(
                session=session, audit=writer(request), actor=actor(request, who), request=req,
                cfg=ctx.settings.plan_runs, known_districts=worker.districts(), map_box=worker.map_box(),
                now_ns=ctx.clock.wall_ns(), area_km2=worker.area_km2,
            )  # fmt: skip
        except runs.PlanRunError as exc:
            raise _refused(exc) from None
        out = _out(runs.run_for(session=session, actor=who.actor(), run_id=rid))
    session.commit()
    worker.wake()
    return out


@router.get("/runs/{run_id}")
def get_run(run_id: RowId, who: Principal = require("plan.read"), session: Session = DB_SESSION) -> RunOut:
    """One run with its progress: objective, bound, gap, steps done (404 outside the user's districts)."""
    with answering():
        return _out(runs.run_for(session=session, actor=who.actor(), run_id=run_id))


@router.post("/runs/{run_id}/stop")
def stop_run(
    run_id: RowId, request: Request, who: Principal = require("plan.run"), session: Session = DB_SESSION
) -> RunOut:
    """Stop a run after its solver's current step; the best plan so far is kept (audited)."""
    ctx = ctx_of(request)
    with answering():
        try:
            runs.stop_run(session=session, audit=writer(request), actor=actor(request, who), run_id=run_id,
                          now_ns=ctx.clock.wall_ns())  # fmt: skip
        except runs.PlanRunError as exc:
            raise HTTPException(409, str(exc)) from None
        out = _out(runs.run_for(session=session, actor=who.actor(), run_id=run_id))
    session.commit()
    if ctx.plan_worker is not None:
        ctx.plan_worker.wake()
    return out


@router.post("/runs/{run_id}/import")
def import_run(
    run_id: RowId, request: Request, who: Principal = require("plan.import"), session: Session = DB_SESSION
) -> ImportOut:
    """Import the run's planned cameras into the registry with status planned (audited)."""
    with answering():
        try:
            n = runs.import_run(session=session, audit=writer(request), actor=actor(request, who), run_id=run_id,
                                now_ns=ctx_of(request).clock.wall_ns())  # fmt: skip
        except runs.PlanRunError as exc:
            raise HTTPException(409, str(exc)) from None
    return ImportOut(run=run_id, cameras=n)


@router.get("/runs/{run_id}/plan")
def run_plan(run_id: RowId, who: Principal = require("plan.read"), session: Session = DB_SESSION) -> FeatureCollection:
    """The run's plan as GeoJSON, cut to the user's districts."""
    with answering():
        doc = runs.plan_of(session=session, actor=who.actor(), run_id=run_id)
    cut = scope_plan(doc, sorted(who.districts))
    if cut is None:
        raise HTTPException(404, f"plan run {run_id} has no plan")
    return FeatureCollection.model_validate(cut)


def _shares(table: Any) -> dict[str, float]:
    return {str(k): float(v.get("share", 0.0)) for k, v in (table or {}).items() if isinstance(v, dict)}


def _summary(session: Session, who: Principal, run_id: int) -> tuple[PlanSummary, set[str]]:
    run = runs.run_for(session=session, actor=who.actor(), run_id=run_id)
    doc = scope_plan(runs.plan_of(session=session, actor=who.actor(), run_id=run_id), sorted(who.districts)) or {}
    planner = doc.get("planner") or {}
    coverage = planner.get("coverage") or {}
    cams = [f["properties"] for f in doc.get("features", []) if (f.get("properties") or {}).get("kind") == "camera"]
    phases = [
        PhaseSummary(phase=int(p["phase"]), budget=float(p["budget"]), cameras=int(p["cameras"]),
                     cost=float(p["cost"]), objective=float(p["objective"]), adds=float(p["adds"]))
        for p in planner.get("phases", [])
    ]  # fmt: skip
    total = coverage.get("total") or {}
    summary = PlanSummary(
        run=_out(run), objective=planner.get("objective"), bound=planner.get("bound"), gap=planner.get("gap"),
        cameras=sum(1 for c in cams if c.get("status") == "planned"), phases=phases,
        coverage_share=total.get("share"), by_district=_shares(coverage.get("by_district")),
        by_category=_shares(coverage.get("by_category")),
    )  # fmt: skip
    return summary, {str(c.get("site")) for c in cams if c.get("status") == "planned"}


@router.get("/compare")
def compare(
    a: int = Query(ge=1, le=MAX_ROW_ID),
    b: int = Query(ge=1, le=MAX_ROW_ID),
    who: Principal = require("plan.read"),
    session: Session = DB_SESSION,
) -> CompareOut:
    """Two finished runs side by side: value, bound, gap, cameras, each year, coverage by district and category."""
    with answering():
        sa, sites_a = _summary(session, who, a)
        sb, sites_b = _summary(session, who, b)
    return CompareOut(a=sa, b=sb, common_sites=len(sites_a & sites_b))
