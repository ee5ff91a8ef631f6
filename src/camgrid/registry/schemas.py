"""Validated shapes of registry data. ``CameraIn`` is what an import row must be; ``CameraOut`` is what leaves the
server, and it has no password field at all, so a password cannot leak by accident."""

from __future__ import annotations

import math
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from camgrid.db.secrets import redact_query, redact_url, split_userinfo, strip_userinfo
from camgrid.vocabulary import RtspTransport

__all__ = ["CameraIn", "CameraOut", "ImportSummary", "redact_url"]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
Ident = Annotated[str, Field(pattern=ID_PATTERN, description="Identifier: letters, digits, . _ : -")]
CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")


class CameraIn(BaseModel):
    """One camera as imported. Credentials in the URL are moved to ``username``/``password``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Ident
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    district: Ident
    site: Ident
    feeder: Ident
    uplink: Ident
    rtsp_url: str = Field(min_length=8, max_length=2000, repr=False)  # may hold query credentials
    sub_rtsp_url: str = Field(
        "", max_length=2000, description="Low-resolution substream for multi-tile walls", repr=False
    )
    username: str = Field("", max_length=200)
    password: str = Field("", max_length=200, repr=False)
    heading_deg: float | None = Field(None, ge=0.0, lt=360.0)
    fov_deg: float | None = Field(None, gt=0.0, le=360.0)
    range_m: float | None = Field(None, gt=0.0, le=5000.0)
    transport: RtspTransport = Field(
        RtspTransport.AUTO,
        description="How media travels: auto (the recorder's default), tcp (interleaved) or udp (RTP over UDP)",
    )
    onvif_url: str | None = Field(
        None,
        max_length=2000,
        description="Its ONVIF device service (http(s)://host[:port]/onvif/device_service); login as for RTSP",
    )
    street: str | None = Field(None, max_length=200, description="The street it stands on (found by the camera search)")

    @field_validator("lat", "lon", "heading_deg", "fov_deg", "range_m")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @field_validator("rtsp_url", "sub_rtsp_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v == "":
            return v  # only the optional substream may be empty (rtsp_url has min_length)
        if CONTROL.search(v):
            raise ValueError("URL contains spaces or control characters")
        try:
            # The userinfo comes off first: a password with an unencoded "#", "/" or "?" would split urllib's parse.
            parts = urlsplit(strip_userinfo(v))
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"not a valid URL ({redact_url(v)}): {exc}") from None
        if parts.scheme not in ("rtsp", "rtsps"):
            raise ValueError(f"scheme must be rtsp or rtsps, not {parts.scheme or 'none'!r}")
        if not parts.hostname:
            raise ValueError(f"URL has no host: {redact_url(v)}")
        if port is not None and not 1 <= port <= 65535:
            raise ValueError("port out of range")
        return v

    @field_validator("onvif_url")
    @classmethod
    def _onvif_url(cls, v: str | None) -> str | None:
        """An http(s) address with a host; the userinfo comes off in ``_credentials_out_of_url`` (stored in the
        clear, so a credential in its query is refused rather than kept)."""
        if v is None or v == "":
            return None
        if CONTROL.search(v):
            raise ValueError("URL contains spaces or control characters")
        bare = strip_userinfo(v)
        try:
            parts = urlsplit(bare)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"not a valid URL ({redact_url(v)}): {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"scheme must be http or https, not {parts.scheme or 'none'!r}")
        if not parts.hostname:
            raise ValueError(f"URL has no host: {redact_url(v)}")
        if port is not None and not 1 <= port <= 65535:
            raise ValueError("port out of range")
        if redact_query(bare) != bare:
            raise ValueError("credentials in the query are not kept here: give them as username and password")
        return v

    @model_validator(mode="after")
    def _credentials_out_of_url(self) -> CameraIn:
        for name in ("rtsp_url", "onvif_url"):
            url = getattr(self, name)
            _, userinfo, _ = split_userinfo(url or "")
            if userinfo is None:
                continue
            user, colon, password = userinfo.partition(":")  # a user name has no ":" (RFC 3986); a password may
            if not self.username and user:
                self.username = user
            if not self.password and colon and password:
                self.password = password
            setattr(self, name, strip_userinfo(url))
        # Query credentials (``?user=..&password=..``) stay in the URL: the camera needs them. The service seals
        # the whole URL and keeps only its redacted form in the clear.
        self.sub_rtsp_url = strip_userinfo(self.sub_rtsp_url) if self.sub_rtsp_url else ""
        return self


class CameraOut(BaseModel):
    """A camera as any command or API shows it: never the password."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    lat: float
    lon: float
    district_id: str
    site_id: str
    feeder_id: str
    uplink_id: str
    rtsp_url: str
    sub_rtsp_url: str = ""
    username: str
    has_password: bool = False
    heading_deg: float | None = None
    fov_deg: float | None = None
    range_m: float | None = None
    transport: str = RtspTransport.AUTO
    status: str
    recorder_node: str | None = None
    audio_enabled: bool = False  # its sound is recorded too (off unless switched on: docs/design/audio.md)
    onvif_url: str | None = None  # its ONVIF device service (no userinfo; docs/design/onvif.md)
    street: str = ""


class ImportSummary(BaseModel):
    total: int
    added: int
    updated: int
    unchanged: int
