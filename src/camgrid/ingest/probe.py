"""Camera diagnostics: what a camera really sends, measured in a short RTSP session of the probe's own.

``probe`` opens its own session (never the recorder's) with the same socket-free :class:`RtspClient` the ingest loop
drives, over one blocking socket with a deadline on every step, plays for a bounded window (default 5 s, at most
30 s), tears the session down and returns a :class:`ProbeResult`: the SDP (URLs redacted), the tracks it declares
(video and any audio), the resolution from the SPS, measured frame rate and bitrate, the keyframe interval, the RTP
clock's drift against the local clock, RTP loss, the quirks the client met, the transport, and the server's
``Public`` methods and ``Server`` header. A failure (no answer, wrong password, no H.264/H.265) is part of the result
(``error``, with the gap reason the recorder would store), together with whatever was learnt before it.

The password stays inside :class:`Credentials`; nothing returned carries it. Design note: docs/design/camera-probe.md.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import socket
import ssl
from collections import Counter
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from camgrid.clock import Clock
from camgrid.db.secrets import redact_url
from camgrid.ingest.auth import Credentials
from camgrid.ingest.loop import CameraSource
from camgrid.ingest.rtsp import Response, RtspClient, RtspError
from camgrid.media.nal import codec_string, nal_type, param_set_type, parse_sps
from camgrid.media.rtp import AccessUnit
from camgrid.vocabulary import GapReason

log = logging.getLogger("camgrid.ingest.probe")
PROBE_MIN_S = 1.0
PROBE_DEFAULT_S = 5.0
PROBE_MAX_S = 30.0
VIDEO_CLOCK = 90_000  # RFC 6184 / 7798: H.264 and H.265 always use a 90 kHz RTP clock
SDP_MAX_CHARS = 16_384  # of the SDP shown (a camera's SDP is a few hundred bytes)
MAX_TRACKS = 16  # media sections listed (a camera has one to three)
RECV_SIZE = 1 << 18
UNSUPPORTED_TRANSPORT = 461
_URL = re.compile(r"\b(?:rtsps?|https?)://[^\s\"'<>]+", re.I)
_STATIC_PT = {0: ("PCMU", 8000, 1), 8: ("PCMA", 8000, 1), 14: ("MPA", 90000, 1), 26: ("JPEG", 90000, 1)}

Transport = Literal["tcp", "tls"]


def check_seconds(seconds: float) -> float:
    """The probe window, or ValueError when it is outside [PROBE_MIN_S, PROBE_MAX_S] (a probe holds a camera's
    session and a server thread: it is bounded wherever it is asked for)."""
    if not (PROBE_MIN_S <= seconds <= PROBE_MAX_S) or math.isnan(seconds):
        raise ValueError(f"seconds must be between {PROBE_MIN_S:g} and {PROBE_MAX_S:g}, not {seconds:g}")
    return float(seconds)


class Track(BaseModel):
    """One media section of the SDP."""

    kind: str = Field(description="m= media type: video, audio, application")
    codec: str = Field(description="encoding name of the rtpmap (H264, H265, MPEG4-GENERIC, PCMA, opus...)")
    payload_type: int
    clock_rate: int | None = None
    channels: int | None = None
    fmtp: str = Field("", description="format parameters as declared (parameter sets are public stream data)")


class ProbeFailure(BaseModel):
    reason: str = Field(description="the gap reason the recorder would store (vocabulary.GapReason)")
    detail: str


class ProbeResult(BaseModel):
    """What a camera sent during a probe. Every measurement is None when the window held too little to tell."""

    camera: str
    url: str = Field(description="the camera's URL, redacted")
    ok: bool = Field(description="the session played and pictures arrived, without error")
    error: ProbeFailure | None = None
    seconds: float = Field(description="the probe window asked for")
    started_ms: int = Field(description="wall clock at the start of the probe (ms)")
    transport: Transport = Field(description="tcp: RTP interleaved on the RTSP connection; tls: the same over TLS")
    server: str = Field("", description="the Server header of the camera's answers")
    public: list[str] = Field(default_factory=list, description="methods the camera lists in OPTIONS' Public")
    keepalive: str = Field("", description="the keepalive method the client settled on")
    sdp: str = Field("", description="the SDP, URLs redacted")
    tracks: list[Track] = Field(default_factory=list)
    codec: str = Field("", description="h264 or h265 (the recorded video track)")
    codec_string: str = Field("", description="RFC 6381 codecs value (avc1..., hvc1...)")
    width: int | None = None
    height: int | None = None
    declared_fps: float | None = Field(None, description="a=framerate of the SDP, when the camera declares one")
    measured_s: float = Field(0.0, description="seconds of pictures measured (first to last arrival)")
    pictures: int = 0
    keyframes: int = 0
    fps: float | None = Field(None, description="pictures per second of the camera's own RTP time")
    fps_arrival: float | None = Field(None, description="pictures per second as they arrived (local clock)")
    bitrate_kbps: float | None = Field(None, description="video payload, kbit per second of RTP time")
    gop_pictures: int | None = Field(None, description="pictures from one keyframe to the next (most common)")
    gop_seconds: float | None = Field(None, description="seconds from one keyframe to the next (mean, RTP time)")
    drift_ppm: float | None = Field(
        None, description="RTP clock rate against the local clock, ppm (>0: the camera's clock runs fast)"
    )
    params_in_band: bool = Field(False, description="SPS/PPS also arrive inside the stream")
    rtp_packets: int = 0
    rtp_lost: int = Field(0, description="RTP packets missing by sequence number")
    quirks: list[str] = Field(default_factory=list, description="RtspQuirk names the client met")


# SDP -----------------------------------------------------------------------------------------------------------
def redact_sdp(text: str) -> str:
    """The SDP with every URL redacted (a camera may put its login in ``a=control`` or ``u=``), bounded."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text[:SDP_MAX_CHARS])


