"""RTSP header fields as cameras really write them: Transport, RTP-Info, Content-Base.

Each parser takes what the field sends (docs/design/packet-path.md, "Transports") and says when it had to bend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit


@dataclass
class TransportReply:
    """What a SETUP answer's ``Transport`` says that the client uses."""

    interleaved: int | None = None  # the RTP channel (RTCP is the next one)
    server_ports: tuple[int, int] | None = None  # RTP and RTCP ports of the camera (UDP)
    source: str = ""  # the address the camera sends from, when it says so
    ssrcs: set[int] = field(default_factory=set)  # every reading of its ssrc= (hex, or decimal when it looks so)
    odd_ssrc: bool = False  # the ssrc= was not 8 hex digits


def parse_ssrc(text: str) -> tuple[set[int], bool]:
    """The SSRC values a ``ssrc=`` parameter may mean, and whether its form was odd.

    RFC 2326 says 8 hex digits. Dahua writes fewer (leading zeros dropped), Rubetek writes it in decimal, others
    pad it with spaces. A string of digits is ambiguous, so both readings are returned: the first packet decides.
    """
    value = "".join(text.split())
    out: set[int] = set()
    try:
        v = int(value, 16)
        if v <= 0xFFFFFFFF:
            out.add(v)
    except ValueError:
        pass
    if value.isdigit() and int(value) <= 0xFFFFFFFF:
        out.add(int(value))
    odd = len(value) != 8 or value != text or not out
    return out, odd


def parse_transport(header: str) -> TransportReply:
    out = TransportReply()
    # A server that offers several transports separates them with commas; the first is the one it chose.
    for item in header.split(",")[0].split(";"):
        key, _, raw = item.partition("=")
        key = key.strip().lower()
        value = raw.strip()
        if key == "interleaved":
            first = value.split("-")[0].strip()
            if first.isdigit():
                out.interleaved = int(first)
        elif key == "server_port":
            a, _, b = value.partition("-")
            if a.strip().isdigit():
                rtp = int(a)
                rtcp = int(b) if b.strip().isdigit() else rtp + 1
                if 0 < rtp < 65536 and 0 < rtcp < 65536:
                    out.server_ports = (rtp, rtcp)
        elif key == "source":
            out.source = value.strip('"')
        elif key == "ssrc":
            out.ssrcs, out.odd_ssrc = parse_ssrc(raw.split("/")[0])
    return out


def rtp_info_seq(header: str, control: str) -> int | None:
    """The ``seq`` RTP-Info gives for the stream whose control URL is ``control`` (or its only stream)."""
    entries = [e for e in header.split(",") if e.strip()]
    chosen: dict[str, str] | None = None
    for entry in entries:
        params: dict[str, str] = {}
        for part in entry.split(";"):
            key, _, value = part.strip().partition("=")
            params[key.strip().lower()] = value.strip()
        url = params.get("url", "")
        if chosen is None or (url and (url == control or control.endswith(url) or url.endswith(control))):
            chosen = params
            if url and (url == control or control.endswith(url) or url.endswith(control)):
                break
    if chosen is None:
        return None
    seq = chosen.get("seq", "")
    return int(seq) & 0xFFFF if seq.isdigit() else None


def resolve_base(base: str, request_url: str) -> tuple[str, bool]:
    """The absolute base URL for the SDP's control attributes, and whether ``base`` lacked a scheme.

    Anjvision writes ``Content-Base: 192.168.1.10/live/``: a bare host/path. A path (starting with ``/``) is
    resolved against the request URL; a host/path gets the request's scheme."""
    if not base:
        return request_url, False
    if "://" in base:
        return base, False
    scheme = urlsplit(request_url).scheme or "rtsp"
    if base.startswith("/"):
        return urljoin(request_url, base), True
    return f"{scheme}://{base}", True
