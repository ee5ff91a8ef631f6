"""Plan runs of the planner screen: started, stopped and imported (each audited first), read in scope, and the
worker's bookkeeping. Keyword-only, never commits (the caller's unit of work). Design: docs/design/planner-screen.md.

Scope: a planner limited to districts plans only those districts (a run naming others, or the whole map or a box, is
refused) and sees only runs that lie in them; any other run does not exist for them (the same answer as an unknown
id). Inputs are bounded here, before any row is written: at most four years, budgets in (0, ``max_budget``], known
camera models, weights in [0, 1000], a box on the map, and at most ``max_queued`` runs waiting or running.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, failing_after, write_first
from camgrid.config import PlanRunsConfig
from camgrid.planner.models import PlanRun
from camgrid.vocabulary import AuditAction, PlanAreaKind, PlanRunState

MAX_YEARS = 4
MAX_MODELS = 5
MAX_WEIGHTS = 64
MAX_WEIGHT = 1000.0
MAX_LISTED = 200
PHASE_MAX = 40  # plan_runs.phase
ACTIVE = (PlanRunState.QUEUED, PlanRunState.RUNNING)
FINISHED_WITH_PLAN = (PlanRunState.DONE, PlanRunState.STOPPED)


class PlanRunError(ValueError):
    """A run request that cannot be honoured (the message is safe to show)."""


class QueueFull(PlanRunError):
    """Too many runs are waiting or running."""


class RunNotFound(NotVisible):
    """No such run, or one outside the actor's districts."""


@dataclass(frozen=True)
class RunRequest:
    """What the planner screen asks for."""

    area_kind: PlanAreaKind
    budgets: tuple[float, ...]
    models: tuple[str, ...]
    districts: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None  # minlat, minlon, maxlat, maxlon
    weights: dict[str, float] = field(default_factory=dict)
    solver: str = ""  # "" = plan_runs.solver


@dataclass(frozen=True)
class RunOut:
    """A run as the planner screen shows it."""

    id: int
    created_by: str
    created_ns: int
    updated_ns: int
    started_ns: int | None
    finished_ns: int | None
    state: PlanRunState
    area_kind: PlanAreaKind
    districts: list[str]
    bbox: list[float] | None
    budgets: list[float]
    models: list[str]
    weights: dict[str, float]
    solver: str
    engine: str
    objective: float | None
    bound: float | None
    gap: float | None
    done: int
    total: int
    phase: str
    stop_requested: bool
    detail: str
    has_plan: bool
    cameras: int
    imported_ns: int | None


def _finite(v: float, what: str, lo: float, hi: float) -> float:
    if not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
        raise PlanRunError(f"{what} must be a number from {lo:g} to {hi:g}")
    return float(v)


def check_request(
    req: RunRequest, *, cfg: PlanRunsConfig, known_districts: Collection[str], map_box: Sequence[float]
) -> RunRequest:
    """The request bounded (raises :class:`PlanRunError`); the solver filled in."""
    if req.area_kind not in tuple(PlanAreaKind):
        raise PlanRunError("area must be city, districts or bbox")
    if not 1 <= len(req.budgets) <= MAX_YEARS:
        raise PlanRunError(f"give a budget for 1 to {MAX_YEARS} years")
    budgets = tuple(_finite(b, "a year's budget", 0.0, cfg.max_budget) for b in req.budgets)
    if sum(budgets) <= 0:
        raise PlanRunError("the budgets add up to nothing")
    offered = {m.name for m in cfg.models}
    if not 1 <= len(req.models) <= MAX_MODELS or len(set(req.models)) != len(req.models):
        raise PlanRunError(f"choose 1 to {MAX_MODELS} different camera models")
    unknown = [m for m in req.models if m not in offered]
    if unknown:
        raise PlanRunError(f"no camera model {unknown[0]!r}")
    if len(req.weights) > MAX_WEIGHTS:
        raise PlanRunError(f"at most {MAX_WEIGHTS} weights")
    weights = {}
    for key, w in req.weights.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 100:
            raise PlanRunError("a weight's name must be 1 to 100 characters")
        weights[key] = _finite(w, f"weight {key!r}", 0.0, MAX_WEIGHT)
    solver = req.solver or cfg.solver
    if solver not in ("greedy", "local", "exact"):
        raise PlanRunError("solver must be greedy, local or exact")
    districts: tuple[str, ...] = ()
    bbox = None
    if req.area_kind == PlanAreaKind.DISTRICTS:
        if not 1 <= len(req.districts) <= cfg.max_districts:
            raise PlanRunError(f"choose 1 to {cfg.max_districts} districts")
        missing = [d for d in req.districts if d not in known_districts]
        if missing:
            raise PlanRunError(f"no district {missing[0][:64]!r} on the map")
        districts = tuple(sorted(set(req.districts)))
    elif req.area_kind == PlanAreaKind.BBOX:
        if req.bbox is None or len(req.bbox) != 4:
            raise PlanRunError("a box is minlat, minlon, maxlat, maxlon")
        lat0, lon0, lat1, lon1 = (_finite(v, "a box corner", -180.0, 180.0) for v in req.bbox)
        if not (lat0 < lat1 and lon0 < lon1):
            raise PlanRunError("a box's minimum must be below its maximum")
        m0, n0, m1, n1 = map_box
        if lat1 <= m0 or lat0 >= m1 or lon1 <= n0 or lon0 >= n1:
            raise PlanRunError("the box lies outside the map")
        bbox = (lat0, lon0, lat1, lon1)
    return RunRequest(req.area_kind, budgets, tuple(req.models), districts, bbox, weights, solver)


