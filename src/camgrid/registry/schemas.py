"""Validated shapes of registry data. ``CameraIn`` is what an import row must be; ``CameraOut`` is what leaves the
server, and it has no password field at all, so a password cannot leak by accident."""

from __future__ import annotations

import math
import re
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
Ident = Annotated[str, Field(pattern=ID_PATTERN, description="Identifier: letters, digits, . _ : -")]
CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")


def redact_url(url: str) -> str:
    """Remove any user:password from a URL so that it can be shown or logged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


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
    rtsp_url: str = Field(min_length=8, max_length=2000)
    sub_rtsp_url: str = Field("", max_length=2000, description="Low-resolution substream for multi-tile walls")
    username: str = Field("", max_length=200)
    password: str = Field("", max_length=200, repr=False)
    heading_deg: float | None = Field(None, ge=0.0, lt=360.0)
    fov_deg: float | None = Field(None, gt=0.0, le=360.0)
    range_m: float | None = Field(None, gt=0.0, le=5000.0)

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
            parts = urlsplit(v)
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

    @model_validator(mode="after")
    def _credentials_out_of_url(self) -> CameraIn:
        parts = urlsplit(self.rtsp_url)
        if parts.username is not None or parts.password is not None:
            if not self.username and parts.username:
                self.username = parts.username
            if not self.password and parts.password:
                self.password = parts.password
            self.rtsp_url = redact_url(self.rtsp_url)
        self.sub_rtsp_url = redact_url(self.sub_rtsp_url) if self.sub_rtsp_url else ""
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
    status: str
    recorder_node: str | None = None


class ImportSummary(BaseModel):
    total: int
    added: int
    updated: int
    unchanged: int
