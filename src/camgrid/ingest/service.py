"""Ingest's audited step: opening a camera's login for a diagnostic probe (docs/design/camera-probe.md).

A probe releases no video, but it logs in to the camera with the registry's sealed credentials on someone's behalf,
so it is audited like the other uses of a camera's login that a person starts (``camera.probe``, with the window
asked for). The network part runs afterwards (:func:`camgrid.ingest.probe.probe`), outside any database session.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.db.secrets import SecretBox
from camgrid.ingest.loop import CameraSource
from camgrid.ingest.probe import check_seconds
from camgrid.registry.service import camera_for, reveal
from camgrid.vocabulary import AuditAction


@audited(AuditAction.CAMERA_PROBE)
def open_probe(
    *, session: Session, audit: AuditWriter, actor: Actor, box: SecretBox, camera_id: str, seconds: float
) -> CameraSource:
    """The camera's login for a probe of ``seconds`` (bounded), if the camera is in the actor's districts
    (:class:`camgrid.registry.service.CameraNotFound` otherwise); the entry is written before the credentials are
    opened. The returned source never shows its password (``repr``)."""
    seconds = check_seconds(seconds)
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    write_first(audit, actor, AuditAction.CAMERA_PROBE, camera=cam.id, details={"seconds": seconds})
    real = reveal(box=box, camera=cam)
    return CameraSource(
        cam.id, real.rtsp_url, cam.username, real.password, cam.feeder_id or "", cam.site_id or "",
        transport=cam.transport,
    )  # fmt: skip