def _in_scope(actor: Actor, run: PlanRun) -> bool:
    if not actor.districts:
        return True
    names = [d for d in run.districts.split(",") if d]
    return bool(names) and all(actor.sees(d) for d in names)


@audited(AuditAction.PLAN_RUN)
def start_run(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    request: RunRequest,
    cfg: PlanRunsConfig,
    known_districts: Collection[str],
    map_box: Sequence[float],
    now_ns: int,
    area_km2: Callable[[PlanAreaKind, tuple[str, ...], Any], float] | None = None,
) -> int:
    """Queue a run (the worker starts it when a slot is free); returns its id. The entry names the area, budgets,
    models and solver and is written before the row. ``area_km2(kind, districts, bbox)`` measures a district or
    box run on the map: more than ``max_district_km2`` is refused (plan the whole city instead)."""
    req = check_request(request, cfg=cfg, known_districts=known_districts, map_box=map_box)
    if area_km2 is not None and req.area_kind != PlanAreaKind.CITY:
        km2 = area_km2(req.area_kind, req.districts, req.bbox)
        if km2 > cfg.max_district_km2:
            from camgrid.planner.run_map import too_large_message

            raise PlanRunError(too_large_message(km2, cfg.max_district_km2))
    if actor.districts:
        if req.area_kind != PlanAreaKind.DISTRICTS:
            raise PlanRunError("a planner limited to districts plans only (some of) their districts")
        outside = [d for d in req.districts if not actor.sees(d)]
        if outside:
            raise NotVisible(f"no district {outside[0]!r} among yours: nothing started")
    active = session.scalar(select(func.count()).select_from(PlanRun).where(PlanRun.state.in_(ACTIVE))) or 0
    if active >= cfg.max_queued:
        raise QueueFull(f"{active} runs are waiting or running (at most {cfg.max_queued}); stop one or wait")
    area: dict[str, Any] = {"districts": list(req.districts)} if req.districts else {}
    if req.bbox is not None:
        area = {"bbox": list(req.bbox)}
    write_first(
        audit,
        actor,
        AuditAction.PLAN_RUN,
        details={
            "area": str(req.area_kind), **area, "budgets": list(req.budgets), "models": list(req.models),
            "weights": dict(sorted(req.weights.items())), "solver": req.solver,
        },
    )  # fmt: skip
    run = PlanRun(
        created_by=actor.name[:64], created_ns=now_ns, updated_ns=now_ns, state=PlanRunState.QUEUED,
        area_kind=str(req.area_kind), area=json.dumps(area), districts=",".join(req.districts),
        budgets=json.dumps(list(req.budgets)), models=json.dumps(list(req.models)),
        weights=json.dumps(req.weights, sort_keys=True), solver=req.solver, engine="", done=0, total=0, phase="",
        stop_requested=False, detail="", result_path="", cameras=0,
    )  # fmt: skip
    session.add(run)
    session.flush()
    return run.id