def sdp_tracks(text: str) -> tuple[list[Track], float | None]:
    """Every media section (its first payload type) and the video's a=framerate, if any."""
    tracks: list[Track] = []
    framerate: float | None = None
    cur: dict[str, object] | None = None

    def close() -> None:
        if cur is not None:
            tracks.append(Track.model_validate(cur))

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            close()
            fmt = line[2:].split()
            pt = int(fmt[3]) if len(fmt) > 3 and fmt[3].isdigit() else -1
            name, rate, channels = _STATIC_PT.get(pt, ("", None, None))
            cur = {"kind": fmt[0] if fmt else "", "codec": name, "payload_type": pt, "clock_rate": rate}
            if channels is not None and fmt and fmt[0] == "audio":
                cur["channels"] = channels
        elif cur is None:
            continue
        elif line.startswith("a=rtpmap:"):
            num, _, enc = line[9:].partition(" ")
            if num.strip() == str(cur["payload_type"]):
                parts = enc.strip().split("/")
                cur["codec"] = parts[0]
                cur["clock_rate"] = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                if len(parts) > 2 and parts[2].isdigit():
                    cur["channels"] = int(parts[2])
        elif line.startswith("a=fmtp:"):
            num, _, params = line[7:].partition(" ")
            if num.strip() == str(cur["payload_type"]):
                cur["fmtp"] = _URL.sub(lambda m: redact_url(m.group(0)), params.strip()[:2000])
        elif line.startswith("a=framerate:") and cur["kind"] == "video":
            try:
                framerate = float(line[12:].strip())
            except ValueError:
                framerate = None
    close()
    return tracks[:MAX_TRACKS], framerate if framerate and math.isfinite(framerate) and framerate > 0 else None


# statistics ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sample:
    """One picture as the probe saw it (no picture data is kept)."""

    ts: int  # RTP timestamp, 32 bits as received
    key: bool
    size: int  # bytes of the sample
    arrival_s: float  # local monotonic clock


