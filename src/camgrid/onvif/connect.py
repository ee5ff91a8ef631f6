"""One way to open a camera's ONVIF services, bounded in time, with errors that never carry the password."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_TIMEOUT_S = 5


class OnvifError(Exception):
    """A camera's ONVIF answer was missing, refused or malformed (the message names the camera, never its secret)."""


@dataclass(frozen=True)
class OnvifTarget:
    """Where a camera's device service is, and the login camgrid holds for it (sealed at rest, never shown)."""

    url: str  # http(s)://host:port/onvif/device_service
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: int = DEFAULT_TIMEOUT_S

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def https(self) -> bool:
        return urlsplit(self.url).scheme == "https"


def parse_target(
    url: str, *, username: str = "", password: str = "", timeout_s: int = DEFAULT_TIMEOUT_S
) -> OnvifTarget:
    """Check a device-service address before anything is sent to it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OnvifError(f"not an ONVIF device address (http(s)://host[:port]/...): {url[:200]!r}")
    if len(url) > 2048:
        raise OnvifError("ONVIF device address longer than 2048 characters")
    return OnvifTarget(url=url.strip(), username=username, password=password, timeout_s=timeout_s)


def connect(target: OnvifTarget, *, plugins: list[Any] | None = None) -> Any:
    """An ``onvif.ONVIFClient`` for the camera (its device service answered ``GetServices`` or ``GetCapabilities``).

    The WSDLs are cached in memory only (nothing written under the user's home), authentication is WS-UsernameToken
    (what every ONVIF camera accepts), and every failure becomes an ``OnvifError`` without the password.
    ``plugins``: zeep plugins (the events consumer reads the raw notifications: zeep drops a topic's text).
    """
    from onvif import CacheMode, ONVIFClient  # lazy: zeep and lxml cost a second to import

    logging.getLogger("onvif").setLevel(logging.ERROR)
    try:
        return ONVIFClient(
            target.host,
            target.port,
            target.username or None,
            target.password or None,
            timeout=target.timeout_s,
            cache=CacheMode.MEM,
            use_https=target.https,
            verify_ssl=False,
            plugins=plugins,
        )
    except Exception as exc:  # the library raises requests, zeep and its own errors alike
        raise OnvifError(f"{target.host}:{target.port}: {scrub(str(exc), target)}") from None


def scrub(text: str, target: OnvifTarget) -> str:
    """A message from the library or the camera, with the password removed and the length bounded."""
    if target.password:
        text = text.replace(target.password, "***")
    return text[:300]
