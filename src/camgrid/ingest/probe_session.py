"""The probe's own RTSP session (docs/design/camera-probe.md): the ingest loop's ``RtspClient`` driven by one
selector of the probe's own, with a deadline on every step, over TCP interleaved or RTP over UDP (the camera's
transport, as the recorder would choose it) and TLS for ``rtsps://`` (the recorder's trust: ``recorder.rtsps_*``).
"""

from __future__ import annotations

import selectors
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from camgrid.clock import Clock
from camgrid.config import RecorderConfig
from camgrid.ingest import tls
from camgrid.ingest.auth import Credentials
from camgrid.ingest.loop import CameraSource
from camgrid.ingest.rtsp import Response, RtspClient, RtspError
from camgrid.ingest.udp import bind_pair
from camgrid.media.nal import nal_type, param_set_type
from camgrid.media.rtp import AccessUnit
from camgrid.vocabulary import GapReason, RtspTransport

RECV_SIZE = 1 << 18
UDP_BATCH = 4096
_TCP, _RTP, _RTCP = "tcp", 0, 1


@dataclass(frozen=True, slots=True)
class Sample:
    """One picture as the probe saw it (no picture data is kept)."""

    ts: int  # RTP timestamp, 32 bits as received
    key: bool
    size: int  # bytes of the sample
    arrival_s: float  # local monotonic clock


class Failed(Exception):
    """The session ended on what the camera (or the path to it) did: ``reason`` is a gap reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class ProbeClient(RtspClient):
    """The ingest client, keeping what a probe shows: the SDP as sent, ``Server``, OPTIONS' ``Public`` as listed."""

    def __init__(
        self, source: CameraSource, cfg: RecorderConfig, clock: Clock, bind_udp: Callable[[], tuple[int, int]]
    ) -> None:
        transport = source.transport if source.transport != RtspTransport.AUTO else cfg.transport
        super().__init__(
            source.url,
            Credentials(source.username, source.password),
            self._on_picture,
            max_frame_bytes=cfg.max_frame_bytes,
            transport=transport,
            bind_udp=bind_udp,
            reorder_window=cfg.reorder_window,
            reorder_delay_s=cfg.reorder_delay_ms / 1000.0,
        )
        self.samples: list[Sample] = []
        self.clock = clock
        self.sdp_text = ""
        self.server = ""
        self.public_list: list[str] = []
        self.first_sps = b""
        self.params_in_band = False

    def _on_picture(self, au: AccessUnit) -> None:
        self.samples.append(Sample(au.ts, au.key, len(au.data), self.clock.monotonic()))
        if au.params:
            self.params_in_band = True
            if not self.first_sps and self.sdp is not None:
                sps_type = param_set_type(self.sdp.codec, "sps")
                self.first_sps = next((p for p in au.params if nal_type(self.sdp.codec, p) == sps_type), b"")

    def _on_response(self, resp: Response) -> None:
        cseq = resp.header("cseq", "0").strip()
        method = self.pending.get(int(cseq), "") if cseq.isdigit() else ""
        self.server = self.server or resp.header("server")[:200]
        if resp.header("public") and not self.public_list:
            self.public_list = [m.strip() for m in ",".join(resp.headers["public"]).split(",") if m.strip()][:40]
        if method == "DESCRIBE" and resp.status == 200:
            self.sdp_text = resp.body.decode("utf-8", "replace")
        super()._on_response(resp)


