"""The ingest loop: every camera's socket in one thread, drained in batches.

Why batches: at 2 Mbit/s a camera sends ~180 RTP packets a second. Waking up per packet (as one ffmpeg per camera
does, with two small reads per packet) costs more than the work itself. This loop wakes every ``poll_interval_ms``,
asks epoll which sockets have data, and reads each with one large ``recv`` — a few reads per camera per second of
video — then parses the whole batch in one pass. See docs/design/packet-path.md.

Supervision is per camera and never blocks the others: non-blocking connects, a deadline on every RTSP step, a stall
watchdog on media, exponential backoff with jitter, a global connection rate limit, and a hint that retries the other
cameras of a feeder or site as soon as one of them is back.

No camera can stop the loop: every step of one session (connect, read, write, timers, the RTSP/RTP parser and the
sink's callbacks for its pictures) runs under a guard; an exception closes that session with an ``internal_error``
gap, logs its traceback once, and retries it with backoff like any other failure. Should the loop itself fail, every
session is closed the same way and the thread ends; the recorder's watchdog starts it again
(docs/design/gaps-and-recovery.md, "Failures of camgrid itself").
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import random
import selectors
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from camgrid.clock import Clock
from camgrid.config import RecorderConfig
from camgrid.db.secrets import redact_url
from camgrid.ingest import supervisor as sv
from camgrid.ingest import tls
from camgrid.ingest.auth import Credentials
from camgrid.ingest.loop_transports import TransportSteps, UdpKey
from camgrid.ingest.rtsp import RtspClient, RtspError
from camgrid.ingest.timing import Anchor
from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.rtp import AccessUnit
from camgrid.vocabulary import GapReason, RtspTransport

log = logging.getLogger("camgrid.ingest")
RECV_SIZE = 1 << 18
# Why a session ended without the camera failing (``IngestSink.on_state`` reasons, never stored as gap reasons).
ENDED_STOPPED = "recorder_stopped"
ENDED_REMOVED = "removed"
ENDED_RECONFIGURED = "reconfigured"
_NEIGHBOUR_REASONS = frozenset({GapReason.UNREACHABLE, GapReason.STALLED})  # a feeder or site back: retry these


@dataclass(frozen=True)
class CameraSource:
    """What ingest needs to know of a camera. The password is never part of ``repr``, the URLs only redacted (they
    may carry query credentials)."""

    id: str
    url: str = field(repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    feeder: str = ""
    site: str = ""
    sub_url: str = field(default="", repr=False)  # the camera's substream, opened on demand for live walls
    transport: str = RtspTransport.AUTO  # auto | tcp | udp (auto: the recorder's default)
    audio: bool = False  # record the camera's audio track (off by default: docs/design/audio.md)

    def __repr__(self) -> str:
        return f"CameraSource(id={self.id!r}, url={redact_url(self.url)!r}, username={self.username!r})"


class IngestSink(Protocol):
    """Where sessions deliver. Called on the ingest thread: must not block."""

    def on_access_unit(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None: ...

    def on_stream(self, camera_id: str, codec: str, params: Sequence[bytes]) -> None:
        """A session is about to deliver: its codec and the SDP's parameter sets (SPS/PPS/VPS), sent once per session
        just before its ``on_state(up)`` and first access unit, so the sink never reads ingest's internals."""
        ...

    def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None: ...

    def on_tick(self) -> None:
        """End of a batch: hand queued work on (called once per tick)."""
        ...


class AudioSink(Protocol):
    """A sink that also records audio (optional: sinks without these methods never get audio)."""

    def on_audio_stream(self, camera_id: str, track: AudioTrack | None) -> None:
        """The session's audio track (None: none), sent with ``on_stream``."""
        ...

    def on_audio_frame(self, camera_id: str, frame: AudioFrame, wall_ns: int, ext_ts: int, jump: bool) -> None: ...


