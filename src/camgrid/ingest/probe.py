"""Camera diagnostics: what a camera really sends, measured in a short RTSP session of the probe's own.

``probe`` opens its own session (never the recorder's) with the same socket-free :class:`RtspClient` the ingest loop
drives, over sockets of its own with a deadline on every step (``probe_session``), plays for a bounded window
(default 5 s, at most 30 s), tears the session down and returns a :class:`ProbeResult`: the SDP (URLs redacted),
the tracks it declares (video and any audio), the resolution from the SPS, measured frame rate and bitrate, the
keyframe interval, the RTP clock's drift against the local clock, RTP loss, the quirks the client met, the
transport, and the server's ``Public`` methods and ``Server`` header. A failure (no answer, wrong password, no
H.264/H.265) is part of the result (``error``, with the gap reason the recorder would store), together with
whatever was learnt before it.

The password stays inside the client's credentials; nothing returned carries it. docs/design/camera-probe.md.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, Field

from camgrid.clock import Clock
from camgrid.config import RecorderConfig
from camgrid.db.secrets import redact_url
from camgrid.ingest.loop import CameraSource
from camgrid.ingest.probe_session import Failed, ProbeClient, RtspError, Sample, Session, run, teardown
from camgrid.media.nal import codec_string, nal_type, param_set_type, parse_sps
from camgrid.vocabulary import GapReason, RtspTransport

log = logging.getLogger("camgrid.ingest.probe")
PROBE_MIN_S = 1.0
PROBE_DEFAULT_S = 5.0
PROBE_MAX_S = 30.0
VIDEO_CLOCK = 90_000  # RFC 6184 / 7798: H.264 and H.265 always use a 90 kHz RTP clock
SDP_MAX_CHARS = 16_384  # of the SDP shown (a camera's SDP is a few hundred bytes)
MAX_TRACKS = 16  # media sections listed (a camera has one to three)
_URL = re.compile(r"\b(?:rtsps?|https?)://[^\s\"'<>]+", re.I)
_STATIC_PT = {0: ("PCMU", 8000, 1), 8: ("PCMA", 8000, 1), 14: ("MPA", 90000, 1), 26: ("JPEG", 90000, 1)}


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
    transport: RtspTransport = Field(
        description="what the media used: tcp (interleaved on the RTSP connection) or udp (RTP over UDP)"
    )
    tls: bool = Field(False, description="the RTSP connection is TLS (rtsps://)")
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
    rtp_reordered: int = Field(0, description="RTP packets put back in order (UDP)")
    rtp_dropped: int = Field(0, description="packets of another source or payload type, dropped")
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


# the probe -----------------------------------------------------------------------------------------------------
def probe(source: CameraSource, *, seconds: float, clock: Clock, config: RecorderConfig) -> ProbeResult:
    """Probe one camera for ``seconds`` of media (bounded: :func:`check_seconds`), with the recorder's transport
    and TLS settings (``config``). Blocks for at most ``seconds`` plus one ``connect_timeout_s`` per RTSP step;
    never raises for what the camera does."""
    seconds = check_seconds(seconds)
    started_ms = clock.wall_ns() // 1_000_000
    session = Session(source, config, clock)
    client = ProbeClient(source, config, clock, session.bind_udp)
    error: ProbeFailure | None = None
    try:
        session.connect()
        run(session, client, seconds=seconds)
    except (Failed, RtspError) as exc:
        error = ProbeFailure(reason=exc.reason, detail=exc.detail)
    except Exception as exc:  # camgrid failed on what this camera sent: a result, with the traceback in the log
        log.exception("probe of camera %s: internal error", source.id)
        error = ProbeFailure(reason=GapReason.INTERNAL_ERROR, detail=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        teardown(session, client)
    return _result(source, client, seconds, started_ms, session.tls, error)


def _result(
    source: CameraSource,
    client: ProbeClient,
    seconds: float,
    started_ms: int,
    over_tls: bool,
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
    stats = summarise(client.samples)
    if error is None and not client.samples:
        error = ProbeFailure(reason=GapReason.STALLED, detail="the session played but no picture arrived")
    return ProbeResult(
        camera=source.id,
        url=redact_url(source.url),
        ok=error is None,
        error=error,
        seconds=seconds,
        started_ms=started_ms,
        transport=RtspTransport.UDP if client.udp else RtspTransport.TCP,
        tls=over_tls,
        server=client.server,
        public=client.public_list,
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
        rtp_lost=client.lost,
        rtp_reordered=client.reordered,
        rtp_dropped=client.dropped_ssrc + client.dropped_pt,
        quirks=sorted(client.quirks),
    )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


__all__ = [
    "PROBE_DEFAULT_S",
    "PROBE_MAX_S",
    "PROBE_MIN_S",
    "ProbeResult",
    "Sample",
    "check_seconds",
    "probe",
    "summarise",
]