def _visible(session: Session, actor: Actor, run_id: int) -> PlanRun:
    run = session.get(PlanRun, run_id)
    if run is None or not _in_scope(actor, run):
        raise RunNotFound(f"no plan run {run_id}")
    return run


@audited(AuditAction.PLAN_STOP)
def stop_run(*, session: Session, audit: AuditWriter, actor: Actor, run_id: int, now_ns: int) -> PlanRunState:
    """Stop a run: a queued one never starts; a running one stops after its solver's current step and keeps the
    best plan found so far. Returns the run's state after the request."""
    run = _visible(session, actor, run_id)
    if run.state not in ACTIVE:
        raise PlanRunError(f"plan run {run_id} has already finished ({run.state})")
    write_first(audit, actor, AuditAction.PLAN_STOP, details={"run": run.id, "state": run.state})
    run.stop_requested = True
    run.updated_ns = now_ns
    if run.state == PlanRunState.QUEUED:
        run.state = PlanRunState.STOPPED
        run.finished_ns = now_ns
        run.detail = "stopped before it started"
    session.flush()
    return PlanRunState(run.state)


def plan_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The planned cameras of a plan's GeoJSON as registry import rows (``planner.output.registry_rows``' format)."""
    from camgrid.planner.output import PLANNED_UPLINK, PLANNED_URL

    rows = []
    for f in doc.get("features", []):
        p = f.get("properties") or {}
        if p.get("kind") != "camera" or p.get("status") != "planned":
            continue
        lon, lat = f["geometry"]["coordinates"][:2]
        cid = str(p["id"])
        rows.append(
            {
                "id": cid, "name": f"Planned camera {cid} (phase {p.get('phase', 1)})", "lat": round(float(lat), 7),
                "lon": round(float(lon), 7), "district": str(p.get("district") or ""), "site": str(p.get("site")),
                "feeder": str(p.get("feeder")), "uplink": PLANNED_UPLINK, "rtsp_url": PLANNED_URL.format(id=cid),
                "heading_deg": float(p.get("heading_deg", 0.0)) % 360.0, "fov_deg": float(p.get("fov_deg", 90.0)),
                "range_m": float(p.get("range_m", 60.0)),
            }
        )  # fmt: skip
    return rows


@audited(AuditAction.PLAN_IMPORT)
def import_run(*, session: Session, audit: AuditWriter, actor: Actor, run_id: int, now_ns: int) -> int:
    """Import a finished run's planned cameras into the registry with status ``planned`` (on the map, never
    recorded). The ``plan.import`` entry (run, camera count) comes first; the registry's own ``cameras.import``
    entry follows it. Returns how many cameras the plan holds."""
    from camgrid.registry import service as registry
    from camgrid.registry.schemas import CameraIn

    run = _visible(session, actor, run_id)
    if run.state not in FINISHED_WITH_PLAN or not run.result_path:
        raise PlanRunError(f"plan run {run_id} has no plan to import ({run.state})")
    try:
        doc = json.loads(Path(run.result_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanRunError(f"plan run {run_id}: its plan cannot be read ({type(exc).__name__})") from None
    rows = [CameraIn.model_validate(r) for r in plan_rows(doc)]
    outside = sorted({r.district for r in rows if not actor.sees(r.district)})
    if outside:
        raise NotVisible(f"no district {outside[0]!r} among yours: nothing imported")
    entry = write_first(audit, actor, AuditAction.PLAN_IMPORT, details={"run": run.id, "cameras": len(rows)})
    with failing_after(audit, actor, AuditAction.PLAN_IMPORT, entry=entry):
        registry.import_cameras(session=session, audit=audit, actor=actor, rows=rows, now_ns=now_ns, status="planned")
        run.imported_ns = now_ns
        run.updated_ns = now_ns
        session.flush()
    return len(rows)


def run_out(run: PlanRun) -> RunOut:
    area = json.loads(run.area or "{}")
    return RunOut(
        id=run.id, created_by=run.created_by, created_ns=run.created_ns, updated_ns=run.updated_ns,
        started_ns=run.started_ns, finished_ns=run.finished_ns, state=PlanRunState(run.state),
        area_kind=PlanAreaKind(run.area_kind), districts=[d for d in run.districts.split(",") if d],
        bbox=area.get("bbox"), budgets=json.loads(run.budgets), models=json.loads(run.models),
        weights=json.loads(run.weights or "{}"), solver=run.solver, engine=run.engine, objective=run.objective,
        bound=run.bound, gap=run.gap, done=run.done, total=run.total, phase=run.phase or "",
        stop_requested=run.stop_requested,
        detail=run.detail, has_plan=bool(run.result_path), cameras=run.cameras, imported_ns=run.imported_ns,
    )  # fmt: skip


def list_runs(*, session: Session, actor: Actor, limit: int = 100) -> list[RunOut]:
    """Runs in the actor's scope, newest first."""
    rows = session.scalars(select(PlanRun).order_by(PlanRun.id.desc()).limit(max(1, min(limit, MAX_LISTED)) * 4))
    return [run_out(r) for r in rows if _in_scope(actor, r)][: max(1, min(limit, MAX_LISTED))]


