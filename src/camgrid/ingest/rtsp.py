"""The RTSP/1.0 client protocol (RFC 2326) over TCP with interleaved RTP, as a socket-free state machine.

The ingest loop owns the socket: it calls :meth:`RtspClient.feed` with whatever bytes arrived and sends what the
client queued in ``outbox``. ``feed`` is the recorder's hot path: one pass over the buffer, one depacketizer call per
RTP packet, nothing per byte.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import urlsplit

from camgrid.ingest.auth import Credentials
from camgrid.ingest.rtcp import ReceptionStats, parse_rtcp
from camgrid.ingest.rtsp_messages import Response as Response
from camgrid.ingest.rtsp_messages import RtspError as RtspError
from camgrid.ingest.rtsp_messages import Sdp as Sdp
from camgrid.ingest.rtsp_messages import parse_sdp as parse_sdp
from camgrid.ingest.transport import parse_transport, resolve_base, rtp_info_seq
from camgrid.ingest.udp import Reorder
from camgrid.media.audio import (
    AudioDepacketizeError,
    AudioDepacketizer,
    AudioFrame,
    AudioTrack,
    AudioUnsupported,
    parse_audio_sdp,
)
from camgrid.media.rtp import AccessUnit, DepacketizeError, Depacketizer
from camgrid.vocabulary import GapReason, RtspQuirk, RtspTransport

MAX_HEADER = 65536
SSRC_FOLLOW = 50  # consecutive packets of a new SSRC after which it is the camera's for good (not an old session's)
RTP_INFO_SLACK = 64  # a first packet this far past RTP-Info's seq is loss at the start; farther, RTP-Info is bogus
STALE_STATUSES = (454, 455)  # Session Not Found, Method Not Valid in This State: a stale session (live555)


class RtspClient:
    """One session with one camera: DESCRIBE, SETUP (TCP interleaved or UDP), PLAY, keepalives, RTCP, media.

    The quirks of the field it works around are named in ``quirks`` (the probe reads it) and counted in
    ``dropped_ssrc``, ``dropped_pt``, ``reordered`` and ``lost`` (docs/design/packet-path.md, "Transports").
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        on_au: Callable[[AccessUnit], None],
        *,
        max_frame_bytes: int = 4_000_000,
        transport: str = RtspTransport.AUTO,
        bind_udp: Callable[[], tuple[int, int]] | None = None,
        reorder_window: int = 32,
        reorder_delay_s: float = 0.1,
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
        # OPTIONS until an OPTIONS answer's Public lists GET_PARAMETER; OPTIONS again if GET_PARAMETER is refused
        # (many answer 501 or 405). OPTIONS with the session refreshes it on every server met so far.
        self.keepalive_method = "OPTIONS"
        self.public: set[str] | None = None
        # transport: what was asked, what is used, what the loop must do for UDP
        self.transport = RtspTransport(transport)
        self.udp = self.transport == RtspTransport.UDP
        self.bind_udp = bind_udp
        self.udp_ports: tuple[int, int] | None = None
        self.server_ports: tuple[int, int] | None = None
        self.server_source = ""
        self.udp_out: list[tuple[int, bytes]] = []  # (0: RTP port, 1: RTCP port, datagram) for the loop to send
        self.reorder = Reorder(reorder_window, reorder_delay_s)
        self.now = 0.0  # monotonic seconds, set by the loop before each feed (RTCP's LSR/DLSR)
        # quirks and their counters
        self.quirks: set[str] = set()
        self.dropped_ssrc = 0
        self.dropped_pt = 0
        self.rtcp_bad = 0
        self.udp_bad = 0
        self._stale_retries = 0
        self._rtp_info_seq: int | None = None
        self._ssrc_hint: set[int] = set()
        self._candidate: bytes | None = None
        self._candidate_run = 0
        self._candidate_at = -1
        self._pt_candidate = -1
        self._pt_run = 0
        self._pt_at = -1
        self.last_seq = 0
        self.stats = ReceptionStats()
        self._stats_from = 0
        self.own_ssrc = int.from_bytes(os.urandom(4), "big")
        self.on_audio = on_audio
        self.audio_track: AudioTrack | None = None
        self.audio_dep: AudioDepacketizer | None = None
        self.audio_channel = -1
        self.audio_refused = ""  # why the camera's audio is not recorded although asked for
        self.audio_errors = 0

    @property
    def lost(self) -> int:
        return self.dep.lost if self.dep is not None else 0

    @property
    def reordered(self) -> int:
        return self.reorder.reordered

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

    def _setup(self) -> None:
        assert self.sdp is not None
        self.state = "setup"
        if self.udp:
            if self.udp_ports is None:
                if self.bind_udp is None:
                    raise RtspError(GapReason.INTERNAL_ERROR, "RTP over UDP asked for, and no UDP sockets to bind")
                self.udp_ports = self.bind_udp()
            rtp, rtcp = self.udp_ports
            transport = f"RTP/AVP;unicast;client_port={rtp}-{rtcp}"
        else:
            transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
        self._request("SETUP", self.sdp.control, {"Transport": transport})

    def rtcp_report(self, now: float) -> None:
        """Queue an RTCP receiver report (interleaved on the RTCP channel, or for the RTCP port over UDP)."""
        if self.state != "playing" or self.ssrc is None:
            return
        pkt = self.stats.report(
            own_ssrc=self.own_ssrc,
            media_ssrc=int.from_bytes(self.ssrc, "big"),
            last_seq=self.last_seq,
            received=self.packets - self._stats_from,
            now=now,
        )
        if self.udp:
            self.udp_out.append((1, pkt))
        else:
            self.outbox.append(b"$" + bytes([(self.rtp_channel + 1) & 0xFF]) + len(pkt).to_bytes(2, "big") + pkt)

    # responses -------------------------------------------------------------------------------------------------
    def _on_response(self, resp: Response) -> None:
        cseq = resp.header("cseq", "0").strip()
        if not cseq.isdigit():
            raise RtspError(GapReason.BAD_STREAM, f"RTSP answer with a malformed CSeq {cseq[:32]!r}")
        method = self.pending.pop(int(cseq), "")
        if method == "GET_PARAMETER" and resp.status not in (200, 401) and self.state == "playing":
            self.keepalive_method = "OPTIONS"  # refused: keep the session alive with what the camera does take
            self.quirks.add(RtspQuirk.NO_GET_PARAMETER)
            self.keepalive()
            return
        if method == "OPTIONS" and resp.status == 200 and "public" in resp.headers:
            self.public = {m.strip().upper() for m in ",".join(resp.headers["public"]).split(",") if m.strip()}
            if "GET_PARAMETER" in self.public:
                self.keepalive_method = "GET_PARAMETER"
            else:
                self.keepalive_method = "OPTIONS"
                self.quirks.add(RtspQuirk.NO_GET_PARAMETER)
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
        if method == "SETUP" and resp.status == 461:
            self._unsupported_transport()
            return
        if method in ("SETUP", "PLAY") and resp.status in STALE_STATUSES and self.sdp is not None:
            if self._stale_retries >= 1:
                raise RtspError(
                    GapReason.REFUSED,
                    f"{method} answered {resp.status} twice: the camera keeps a stale session (live555 after a "
                    "reconnect?)",
                )
            self._stale_retries += 1
            self.quirks.add(RtspQuirk.STALE_SESSION)
            self.session = ""
            self._setup()
            return
        if resp.status != 200:
            phrase = f" {resp.phrase}" if resp.phrase else ""
            raise RtspError(GapReason.REFUSED, f"{method} answered {resp.status}{phrase}")
        if method == "DESCRIBE":
            self.auth_tries = 0
            raw_base = resp.header("content-base") or resp.header("content-location") or self.url
            base, bare = resolve_base(raw_base, self.url)
            if bare:
                self.quirks.add(RtspQuirk.CONTENT_BASE_NO_SCHEME)
            self.sdp = parse_sdp(resp.body.decode("utf-8", "replace"), base)
            if self.sdp.empty_fmtp:
                self.quirks.add(RtspQuirk.EMPTY_FMTP)
            self.dep = Depacketizer(self.sdp.codec)
            self._describe_audio(resp.body.decode("utf-8", "replace"), base)
            self._setup()
        elif method == "SETUP":
            if self.state == "setup_audio":
                self._on_audio_setup(resp)
            else:
                self._on_setup(resp)
        elif method == "PLAY":
            self.state = "playing"
            if self.packets == 0 and self.sdp is not None:
                # RTP-Info's seq is checked against the first packet (Hikvision and Tapo send a bogus one)
                self._rtp_info_seq = rtp_info_seq(resp.header("rtp-info"), self.sdp.control)
            # else: data came before this reply (Reolink); the first packet set the numbering already

    def _unsupported_transport(self) -> None:
        """SETUP answered 461 Unsupported Transport."""
        if not self.udp and self.transport == RtspTransport.AUTO:
            self.quirks.add(RtspQuirk.UDP_ONLY)  # VLC's server, UDP-only cameras: record over UDP
            self.udp = True
            self._setup()
            return
        if self.transport == RtspTransport.AUTO:
            detail = "SETUP answered 461 to TCP and UDP"
        elif self.udp:
            detail = "SETUP answered 461 to UDP (the camera is set to udp: try tcp or auto)"
        else:
            detail = "SETUP answered 461 to TCP interleaved (the camera is set to tcp: try udp or auto)"
        raise RtspError(GapReason.REFUSED, detail)

    def _on_setup(self, resp: Response) -> None:
        session = resp.header("session")
        self.session, _, rest = session.partition(";")
        self.session = self.session.strip()
        for item in rest.split(";"):
            key, _, value = item.strip().partition("=")
            if key.lower() == "timeout" and value.strip().isdigit():
                self.session_timeout = max(5.0, float(value))
        reply = parse_transport(resp.header("transport"))
        if reply.interleaved is not None:
            self.rtp_channel = reply.interleaved
        if reply.ssrcs:
            self._ssrc_hint = reply.ssrcs
            if reply.odd_ssrc:
                self.quirks.add(RtspQuirk.ODD_TRANSPORT_SSRC)
        if self.udp and reply.interleaved is not None and reply.server_ports is None:
            self.udp = False  # asked for UDP, given TCP interleaved (the server's choice): take it
        if self.udp:
            self.server_ports = reply.server_ports
            self.server_source = reply.source
            if self.server_ports is not None:  # open the path through NATs and firewalls on the way
                pt = self.sdp.payload_type if self.sdp is not None else 96
                punch = bytes([0x80, pt & 0x7F, 0, 0, 0, 0, 0, 0]) + self.own_ssrc.to_bytes(4, "big")
                empty_rr = bytes([0x80, 201, 0, 1]) + self.own_ssrc.to_bytes(4, "big")
                self.udp_out += [(0, punch), (1, empty_rr), (0, punch), (1, empty_rr)]
        if self._setup_audio():
            return
        self.state = "play"
        self._request("PLAY", self.url, {"Range": "npt=0.000-"})

    # media -----------------------------------------------------------------------------------------------------
    def _admit(self, data: memoryview | bytes, s: int, e: int) -> bool:
        """The slow path of a packet the fast path did not take: the first one, another SSRC, another PT."""
        if e - s < 12:
            return True  # the depacketizer says what is wrong with it
        pt = data[s + 1] & 0x7F
        if self.sdp is not None and pt != self.sdp.payload_type:
            if 72 <= pt <= 76:  # RTCP sent on the RTP channel (the marker bit is part of its packet type)
                self._rtcp(data[s:e])
                return False
            # A run of SSRC_FOLLOW packets of one other type and none of the SDP's: the SDP named the wrong one.
            if pt != self._pt_candidate or self._pt_at != self.packets:
                self._pt_candidate = pt
                self._pt_run = 0
            self._pt_run += 1
            self._pt_at = self.packets
            if self._pt_run < SSRC_FOLLOW:
                self.dropped_pt += 1
                self.quirks.add(RtspQuirk.STRAY_PAYLOAD_TYPE)
                if self.dep is not None and self.ssrc == bytes(data[s + 8 : s + 12]):
                    self.dep.consumed((data[s + 2] << 8) | data[s + 3])  # it used a sequence number: not a loss
                return False
            self.quirks.add(RtspQuirk.PAYLOAD_TYPE_CHANGED)
            self.sdp.payload_type = pt
            self._pt_candidate = -1
        ssrc = bytes(data[s + 8 : s + 12])
        seq = (data[s + 2] << 8) | data[s + 3]
        if self.ssrc == ssrc:
            return True
        if self.ssrc is None and (not self._ssrc_hint or int.from_bytes(ssrc, "big") in self._ssrc_hint):
            self.ssrc = ssrc
            self._first_packet(seq)
            return True
        # Another source: an old session's leftovers (Reolink) are dropped; a run of SSRC_FOLLOW packets from it
        # with none of ours between is the camera's new numbering, and is followed.
        if ssrc != self._candidate or self._candidate_at != self.packets:
            self._candidate = ssrc
            self._candidate_run = 0
        self._candidate_run += 1
        self._candidate_at = self.packets
        if self._candidate_run >= SSRC_FOLLOW:
            self.quirks.add(RtspQuirk.SSRC_CHANGED)
            self.ssrc = ssrc
            self._candidate = None
            self.stats = ReceptionStats()
            self._stats_from = self.packets
            self._first_packet(seq, expect=False)
            if self.dep is not None:
                self.dep.expect_seq((seq - 1) & 0xFFFF)  # one hole: the picture in flight is not trusted
            return True
        self.dropped_ssrc += 1
        self.quirks.add(RtspQuirk.STRAY_SSRC)
        return False

    def _first_packet(self, seq: int, *, expect: bool = True) -> None:
        if self.state != "playing":
            self.quirks.add(RtspQuirk.DATA_BEFORE_PLAY)
        self.stats.base_seq = seq
        self.stats.prev_seq = seq
        self.last_seq = seq
        info = self._rtp_info_seq
        if expect and info is not None and self.dep is not None:
            if ((seq - info) & 0xFFFF) <= RTP_INFO_SLACK:
                self.dep.expect_seq(info)  # the first packets were lost: count them
                self.stats.base_seq = info
            else:
                self.quirks.add(RtspQuirk.BOGUS_RTP_INFO)  # never counted as loss

    def _rtcp(self, data: memoryview | bytes) -> None:
        if self.state != "playing":
            self.quirks.add(RtspQuirk.DATA_BEFORE_PLAY)
        try:
            reports, ok = parse_rtcp(data)
        except (ValueError, IndexError):  # struct.error is a ValueError
            reports, ok = [], False
        if not ok:
            self.rtcp_bad += 1
        ours = int.from_bytes(self.ssrc, "big") if self.ssrc is not None else None
        for sr in reports:
            if ours is None or sr.ssrc == ours:
                self.stats.on_sr(sr, self.now)

    def feed_rtcp(self, data: bytes, now: float) -> None:
        """An RTCP datagram from the camera's RTCP port (UDP)."""
        self.now = now
        self._rtcp(data)

    def feed_udp(self, data: bytes, now: float) -> None:
        """An RTP datagram from the camera (UDP): filtered, put in order, then depacketized."""
        self.now = now
        self.bytes += len(data)
        dep = self.dep
        if dep is None or len(data) < 12 or (data[0] & 0xC0) != 0x80:
            self.udp_bad += 1  # not RTP, or before DESCRIBE's answer: a stray datagram is no reason to fail
            return
        ssrc = self.ssrc
        sdp = self.sdp
        fast = ssrc is not None and data[8:12] == ssrc and sdp is not None and (data[1] & 0x7F) == sdp.payload_type
        if not fast and not self._admit(data, 0, len(data)):
            return
        out: list[bytes] = []
        self.reorder.push((data[2] << 8) | data[3], data, now, out)
        if out:
            self._deliver(out)

    def udp_tick(self, now: float) -> None:
        """Give up on UDP holes older than the reorder delay (the loop calls this every tick)."""
        if not self.reorder.waiting:
            return
        out: list[bytes] = []
        self.reorder.expire(now, out)
        if out:
            self._deliver(out)

    def _deliver(self, packets: list[bytes]) -> None:
        dep = self.dep
        assert dep is not None
        ready = dep.ready
        try:
            for pkt in packets:
                dep.push(pkt)
                self.packets += 1
                self.last_seq = (pkt[2] << 8) | pkt[3]
                if ready:
                    for au in ready:
                        self.on_au(au)
                    ready.clear()
        except DepacketizeError as exc:
            raise RtspError(GapReason.BAD_STREAM, str(exc)) from None

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
        phrase = parts[2].strip() if len(parts) > 2 else ""
        self._on_response(Response(int(parts[1]), headers, bytes(buf[end + 4 : stop]), phrase))
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
        pt = self.sdp.payload_type if self.sdp is not None else -1
        last_seq = self.last_seq
        packets = self.packets
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
                    ch = buf[pos + 1]
                    if ch == rtp_ch and dep is not None:
                        take = ssrc is not None and buf.startswith(ssrc, pos + 12) and (buf[pos + 5] & 0x7F) == pt
                        if not take:
                            self.packets = packets
                        if not take and self._admit(mv, pos + 4, end):  # the slow path: first packet, strays
                            take = True
                            ssrc = self.ssrc
                            pt = self.sdp.payload_type if self.sdp is not None else -1
                        if take:
                            dep.push_from(mv, pos + 4, end)
                            packets += 1
                            last_seq = (buf[pos + 6] << 8) | buf[pos + 7]
                            if ready:
                                for au in ready:
                                    on_au(au)
                                ready.clear()
                    elif ch == rtp_ch + 1:
                        self._rtcp(mv[pos + 4 : end])
                    elif ch == self.audio_channel:
                        self._audio_packet(bytes(buf[pos + 4 : end]))
                    pos = end
                elif c == 0x52:  # 'R' of "RTSP/1.0"
                    self.packets = packets
                    nxt = self._parse_response(pos)
                    if nxt < 0:
                        break
                    pos = nxt
                    if self.dep is not dep or self.rtp_channel != rtp_ch:
                        dep = self.dep
                        rtp_ch = self.rtp_channel
                        ready = dep.ready if dep is not None else None
                        pt = self.sdp.payload_type if self.sdp is not None else -1
                else:
                    raise RtspError(GapReason.BAD_STREAM, f"unexpected byte 0x{c:02x} in the RTSP stream")
        except DepacketizeError as exc:
            raise RtspError(GapReason.BAD_STREAM, str(exc)) from None
        finally:
            self.last_seq = last_seq
            self.packets = packets
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

    def _setup_audio(self) -> bool:
        """After the video's SETUP: SET UP the audio track on channels 2-3 (True), or there is none to set up."""
        track = self.audio_track
        if track is None:
            return False
        if self.udp:
            self.audio_refused = "audio is recorded over TCP interleaved only; this session uses UDP"
            self.audio_track = None
            return False
        self.state = "setup_audio"
        self._request("SETUP", track.control, {"Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"})
        return True

    def _on_audio_setup(self, resp: Response) -> None:
        """The audio's SETUP answered: its channel (the camera may pick others than 2-3), then PLAY."""
        reply = parse_transport(resp.header("transport"))
        self.audio_channel = reply.interleaved if reply.interleaved is not None else 2
        if self.audio_track is not None:
            self.audio_dep = AudioDepacketizer(self.audio_track)
        self.state = "play"
        self._request("PLAY", self.url, {"Range": "npt=0.000-"})

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