@dataclass(frozen=True)
class Stats:
    pictures: int = 0
    keyframes: int = 0
    measured_s: float = 0.0
    fps: float | None = None
    fps_arrival: float | None = None
    bitrate_kbps: float | None = None
    gop_pictures: int | None = None
    gop_seconds: float | None = None
    drift_ppm: float | None = None


def unwrap(timestamps: list[int]) -> list[int]:
    """32-bit RTP timestamps as one extended line (each step taken as the signed 32-bit difference)."""
    out: list[int] = []
    for ts in timestamps:
        if not out:
            out.append(ts)
            continue
        step = (ts - out[-1]) & 0xFFFFFFFF
        out.append(out[-1] + (step - (1 << 32) if step >= 1 << 31 else step))
    return out


def summarise(samples: list[Sample], clock_rate: int = VIDEO_CLOCK) -> Stats:
    """Frame rate, bitrate, keyframe interval and clock drift of the pictures of a probe (pure)."""
    n = len(samples)
    if n == 0:
        return Stats()
    ext = unwrap([s.ts for s in samples])
    keys = [i for i, s in enumerate(samples) if s.key]
    arrivals = [s.arrival_s for s in samples]
    measured = arrivals[-1] - arrivals[0]
    span_ticks = max(ext) - min(ext)  # B-frames: presentation times are not in arrival order, their range is
    fps = (n - 1) * clock_rate / span_ticks if n > 1 and span_ticks > 0 else None
    fps_arrival = (n - 1) / measured if n > 1 and measured > 0 else None
    bitrate = sum(s.size for s in samples) * 8 * fps / n / 1000 if fps else None
    gop_pictures = gop_seconds = None
    if len(keys) >= 2:
        steps = [b - a for a, b in itertools.pairwise(keys)]
        gop_pictures = Counter(steps).most_common(1)[0][0]
        gop_seconds = (ext[keys[-1]] - ext[keys[0]]) / clock_rate / (len(keys) - 1)
    drift = None
    if n >= 3 and measured >= 1.0:
        # Least squares of RTP time on arrival time: network jitter averages out; the slope's error is the
        # jitter over the window (a few ms over 5 s: about a thousand ppm; longer probes resolve finer).
        mx = sum(arrivals) / n
        rtp_s = [e / clock_rate for e in ext]
        my = sum(rtp_s) / n
        var = sum((x - mx) ** 2 for x in arrivals)
        if var > 0:
            slope = sum((x - mx) * (y - my) for x, y in zip(arrivals, rtp_s, strict=True)) / var
            drift = (slope - 1.0) * 1e6
    return Stats(
        pictures=n,
        keyframes=len(keys),
        measured_s=measured,
        fps=fps,
        fps_arrival=fps_arrival,
        bitrate_kbps=bitrate,
        gop_pictures=gop_pictures,
        gop_seconds=gop_seconds,
        drift_ppm=drift,
    )


# the session ---------------------------------------------------------------------------------------------------
class _ProbeClient(RtspClient):
    """The ingest client, keeping what a probe shows: the SDP as sent, ``Server`` and OPTIONS' ``Public``."""

    def __init__(self, url: str, credentials: Credentials, samples: list[Sample], clock: Clock) -> None:
        super().__init__(url, credentials, self._on_picture)
        self.samples = samples
        self.clock = clock
        self.sdp_text = ""
        self.server = ""
        self.public: list[str] | None = None
        self.first_sps = b""
        self.params_in_band = False
        self.tcp_refused = False  # SETUP with TCP interleaved answered 461: the camera sends RTP over UDP only

    def _on_picture(self, au: AccessUnit) -> None:
        self.samples.append(Sample(au.ts, au.key, len(au.data), self.clock.monotonic()))
        if au.params:
            self.params_in_band = True
            if not self.first_sps and self.sdp is not None:
                sps_type = param_set_type(self.sdp.codec, "sps")
                self.first_sps = next((p for p in au.params if nal_type(self.sdp.codec, p) == sps_type), b"")

    def _on_response(self, resp: Response) -> None:
        method = self.pending.get(int(resp.header("cseq", "0").strip() or 0), "")
        self.server = self.server or resp.header("server")[:200]
        if method == "SETUP" and resp.status == UNSUPPORTED_TRANSPORT:
            self.tcp_refused = True
        if resp.header("public") and self.public is None:
            self.public = [m.strip() for m in resp.header("public").split(",") if m.strip()][:40]
        if method == "DESCRIBE" and resp.status == 200:
            self.sdp_text = resp.body.decode("utf-8", "replace")
        super()._on_response(resp)

    def ask_options(self) -> None:
        """OPTIONS with the session (as the keepalive sends it): its answer names the methods the camera takes."""
        self._request("OPTIONS", self.url)