def run_for(*, session: Session, actor: Actor, run_id: int) -> RunOut:
    """One run (raises :class:`RunNotFound` outside the actor's scope)."""
    return run_out(_visible(session, actor, run_id))


def plan_of(*, session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """A finished run's plan GeoJSON (raises :class:`RunNotFound` when it has none)."""
    run = _visible(session, actor, run_id)
    if not run.result_path:
        raise RunNotFound(f"plan run {run_id} has no plan")
    try:
        doc: dict[str, Any] = json.loads(Path(run.result_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RunNotFound(f"plan run {run_id} has no plan") from None
    return doc


# The worker's bookkeeping (camgrid's own; the run was audited when a planner started it).


def mark_interrupted(session: Session, *, now_ns: int) -> int:
    """At start: runs left ``running`` by a stop or crash are interrupted (their steps are lost)."""
    result = session.execute(
        update(PlanRun)
        .where(PlanRun.state == PlanRunState.RUNNING)
        .values(state=PlanRunState.INTERRUPTED, finished_ns=now_ns, updated_ns=now_ns,
                detail="the server stopped during the run; start it again")
    )  # fmt: skip
    return int(getattr(result, "rowcount", 0) or 0)


def claim_next(session: Session, *, now_ns: int) -> int | None:
    """The oldest queued run, now running (None when none waits)."""
    run = session.scalars(
        select(PlanRun).where(PlanRun.state == PlanRunState.QUEUED).order_by(PlanRun.id).limit(1)
    ).first()
    if run is None:
        return None
    run.state = PlanRunState.RUNNING
    run.started_ns = now_ns
    run.updated_ns = now_ns
    session.flush()
    return run.id


def stop_requested(session: Session, ids: Collection[int]) -> set[int]:
    """Which of the runs named a planner asked to stop."""
    if not ids:
        return set()
    return set(session.scalars(select(PlanRun.id).where(PlanRun.id.in_(list(ids)), PlanRun.stop_requested)))


def record_progress(
    session: Session,
    *,
    run_id: int,
    objective: float,
    bound: float,
    gap: float,
    done: int,
    total: int,
    now_ns: int,
    phase: str = "",
) -> None:
    """A solver step's figures; one not known yet (an infinite bound before the first tile's) is stored as none.
    ``phase`` names the step that runs (``done``/``total`` count within it for the city planner)."""
    run = session.get(PlanRun, run_id)
    if run is None:
        return
    run.objective, run.bound, run.gap = _known(objective), _known(bound), _known(gap)
    run.done, run.total, run.updated_ns = int(done), int(total), now_ns
    run.phase = phase[:PHASE_MAX]


def _known(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def finish_run(
    session: Session,
    *,
    run_id: int,
    state: PlanRunState,
    now_ns: int,
    detail: str = "",
    result_path: str = "",
    figures: tuple[float, float, float] | None = None,
    cameras: int = 0,
    engine: str = "",
) -> None:
    """How a run ended: its state, its plan file and its final objective, bound and gap."""
    run = session.get(PlanRun, run_id)
    if run is None:
        return
    run.state, run.finished_ns, run.updated_ns, run.detail = state, now_ns, now_ns, detail[:500]
    if result_path:
        run.result_path = result_path
    if figures is not None:
        run.objective, run.bound, run.gap = (_known(v) for v in figures)
    run.cameras = cameras
    if engine:
        run.engine = engine
