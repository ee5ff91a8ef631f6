"""Cameras found on the network as proposed registry rows (docs/design/onvif.md, "Discovery and set-up").

A proposal is a row in the camera-file format with what the camera told (its name, main and sub stream, its ONVIF
address) and nothing it cannot know: the position, site, feeder, uplink and district are left for the admin, and
the password column is always empty (it is never printed or returned: the admin types it, or the web panel puts
the one typed for the discovery into the rows it imports). Cameras already in the registry (same ONVIF address or
main stream) are set aside, not proposed twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.auditing import Actor
from camgrid.clock import NS_PER_S
from camgrid.db.secrets import redact_url, strip_userinfo
from camgrid.onvif.device import DeviceFacts, StreamProfile
from camgrid.onvif.discovery import Discovered
from camgrid.registry.io import COLUMNS
from camgrid.registry.models import Camera

NOTES_COLUMN = "notes"
PROPOSAL_COLUMNS = (*COLUMNS, NOTES_COLUMN)
_NOT_ID = re.compile(r"[^A-Za-z0-9._:-]+")


class ProposedStream(BaseModel):
    name: str
    encoding: str
    width: int
    height: int
    fps: float
    uri: str = Field(description="Its RTSP URI, without any login")


class ProposedCamera(BaseModel):
    """One camera found: its proposed row (the camera-file columns) and what it said about itself."""

    id: str = Field(description="Proposed camera id (from maker and serial number)")
    name: str
    rtsp_url: str
    sub_rtsp_url: str = ""
    onvif_url: str
    username: str = ""
    maker: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    hardware_id: str = ""
    services: list[str] = Field(default_factory=list)
    media: str = Field("", description="media2 | media: which media service gave the streams")
    masks: bool = Field(False, description="It can burn privacy masks in itself (Media2 masks)")
    events: bool = False
    profile_g: bool = Field(False, description="Its recordings can be searched and replayed (Profile G)")
    clock_offset_ms: float | None = Field(None, description="Its clock minus ours, when it could be read")
    clock_basis: str = ""
    snapshot_uri: str = ""
    streams: list[ProposedStream] = Field(default_factory=list)
    notes: str = ""
    known_as: str | None = Field(None, description="Already in the registry (the camera id, when yours to see)")
    error: str = Field("", description="Why it could not be described (then nothing is proposed)")


class DiscoveryReport(BaseModel):
    """What a discovery found: new cameras to complete and import, known ones, and those that did not answer."""

    probed: int = Field(description="Addresses probed (0: multicast on the local network)")
    found: int
    proposed: list[ProposedCamera]
    known: list[ProposedCamera]
    failed: list[ProposedCamera]


def normalise(url: str) -> str:
    """A URL for comparison: no login, scheme and host in lower case, no trailing slash."""
    bare = strip_userinfo(url.strip())
    try:
        parts = urlsplit(bare)
    except ValueError:
        return bare
    netloc = parts.netloc.lower()
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}{'?' + parts.query if parts.query else ''}"


def _shown(uri: str) -> str:
    return redact_url(strip_userinfo(uri)) if uri else ""


def _slug(*parts: str) -> str:
    text = _NOT_ID.sub("-", "-".join(p for p in parts if p)).strip("-._:")
    return text[:64].rstrip("-._:")


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _stream(p: StreamProfile) -> ProposedStream:
    return ProposedStream(
        name=p.name, encoding=p.encoding, width=p.width, height=p.height, fps=p.fps, uri=_shown(p.stream_uri)
    )


def _notes(facts: DeviceFacts, offset_ms: float | None) -> str:
    bits = [" ".join(x for x in (facts.maker, facts.model) if x) or "unknown camera"]
    if facts.firmware:
        bits.append(f"firmware {facts.firmware}")
    if facts.main:
        m = facts.main
        bits.append(f"main {m.width}x{m.height} {m.encoding} {m.fps:g} fps")
    if facts.sub:
        s = facts.sub
        bits.append(f"sub {s.width}x{s.height} {s.encoding} {s.fps:g} fps")
    bits.append("masks" if facts.masks else "no masks")
    bits.append("events" if facts.events else "no events")
    bits.append("Profile G" if facts.profile_g else "no Profile G")
    if offset_ms is not None:
        bits.append(f"clock {offset_ms / 1000:+.1f} s")
    return "; ".join(bits)[:500]


def _proposal(item: Discovered, taken: set[str]) -> ProposedCamera:
    found, facts = item.found, item.facts
    host = _host(found.xaddr)
    if facts is None:
        return ProposedCamera(
            id=_slug(host) or "camera", name=found.name or host, rtsp_url="", onvif_url=_shown(found.xaddr),
            error=item.error or "no answer",
        )  # fmt: skip
    offset_ms = item.clock.offset_ns / (NS_PER_S / 1000) if item.clock else None
    base = _slug(facts.maker, facts.serial or facts.hardware_id) or _slug(facts.model, host) or _slug(host) or "camera"
    ident, n = base, 1
    while ident.lower() in taken:
        n += 1
        ident = f"{base[: 64 - len(str(n)) - 1]}-{n}"
    taken.add(ident.lower())
    name = found.name or " ".join(x for x in (facts.maker, facts.model, host) if x)
    return ProposedCamera(
        id=ident,
        name=name[:200] or ident,
        rtsp_url=_shown(facts.main.stream_uri) if facts.main else "",
        sub_rtsp_url=_shown(facts.sub.stream_uri) if facts.sub else "",
        onvif_url=_shown(found.xaddr),
        maker=facts.maker,
        model=facts.model,
        firmware=facts.firmware,
        serial=facts.serial,
        hardware_id=facts.hardware_id,
        services=list(facts.services),
        media=facts.media_version,
        masks=facts.masks,
        events=facts.events,
        profile_g=facts.profile_g,
        clock_offset_ms=round(offset_ms, 1) if offset_ms is not None else None,
        clock_basis=item.clock.basis if item.clock else "",
        snapshot_uri=_shown(facts.snapshot_uri),
        streams=[_stream(p) for p in facts.profiles],
        notes=_notes(facts, offset_ms) + (f"; {item.error}" if item.error else ""),
        error="" if facts.main else "no stream URI (no media profile answered)",
    )


def propose(
    *, session: Session, actor: Actor, discovered: Sequence[Discovered], username: str = ""
) -> tuple[list[ProposedCamera], list[ProposedCamera], list[ProposedCamera]]:
    """``(proposed, known, failed)``: rows for the new cameras, the ones the registry has (by ONVIF address or main
    stream; named only when the actor may see them) and the ones that could not be described (read only)."""
    known_at: dict[str, Camera] = {}
    taken: set[str] = set()
    for cam in session.scalars(select(Camera)):
        taken.add(cam.id.lower())
        for url in (cam.onvif_url, cam.rtsp_url):
            if url:
                known_at.setdefault(normalise(url), cam)
    proposed, known, failed = [], [], []
    for item in sorted(discovered, key=lambda d: d.found.xaddr):
        p = _proposal(item, taken)
        p.username = username if p.rtsp_url else ""
        match = next((known_at[u] for u in _urls(p) if u in known_at), None)
        if match is not None:
            p.known_as = match.id if actor.sees(match.district_id) else ""
            known.append(p)
        elif p.error and not p.rtsp_url:
            failed.append(p)
        else:
            proposed.append(p)
    return proposed, known, failed


def _urls(p: ProposedCamera) -> Iterable[str]:
    return [normalise(u) for u in (p.onvif_url, p.rtsp_url) if u]


def csv_rows(proposed: Sequence[ProposedCamera]) -> list[dict[str, Any]]:
    """The proposals in the camera-file format (password, position and topology empty), with ``notes``."""
    return [
        {
            "id": p.id,
            "name": p.name,
            "rtsp_url": p.rtsp_url,
            "sub_rtsp_url": p.sub_rtsp_url,
            "onvif_url": p.onvif_url,
            "username": p.username,
            "password": "",
            NOTES_COLUMN: p.notes,
        }
        for p in proposed
    ]