@dataclass
class _Session:
    source: CameraSource
    state: str = "idle"  # idle | resolving | connecting | handshake | playing | backoff
    sock: socket.socket | None = None
    client: RtspClient | None = None
    addr: tuple[str, int] | None = None
    deadline: float = 0.0
    last_media: float = 0.0
    next_attempt: float = 0.0
    next_keepalive: float = 0.0
    failures: int = 0
    up: bool = False
    reason: str = ""
    anchor: Anchor = field(default_factory=Anchor)
    arrival_ns: int = 0
    wbuf: bytes = b""
    # counters for /metrics
    reconnects: int = 0
    bytes_in: int = 0
    frames: int = 0
    frames_seen: int = 0
    last_crash: str = ""  # the last internal error's kind and place: its traceback is logged once, not at every retry
    # transports: UDP sockets (RTP, RTCP) and TLS; counters of the sessions before the current one
    udp: tuple[socket.socket, socket.socket] | None = None
    next_rtcp: float = 0.0
    lost: int = 0
    dropped: int = 0
    reordered: int = 0
    udp_foreign: int = 0  # datagrams from another address than the camera's (dropped)
    quirks: set[str] = field(default_factory=set)
    last_transport: str = ""  # what the last session used (tcp | udp), shown while the camera is down


class IngestLoop(TransportSteps):
    """Runs every camera session on one thread. ``start()``/``stop()``; cameras can be added and removed live."""

    def __init__(
        self,
        *,
        sink: IngestSink,
        config: RecorderConfig,
        clock: Clock,
        sources: Iterable[CameraSource] = (),
        seed: int | None = None,
    ) -> None:
        self.sink = sink
        self.cfg = config
        self.clock = clock
        self.rng = random.Random(seed)
        self.policy = sv.BackoffPolicy(config.backoff_initial_s, config.backoff_max_s, config.slow_backoff_max_s)
        self.bucket = sv.TokenBucket(config.max_connects_per_s, max(1.0, config.max_connects_per_s / 4))
        self.sessions: dict[str, _Session] = {}
        self.selector = selectors.DefaultSelector()
        self._commands: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.late_ns = 0  # how late the current tick runs (set by the loop thread; 0 when a test ticks)
        self._sink_error = ""
        for src in sources:
            self._add(src)

    # public, thread-safe ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the loop's thread, or start it again after it died (sessions then reconnect with backoff)."""
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def add(self, source: CameraSource) -> None:
        with self._lock:
            self._commands.append(lambda: self._add(source))

    def remove(self, camera_id: str) -> None:
        with self._lock:
            self._commands.append(lambda: self._remove(camera_id, ENDED_REMOVED))

    def fail(self, camera_id: str, reason: str, detail: str) -> None:
        """Close a camera's session as failed (it is retried with backoff), e.g. when its pictures broke the sink."""
        self.call(lambda: self._fail_id(camera_id, reason, detail))

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop's thread at its next tick (where the sessions and the sink's state live)."""
        with self._lock:
            self._commands.append(fn)

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Per-camera counters for metrics (read without locking: values are plain ints/strings)."""
        return {
            cid: {
                "state": s.state,
                "up": s.up,
                "reason": s.reason,
                "reconnects": s.reconnects,
                "bytes": s.bytes_in,
                "frames": s.frames,
                **self._transport_counters(s),
            }
            for cid, s in list(self.sessions.items())
        }

    # loop ------------------------------------------------------------------------------------------------------
    def _run(self) -> None:
        interval = self.cfg.poll_interval_ms / 1000.0
        previous: float | None = None
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                # How late this tick runs (the machine was busy, the thread descheduled): data that waited in the
                # sockets meanwhile arrives in one burst, and that wait is ours, never a pause of the camera.
                late = 0.0 if previous is None else max(0.0, started - previous - interval)
                self.late_ns = int(late * 1e9)
                previous = started
                self.tick(self.clock.monotonic())
                spent = time.monotonic() - started
                if spent < interval:
                    self._stop.wait(interval - spent)
        except Exception:
            log.exception("the ingest loop failed: every session is closed and retried when the loop restarts")
            self._abandon()
            return
        for cid in list(self.sessions):
            self._remove(cid, ENDED_STOPPED)
        self._sink_tick()
        self.selector.close()

    def _abandon(self) -> None:
        """The loop died: close every session as an internal error, so that each camera's gap says so at once."""
        now = self.clock.monotonic()
        for sess in list(self.sessions.values()):
            try:
                self._fail(sess, now, GapReason.INTERNAL_ERROR, "the ingest loop failed and is restarted")
            except Exception:
                log.exception("camera %s: could not be closed", sess.source.id)
        self._sink_tick()
        self.selector.close()
        self.selector = selectors.DefaultSelector()  # the next start() registers sockets afresh

    def tick(self, now: float) -> None:
        """One pass over every session (``now`` is monotonic seconds). The thread calls it every poll interval;
        tests call it directly with an injected clock, to drive hours of sessions in seconds."""
        self.ticks += 1
        if self._commands:
            with self._lock:
                commands, self._commands = self._commands, []
            for cmd in commands:
                try:
                    cmd()
                except Exception:
                    log.exception("ingest command %s failed", getattr(cmd, "__qualname__", cmd))
        if self.selector.get_map():
            wall = self.clock.wall_ns()
            for key, mask in self.selector.select(timeout=0):
                if isinstance(key.data, UdpKey):
                    self._on_udp(key.data, now, wall)
                    continue
                sess: _Session = key.data
                if sess.sock is None:
                    continue
                try:
                    if mask & selectors.EVENT_WRITE:
                        self._on_writable(sess, now)
                    if mask & selectors.EVENT_READ and sess.sock is not None:
                        self._on_readable(sess, now, wall)
                except Exception as exc:
                    self._crash(sess, now, exc)
        for sess in list(self.sessions.values()):
            try:
                self._timers(sess, now)
            except Exception as exc:
                self._crash(sess, now, exc)
        self._sink_tick()

    def _sink_tick(self) -> None:
        try:
            self.sink.on_tick()
        except Exception as exc:
            summary = f"{type(exc).__name__}: {exc}"
            if summary != self._sink_error:  # once, not 25 times a second
                log.exception("the sink failed at the end of a tick; the loop goes on")
            self._sink_error = summary
        else:
            self._sink_error = ""

    def _crash(self, sess: _Session, now: float, exc: Exception) -> None:
        """camgrid failed on this camera's session or data: that camera only gets an ``internal_error`` gap."""
        summary = f"{type(exc).__name__}: {exc}"[:300]
        where = traceback.extract_tb(exc.__traceback__)[-1:]
        key = f"{type(exc).__name__} at {where[0].filename}:{where[0].lineno}" if where else summary
        if key != sess.last_crash:
            log.error("camera %s: internal error; its session is closed and retried", sess.source.id, exc_info=exc)
        else:
            log.warning("camera %s: internal error again (%s)", sess.source.id, summary)
        sess.last_crash = key
        self._fail(sess, now, GapReason.INTERNAL_ERROR, summary)

    def _fail_id(self, camera_id: str, reason: str, detail: str) -> None:
        sess = self.sessions.get(camera_id)
        if sess is not None and sess.state != "backoff":
            self._fail(sess, self.clock.monotonic(), reason, detail)

    def _timers(self, sess: _Session, now: float) -> None:
        st = sess.state
        if st == "playing":
            client = sess.client
            if client is not None and client.udp:
                client.udp_tick(now)
                if sess.frames != sess.frames_seen:
                    sess.frames_seen = sess.frames
                    sess.last_media = now
            if now - sess.last_media > self.cfg.stall_timeout_s:
                self._fail(sess, now, GapReason.STALLED, self._stall_detail(sess))
            elif client is not None and (now >= sess.next_keepalive or now >= sess.next_rtcp):
                if now >= sess.next_keepalive:
                    client.keepalive()
                    sess.next_keepalive = now + min(30.0, client.session_timeout / 2)
                if now >= sess.next_rtcp:
                    client.rtcp_report(now)
                    sess.next_rtcp = now + self.cfg.rtcp_interval_s
                self._flush(sess, now)
        elif st in ("connecting", "tls", "handshake"):
            if now > sess.deadline:
                what = {"connecting": "TCP connect", "tls": "TLS handshake"}.get(st, "RTSP answer")
                self._fail(sess, now, GapReason.UNREACHABLE, f"no {what} within {self.cfg.connect_timeout_s:.1f} s")
        elif st in ("idle", "backoff") and now >= sess.next_attempt and self.bucket.take(now):
            self._connect(sess, now)

    # connection steps ------------------------------------------------------------------------------------------
    def _connect(self, sess: _Session, now: float) -> None:
        host, port = RtspClient.host_port(sess.source.url)
        try:
            ipaddress.ip_address(host)
            addr = (host, port)
        except ValueError:
            try:  # names are rare for cameras; a slow resolver costs this tick only once per attempt
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                addr = infos[0][4][:2]  # type: ignore[assignment]
            except OSError as exc:
                self._fail(sess, now, GapReason.UNREACHABLE, f"cannot resolve host: {exc.strerror or exc}")
                return
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sess.sock = sock
        sess.addr = addr
        sess.state = "connecting"
        sess.deadline = now + self.cfg.connect_timeout_s
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            self._fail(sess, now, GapReason.UNREACHABLE, f"connect: {errno.errorcode.get(err, err)}")
            return
        self.selector.register(sock, selectors.EVENT_WRITE, sess)

    def _on_writable(self, sess: _Session, now: float) -> None:
        sock = sess.sock
        assert sock is not None
        if sess.state == "connecting":
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._fail(sess, now, GapReason.UNREACHABLE, f"connect: {errno.errorcode.get(err, err)}")
                return
            if sess.source.url.startswith("rtsps:"):
                self._start_tls(sess, now)
                return
            self._start_rtsp(sess, now)
        elif sess.state == "tls":
            self._tls_step(sess, now)
            return
        self._flush(sess, now)

    def _start_rtsp(self, sess: _Session, now: float) -> None:
        sock = sess.sock
        assert sock is not None
        src = sess.source
        transport = src.transport if src.transport != RtspTransport.AUTO else self.cfg.transport
        sess.client = RtspClient(
            src.url,
            Credentials(src.username, src.password),
            self._au_handler(sess),
            max_frame_bytes=self.cfg.max_frame_bytes,
            transport=transport,
            bind_udp=lambda: self._bind_udp(sess),
            reorder_window=self.cfg.reorder_window,
            reorder_delay_s=self.cfg.reorder_delay_ms / 1000.0,
            on_audio=self._audio_handler(sess) if src.audio else None,
        )
        sess.state = "handshake"
        sess.deadline = now + self.cfg.connect_timeout_s
        sess.client.start()
        self.selector.modify(sock, selectors.EVENT_READ, sess)
        self._flush(sess, now)

    def _flush(self, sess: _Session, now: float) -> None:
        sock, client = sess.sock, sess.client
        if sock is None or client is None:
            return
        if client.outbox:
            sess.wbuf += b"".join(client.outbox)
            client.outbox.clear()
        if client.udp_out:
            self._send_udp(sess)
        if not sess.wbuf:
            return
        try:
            sent = sock.send(sess.wbuf)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            sent = 0
        except OSError as exc:
            self._fail(sess, now, GapReason.UNREACHABLE, f"send: {exc.strerror or exc}")
            return
        sess.wbuf = sess.wbuf[sent:]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if sess.wbuf else 0)
        self.selector.modify(sock, events, sess)

    def _on_readable(self, sess: _Session, now: float, wall: int) -> None:
        if sess.state == "tls":
            self._tls_step(sess, now)
            return
        sock, client = sess.sock, sess.client
        if sock is None or client is None:
            return
        try:
            if isinstance(sock, ssl.SSLSocket):
                got = tls.recv(sock, RECV_SIZE)
                if got is None:
                    return
                data = got
            else:
                data = sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fail(sess, now, GapReason.UNREACHABLE, f"connection lost: {exc.strerror or exc}")
            return
        if not data:
            # A camera that dies can look like a clean end of stream: it is a failure all the same.
            self._fail(sess, now, GapReason.UNREACHABLE, "the camera closed the connection")
            return
        sess.bytes_in += len(data)
        sess.arrival_ns = wall
        before = client.state
        frames_before = sess.frames
        client.now = now
        try:
            client.feed(data)
        except RtspError as exc:
            self._fail(sess, now, exc.reason, exc.detail)
            return
        if client.state != before:
            sess.deadline = now + self.cfg.connect_timeout_s
            if client.state == "playing":
                sess.state = "playing"
                sess.last_media = now
                sess.next_keepalive = now + min(30.0, client.session_timeout / 2)
                sess.next_rtcp = now + self.cfg.rtcp_interval_s
        if sess.frames != frames_before:
            sess.last_media = now
            sess.frames_seen = sess.frames
        if client.outbox or client.udp_out:
            self._flush(sess, now)

    def _au_handler(self, sess: _Session) -> Callable[[AccessUnit], None]:
        anchor = sess.anchor
        anchor.reset()
        sink = self.sink
        cid = sess.source.id

        def on_au(au: AccessUnit) -> None:
            wall, ext, jump = anchor.place(au.ts, sess.arrival_ns, late_ns=self.late_ns)
            au.arrival_ns = wall
            sess.frames += 1
            if not sess.up:
                sess.up = True
                sess.failures = 0
                sess.reason = ""
                sdp = sess.client.sdp if sess.client is not None else None
                if sdp is not None:  # always set once media flows (PLAY follows DESCRIBE)
                    sink.on_stream(cid, sdp.codec, sdp.params)
                audio_stream = getattr(sink, "on_audio_stream", None)
                if audio_stream is not None and sess.client is not None:
                    audio_stream(cid, sess.client.audio_track)
                self._notify(cid, True, "", "", wall)
                self._hint_siblings(sess)
            sink.on_access_unit(cid, au, ext, jump)

        return on_au

    def _audio_handler(self, sess: _Session) -> Callable[[AudioFrame], None]:
        """Audio frames, anchored to UTC like the pictures (their own anchor, on the audio's RTP clock)."""
        anchor = Anchor()
        on_frame = getattr(self.sink, "on_audio_frame", None)
        cid = sess.source.id

        def on_audio(frame: AudioFrame) -> None:
            client = sess.client
            track = client.audio_track if client is not None else None
            if track is None or on_frame is None or not sess.up:
                return  # before the first picture, the sink does not know the track yet
            if anchor.clock_rate != track.clock_rate:
                anchor.clock_rate = track.clock_rate
                anchor.reset()
            wall, ext, jump = anchor.place(frame.ts, sess.arrival_ns, late_ns=self.late_ns)
            on_frame(cid, frame, wall, ext, jump)

        return on_audio

    def _hint_siblings(self, sess: _Session) -> None:
        """A camera is back: its feeder or site probably is too, so retry its down neighbours soon (spread 1 s)."""
        src = sess.source
        if sess.reconnects == 0 or not (src.feeder or src.site):
            return
        now = self.clock.monotonic()
        for other in self.sessions.values():
            if (
                other is sess
                or other.state != "backoff"
                or other.reason not in (GapReason.UNREACHABLE, GapReason.STALLED)
            ):
                continue
            o = other.source
            if (src.feeder and o.feeder == src.feeder) or (src.site and o.site == src.site):
                other.next_attempt = min(other.next_attempt, now + self.rng.uniform(0.0, 1.0))

    def _close(self, sess: _Session) -> None:
        client = sess.client
        if client is not None:  # keep what this session counted
            sess.lost += client.lost
            sess.dropped += client.dropped_ssrc + client.dropped_pt
            sess.reordered += client.reordered
            sess.quirks |= client.quirks
            sess.last_transport = RtspTransport.UDP if client.udp else RtspTransport.TCP
        if sess.udp is not None:
            for usock in sess.udp:
                try:
                    self.selector.unregister(usock)
                except (KeyError, ValueError):
                    pass
                usock.close()
            sess.udp = None
        if sess.sock is not None:
            try:
                self.selector.unregister(sess.sock)
            except (KeyError, ValueError):
                pass
            sess.sock.close()
        sess.sock = None
        sess.client = None
        sess.wbuf = b""

    def _fail(self, sess: _Session, now: float, reason: str, detail: str) -> None:
        self._close(sess)
        sess.failures = min(sess.failures + 1, sv.MAX_COUNTED_FAILURES)
        sess.reconnects += 1
        sess.state = "backoff"
        sess.next_attempt = now + self.policy.delay(sess.failures, reason, self.rng)
        changed = sess.up or reason != sess.reason
        sess.up = False
        sess.reason = reason
        if changed:
            log.info("camera %s down: %s (%s)", sess.source.id, reason, detail)
            self._notify(sess.source.id, False, reason, detail, self.clock.wall_ns())

    def _notify(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
        """Tell the sink; its failure on one camera's state is logged and never leaves this loop."""
        try:
            self.sink.on_state(camera_id, up, reason, detail, at_ns)
        except Exception:
            log.exception("camera %s: the sink failed on its state change (%s)", camera_id, reason or "up")

    # registry changes ------------------------------------------------------------------------------------------
    def _add(self, source: CameraSource) -> None:
        if source.id in self.sessions:
            self._remove(source.id, ENDED_RECONFIGURED)
        sess = _Session(source)
        sess.next_attempt = self.clock.monotonic() + self.rng.uniform(0.0, 0.5)
        self.sessions[source.id] = sess

    def _remove(self, camera_id: str, reason: str) -> None:
        sess = self.sessions.pop(camera_id, None)
        if sess is None:
            return
        if sess.client is not None and sess.sock is not None and sess.state == "playing":
            sess.client.teardown()
            try:
                sess.sock.send(b"".join(sess.client.outbox))
            except OSError:
                pass
        self._close(sess)
        self._notify(camera_id, False, reason, "", self.clock.wall_ns())
