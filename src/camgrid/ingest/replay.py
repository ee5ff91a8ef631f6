"""An ONVIF replay session (Profile G): what a camera's card holds for an interval, over RTSP, with its times.

The ingest client (``ingest/rtsp.py``) does the protocol; this module asks for a replay instead of the live view
(``Require: onvif-replay``, ``Range: clock=<start>Z-<end>Z``, ``Rate-Control: no``: as fast as the camera can send)
and takes each picture's time from the RTP header extension (``media/rtp.py``, :func:`onvif_replay_extension`),
the camera's clock, minus its offset: our time. TCP interleaved only, so that reading slowly slows the camera (TCP
backpressure): the socket is read at most ``max_bytes_per_s`` (a token bucket), so a replay never takes the
bandwidth live recording needs. Everything is bounded: the session's length, the wait for data, a picture's size;
a camera that replays forever or sends garbage is cut off with a clear detail (docs/design/onvif.md, "Replay and
storing what the card held").
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from camgrid.clock import Clock
from camgrid.ingest.auth import Credentials
from camgrid.ingest.rtsp import Response, RtspClient, RtspError, Sdp
from camgrid.media.rtp import AccessUnit, Depacketizer, ExtensionError, ReplayStamp, onvif_replay_extension
from camgrid.vocabulary import GapReason, RtspTransport

RECV_SIZE = 1 << 16
RTCP_BYE = 203
MAX_STAMPS = 512  # stamps of pictures not yet complete, at most (lost pictures' stamps are forgotten)
NO_STAMP_LIMIT = 50  # pictures without the replay extension before the camera is told off
ROUNDING_NS = 1_000  # NTP fractions written by truncation (gst): steps of 39,999,999 ns for 40 ms
TS_JUMP_NS = 500_000_000  # the extension's time and the RTP clock disagree by this much: a jump in the recording


class ReplayError(Exception):
    """The replay failed: ``detail`` says why (no credentials, refused, garbage, cut off)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(slots=True)
class ReplayPicture:
    """One picture of the replay: ``wall_ns`` is our time (the extension's minus the camera's clock offset)."""

    au: AccessUnit
    ext: int  # extended RTP timestamp (90 kHz)
    wall_ns: int
    jump: bool  # time jumped before it (a discontinuity: another recorded span)
    stamp: ReplayStamp


@dataclass
class ReplayOutcome:
    ended: str  # range_end, bye, idle (media stopped, no BYE), stopped, closed
    pictures: int = 0
    bytes: int = 0
    bad_extensions: int = 0  # packets dropped: a header extension that did not fit
    unstamped: int = 0  # pictures dropped: no replay extension
    detail: str = ""


def clock_range(start_ns: int, end_ns: int) -> str:
    """``clock=20261202T101500.000Z-20261202T101600.000Z`` (RFC 2326 absolute time, ISO basic, milliseconds)."""

    def iso(ns: int) -> str:
        dt = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
        return f"{dt:%Y%m%dT%H%M%S}.{(ns // 1_000_000) % 1000:03d}Z"

    return f"clock={iso(start_ns)}-{iso(end_ns)}"


class StampingDepacketizer(Depacketizer):
    """The live depacketizer, keeping each packet's replay extension by RTP timestamp (first packet wins)."""

    __slots__ = ("bad_extensions", "stamps")

    def __init__(self, codec: str) -> None:
        super().__init__(codec)
        self.stamps: dict[int, ReplayStamp] = {}
        self.bad_extensions = 0

    def push_from(self, mv: memoryview, start: int, end: int) -> None:
        try:
            stamp = onvif_replay_extension(mv, start, end)
        except ExtensionError:
            self.bad_extensions += 1  # dropped: the next packet's sequence number shows the hole
            return
        if stamp is not None:
            ts = int.from_bytes(mv[start + 4 : start + 8], "big")
            if ts not in self.stamps:
                if len(self.stamps) >= MAX_STAMPS:
                    del self.stamps[next(iter(self.stamps))]
                self.stamps[ts] = stamp
        super().push_from(mv, start, end)


