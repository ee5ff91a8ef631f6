"""The ingest loop's transport steps: RTSP over TLS and RTP over UDP, on the loop's one thread and selector.

A mixin of :class:`camgrid.ingest.loop.IngestLoop` (split out to keep each file short); docs/design/packet-path.md,
"Transports".
"""

from __future__ import annotations

import selectors
import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camgrid.config import RecorderConfig
from camgrid.ingest import tls
from camgrid.ingest.rtsp import RtspClient, RtspError
from camgrid.ingest.udp import bind_pair
from camgrid.vocabulary import GapReason, RtspTransport

if TYPE_CHECKING:
    from camgrid.ingest.loop import _Session

UDP_BATCH = 4096  # datagrams read from one socket per tick at most (a 20 Mbit/s camera sends ~70 per 40 ms tick)


@dataclass(frozen=True, eq=False)
class UdpKey:
    """The selector's data for a session's UDP socket (0: RTP, 1: RTCP)."""

    sess: _Session
    kind: int


class TransportSteps:
    """TLS handshakes, UDP sockets and transport counters of the loop's sessions."""

    cfg: RecorderConfig
    selector: selectors.BaseSelector

    def _fail(self, sess: _Session, now: float, reason: str, detail: str) -> None:
        raise NotImplementedError

    def _crash(self, sess: _Session, now: float, exc: Exception) -> None:
        raise NotImplementedError

    def _start_rtsp(self, sess: _Session, now: float) -> None:
        raise NotImplementedError

    @staticmethod
    def _transport_counters(s: _Session) -> dict[str, object]:
        c = s.client
        return {
            "transport": (RtspTransport.UDP if c.udp else RtspTransport.TCP) if c is not None else s.last_transport,
            "tls": s.source.url.startswith("rtsps:"),
            "lost_packets": s.lost + (c.lost if c is not None else 0),
            "dropped_packets": s.dropped + (c.dropped_ssrc + c.dropped_pt if c is not None else 0),
            "reordered_packets": s.reordered + (c.reordered if c is not None else 0),
            "foreign_datagrams": s.udp_foreign,
            "quirks": sorted(s.quirks | (c.quirks if c is not None else set())),
        }

    # TLS ---------------------------------------------------------------------------------------------------------
    def _start_tls(self, sess: _Session, now: float) -> None:
        sock = sess.sock
        assert sock is not None
        pinned = sess.source.id in self.cfg.rtsps_pins
        ctx = tls.client_context(self.cfg.rtsps_verify and not pinned, self.cfg.rtsps_ca_file)
        self.selector.unregister(sock)
        host = RtspClient.host_port(sess.source.url)[0]
        try:
            sess.sock = tls.wrap(sock, ctx, host)
        except (OSError, ValueError) as exc:
            sock.close()
            sess.sock = None
            self._fail(sess, now, GapReason.UNREACHABLE, tls.describe(exc, host))
            return
        self.selector.register(sess.sock, selectors.EVENT_WRITE, sess)
        sess.state = "tls"
        sess.deadline = now + self.cfg.connect_timeout_s
        self._tls_step(sess, now)

    def _tls_step(self, sess: _Session, now: float) -> None:
        sock = sess.sock
        assert isinstance(sock, ssl.SSLSocket)
        host = RtspClient.host_port(sess.source.url)[0]
        try:
            wanted = tls.handshake(sock)
        except ssl.SSLCertVerificationError as exc:
            self._fail(sess, now, GapReason.REFUSED, tls.describe(exc, host))
            return
        except (OSError, ValueError) as exc:
            self._fail(sess, now, GapReason.UNREACHABLE, tls.describe(exc, host))
            return
        if wanted:
            self.selector.modify(sock, wanted, sess)
            return
        pin = self.cfg.rtsps_pins.get(sess.source.id)
        if pin is not None and tls.fingerprint(sock) != pin:
            detail = f"TLS: the camera's certificate (sha256 {tls.fingerprint(sock)}) is not the pinned one"
            self._fail(sess, now, GapReason.REFUSED, detail)
            return
        self._start_rtsp(sess, now)

    # UDP ---------------------------------------------------------------------------------------------------------
    def _bind_udp(self, sess: _Session) -> tuple[int, int]:
        """The client asks for RTP over UDP: two sockets, registered in this loop's selector (no thread)."""
        if sess.udp is None:
            family = socket.AF_INET6 if sess.addr is not None and ":" in sess.addr[0] else socket.AF_INET
            sess.udp = bind_pair(family)
            for kind, usock in enumerate(sess.udp):
                self.selector.register(usock, selectors.EVENT_READ, UdpKey(sess, kind))
        return sess.udp[0].getsockname()[1], sess.udp[1].getsockname()[1]

    def _on_udp(self, key: UdpKey, now: float, wall: int) -> None:
        sess = key.sess
        client, pair = sess.client, sess.udp
        if client is None or pair is None:
            return
        usock = pair[key.kind]
        allowed = {sess.addr[0] if sess.addr else "", client.server_source}
        frames_before = sess.frames
        sess.arrival_ns = wall
        try:
            for _ in range(UDP_BATCH):
                try:
                    data, addr = usock.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # an ICMP error reported on the socket (port unreachable): not ours to end on
                    continue
                if addr[0] not in allowed:
                    sess.udp_foreign += 1  # source filtering: only the camera's address is heard
                    continue
                sess.bytes_in += len(data)
                if key.kind == 0:
                    client.feed_udp(data, now)
                else:
                    client.feed_rtcp(data, now)
        except RtspError as exc:
            self._fail(sess, now, exc.reason, exc.detail)
            return
        except Exception as exc:
            self._crash(sess, now, exc)
            return
        if sess.frames != frames_before:
            sess.last_media = now
            sess.frames_seen = sess.frames

    def _stall_detail(self, sess: _Session) -> str:
        client = sess.client
        wait = f"{self.cfg.stall_timeout_s:.1f} s"
        if client is not None and client.packets == 0 and (client.dropped_ssrc or client.dropped_pt):
            return (
                f"no usable RTP within {wait}: {client.dropped_ssrc} packets of another SSRC and "
                f"{client.dropped_pt} of another payload type than the SDP's dropped"
            )
        if client is not None and client.udp and client.packets == 0:
            return f"no RTP on UDP within {wait}: blocked by a firewall or NAT?"
        return f"no media for {wait}"

    def _send_udp(self, sess: _Session) -> None:
        client, pair = sess.client, sess.udp
        if client is None or not client.udp_out:
            return
        out, client.udp_out = client.udp_out, []
        if pair is None or client.server_ports is None or sess.addr is None:
            return
        host = sess.addr[0]
        for kind, datagram in out:
            try:
                pair[kind].sendto(datagram, (host, client.server_ports[kind]))
            except OSError:
                pass  # best effort, like UDP itself: the stall watchdog tells if nothing comes
