"""Registry logic. Functions take keyword-only arguments and never commit: the caller owns the unit of work.

Changes are audited here, not by the caller (docs/design/services-own-invariants.md): the API and the command line
call the same functions, so neither can skip the entry or the district scope.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, write_first
from camgrid.db.secrets import SecretBox, SecretsKeyError, redact_url
from camgrid.registry.models import Camera, CameraMaintenance, District, Feeder, Site, Uplink
from camgrid.registry.schemas import CameraIn, CameraOut, ImportSummary
from camgrid.vocabulary import AuditAction

STATUSES = ("active", "planned", "disabled")
NOTE_MAX = 500  # characters of a maintenance note (the column's length)


class CameraNotFound(NotVisible):
    """No such camera, or one outside the actor's districts (the two are indistinguishable on purpose)."""


def camera_for(*, session: Session, actor: Actor, camera_id: str) -> Camera:
    """The camera, if it exists within the actor's districts; :class:`CameraNotFound` otherwise."""
    cam = session.get(Camera, camera_id)
    if cam is None or not actor.sees(cam.district_id):
        raise CameraNotFound(f"no camera {camera_id!r}")
    return cam


_CAMERA_FIELDS = (
    "name",
    "lat",
    "lon",
    "district_id",
    "site_id",
    "feeder_id",
    "uplink_id",
    "rtsp_url",
    "sub_rtsp_url",
    "username",
    "heading_deg",
    "fov_deg",
    "range_m",
    "transport",
    "onvif_url",
    "street",
)


@dataclass(frozen=True)
class CameraSecrets:
    """What logs in to a camera: the real URLs (with any query credentials) and the password. Never shown."""

    rtsp_url: str
    sub_rtsp_url: str
    password: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"CameraSecrets(rtsp_url={redact_url(self.rtsp_url)!r}, password=<hidden>)"


class _NoBox(SecretBox):
    """Stands for a missing key: sealing or opening anything is an error (nothing to seal is fine)."""

    def __init__(self) -> None:
        super().__init__(Path("<no secrets key given>"))

    def seal(self, plaintext: str, *, owner: str) -> str:
        if plaintext:
            raise SecretsKeyError(f"camera {owner!r} has credentials: sealing them needs the secrets key file")
        return ""

    def open(self, sealed: str, *, owner: str) -> str:
        if sealed:
            raise SecretsKeyError(f"camera {owner!r} has sealed credentials: opening them needs the secrets key file")
        return ""


def _seal(box: SecretBox, camera_id: str, secrets: CameraSecrets) -> tuple[str, str, str]:
    """``(rtsp_url, sub_rtsp_url, credentials)`` as stored: the URLs redacted, the rest sealed ("" if nothing)."""
    shown, sub_shown = redact_url(secrets.rtsp_url), redact_url(secrets.sub_rtsp_url) if secrets.sub_rtsp_url else ""
    hidden: dict[str, str] = {}
    if secrets.password:
        hidden["password"] = secrets.password
    if shown != secrets.rtsp_url:
        hidden["rtsp_url"] = secrets.rtsp_url
    if sub_shown != secrets.sub_rtsp_url:
        hidden["sub_rtsp_url"] = secrets.sub_rtsp_url
    sealed = box.seal(json.dumps(hidden, sort_keys=True), owner=camera_id) if hidden else ""
    return shown, sub_shown, sealed


def reveal(*, box: SecretBox, camera: Camera) -> CameraSecrets:
    """The one way to a camera's real URLs and password (the recorder, ingest, cluster nodes, ``--with-secrets``).

    A missing or wrong key file raises :class:`camgrid.db.secrets.SecretsKeyError`, whose message names the file."""
    hidden: dict[str, str] = json.loads(box.open(camera.credentials, owner=camera.id)) if camera.credentials else {}
    return CameraSecrets(
        rtsp_url=hidden.get("rtsp_url", camera.rtsp_url),
        sub_rtsp_url=hidden.get("sub_rtsp_url", camera.sub_rtsp_url),
        password=hidden.get("password", ""),
    )