class ReplayClient(RtspClient):
    """The ingest client asking for a replay: Require, Range and Rate-Control on its requests, stamps kept."""

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        on_picture: Callable[[ReplayPicture], None],
        *,
        start_ns: int,
        end_ns: int,
        clock_offset_ns: int,
        max_frame_bytes: int,
    ) -> None:
        super().__init__(url, credentials, self._on_au, max_frame_bytes=max_frame_bytes, transport=RtspTransport.TCP)
        self.on_picture = on_picture
        self.range_start_ns = start_ns  # camera clock
        self.range_end_ns = end_ns
        self.offset_ns = clock_offset_ns
        self.bye = False
        self.past_end = False
        self.pictures = 0
        self.unstamped = 0
        self._ext_base: int | None = None
        self._last_ts = 0
        self._last_ext = 0
        self._last_ntp: int | None = None

    @property
    def bad_extensions(self) -> int:
        return self.dep.bad_extensions if isinstance(self.dep, StampingDepacketizer) else 0

    def _request(self, method: str, url: str, extra: dict[str, str] | None = None) -> None:
        headers = dict(extra or {})
        if method in ("DESCRIBE", "SETUP", "PLAY"):
            headers["Require"] = "onvif-replay"
        if method == "PLAY":
            headers["Range"] = clock_range(self.range_start_ns, self.range_end_ns)
            headers["Rate-Control"] = "no"
        super()._request(method, url, headers)

    def _on_response(self, resp: Response) -> None:
        super()._on_response(resp)
        if self.sdp is not None and type(self.dep) is Depacketizer:
            self.dep = StampingDepacketizer(self.sdp.codec)

    def _rtcp(self, data: memoryview | bytes) -> None:
        super()._rtcp(data)
        pos, n = 0, len(data)
        while pos + 4 <= n:  # a BYE anywhere in the compound packet ends the replay
            if (data[pos] & 0xC0) != 0x80:
                return
            if data[pos + 1] == RTCP_BYE:
                self.bye = True
                return
            pos += 4 + ((data[pos + 2] << 8) | data[pos + 3]) * 4

    def _on_au(self, au: AccessUnit) -> None:
        dep = self.dep
        stamps = dep.stamps if isinstance(dep, StampingDepacketizer) else {}
        stamp = stamps.pop(au.ts, None) if not au.continuation else stamps.get(au.ts)
        if au.continuation:
            if self._ext_base is not None and au.ts == self._last_ts:
                self.on_picture(
                    ReplayPicture(au, self._last_ext, 0, False, stamp or ReplayStamp(0, False, False, False))
                )
            return
        if stamp is None:
            self.unstamped += 1
            if self.unstamped >= NO_STAMP_LIMIT and self.pictures == 0:
                raise RtspError(GapReason.BAD_STREAM, "the camera sends no ONVIF replay timestamps (RTP extension)")
            return
        # The extended RTP timestamp, for durations; the extension's time, for where the picture is.
        if self._ext_base is None:
            self._ext_base = au.ts
            ext = 0
        else:
            step = (au.ts - self._last_ts) & 0xFFFFFFFF
            ext = self._last_ext + (step if step < 0x80000000 else step - 0x100000000)
        jump = stamp.discontinuity
        if self._last_ntp is not None and not jump:
            predicted = self._last_ntp + (ext - self._last_ext) * 1_000_000_000 // 90_000
            jump = abs(stamp.ntp_ns - predicted) > TS_JUMP_NS
        step_ns = stamp.ntp_ns - self._last_ntp if self._last_ntp is not None and not jump else 0
        self._last_ts, self._last_ext, self._last_ntp = au.ts, ext, stamp.ntp_ns
        if stamp.ntp_ns >= self.range_end_ns:
            self.past_end = True
            return
        # The next picture, one step on, would be at or past the end: the range is complete (many servers send
        # neither that picture nor a BYE, only RTCP, gst-rtsp-server among them).
        self.past_end = step_ns > 0 and stamp.ntp_ns + step_ns + ROUNDING_NS >= self.range_end_ns
        self.pictures += 1
        au.arrival_ns = stamp.ntp_ns - self.offset_ns
        self.on_picture(ReplayPicture(au, ext, au.arrival_ns, jump, stamp))


