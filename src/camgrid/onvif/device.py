"""Who a camera is and what it offers (``describe``), and how far its clock is from ours (``clock_offset``).

Every call goes through ``camgrid.onvif.connect`` (bounded by the target's timeout). A camera that does not answer
at all fails on its first call; an optional feature a camera lacks (no snapshot, no Media2, no mask options) is an
empty field, not an error. Everything read from the camera is bounded in length before it is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from camgrid.clock import NS_PER_S, Clock, SystemClock
from camgrid.onvif.connect import OnvifError, OnvifTarget, connect, scrub

# The service namespaces GetServices announces, by camgrid's short names.
SERVICE_NAMESPACES: dict[str, str] = {
    "device": "http://www.onvif.org/ver10/device/wsdl",
    "media": "http://www.onvif.org/ver10/media/wsdl",
    "media2": "http://www.onvif.org/ver20/media/wsdl",
    "events": "http://www.onvif.org/ver10/events/wsdl",
    "search": "http://www.onvif.org/ver10/search/wsdl",
    "replay": "http://www.onvif.org/ver10/replay/wsdl",
    "recording": "http://www.onvif.org/ver10/recording/wsdl",
}
# GetCapabilities' names for the same services (cameras without GetServices).
_CAPABILITY_NAMES = {
    "media": "Media",
    "events": "Events",
    "search": "Search",
    "replay": "Replay",
    "recording": "Recording",
}
MAX_PROFILES = 8  # a camera with more has them for other uses (analytics, mosaics): the first eight suffice
MAX_TEXT = 200
MAX_URI = 2000


@dataclass(frozen=True)
class StreamProfile:
    """One media profile: its encoder settings and where to get its stream and snapshots."""

    token: str
    name: str
    encoding: str = ""  # H264 | H265 | JPEG ... as the camera names it
    width: int = 0
    height: int = 0
    fps: float = 0.0
    stream_uri: str = ""
    snapshot_uri: str = ""


@dataclass(frozen=True)
class DeviceFacts:
    """What a camera says about itself: enough to propose its registry row and know what camgrid may ask of it."""

    url: str  # its device service
    maker: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    hardware_id: str = ""
    services: tuple[str, ...] = ()  # of SERVICE_NAMESPACES' names
    media_version: str = ""  # media2 | media | "" (none answered)
    masks: bool = False  # Media2 privacy masks (service capability or GetMaskOptions)
    events: bool = False
    profile_g: bool = False  # search and replay: its SD card can be searched and replayed
    profiles: tuple[StreamProfile, ...] = ()
    main: StreamProfile | None = None
    sub: StreamProfile | None = None
    notes: tuple[str, ...] = field(default=())  # what was missing or refused, for the admin

    @property
    def snapshot_uri(self) -> str:
        return self.main.snapshot_uri if self.main else ""


@dataclass(frozen=True)
class ClockReading:
    """The camera's clock against ours: ``offset_ns`` = camera UTC - our UTC, measured at the request's midpoint."""

    offset_ns: int
    round_trip_ns: int
    camera_utc_ns: int
    basis: str = "utc"  # utc | local+tz (UTC worked out from LocalDateTime and TZ) | local (no zone: taken as UTC)


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return "" if value is None else str(value).strip()[:limit]


def _is_fault(exc: BaseException) -> bool:
    """A SOAP fault or an HTTP error status: the camera answered, it just does not do this."""
    from zeep.exceptions import Fault, TransportError

    original = getattr(exc, "original_exception", exc)
    return isinstance(original, Fault | TransportError)


class _Camera:
    """One described camera: calls that raise ``OnvifError`` when the camera stops answering, and return None
    when it answers with a fault (an optional operation it does not implement)."""

    def __init__(self, target: OnvifTarget, client: Any) -> None:
        self.target = target
        self.client = client
        self.notes: list[str] = []

    def call(self, what: str, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if _is_fault(exc):
                self.notes.append(f"{what}: refused ({scrub(str(exc), self.target)[:120]})")
                return None
            raise OnvifError(f"{self.target.host}:{self.target.port}: {what}: {scrub(str(exc), self.target)}") from None

    def service(self, name: str) -> Any:
        try:
            return getattr(self.client, name)()
        except Exception as exc:
            self.notes.append(f"{name} service: {scrub(str(exc), self.target)[:120]}")
            return None


def _services(client: Any) -> tuple[str, ...]:
    if client.services:
        present = {_text(getattr(s, "Namespace", ""), MAX_URI) for s in client.services}
        return tuple(name for name, ns in SERVICE_NAMESPACES.items() if ns in present)
    caps = client.capabilities
    found = ["device"]
    for name, cap in _CAPABILITY_NAMES.items():
        ext = getattr(caps, "Extension", None)
        if getattr(caps, cap, None) is not None or getattr(ext, cap, None) is not None:
            found.append(name)
    return tuple(found)


def open_camera(target: OnvifTarget, *, clock: Clock | None = None) -> Any:
    """``connect`` and check that the device service answered (the library tolerates a silent camera).

    When neither GetServices nor GetCapabilities answered, and they failed faster than a timeout, the camera is
    asked the time (ONVIF answers it without a login): an answer means it refused the login."""
    clock = clock or SystemClock()
    start = clock.monotonic()
    client = connect(target)
    if client.services or client.capabilities is not None:
        return client
    where = f"{target.host}:{target.port}"
    if clock.monotonic() - start < target.timeout_s:
        try:
            client.devicemgmt().GetSystemDateAndTime()
        except Exception:
            raise OnvifError(f"{where}: no answer from the device service (connection refused or reset)") from None
        raise OnvifError(f"{where}: the device service refused GetServices and GetCapabilities (wrong login?)")
    raise OnvifError(f"{where}: no answer from the device service within {target.timeout_s} s")


def describe(target: OnvifTarget, *, client: Any | None = None, media2: bool = True) -> DeviceFacts:
    """Ask the camera who it is, which services and streams it has and whether it can mask itself.

    Media2 first (what masks need; ``media2=False`` skips it), Media ver10 when the camera has no Media2 or refuses
    it; the largest profile is the main stream and the smallest other one the substream."""
    cam = _Camera(target, client if client is not None else open_camera(target))
    info = cam.call("GetDeviceInformation", cam.client.devicemgmt().GetDeviceInformation)
    if info is None:
        raise OnvifError(f"{target.host}:{target.port}: GetDeviceInformation refused (wrong login?)")
    services = _services(cam.client)
    profiles: list[StreamProfile] = []
    media_version = ""
    masks = False
    if media2 and "media2" in services:
        profiles, masks = _media2(cam)
        media_version = "media2" if profiles else ""
    if not profiles and ("media" in services or not cam.client.services):
        profiles = _media1(cam)
        media_version = "media" if profiles else ""
    ranked = sorted(profiles, key=lambda p: p.width * p.height, reverse=True)
    main = ranked[0] if ranked else None
    sub = ranked[-1] if len(ranked) > 1 and ranked[-1].width * ranked[-1].height < main.width * main.height else None  # type: ignore[union-attr]
    return DeviceFacts(
        url=target.url,
        maker=_text(getattr(info, "Manufacturer", "")),
        model=_text(getattr(info, "Model", "")),
        firmware=_text(getattr(info, "FirmwareVersion", "")),
        serial=_text(getattr(info, "SerialNumber", "")),
        hardware_id=_text(getattr(info, "HardwareId", "")),
        services=services,
        media_version=media_version,
        masks=masks,
        events="events" in services,
        profile_g="search" in services and "replay" in services,
        profiles=tuple(profiles),
        main=main,
        sub=sub,
        notes=tuple(cam.notes[:10]),
    )


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _uri(value: Any) -> str:
    """A URI from a GetStreamUri/GetSnapshotUri answer (Media2: the string; Media: ``MediaUri.Uri``)."""
    uri = getattr(value, "Uri", value)
    text = _text(uri, MAX_URI + 1)
    return text if len(text) <= MAX_URI else ""


def _media2(cam: _Camera) -> tuple[list[StreamProfile], bool]:
    media2 = cam.service("media2")
    if media2 is None:
        return [], False
    answer = cam.call("Media2 GetProfiles", media2.GetProfiles, Type=["All"])
    if not answer:
        return [], False
    profiles: list[StreamProfile] = []
    source_config = ""
    for p in list(answer)[:MAX_PROFILES]:
        token = _text(getattr(p, "token", ""))
        configs = getattr(p, "Configurations", None)
        enc = getattr(configs, "VideoEncoder", None)
        if not source_config:
            source_config = _text(getattr(getattr(configs, "VideoSource", None), "token", ""))
        res = getattr(enc, "Resolution", None)
        rate = getattr(enc, "RateControl", None)
        stream = cam.call("Media2 GetStreamUri", media2.GetStreamUri, Protocol="RTSP", ProfileToken=token)
        snap = cam.call("Media2 GetSnapshotUri", media2.GetSnapshotUri, ProfileToken=token)
        profiles.append(
            StreamProfile(
                token=token,
                name=_text(getattr(p, "Name", "")),
                encoding=_text(getattr(enc, "Encoding", ""), 16),
                width=int(_number(getattr(res, "Width", 0))),
                height=int(_number(getattr(res, "Height", 0))),
                fps=_number(getattr(rate, "FrameRateLimit", 0)),
                stream_uri=_uri(stream),
                snapshot_uri=_uri(snap),
            )
        )
    return profiles, _mask_support(cam, media2, source_config)


def _mask_support(cam: _Camera, media2: Any, source_config: str) -> bool:
    """Masks per Media2's service capabilities, or (cameras that leave the flag out) GetMaskOptions answering with
    room for at least one mask."""
    caps = cam.call("Media2 GetServiceCapabilities", media2.GetServiceCapabilities)
    profile_caps = getattr(caps, "ProfileCapabilities", None)
    for holder in (caps, profile_caps):
        flag = getattr(holder, "Mask", None)
        if flag is not None:
            return bool(flag)
    if not source_config:
        return False
    options = cam.call("Media2 GetMaskOptions", media2.GetMaskOptions, ConfigurationToken=source_config)
    return _number(getattr(options, "MaxMasks", 0)) > 0


def _media1(cam: _Camera) -> list[StreamProfile]:
    media = cam.service("media")
    if media is None:
        return []
    answer = cam.call("Media GetProfiles", media.GetProfiles)
    if not answer:
        return []
    profiles: list[StreamProfile] = []
    setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
    for p in list(answer)[:MAX_PROFILES]:
        token = _text(getattr(p, "token", ""))
        enc = getattr(p, "VideoEncoderConfiguration", None)
        res = getattr(enc, "Resolution", None)
        rate = getattr(enc, "RateControl", None)
        stream = cam.call("Media GetStreamUri", media.GetStreamUri, StreamSetup=setup, ProfileToken=token)
        snap = cam.call("Media GetSnapshotUri", media.GetSnapshotUri, ProfileToken=token)
        profiles.append(
            StreamProfile(
                token=token,
                name=_text(getattr(p, "Name", "")),
                encoding=_text(getattr(enc, "Encoding", ""), 16),
                width=int(_number(getattr(res, "Width", 0))),
                height=int(_number(getattr(res, "Height", 0))),
                fps=_number(getattr(rate, "FrameRateLimit", 0)),
                stream_uri=_uri(stream),
                snapshot_uri=_uri(snap),
            )
        )
    return profiles


# --- the camera's clock ------------------------------------------------------------------------------------------

# POSIX TZ (IEEE 1003.1): std offset [dst [offset] [,rule]]; the offset is hours WEST of Greenwich ("CET-1" = UTC+1).
_POSIX_TZ = re.compile(
    r"^\s*(?:<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{2}(?::\d{2})?)?)"
    r"(?:(?:<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{2}(?::\d{2})?)?)?)?"
)


def _hms(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(x) for x in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def posix_tz_east_s(tz: str, *, dst: bool) -> int | None:
    """Seconds EAST of UTC that a POSIX TZ string names (its daylight offset when ``dst``: the camera says whether
    daylight saving is on now, so its rules need not be worked out); None when it is not a POSIX TZ string."""
    m = _POSIX_TZ.match(tz[:100])
    if m is None:
        return None
    std_west = _hms(m.group(1))
    has_dst = m.end() > m.end(1)
    if dst and has_dst:
        dst_west = _hms(m.group(2)) if m.group(2) else std_west - 3600
        return -dst_west
    return -std_west


def _datetime_ns(value: Any) -> int | None:
    date: Any = getattr(value, "Date", None)
    time: Any = getattr(value, "Time", None)
    try:
        when = datetime(
            int(date.Year),
            int(date.Month),
            int(date.Day),
            int(time.Hour),
            int(time.Minute),
            int(time.Second),
            tzinfo=UTC,
        )
    except (TypeError, ValueError, AttributeError):
        return None
    return int(when.timestamp()) * NS_PER_S


def camera_utc_ns(answer: Any) -> tuple[int, str]:
    """The camera's UTC (ns) from a GetSystemDateAndTime answer and how it was worked out.

    UTCDateTime when given; else LocalDateTime with the TZ's offset (and its daylight one when DaylightSavings is
    on); else LocalDateTime taken as UTC (a camera that says nothing of its zone). Cameras answer whole seconds: the
    middle of that second is taken, so the reading is within half a second plus half the round trip."""
    utc = _datetime_ns(getattr(answer, "UTCDateTime", None))
    if utc is not None:
        return utc + NS_PER_S // 2, "utc"
    local = _datetime_ns(getattr(answer, "LocalDateTime", None))
    if local is None:
        raise OnvifError("GetSystemDateAndTime gave neither UTCDateTime nor LocalDateTime")
    tz = _text(getattr(getattr(answer, "TimeZone", None), "TZ", ""), 100)
    east = posix_tz_east_s(tz, dst=bool(getattr(answer, "DaylightSavings", False))) if tz else None
    if east is None:
        return local + NS_PER_S // 2, "local"
    return local - east * NS_PER_S + NS_PER_S // 2, "local+tz"


def clock_offset(target: OnvifTarget, clock: Clock, *, client: Any | None = None) -> ClockReading:
    """Read the camera's clock once (GetSystemDateAndTime, which ONVIF answers even without a login)."""
    client = client if client is not None else open_camera(target, clock=clock)
    device = client.devicemgmt()
    before_ns, before_mono = clock.wall_ns(), clock.monotonic()
    try:
        answer = device.GetSystemDateAndTime()
    except Exception as exc:
        raise OnvifError(f"{target.host}:{target.port}: GetSystemDateAndTime: {scrub(str(exc), target)}") from None
    round_trip_ns = max(0, int((clock.monotonic() - before_mono) * NS_PER_S))
    try:
        camera_ns, basis = camera_utc_ns(answer)
    except OnvifError as exc:
        raise OnvifError(f"{target.host}:{target.port}: {exc}") from None
    midpoint_ns = before_ns + round_trip_ns // 2
    return ClockReading(
        offset_ns=camera_ns - midpoint_ns, round_trip_ns=round_trip_ns, camera_utc_ns=camera_ns, basis=basis
    )
