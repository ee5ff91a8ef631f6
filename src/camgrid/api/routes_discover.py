"""Setting cameras up from the network (docs/design/onvif.md, "Discovery and set-up").

``POST /api/cameras/discover`` probes the addresses given (or the local network, by multicast) for ONVIF cameras,
asks each who it is with the login given, and answers proposed registry rows (never a password); one discovery runs
at a time in the server (409), it is bounded in addresses and time, and audited (``camera.discover``) before a
packet leaves. ``GET /api/cameras/topology`` lists the districts, sites, feeders and uplinks a row may name, and
``POST /api/cameras/import`` imports completed rows through the registry's atomic, audited import.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox, SecretsKeyError
from camgrid.onvif import discovery, proposals
from camgrid.onvif.connect import OnvifError
from camgrid.onvif.proposals import DiscoveryReport
from camgrid.onvif.service import start_discovery
from camgrid.registry import service as registry
from camgrid.registry.models import District, Feeder, Site, Uplink
from camgrid.registry.schemas import CameraIn, ImportSummary

router = APIRouter(prefix="/api", tags=["cameras"])
MAX_SPECS = 64  # address entries in one request (each an address or a range; 4096 addresses in all)
MAX_IMPORT_ROWS = 100  # rows per import request (the panel sends larger sets in batches)
DESCRIBE_BUDGET_S = 60.0  # the server thread is held at most this long describing what answered
_RUNNING = threading.Lock()


class DiscoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    addresses: list[str] = Field(
        default_factory=list,
        max_length=MAX_SPECS,
        description="Addresses and CIDR ranges to probe (at most 4096 addresses in all)",
    )
    multicast: bool = Field(False, description="Probe the server's local network by multicast instead of addresses")
    port: int = Field(discovery.WS_DISCOVERY_PORT, ge=1, le=65535, description="WS-Discovery port")
    timeout_s: float = Field(3.0, ge=0.1, le=10.0, description="Seconds to wait for answers to the probe")
    call_timeout_s: int = Field(5, ge=1, le=15, description="Seconds per ONVIF call to one camera")
    username: str = Field("", max_length=discovery.MAX_CREDENTIAL)
    password: str = Field("", max_length=discovery.MAX_CREDENTIAL, repr=False)

    @model_validator(mode="after")
    def _what(self) -> DiscoverIn:
        if bool(self.addresses) == self.multicast:
            raise ValueError("give addresses to probe, or multicast: true (not both)")
        if any(len(a) > 64 for a in self.addresses):
            raise ValueError("an address or range is at most 64 characters")
        return self


class Named(BaseModel):
    id: str
    name: str


class SiteOut(BaseModel):
    id: str
    name: str
    district: str
    feeder: str
    uplink: str
    lat: float
    lon: float


class TopologyOut(BaseModel):
    """What a camera row may name (sites within the user's districts)."""

    districts: list[Named]
    sites: list[SiteOut]
    feeders: list[Named]
    uplinks: list[Named]


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[CameraIn] = Field(min_length=1, max_length=MAX_IMPORT_ROWS)


@router.post("/cameras/discover", responses={409: {}, 422: {}, 503: {}})
def discover_cameras(
    body: DiscoverIn, request: Request, who: Principal = require("cameras.discover")
) -> DiscoveryReport:
    """Find ONVIF cameras and propose rows for the ones the registry lacks (complete them, then import). The login
    is used on the network only and never answered; 409 while another discovery runs, 422 for a request out of
    bounds or a probe that cannot be sent (no route), 503 when the audit log cannot be written."""
    ctx = ctx_of(request)
    req = discovery.DiscoveryRequest(
        addresses=tuple(body.addresses),
        port=body.port,
        timeout_s=body.timeout_s,
        describe_timeout_s=body.call_timeout_s,
        username=body.username,
        password=body.password,
        budget_s=DESCRIBE_BUDGET_S,
    )
    if not _RUNNING.acquire(blocking=False):
        raise HTTPException(409, "a discovery is running: try again when it is done")
    try:
        acting = actor(request, who)
        with answering():
            try:
                start_discovery(audit=writer(request), actor=acting, request=req)
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
        try:
            probed, found = discovery.run(req, clock=ctx.clock)
        except OnvifError as exc:  # no route to the addresses or the multicast group: the request cannot be served
            raise HTTPException(422, str(exc)) from None
    finally:
        _RUNNING.release()
    with unit_of_work(ctx.factory) as session:
        new, known, failed = proposals.propose(session=session, actor=acting, discovered=found, username=req.username)
    return DiscoveryReport(probed=probed, found=len(found), proposed=new, known=known, failed=failed)


@router.get("/cameras/topology")
def topology(who: Principal = require("cameras.import"), session: Session = DB_SESSION) -> TopologyOut:
    """The districts, sites, feeders and uplinks a camera row may name (districts and sites within yours)."""
    acting = who.actor()
    return TopologyOut(
        districts=[
            Named(id=d.id, name=d.name or d.id)
            for d in session.scalars(select(District).order_by(District.id))
            if acting.sees(d.id)
        ],
        sites=[
            SiteOut(
                id=s.id,
                name=s.name or s.id,
                district=s.district_id,
                feeder=s.feeder_id,
                uplink=s.uplink_id,
                lat=s.lat,
                lon=s.lon,
            )
            for s in session.scalars(select(Site).order_by(Site.id))
            if acting.sees(s.district_id)
        ],
        feeders=[Named(id=f.id, name=f.name or f.id) for f in session.scalars(select(Feeder).order_by(Feeder.id))],
        uplinks=[Named(id=u.id, name=u.name or u.id) for u in session.scalars(select(Uplink).order_by(Uplink.id))],
    )


@router.post("/cameras/import", responses={404: {}, 503: {}})
def import_cameras(body: ImportIn, request: Request, who: Principal = require("cameras.import")) -> ImportSummary:
    """Import completed rows (atomic: all or none; audited as ``cameras.import``). A password in a row is sealed and
    never answered; 404 for a district or camera outside yours, 503 without the audit log or the secrets key."""
    ids = [r.id for r in body.rows]
    if len(set(ids)) != len(ids):
        raise HTTPException(422, "a camera id appears twice")
    ctx = ctx_of(request)
    with answering(), unit_of_work(ctx.factory) as session:
        try:
            return registry.import_cameras(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                rows=body.rows,
                now_ns=ctx.clock.wall_ns(),
                box=SecretBox(ctx.settings.secrets_key_path),
            )
        except SecretsKeyError:
            raise HTTPException(503, "the secrets key is not available: nothing imported") from None
