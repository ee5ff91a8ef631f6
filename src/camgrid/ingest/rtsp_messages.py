"""RTSP messages camgrid reads: answers, the SDP's video stream, and the error a failed session ends with.

Apart from the client's state machine (``ingest/rtsp.py``) so that each stays readable; the client re-exports them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import urljoin

from camgrid.media.nal import H264, H265
from camgrid.vocabulary import GapReason


class RtspError(Exception):
    """A session failed. ``reason`` is the gap reason the recorder stores."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Response:
    status: int
    headers: dict[str, list[str]]
    body: bytes
    phrase: str = ""

    def header(self, name: str, default: str = "") -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else default


@dataclass
class Sdp:
    codec: str
    control: str
    payload_type: int
    params: list[bytes] = field(default_factory=list)
    empty_fmtp: bool = False  # ``a=fmtp:96`` with nothing after it (Ubiquiti): parameter sets come in-band


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""  # a broken sprop is not fatal: parameter sets also come in-band


def parse_sdp(text: str, base: str) -> Sdp:
    """The first H.264/H.265 video stream of an SDP description."""
    codec = ""
    control = ""
    pt = -1
    params: list[bytes] = []
    in_video = False
    empty_fmtp = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            if in_video and codec:
                break
            in_video = line.startswith("m=video")
            fmt = line.split()
            pt = int(fmt[3]) if in_video and len(fmt) > 3 and fmt[3].isdigit() else -1
            control = ""
        elif in_video and line.startswith("a=rtpmap:"):
            num, _, enc = line[9:].partition(" ")
            if num.strip() == str(pt):
                name = enc.split("/")[0].upper()
                codec = {"H264": H264, "H265": H265, "HEVC": H265}.get(name, "")
                if not codec:
                    raise RtspError(GapReason.UNSUPPORTED, f"video codec {name} is not H.264 or H.265")
        elif in_video and line.startswith("a=fmtp:"):
            empty_fmtp = empty_fmtp or " " not in line
            for item in line.split(" ", 1)[-1].split(";"):
                key, _, value = item.strip().partition("=")
                key = key.lower()
                if key in ("sprop-parameter-sets", "sprop-vps", "sprop-sps", "sprop-pps"):
                    params += [_b64(v) for v in value.split(",") if v]
        elif in_video and line.startswith("a=control:"):
            control = line[10:].strip()
    if not codec:
        raise RtspError(GapReason.UNSUPPORTED, "no H.264/H.265 video stream in the SDP")
    if not control or control == "*":
        url = base
    elif control.startswith("rtsp://") or control.startswith("rtsps://"):
        url = control
    else:
        url = urljoin(base if base.endswith("/") else base + "/", control)
    return Sdp(codec, url, pt, [bytes(p) for p in params if p], empty_fmtp)