def check_secrets(*, session: Session, box: SecretBox) -> None:
    """Open one camera's sealed credentials: :class:`camgrid.db.secrets.SecretsKeyError` (naming the key file) when
    the key file is missing or is not the one they were sealed with. Nothing to open, nothing to check."""
    cam = session.scalars(select(Camera).where(Camera.credentials != "").order_by(Camera.id).limit(1)).first()
    if cam is not None:
        reveal(box=box, camera=cam)


def _camera_values(row: CameraIn, wanted: CameraSecrets, box: SecretBox) -> dict[str, Any]:
    rtsp_url, sub_rtsp_url, credentials = _seal(box, row.id, wanted)
    return {
        "id": row.id,
        "name": row.name,
        "lat": row.lat,
        "lon": row.lon,
        "district_id": row.district,
        "site_id": row.site,
        "feeder_id": row.feeder,
        "uplink_id": row.uplink,
        "rtsp_url": rtsp_url,
        "sub_rtsp_url": sub_rtsp_url,
        "username": row.username,
        "credentials": credentials,
        "heading_deg": row.heading_deg,
        "fov_deg": row.fov_deg,
        "range_m": row.range_m,
        "transport": row.transport,
        "onvif_url": row.onvif_url,
        "street": row.street or "",
    }


def _wanted(row: CameraIn, cam: Camera | None, current: CameraSecrets | None) -> CameraSecrets:
    """What the row asks for. A URL exactly as listed (the redacted form a plain ``cameras export`` wrote, with
    ``password=***``) means "unchanged": the real one stays, so exporting and importing back does not break the
    camera. (An empty password is still an empty password, as before.)"""
    url, sub = row.rtsp_url, row.sub_rtsp_url
    if cam is not None and current is not None:
        if url == cam.rtsp_url:
            url = current.rtsp_url
        if sub and sub == cam.sub_rtsp_url:
            sub = current.sub_rtsp_url
    return CameraSecrets(rtsp_url=url, sub_rtsp_url=sub, password=row.password)


def _ensure_topology(session: Session, rows: Sequence[CameraIn]) -> None:
    for model, key in ((District, "district"), (Feeder, "feeder"), (Uplink, "uplink")):
        wanted = {getattr(r, key) for r in rows}
        have = set(session.scalars(select(model.id)))  # type: ignore[attr-defined]
        new = sorted(wanted - have)
        if new:
            session.execute(insert(model), [{"id": i, "name": i} for i in new])
    have_sites = set(session.scalars(select(Site.id)))
    sites: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.site not in have_sites and r.site not in sites:
            sites[r.site] = {
                "id": r.site,
                "name": r.site,
                "district_id": r.district,
                "feeder_id": r.feeder,
                "uplink_id": r.uplink,
                "lat": r.lat,
                "lon": r.lon,
            }
    if sites:
        session.execute(insert(Site), list(sites.values()))


@audited(AuditAction.CAMERAS_IMPORT)
def import_cameras(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    rows: Sequence[CameraIn],
    now_ns: int,
    box: SecretBox | None = None,
    status: str = "active",
) -> ImportSummary:
    """Upsert validated rows. Unchanged rows are not touched, so importing a file twice changes nothing.

    Passwords and credential-bearing URLs are sealed with ``box`` (the home's secrets key, made on first use;
    without a box, rows and cameras with credentials are refused: :class:`SecretsKeyError`); the entry names the
    cameras whose credentials changed, never the credentials.

    ``status`` is ``active`` (recorded) or ``planned`` (from the planner: on the map, never recorded). A
    district-scoped actor may import only into their districts; the entry (counts and a digest of the cameras
    added or changed) is written before any row is."""
    if status not in STATUSES:
        raise ValueError(f"status must be active, planned or disabled, not {status!r}")
    box = _NoBox() if box is None else box
    outside = sorted({r.district for r in rows if not actor.sees(r.district)})
    if outside:
        raise NotVisible(f"no district {outside[0]!r} among yours: nothing imported")
    existing = {c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_([r.id for r in rows])))}
    hidden = sorted(c.id for c in existing.values() if not actor.sees(c.district_id))
    if hidden:
        raise CameraNotFound(f"no camera {hidden[0]!r}: nothing imported")
    new_rows: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    rekeyed: list[str] = []
    for row in rows:
        cam = existing.get(row.id)
        current = None if cam is None else reveal(box=box, camera=cam)
        wanted = _wanted(row, cam, current)
        values = _camera_values(row, wanted, box)  # sealed anew (a fresh nonce): compare what is sealed, not seals
        if cam is None:
            new_rows.append({**values, "status": status, "updated_ns": now_ns, "revision": 1})
            continue
        new_secrets = current != wanted
        if cam.status != status or new_secrets or any(getattr(cam, f) != values[f] for f in _CAMERA_FIELDS):
            changed.append({**values, "status": status, "updated_ns": now_ns, "revision": cam.revision + 1})
            if new_secrets:
                rekeyed.append(row.id)
    touched = sorted(r["id"] for r in (*new_rows, *changed))
    write_first(
        audit,
        actor,
        AuditAction.CAMERAS_IMPORT,
        details={
            "status": status,
            "total": len(rows),
            "added": len(new_rows),
            "updated": len(changed),
            # 62,000 ids do not belong in one entry: their digest identifies the set (recompute from the file).
            "cameras_sha256": hashlib.sha256("\n".join(touched).encode()).hexdigest(),
            "first": touched[:10],
            # whose password or credential URL changed (never the credentials themselves)
            "credentials_changed": sorted(rekeyed)[:10],
            "credentials_changed_count": len(rekeyed),
        },
    )
    _ensure_topology(session, rows)
    if new_rows:
        session.execute(insert(Camera), new_rows)
    if changed:
        session.execute(update(Camera), changed)
    return ImportSummary(
        total=len(rows),
        added=len(new_rows),
        updated=len(changed),
        unchanged=len(rows) - len(new_rows) - len(changed),
    )