class _Failed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _connect(url: str, timeout: float) -> tuple[socket.socket, Transport]:
    host, port = RtspClient.host_port(url)
    if not host:
        raise _Failed(GapReason.UNREACHABLE, "the URL names no host")
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise _Failed(GapReason.UNREACHABLE, f"no TCP connection within {timeout:g} s") from None
    except OSError as exc:
        raise _Failed(GapReason.UNREACHABLE, f"connect: {exc.strerror or exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if urlsplit(url).scheme.lower() != "rtsps":
        return sock, "tcp"
    try:  # the system's trust store and the URL's host name, as any TLS client checks them
        return ssl.create_default_context().wrap_socket(sock, server_hostname=host), "tls"
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise _Failed(GapReason.REFUSED, f"TLS: {exc}") from None


def probe(source: CameraSource, *, seconds: float, clock: Clock, connect_timeout_s: float = 5.0) -> ProbeResult:
    """Probe one camera for ``seconds`` of media (bounded: :func:`check_seconds`). Blocks for at most
    ``seconds`` plus one ``connect_timeout_s`` per RTSP step; never raises for what the camera does."""
    seconds = check_seconds(seconds)
    started_ms = clock.wall_ns() // 1_000_000
    samples: list[Sample] = []
    client = _ProbeClient(source.url, Credentials(source.username, source.password), samples, clock)
    transport: Transport = "tls" if urlsplit(source.url).scheme.lower() == "rtsps" else "tcp"
    error: ProbeFailure | None = None
    sock: socket.socket | None = None
    try:
        sock, transport = _connect(source.url, connect_timeout_s)
        _run(sock, client, seconds=seconds, clock=clock, step_timeout=connect_timeout_s)
    except _Failed as exc:
        error = ProbeFailure(reason=exc.reason, detail=exc.detail)
    except RtspError as exc:
        detail = exc.detail
        if client.tcp_refused:
            detail += ": the camera refuses RTP over TCP (it offers UDP only; this probe measures over TCP)"
        error = ProbeFailure(reason=exc.reason, detail=detail)
    except Exception as exc:  # camgrid failed on what this camera sent: a result, with the traceback in the log
        log.exception("probe of camera %s: internal error", source.id)
        error = ProbeFailure(reason=GapReason.INTERNAL_ERROR, detail=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        if sock is not None:
            _teardown(sock, client)
    return _result(source, client, samples, seconds, started_ms, transport, error)


def _send(sock: socket.socket, client: RtspClient, timeout: float) -> None:
    if client.outbox:
        data = b"".join(client.outbox)
        client.outbox.clear()
        try:
            sock.settimeout(timeout)
            sock.sendall(data)
        except TimeoutError:
            raise _Failed(GapReason.UNREACHABLE, f"the camera took no request within {timeout:g} s") from None
        except OSError as exc:
            raise _Failed(GapReason.UNREACHABLE, f"send: {exc.strerror or exc}") from None


def _run(sock: socket.socket, client: _ProbeClient, *, seconds: float, clock: Clock, step_timeout: float) -> None:
    client.start()
    deadline = clock.monotonic() + step_timeout  # of the current RTSP step, then of the media's next picture
    end: float | None = None  # of the window, once playing
    next_keepalive = 0.0
    state = client.state
    pictures = 0
    while True:
        _send(sock, client, step_timeout)
        now = clock.monotonic()
        if end is not None and now >= end:
            return
        if now >= deadline:
            if end is None:
                raise _Failed(GapReason.UNREACHABLE, f"no RTSP answer within {step_timeout:g} s ({state})")
            raise _Failed(GapReason.STALLED, f"no media for {step_timeout:g} s")
        if end is not None and now >= next_keepalive:
            client.keepalive()
            next_keepalive = now + min(30.0, client.session_timeout / 2)
            continue
        sock.settimeout(max(0.001, min(deadline, end if end is not None else deadline) - now))
        try:
            data = sock.recv(RECV_SIZE)
        except TimeoutError:
            continue
        except OSError as exc:
            raise _Failed(GapReason.UNREACHABLE, f"connection lost: {exc.strerror or exc}") from None
        if not data:
            raise _Failed(GapReason.UNREACHABLE, "the camera closed the connection")
        client.feed(data)
        now = clock.monotonic()
        if client.state != state:
            state = client.state
            deadline = now + step_timeout
            if state == "playing":
                end = now + seconds
                next_keepalive = now + min(30.0, client.session_timeout / 2)
                client.keepalive()  # at once: a camera that refuses GET_PARAMETER shows it (and OPTIONS follows)
                if client.public is None:
                    client.ask_options()
        if len(client.samples) != pictures:
            pictures = len(client.samples)
            deadline = now + step_timeout


def _teardown(sock: socket.socket, client: RtspClient) -> None:
    try:
        if client.state == "playing":
            client.outbox.clear()
            client.teardown()
            sock.settimeout(1.0)
            sock.sendall(b"".join(client.outbox))
    except OSError:
        pass
    finally:
        sock.close()


def _result(
    source: CameraSource,
    client: _ProbeClient,
    samples: list[Sample],
    seconds: float,
    started_ms: int,
    transport: Transport,
    error: ProbeFailure | None,
) -> ProbeResult:
    tracks, declared = sdp_tracks(client.sdp_text)
    sdp = client.sdp
    codec = sdp.codec if sdp is not None else ""
    width = height = None
    cstring = ""
    if sdp is not None:
        sps_type = param_set_type(codec, "sps")
        sps = next((p for p in sdp.params if nal_type(codec, p) == sps_type), b"") or client.first_sps
        if sps:
            try:
                info = parse_sps(codec, sps)
                width, height, cstring = info.width, info.height, codec_string(info, sps)
            except (IndexError, ValueError):
                pass  # a malformed SPS: the resolution stays unknown, the rest is still worth showing
    stats = summarise(samples)
    if error is None and not samples:
        error = ProbeFailure(reason=GapReason.STALLED, detail="the session played but no picture arrived")
    return ProbeResult(
        camera=source.id,
        url=redact_url(source.url),
        ok=error is None,
        error=error,
        seconds=seconds,
        started_ms=started_ms,
        transport=transport,
        server=client.server,
        public=client.public or [],
        keepalive=client.keepalive_method if client.state == "playing" else "",
        sdp=redact_sdp(client.sdp_text),
        tracks=tracks,
        codec=codec,
        codec_string=cstring,
        width=width,
        height=height,
        declared_fps=declared,
        measured_s=round(stats.measured_s, 3),
        pictures=stats.pictures,
        keyframes=stats.keyframes,
        fps=_round(stats.fps, 3),
        fps_arrival=_round(stats.fps_arrival, 3),
        bitrate_kbps=_round(stats.bitrate_kbps, 1),
        gop_pictures=stats.gop_pictures,
        gop_seconds=_round(stats.gop_seconds, 3),
        drift_ppm=_round(stats.drift_ppm, 0),
        params_in_band=client.params_in_band,
        rtp_packets=client.packets,
        rtp_lost=client.dep.lost if client.dep is not None else 0,
        quirks=sorted(client.quirks),
    )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


__all__ = ["PROBE_DEFAULT_S", "PROBE_MAX_S", "PROBE_MIN_S", "ProbeResult", "check_seconds", "probe", "summarise"]
