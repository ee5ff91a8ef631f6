"""The cameras a recorder records, read from the registry with their real URLs and passwords (the secrets box).

Apart from the recorder so that reading the registry and running the threads stay separate; the recorder re-exports
both functions.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from camgrid.db.secrets import SecretBox, SecretsKeyError
from camgrid.ingest.loop import CameraSource
from camgrid.registry.models import Camera
from camgrid.registry.service import reveal

log = logging.getLogger("camgrid.storage")


def camera_source(c: Camera, box: SecretBox) -> CameraSource | None:
    """What ingest needs, with the real URLs and password (opened with the secrets key); None, with an error that
    names the key file, when the key is missing or wrong: the other cameras keep recording, the error stays visible
    (docs/design/secrets-at-rest.md)."""
    try:
        real = reveal(box=box, camera=c)
    except SecretsKeyError as exc:
        log.error("camera %s not recorded: %s", c.id, exc)
        return None
    return CameraSource(
        c.id,
        real.rtsp_url,
        c.username,
        real.password,
        c.feeder_id,
        c.site_id,
        real.sub_rtsp_url,
        transport=c.transport,
        audio=bool(c.audio_enabled),
    )


def load_sources(session: Session, node_id: str, box: SecretBox) -> list[CameraSource]:
    """Active cameras assigned to this node (or to no node, which a single-machine recorder takes)."""
    rows = session.scalars(
        select(Camera)
        .where(Camera.status == "active")
        .where(or_(Camera.recorder_node.is_(None), Camera.recorder_node == node_id))
        .order_by(Camera.id)
    )
    return [src for c in rows if (src := camera_source(c, box)) is not None]
