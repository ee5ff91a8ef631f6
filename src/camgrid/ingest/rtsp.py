"""The RTSP/1.0 client protocol (RFC 2326) over TCP with interleaved RTP, as a socket-free state machine.

The ingest loop owns the socket: it calls :meth:`RtspClient.feed` with whatever bytes arrived and sends what the
client queued in ``outbox``. ``feed`` is the recorder's hot path: one pass over the buffer, one depacketizer call per
RTP packet, nothing per byte.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from camgrid.ingest.auth import Credentials
from camgrid.media.audio import (
    AudioDepacketizeError,
    AudioDepacketizer,
    AudioFrame,
    AudioTrack,
    AudioUnsupported,
    parse_audio_sdp,
)
from camgrid.media.nal import H264, H265
from camgrid.media.rtp import AccessUnit, DepacketizeError, Depacketizer
from camgrid.vocabulary import GapReason

MAX_HEADER = 65536


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

    def header(self, name: str, default: str = "") -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else default


@dataclass
class Sdp:
    codec: str
    control: str
    payload_type: int
    params: list[bytes] = field(default_factory=list)


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
    return Sdp(codec, url, pt, [bytes(p) for p in params if p])


class RtspClient:
    """One session with one camera: DESCRIBE, SETUP (TCP interleaved), PLAY, keepalives, media."""

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        on_au: Callable[[AccessUnit], None],
        *,
        max_frame_bytes: int = 4_000_000,
        on_audio: Callable[[AudioFrame], None] | None = None,
    ) -> None:
        """``on_audio``: record the camera's audio track too (SET UP on channels 2-3 after the video); None: the
        audio track is never set up (audio is off by default, docs/design/audio.md)."""
        self.url = url
        self.creds = credentials
        self.on_au = on_au
        self.max_frame_bytes = max_frame_bytes
        self.outbox: list[bytes] = []
        self.buf = bytearray()
        self.cseq = 0
        self.state = "init"
        self.session = ""
        self.session_timeout = 60.0
        self.sdp: Sdp | None = None
        self.dep: Depacketizer | None = None
        self.rtp_channel = 0
        self.ssrc: bytes | None = None
        self.pending: dict[int, str] = {}
        self.auth_tries = 0
        self.packets = 0
        self.bytes = 0
        self.lost_reported = 0
        # GET_PARAMETER until the camera refuses it (many answer 501 or 405): then OPTIONS, with the session, which
        # every server takes and which refreshes the session on those that refuse GET_PARAMETER (live555's kin).
        self.keepalive_method = "GET_PARAMETER"
        self.on_audio = on_audio
        self.audio_track: AudioTrack | None = None
        self.audio_dep: AudioDepacketizer | None = None
        self.audio_channel = -1
        self.audio_refused = ""  # why the camera's audio is not recorded although asked for
        self.audio_errors = 0

    # requests --------------------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, extra: dict[str, str] | None = None) -> None:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: camgrid"]
        keeps_session = method != "DESCRIBE" and (method != "OPTIONS" or self.state == "playing")
        if self.session and keeps_session:
            lines.append(f"Session: {self.session}")
        if self.creds.challenged:
            auth = self.creds.header(method, url)
            if auth:
                lines.append(f"Authorization: {auth}")
        for key, value in (extra or {}).items():
            lines.append(f"{key}: {value}")
        self.outbox.append(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.pending[self.cseq] = method

    def start(self) -> None:
        self.state = "describe"
        self._request("DESCRIBE", self.url, {"Accept": "application/sdp"})

    def keepalive(self) -> None:
        if self.state == "playing":
            self._request(self.keepalive_method, self.sdp.control if self.sdp else self.url)

    def teardown(self) -> None:
        if self.session:
            self._request("TEARDOWN", self.url)

    # responses -------------------------------------------------------------------------------------------------
    def _on_response(self, resp: Response) -> None:
        method = self.pending.pop(int(resp.header("cseq", "0").strip() or 0), "")
        if method == "GET_PARAMETER" and resp.status not in (200, 401) and self.state == "playing":
            self.keepalive_method = "OPTIONS"  # refused: keep the session alive with what the camera does take
            self.keepalive()
            return
        if method in ("GET_PARAMETER", "TEARDOWN", "OPTIONS"):
            return  # keepalive answers
        if resp.status == 401:
            if not self.creds.present:
                raise RtspError(GapReason.AUTH_REFUSED, "the camera asks for credentials and none are registered")
            if self.auth_tries >= 1:
                raise RtspError(GapReason.AUTH_REFUSED, "the camera refused the registered credentials")
            self.auth_tries += 1
            self.creds.challenge(resp.headers.get("www-authenticate", []))
            if not self.creds.challenged:
                raise RtspError(GapReason.AUTH_REFUSED, "unsupported authentication scheme")
            self.state = "describe"
            self._request("DESCRIBE", self.url, {"Accept": "application/sdp"})
            return
        if resp.status != 200 and method == "SETUP" and self.state == "setup_audio":
            self.audio_refused = f"the camera answered SETUP of its audio track with {resp.status}"
            self.audio_track = None  # the video is recorded all the same
            self.state = "play"
            self._request("PLAY", self.url, {"Range": "npt=0.000-"})
            return
        if resp.status != 200:
            raise RtspError(GapReason.REFUSED, f"{method} answered {resp.status}")
        if method == "DESCRIBE":
            self.auth_tries = 0
            base = resp.header("content-base") or resp.header("content-location") or self.url
            self.sdp = parse_sdp(resp.body.decode("utf-8", "replace"), base)
            self.dep = Depacketizer(self.sdp.codec)
            self._describe_audio(resp.body.decode("utf-8", "replace"), base)
            self.state = "setup"
            self._request("SETUP", self.sdp.control, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        elif method == "SETUP":
            session = resp.header("session")
            self.session, _, rest = session.partition(";")
            self.session = self.session.strip()
            for item in rest.split(";"):
                key, _, value = item.strip().partition("=")
                if key.lower() == "timeout" and value.strip().isdigit():
                    self.session_timeout = max(5.0, float(value))
            transport = resp.header("transport")
            for item in transport.split(";"):
                key, _, value = item.strip().partition("=")
                if key.lower() == "interleaved" and self.state == "setup":  # (not the audio's SETUP)
                    self.rtp_channel = int(value.split("-")[0])
            if self._setup_audio(transport):
                return
            self.state = "play"
            self._request("PLAY", self.url, {"Range": "npt=0.000-"})
        elif method == "PLAY":
            self.state = "playing"
            for part in resp.header("rtp-info").split(";"):
                key, _, value = part.strip().partition("=")
                if key.lower() == "seq" and value.strip().isdigit() and self.dep is not None:
                    self.dep.expect_seq(int(value))

    def _parse_response(self, start: int) -> int:
        """Parse one response at ``start``; return the offset after it, or -1 when incomplete."""
        buf = self.buf
        end = buf.find(b"\r\n\r\n", start)
        if end < 0:
            if len(buf) - start > MAX_HEADER:
                raise RtspError(GapReason.BAD_STREAM, "RTSP header too long")
            return -1
        head = bytes(buf[start:end]).decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("RTSP/") or not parts[1].isdigit():
            raise RtspError(GapReason.BAD_STREAM, "malformed RTSP status line")
        headers: dict[str, list[str]] = {}
        for line in head[1:]:
            key, _, value = line.partition(":")
            headers.setdefault(key.strip().lower(), []).append(value.strip())
        length_text = headers.get("content-length", ["0"])[0]
        length = int(length_text) if length_text.isdigit() else 0
        if length > MAX_HEADER:
            raise RtspError(GapReason.BAD_STREAM, "RTSP body too long")
        stop = end + 4 + length
        if stop > len(buf):
            return -1
        self._on_response(Response(int(parts[1]), headers, bytes(buf[end + 4 : stop])))
        return stop

    def feed(self, data: bytes) -> None:
        """Consume received bytes; completed access units go to ``on_au``."""
        buf = self.buf
        buf += data
        self.bytes += len(data)
        n = len(buf)
        pos = 0
        dep = self.dep
        rtp_ch = self.rtp_channel
        on_au = self.on_au
        ready = dep.ready if dep is not None else None
        ssrc = self.ssrc
        mv = memoryview(buf)
        try:
            while pos < n:
                c = buf[pos]
                if c == 0x24:
                    if pos + 4 > n:
                        break
                    end = pos + 4 + ((buf[pos + 2] << 8) | buf[pos + 3])
                    if end > n:
                        break
                    if buf[pos + 1] == rtp_ch and dep is not None:
                        if ssrc is None:
                            ssrc = self.ssrc = bytes(buf[pos + 12 : pos + 16])
                        elif not buf.startswith(ssrc, pos + 12):
                            raise RtspError(GapReason.BAD_STREAM, "RTP packet from an unknown source")
                        dep.push_from(mv, pos + 4, end)
                        self.packets += 1
                        if ready:
                            for au in ready:
                                on_au(au)
                            ready.clear()
                    elif buf[pos + 1] == self.audio_channel:
                        self._audio_packet(bytes(buf[pos + 4 : end]))
                    pos = end
                elif c == 0x52:  # 'R' of "RTSP/1.0"
                    nxt = self._parse_response(pos)
                    if nxt < 0:
                        break
                    pos = nxt
                    if self.dep is not dep:
                        dep = self.dep
                        rtp_ch = self.rtp_channel
                        ready = dep.ready if dep is not None else None
                else:
                    raise RtspError(GapReason.BAD_STREAM, f"unexpected byte 0x{c:02x} in the RTSP stream")
        except DepacketizeError as exc:
            raise RtspError(GapReason.BAD_STREAM, str(exc)) from None
        finally:
            mv.release()
            del buf[:pos]
        if len(buf) > self.max_frame_bytes:
            raise RtspError(GapReason.BAD_STREAM, "unframed data beyond the largest accepted frame")

    # audio (docs/design/audio.md) ------------------------------------------------------------------------------
    def _describe_audio(self, sdp_text: str, base: str) -> None:
        if self.on_audio is None:
            return
        try:
            self.audio_track = parse_audio_sdp(sdp_text, base)
        except AudioUnsupported as exc:
            self.audio_refused = str(exc)
        if self.audio_track is None and not self.audio_refused:
            self.audio_refused = "the camera's SDP has no audio track"

    def _setup_audio(self, transport: str) -> bool:
        """After the video's SETUP: SET UP the audio track (True), or take the audio's answer (False: PLAY next)."""
        track = self.audio_track
        if track is None:
            return False
        if self.state == "setup":
            self.state = "setup_audio"
            self._request("SETUP", track.control, {"Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"})
            return True
        self.audio_channel = 2  # the audio's SETUP: the camera may have picked other channels
        for item in transport.split(";"):
            key, _, value = item.strip().partition("=")
            if key.lower() == "interleaved" and value.split("-")[0].isdigit():
                self.audio_channel = int(value.split("-")[0])
        self.audio_dep = AudioDepacketizer(track)
        return False

    def _audio_packet(self, pkt: bytes) -> None:
        dep, on_audio = self.audio_dep, self.on_audio
        if dep is None or on_audio is None:
            return
        try:
            frames = dep.push(pkt)
        except AudioDepacketizeError:
            self.audio_errors += 1  # broken audio never stops the video
            return
        for frame in frames:
            on_audio(frame)

    @staticmethod
    def host_port(url: str) -> tuple[str, int]:
        parts = urlsplit(url)
        return parts.hostname or "", parts.port or (322 if parts.scheme == "rtsps" else 554)
