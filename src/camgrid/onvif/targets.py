"""A registry camera as an ONVIF target: its device-service address with its own login (the sealed password)."""

from __future__ import annotations

from camgrid.db.secrets import SecretBox
from camgrid.onvif.connect import DEFAULT_TIMEOUT_S, OnvifTarget, parse_target
from camgrid.registry.models import Camera
from camgrid.registry.service import reveal


def onvif_target(camera: Camera, box: SecretBox, *, timeout_s: int = DEFAULT_TIMEOUT_S) -> OnvifTarget | None:
    """Where to reach the camera's ONVIF services, or None when it has no ``onvif_url``.

    ONVIF cameras take the same account for RTSP and ONVIF, so the login is the camera's ``username`` and the
    password sealed with its RTSP credentials (opened through ``registry.service.reveal``, the one way to it; a
    missing or wrong key raises ``SecretsKeyError``). A malformed stored address is an ``OnvifError``."""
    if not camera.onvif_url:
        return None
    secrets = reveal(box=box, camera=camera)
    return parse_target(camera.onvif_url, username=camera.username, password=secrets.password, timeout_s=timeout_s)
