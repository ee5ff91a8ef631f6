"""Incidents, operator actions on them, outside evidence and availability reports (issue 6, "outage brain").

District scoping: a user limited to districts sees only member cameras of theirs; an incident with no visible
member does not exist for them (404, left out of lists), as for cameras (routes_cameras). Roles: the permissions
of ``camgrid.access.policy`` (incidents.read, incidents.act, registry.suggestions, evidence.submit, reports).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, not_found, writer
from camgrid.api.bounds import MAX_MS, QueryMs, RowId, TimeMs
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.api.health_coverage import registry_coverage
from camgrid.auditing import NotVisible
from camgrid.health import report_csv, reports
from camgrid.health import service as health
from camgrid.health.schemas import (
    Accepted,
    AvailabilityReport,
    Grouping,
    IncidentOut,
    IncidentView,
    LiveCoverage,
    PowerCutReport,
    SeriesReport,
    SuggestionDecision,
)
from camgrid.health.scope import scope_incident, scope_of
from camgrid.registry.models import Camera
from camgrid.vocabulary import CameraState, EvidenceKind

router = APIRouter(prefix="/api", tags=["health"])
MS = 1_000_000
READ = require("incidents.read")
ACT = require("incidents.act")
DECIDE = require("registry.suggestions")
EVIDENCE = require("evidence.submit")
REPORTS = require("reports")


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field("", max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: bool


class FeederOutageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feeder: str = Field(min_length=1, max_length=64)
    state: Literal["out", "restored"]
    t_ms: TimeMs


class UpsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str = Field(min_length=1, max_length=64)
    on_battery: bool
    t_ms: TimeMs


def _allowed(session: Session, who: Principal) -> set[str] | None:
    if not who.districts:
        return None
    return set(session.scalars(select(Camera.id).where(Camera.district_id.in_(who.districts))))


def _visible_incident(session: Session, who: Principal, incident_id: int) -> IncidentOut:
    try:
        item = scope_incident(
            health.get_incident(session=session, incident_id=incident_id),
            scope_of(session=session, districts=who.districts),
        )
    except LookupError:
        item = None
    if item is None:
        raise HTTPException(404, f"no incident {incident_id}")
    return item


@router.get("/incidents")
def incidents(
    who: Principal = READ,
    session: Session = DB_SESSION,
    open: int = Query(0, ge=0, le=1, description="1: only incidents not resolved yet"),
    limit: int = Query(200, ge=1, le=2000),
) -> list[IncidentView]:
    """Newest first: kind, subject, member cameras, times, confidence, suggestions and operator actions."""
    scope = scope_of(session=session, districts=who.districts)
    out = []
    for item in health.list_incidents(session=session, open_only=bool(open), limit=limit):
        scoped = scope_incident(item, scope)
        if scoped is not None:
            out.append(IncidentView.of(scoped))
    return out


@router.get("/incidents/{incident_id}")
def incident(incident_id: RowId, who: Principal = READ, session: Session = DB_SESSION) -> IncidentView:
    return IncidentView.of(_visible_incident(session, who, incident_id))


@router.post("/incidents/{incident_id}/ack", response_model=IncidentView)
def acknowledge(
    incident_id: RowId,
    body: TextIn,
    request: Request,
    who: Principal = ACT,
    session: Session = DB_SESSION,
) -> IncidentView:
    _visible_incident(session, who, incident_id)
    health.acknowledge(
        session=session,
        incident_id=incident_id,
        actor=who.username,
        t_ns=ctx_of(request).clock.wall_ns(),
        text=body.text,
    )
    session.flush()
    return IncidentView.of(_visible_incident(session, who, incident_id))


@router.post("/incidents/{incident_id}/comment", response_model=IncidentView)
def comment(
    incident_id: RowId,
    body: TextIn,
    request: Request,
    who: Principal = ACT,
    session: Session = DB_SESSION,
) -> IncidentView:
    _visible_incident(session, who, incident_id)
    try:
        health.comment(
            session=session,
            incident_id=incident_id,
            actor=who.username,
            t_ns=ctx_of(request).clock.wall_ns(),
            text=body.text,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    session.flush()
    return IncidentView.of(_visible_incident(session, who, incident_id))


@router.post("/suggestions/{suggestion_id}", response_model=SuggestionDecision)
def decide(
    suggestion_id: RowId,
    body: DecisionIn,
    request: Request,
    who: Principal = DECIDE,
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """Accept (the registry camera is corrected) or reject a suggested registry correction."""
    with answering():
        try:
            sug = health.decide_suggestion(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                suggestion_id=suggestion_id,
                accept=body.accept,
                t_ns=ctx_of(request).clock.wall_ns(),
            )
        except NotVisible:
            raise
        except LookupError as exc:
            raise not_found(exc) from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
    return {"id": suggestion_id, "status": sug.status, "incident_id": sug.incident_id}


def _evidence(request: Request, who: Principal, kind: EvidenceKind, subject: str, active: bool, t_ms: int) -> None:
    live = ctx_of(request).incidents
    if live is None:
        raise HTTPException(503, "outage correlation is not running in this process (camgrid serve --record)")
    with answering():
        try:
            health.submit_evidence(
                feed=live.feed,
                audit=writer(request),
                actor=actor(request, who),
                kind=kind,
                subject=subject,
                active=active,
                t_ns=t_ms * MS,
            )
        except LookupError as exc:
            raise not_found(exc) from None


@router.post("/evidence/feeder-outage", response_model=Accepted)
def feeder_outage(body: FeederOutageIn, request: Request, who: Principal = EVIDENCE) -> dict[str, Any]:
    """A utility's notice that a feeder is out (or restored): optional, lowers the bar for a power incident."""
    _evidence(request, who, EvidenceKind.FEEDER, body.feeder, body.state == "out", body.t_ms)
    return {"accepted": True}