class _Bucket:
    """Bytes the replay may read now: ``rate`` per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, now

    def take_up_to(self, want: int, now: float) -> int:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return max(0, min(want, int(self.tokens)))

    def spend(self, n: int) -> None:
        self.tokens -= n

    def wait(self, want: float) -> float:
        """Seconds until ``want`` bytes may be read."""
        return max(0.001, (want - self.tokens) / self.rate)


def replay(
    *,
    url: str,
    username: str,
    password: str,
    start_ns: int,
    end_ns: int,
    clock_offset_ns: int,
    on_picture: Callable[[ReplayPicture], None],
    on_stream: Callable[[Sdp], None],
    max_bytes_per_s: float,
    stop: threading.Event,
    clock: Clock,
    connect_timeout_s: float = 10.0,
    idle_timeout_s: float = 15.0,
    max_seconds: float = 600.0,
    max_frame_bytes: int = 4_000_000,
) -> ReplayOutcome:
    """Replay [start_ns, end_ns) of the camera's clock from ``url``; pictures go to ``on_picture`` in order.

    ``on_stream(sdp)`` runs once before the first picture (codec and parameter sets). Returns how it ended;
    raises :class:`ReplayError` when the camera refused, sent garbage, went quiet or would not stop.
    """
    if not url.lower().startswith("rtsp://"):
        raise ReplayError("replay is over rtsp:// (TCP interleaved) only")
    if max_bytes_per_s <= 0:
        raise ReplayError("max_bytes_per_s must be positive")
    started = False

    def picture(p: ReplayPicture) -> None:
        nonlocal started
        if not started and client.sdp is not None:
            started = True
            on_stream(client.sdp)
        on_picture(p)

    client = ReplayClient(
        url,
        Credentials(username, password),
        picture,
        start_ns=start_ns,
        end_ns=end_ns,
        clock_offset_ns=clock_offset_ns,
        max_frame_bytes=max_frame_bytes,
    )
    host, port = RtspClient.host_port(url)
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout_s)
    except OSError as exc:
        raise ReplayError(f"connect to {host}:{port}: {exc.strerror or exc}") from None
    sel = selectors.DefaultSelector()
    outcome = ReplayOutcome(ended="")
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A small receive buffer: what the bucket does not read stays in the camera's send queue, not ours.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ)
        outcome.ended = _run(
            client, sock, sel, stop, clock, max_bytes_per_s, connect_timeout_s, idle_timeout_s, max_seconds
        )
    except RtspError as exc:
        raise ReplayError(exc.detail) from None
    finally:
        outcome.pictures = client.pictures
        outcome.bytes = client.bytes
        outcome.bad_extensions = client.bad_extensions
        outcome.unstamped = client.unstamped
        try:
            if client.session:
                client.outbox.clear()
                client.teardown()
                sock.setblocking(True)
                sock.settimeout(1.0)
                sock.sendall(b"".join(client.outbox))
        except OSError:
            pass
        sel.close()
        sock.close()
    return outcome


def _send(client: ReplayClient, sock: socket.socket, timeout: float) -> None:
    if not client.outbox:
        return
    data = b"".join(client.outbox)
    client.outbox.clear()
    sock.settimeout(timeout)
    try:
        sock.sendall(data)
    except OSError as exc:
        raise ReplayError(f"send: {exc.strerror or exc}") from None
    finally:
        sock.setblocking(False)


def _run(
    client: ReplayClient,
    sock: socket.socket,
    sel: selectors.BaseSelector,
    stop: threading.Event,
    clock: Clock,
    rate: float,
    step_s: float,
    idle_s: float,
    max_seconds: float,
) -> str:
    now = clock.monotonic()
    bucket = _Bucket(rate, max(1500.0, min(float(RECV_SIZE), rate / 4)), now)  # a quarter second, at most
    least = 1500
    deadline = now + max_seconds
    heard = now  # the last RTSP answer (before playing) or RTP packet (while playing)
    packets = 0
    next_keepalive = next_report = 0.0
    client.start()
    while True:
        _send(client, sock, step_s)
        if stop.is_set():
            return "stopped"
        if client.past_end:
            return "range_end"
        if client.bye:
            return "bye"
        now = clock.monotonic()
        if now >= deadline:
            raise ReplayError(f"the replay did not end within {max_seconds:g} s: cut off")
        if client.packets != packets:  # media, not RTCP or keepalive answers, says the replay is going on
            packets, heard = client.packets, now
        if client.state != "playing" and now - heard >= step_s:
            raise ReplayError(f"no RTSP answer within {step_s:g} s ({client.state})")
        if client.state == "playing" and now - heard >= idle_s:
            if client.pictures:
                return "idle"  # pictures came, then nothing but RTCP: the camera is done without a BYE
            raise ReplayError(f"no media for {idle_s:g} s")
        if client.state == "playing":
            if now >= next_keepalive:
                client.keepalive()
                next_keepalive = now + min(30.0, client.session_timeout / 2)
            if now >= next_report:
                client.rtcp_report(now)
                next_report = now + 5.0
            if client.outbox:
                continue
        allowed = bucket.take_up_to(RECV_SIZE, now)
        if allowed < least:  # never a read of a few bytes: wait for a packet's worth
            stop.wait(min(bucket.wait(least), 0.2))  # the camera waits in TCP; live recording keeps its bandwidth
            continue
        if not sel.select(min(0.2, max(0.0, deadline - now))):
            continue
        try:
            data = sock.recv(allowed)
        except BlockingIOError:
            continue
        except OSError as exc:
            raise ReplayError(f"connection lost: {exc.strerror or exc}") from None
        if not data:
            return "closed"
        bucket.spend(len(data))
        client.now = clock.monotonic()
        state = client.state
        client.feed(data)
        if client.state != state:
            heard = client.now  # an RTSP answer moved the session on


__all__ = ["ReplayClient", "ReplayError", "ReplayOutcome", "ReplayPicture", "clock_range", "replay"]