@dataclass
class Session:
    """One probe's sockets: the RTSP connection (TLS or not) and, over UDP, the RTP/RTCP pair."""

    source: CameraSource
    cfg: RecorderConfig
    clock: Clock
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    sock: socket.socket | None = None
    addr: tuple[str, int] | None = None
    udp: tuple[socket.socket, socket.socket] | None = None
    tls: bool = False

    def close(self) -> None:
        for s in (self.sock, *(self.udp or ())):
            if s is not None:
                try:
                    self.selector.unregister(s)
                except (KeyError, ValueError):
                    pass
                s.close()
        self.selector.close()

    # connecting ------------------------------------------------------------------------------------------------
    def connect(self) -> None:
        timeout = self.cfg.connect_timeout_s
        host, port = RtspClient.host_port(self.source.url)
        if not host:
            raise Failed(GapReason.UNREACHABLE, "the URL names no host")
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise Failed(GapReason.UNREACHABLE, f"no TCP connection within {timeout:g} s") from None
        except OSError as exc:
            raise Failed(GapReason.UNREACHABLE, f"connect: {exc.strerror or exc}") from None
        self.sock = sock
        self.addr = sock.getpeername()[:2]
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.source.url.lower().startswith("rtsps:"):
            self.tls = True
            self.sock = self._tls(sock, host)
        self.sock.setblocking(False)
        self.selector.register(self.sock, selectors.EVENT_READ, _TCP)

    def _tls(self, sock: socket.socket, host: str) -> ssl.SSLSocket:
        """The recorder's trust: verified by default (system CAs, ``rtsps_ca_file``), or the camera's pin."""
        pin = self.cfg.rtsps_pins.get(self.source.id)
        ctx = tls.client_context(self.cfg.rtsps_verify and pin is None, self.cfg.rtsps_ca_file)
        try:
            wrapped = ctx.wrap_socket(sock, server_hostname=host or None)  # blocking, within the socket's timeout
        except ssl.SSLCertVerificationError as exc:
            raise Failed(GapReason.REFUSED, tls.describe(exc, host)) from None
        except (OSError, ValueError) as exc:
            raise Failed(GapReason.UNREACHABLE, tls.describe(exc, host)) from None
        self.sock = wrapped
        if pin is not None and tls.fingerprint(wrapped) != pin:
            detail = f"TLS: the camera's certificate (sha256 {tls.fingerprint(wrapped)}) is not the pinned one"
            raise Failed(GapReason.REFUSED, detail)
        return wrapped

    def bind_udp(self) -> tuple[int, int]:
        """The client asks for RTP over UDP: an even/odd pair, in this probe's selector."""
        if self.udp is None:
            family = socket.AF_INET6 if self.addr is not None and ":" in self.addr[0] else socket.AF_INET
            self.udp = bind_pair(family)
            for kind, usock in enumerate(self.udp):
                self.selector.register(usock, selectors.EVENT_READ, kind)
        return self.udp[0].getsockname()[1], self.udp[1].getsockname()[1]

    # running ---------------------------------------------------------------------------------------------------
    def send(self, client: ProbeClient) -> None:
        sock = self.sock
        if client.outbox and sock is not None:
            data = b"".join(client.outbox)
            client.outbox.clear()
            sock.settimeout(self.cfg.connect_timeout_s)  # a few hundred bytes: blocking, bounded
            try:
                sock.sendall(data)
            except TimeoutError:
                raise Failed(GapReason.UNREACHABLE, "the camera takes no request") from None
            except OSError as exc:
                raise Failed(GapReason.UNREACHABLE, f"send: {exc.strerror or exc}") from None
            finally:
                sock.setblocking(False)
        if client.udp_out:
            out, client.udp_out = client.udp_out, []
            if self.udp is not None and client.server_ports is not None and self.addr is not None:
                for kind, datagram in out:
                    try:
                        self.udp[kind].sendto(datagram, (self.addr[0], client.server_ports[kind]))
                    except OSError:
                        pass  # best effort, like UDP itself: the media deadline tells if nothing comes

    def receive(self, client: ProbeClient, timeout: float) -> None:
        """Wait up to ``timeout`` s for data and feed what came to the client."""
        for key, _ in self.selector.select(max(0.0, timeout)):
            if key.data == _TCP:
                self._read_tcp(client)
            else:
                self._read_udp(client, int(key.data), key.fileobj)  # type: ignore[arg-type]
        if client.udp:
            client.udp_tick(self.clock.monotonic())

    def _read_tcp(self, client: ProbeClient) -> None:
        sock = self.sock
        assert sock is not None
        try:
            data = tls.recv(sock, RECV_SIZE) if isinstance(sock, ssl.SSLSocket) else sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            raise Failed(GapReason.UNREACHABLE, f"connection lost: {exc.strerror or exc}") from None
        if data is None:
            return
        if not data:
            raise Failed(GapReason.UNREACHABLE, "the camera closed the connection")
        client.feed(data)

    def _read_udp(self, client: ProbeClient, kind: int, usock: socket.socket) -> None:
        allowed = {self.addr[0] if self.addr else "", client.server_source}
        now = self.clock.monotonic()
        for _ in range(UDP_BATCH):
            try:
                data, addr = usock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # an ICMP error reported on the socket
            if addr[0] not in allowed:
                continue  # only the camera is heard
            if kind == _RTP:
                client.feed_udp(data, now)
            else:
                client.feed_rtcp(data, now)


def run(session: Session, client: ProbeClient, *, seconds: float) -> None:
    """DESCRIBE, SETUP, PLAY, then ``seconds`` of media; raises :class:`Failed` or :class:`RtspError`."""
    clock, step = session.clock, session.cfg.connect_timeout_s
    client.start()
    deadline = clock.monotonic() + step  # of the current RTSP step, then of the media's next picture
    end: float | None = None  # of the window, once playing
    next_keepalive = next_report = 0.0
    tried_get_parameter = False
    state, pictures = client.state, 0
    while True:
        session.send(client)
        now = clock.monotonic()
        if end is not None and now >= end:
            return
        if now >= deadline:
            if end is None:
                raise Failed(GapReason.UNREACHABLE, f"no RTSP answer within {step:g} s ({state})")
            if client.udp and client.packets == 0:
                raise Failed(GapReason.STALLED, f"no RTP on UDP within {step:g} s: blocked by a firewall or NAT?")
            raise Failed(GapReason.STALLED, f"no media for {step:g} s")
        if end is not None:
            if now >= next_keepalive:
                client.keepalive()
                next_keepalive = now + min(30.0, client.session_timeout / 2)
            elif client.public is not None and client.keepalive_method == "GET_PARAMETER" and not tried_get_parameter:
                tried_get_parameter = True  # listed in Public: is it taken? (a refusal switches to OPTIONS)
                client.keepalive()
            if now >= next_report:
                client.rtcp_report(now)
                next_report = now + session.cfg.rtcp_interval_s
            if client.outbox or client.udp_out:
                continue
        wait = min([deadline] if end is None else [deadline, end, next_keepalive, next_report]) - now
        if client.udp and client.reorder.waiting:
            wait = min(wait, session.cfg.reorder_delay_ms / 1000.0 / 2)
        session.receive(client, wait)
        now = clock.monotonic()
        if client.state != state:
            state = client.state
            deadline = now + step
            if state == "playing":
                end = now + seconds
                next_keepalive = now  # at once: the OPTIONS answer names the methods; a refusal shows
                next_report = now + session.cfg.rtcp_interval_s
        if len(client.samples) != pictures:
            pictures = len(client.samples)
            deadline = now + step


def teardown(session: Session, client: ProbeClient) -> None:
    try:
        if client.state == "playing" and session.sock is not None:
            client.outbox.clear()
            client.teardown()
            session.sock.settimeout(1.0)
            session.sock.sendall(b"".join(client.outbox))
    except OSError:
        pass
    finally:
        session.close()


__all__ = ["Failed", "ProbeClient", "RtspError", "Sample", "Session", "run", "teardown"]