@router.post("/evidence/ups", response_model=Accepted)
def ups(body: UpsIn, request: Request, who: Principal = EVIDENCE) -> dict[str, Any]:
    """A site's UPS telemetry: on battery means its feeder lost power (its cameras may stay up)."""
    _evidence(request, who, EvidenceKind.UPS, body.site, body.on_battery, body.t_ms)
    return {"accepted": True}


@router.get("/reports/availability")
def availability(
    request: Request,
    from_ms: QueryMs,
    to_ms: QueryMs,
    by: Grouping = "district",
    coverage: int = Query(0, ge=0, le=1, description="1: add lost coverage (planner visibility; slow the first time)"),
    who: Principal = REPORTS,
    session: Session = DB_SESSION,
) -> AvailabilityReport:
    """Share of time recording and outage minutes by cause per group, the city line, lost coverage when asked."""
    lo, hi = _period(request, from_ms, to_ms)
    cov = registry_coverage(session=session, settings=ctx_of(request).settings) if coverage else None
    report = reports.availability_report(
        session=session, lo=lo, hi=hi, by=by, districts=sorted(who.districts), coverage=cov
    )
    return AvailabilityReport.model_validate(report)


CSV_MAX_DAYS = 400  # a year and a bit: the CSV reads every gap of the period
CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The availability table as CSV (camera-hours)"}
}


@router.get("/reports/availability.csv", response_class=StreamingResponse, responses=CSV_FILE)
def availability_csv(
    request: Request,
    from_ms: QueryMs,
    to_ms: QueryMs,
    by: Grouping = "district",
    who: Principal = REPORTS,
    session: Session = DB_SESSION,
) -> StreamingResponse:
    """The availability table as CSV: the same rows and numbers as ``/reports/availability`` (the user's districts),
    camera time in camera-hours, a period of at most 400 days."""
    lo, hi = _period(request, from_ms, to_ms)
    if hi - lo > CSV_MAX_DAYS * 86_400_000 * MS:
        raise HTTPException(422, f"the period may last at most {CSV_MAX_DAYS} days")
    report = reports.availability_report(session=session, lo=lo, hi=hi, by=by, districts=sorted(who.districts))
    name = f"availability-{by}-{from_ms}-{to_ms}.csv"
    return StreamingResponse(
        report_csv.lines(by, report["rows"], report["city"]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reports/live-coverage")
def live_coverage(request: Request, who: Principal = REPORTS, session: Session = DB_SESSION) -> LiveCoverage:
    """Share of the important points' weight that a recording camera watches right now (the user's districts)."""
    ctx = ctx_of(request)
    cov = registry_coverage(session=session, settings=ctx.settings)
    allowed = _allowed(session, who)
    if allowed is not None:
        cov = {c: pts for c, pts in cov.items() if c in allowed}
    with ctx.states.lock:
        up = {c for c, st in ctx.states.states.items() if st.state == CameraState.RECORDING}
    points = {p for pts in cov.values() for p, _ in pts}
    return LiveCoverage(
        share=round(reports.live_coverage(cov, up), 6), points=len(points), cameras_up=len(up & set(cov))
    )


def _period(request: Request, from_ms: int, to_ms: int) -> tuple[int, int]:
    if to_ms <= from_ms:
        raise HTTPException(422, "to_ms must be after from_ms")
    now_ns = ctx_of(request).clock.wall_ns()
    return from_ms * MS, min(to_ms * MS, max(now_ns, from_ms * MS + MS))


@router.get("/reports/availability-series")
def availability_series(
    request: Request,
    from_ms: QueryMs,
    to_ms: QueryMs,
    step_ms: int = Query(3_600_000, ge=60_000, le=MAX_MS, description="Bucket length (at most 500 buckets)"),
    by: Grouping = "district",
    who: Principal = REPORTS,
    session: Session = DB_SESSION,
) -> SeriesReport:
    """Availability per group per time bucket: the "availability over time" plot."""
    lo, hi = _period(request, from_ms, to_ms)
    try:
        series = reports.series_report(
            session=session, lo=lo, hi=hi, step=step_ms * MS, by=by, districts=sorted(who.districts)
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return SeriesReport.model_validate(series)


@router.get("/reports/power-cuts")
def power_cuts(
    request: Request,
    from_ms: QueryMs,
    to_ms: QueryMs,
    who: Principal = REPORTS,
    session: Session = DB_SESSION,
) -> PowerCutReport:
    """Feeder reliability ranking (cuts, minutes without power) and the local hours of the day when cuts begin."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    lo, hi = _period(request, from_ms, to_ms)
    tz = ZoneInfo(ctx_of(request).settings.timezone)

    def offset(t_ns: int) -> int:
        off = datetime.fromtimestamp(t_ns / 1e9, tz).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    cuts = reports.load_power_cuts(session=session, lo=lo, hi=hi)
    if who.districts:
        feeders = set(session.scalars(select(Camera.feeder_id).where(Camera.district_id.in_(who.districts))))
        cuts = [c for c in cuts if c[0] in feeders]
    out = reports.power_cut_stats(cuts, lo, hi, offset)
    return PowerCutReport.model_validate({**out, "from_ms": lo // MS, "to_ms": hi // MS, "timezone": str(tz)})