@audited(AuditAction.CAMERA_UPDATE)
def set_camera_status(
    *, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, status: str, now_ns: int
) -> Camera:
    """Start (``active``) or stop (``disabled``) recording a camera, or mark it ``planned``: a change of what is
    recorded, so it is audited; setting the status it already has changes nothing and writes nothing."""
    if status not in STATUSES:
        raise ValueError(f"status must be active, planned or disabled, not {status!r}")
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    if cam.status == status:
        return cam
    write_first(audit, actor, AuditAction.CAMERA_UPDATE, camera=cam.id, details={"status": [cam.status, status]})
    cam.status = status
    cam.revision += 1
    cam.updated_ns = now_ns
    session.flush()
    return cam


@audited(AuditAction.CAMERA_AUDIO_SET)
def set_camera_audio(
    *, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, enabled: bool, now_ns: int
) -> Camera:
    """Record a camera's sound too (``enabled``), or stop: off by default, since many cities forbid recording sound
    without a reason; audited before the change (docs/design/audio.md). The recorder picks the change up at its
    next registry reload and restarts the camera's session (the audio track is set up, or no longer). Asking for
    the state the camera already has changes nothing and writes nothing."""
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    if bool(cam.audio_enabled) == enabled:
        return cam
    write_first(audit, actor, AuditAction.CAMERA_AUDIO_SET, camera=cam.id, details={"audio": enabled})
    cam.audio_enabled = enabled
    cam.revision += 1
    cam.updated_ns = now_ns
    session.flush()
    return cam


class MaintenanceConflict(ValueError):
    """The camera is already in (or already out of) maintenance: the request would change nothing."""


@audited(AuditAction.CAMERA_MAINTENANCE)
def set_maintenance(
    *, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, on: bool, note: str, now_ns: int
) -> CameraMaintenance:
    """Take a camera out of service for repair (``on``) or put it back; returns the window opened or closed.

    While a camera is in maintenance its outages open no incident and it does not count in its feeder's or
    uplink's share (``camgrid.health.feed.IncidentFeed`` reads the open windows). Asking for the state the camera
    is already in is a :class:`MaintenanceConflict` (409), not a silent no-op: two technicians on one camera
    should learn of each other, and a window is never reopened or closed twice. Audited before anything changes."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValueError(f"the note is {len(note)} characters; at most {NOTE_MAX}")
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    window = open_maintenance(session=session, camera_id=cam.id)
    if on and window is not None:
        raise MaintenanceConflict(
            f"camera {cam.id!r} is already in maintenance (since {window.start_ns} ns, by {window.started_by})"
        )
    if not on and window is None:
        raise MaintenanceConflict(f"camera {cam.id!r} is not in maintenance")
    write_first(
        audit,
        actor,
        AuditAction.CAMERA_MAINTENANCE,
        camera=cam.id,
        details={"on": on, "note": note, **({} if window is None else {"since_ns": window.start_ns})},
    )
    if window is None:
        window = CameraMaintenance(camera_id=cam.id, start_ns=now_ns, started_by=actor.name, note=note)
        session.add(window)
    else:
        window.end_ns = max(now_ns, window.start_ns)
        window.ended_by = actor.name
        window.end_note = note
    session.flush()
    return window


def open_maintenance(*, session: Session, camera_id: str) -> CameraMaintenance | None:
    """The camera's current maintenance window, if it is in maintenance."""
    return session.scalars(
        select(CameraMaintenance)
        .where(CameraMaintenance.camera_id == camera_id, CameraMaintenance.end_ns.is_(None))
        .order_by(CameraMaintenance.id.desc())
        .limit(1)
    ).first()


def in_maintenance(*, session: Session) -> dict[str, int]:
    """Every camera in maintenance now, with the start of its window (ns): a few rows, read on every pump."""
    rows = session.execute(
        select(CameraMaintenance.camera_id, CameraMaintenance.start_ns).where(CameraMaintenance.end_ns.is_(None))
    )
    return {camera_id: start_ns for camera_id, start_ns in rows}


def list_cameras(
    *, session: Session, district: str | None = None, node: str | None = None, status: str | None = None
) -> list[Camera]:
    query = select(Camera).order_by(Camera.id)
    if district:
        query = query.where(Camera.district_id == district)
    if node:
        query = query.where(Camera.recorder_node == node)
    if status:
        query = query.where(Camera.status == status)
    return list(session.scalars(query))


def camera_out(cam: Camera) -> CameraOut:
    """The camera as shown: URLs redacted (a row from before the sealing migration is redacted here too)."""
    out = CameraOut.model_validate(cam)
    out.rtsp_url = redact_url(cam.rtsp_url)
    out.sub_rtsp_url = redact_url(cam.sub_rtsp_url) if cam.sub_rtsp_url else ""
    out.has_password = bool(cam.credentials)
    out.onvif_url = redact_url(cam.onvif_url) if cam.onvif_url else None
    return out


def export_rows(cameras: Sequence[Camera]) -> list[dict[str, Any]]:
    """Rows in the import format, without passwords, URLs redacted (see :func:`export_rows_with_secrets`)."""
    return [
        {
            "id": c.id,
            "name": c.name,
            "lat": c.lat,
            "lon": c.lon,
            "district": c.district_id,
            "site": c.site_id,
            "feeder": c.feeder_id,
            "uplink": c.uplink_id,
            "rtsp_url": redact_url(c.rtsp_url),
            "sub_rtsp_url": redact_url(c.sub_rtsp_url) if c.sub_rtsp_url else "",
            "username": c.username,
            "heading_deg": c.heading_deg,
            "fov_deg": c.fov_deg,
            "range_m": c.range_m,
            "transport": c.transport,
            "onvif_url": redact_url(c.onvif_url) if c.onvif_url else "",
            "street": c.street,
        }
        for c in cameras
    ]


@audited(AuditAction.CAMERAS_EXPORT_SECRETS)
def export_rows_with_secrets(
    *, session: Session, audit: AuditWriter, actor: Actor, box: SecretBox, district: str | None = None
) -> list[dict[str, Any]]:
    """Rows in the import format WITH passwords and real URLs (to move a registry to another instance): a release
    of every camera's login, so it is audited first, naming how many cameras and which district."""
    cameras = [c for c in list_cameras(session=session, district=district) if actor.sees(c.district_id)]
    write_first(
        audit,
        actor,
        AuditAction.CAMERAS_EXPORT_SECRETS,
        details={
            "district": district,
            "cameras": len(cameras),
            "cameras_sha256": hashlib.sha256("\n".join(c.id for c in cameras).encode()).hexdigest(),
        },
    )
    rows = export_rows(cameras)
    for row, cam in zip(rows, cameras, strict=True):
        real = reveal(box=box, camera=cam)
        row.update(rtsp_url=real.rtsp_url, sub_rtsp_url=real.sub_rtsp_url, password=real.password)
    return rows
