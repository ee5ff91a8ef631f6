"""RTP over UDP: the socket pair a session receives on, and the reorder window in front of the depacketizer.

Over TCP interleaved, packets arrive in order or not at all. Over UDP they may arrive out of order, twice, or never;
the depacketizer wants them in order and counts every hole as loss. :class:`Reorder` holds a packet that arrives
ahead of a hole for at most ``window`` packets or ``max_delay`` seconds, whichever comes first, then gives up on the
hole (the depacketizer counts it as lost, and drops the picture it belonged to). See docs/design/packet-path.md,
"Transports".

The sockets are non-blocking and registered in the ingest loop's one selector, with the camera's RTSP socket: no
thread per camera. The ports are an even/odd pair (RTP even, RTCP the next one), as RFC 3550 asks and as some
cameras insist.
"""

from __future__ import annotations

import socket

RCVBUF = 1 << 21  # a poll interval of a 20 Mbit/s camera is ~100 KB; the kernel caps this at net.core.rmem_max
BIND_TRIES = 64
START_HOLD = 4  # packets held before the first delivery (the first ones may be out of order too), or max_delay


def bind_pair(family: int) -> tuple[socket.socket, socket.socket]:
    """Two non-blocking UDP sockets on ports ``p`` (even) and ``p + 1``, on every address of ``family``."""
    any_addr = "::" if family == socket.AF_INET6 else "0.0.0.0"
    for _ in range(BIND_TRIES):
        rtp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            rtp.bind((any_addr, 0))
            port = rtp.getsockname()[1]
            if port % 2 or port >= 65535:
                rtp.close()
                continue
            rtcp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtcp.bind((any_addr, port + 1))
            except OSError:
                rtcp.close()
                rtp.close()
                continue
        except OSError:
            rtp.close()
            raise
        for s in (rtp, rtcp):
            s.setblocking(False)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            except OSError:
                pass
        return rtp, rtcp
    raise OSError("no free even/odd UDP port pair")


class Reorder:
    """Sequence-number order within a small window. ``push`` and ``expire`` append what is ready to ``out``."""

    __slots__ = ("_held", "_late_run", "_start", "duplicates", "late", "max_delay", "next", "reordered", "window")

    def __init__(self, window: int = 32, max_delay: float = 0.1) -> None:
        self.window = window
        self.max_delay = max_delay
        self.next: int | None = None
        self._held: dict[int, tuple[bytes, float]] = {}  # seq -> (packet, arrival), in arrival order
        self._late_run = 0
        self._start: int | None = None  # the first sequence number seen, until the first delivery
        self.reordered = 0  # packets that arrived after a later one and were put back in place
        self.late = 0  # packets that arrived after their hole was given up (already counted lost)
        self.duplicates = 0

    def push(self, seq: int, pkt: bytes, now: float, out: list[bytes]) -> None:
        if self.next is None:  # nothing delivered yet: the very first packets may be out of order too
            if self._start is None:
                self._start = seq
            self._held.setdefault(seq, (pkt, now))
            if len(self._held) > min(START_HOLD, self.window):
                self._skip(out)
            return
        nxt = self.next
        d = (seq - nxt) & 0xFFFF
        if d == 0:
            if self._held:
                self.reordered += 1
            out.append(pkt)
            self.next = (seq + 1) & 0xFFFF
            self._late_run = 0
            if self._held:
                self._drain(out)
        elif d < 0x8000:
            self._late_run = 0
            self.next = nxt
            if seq in self._held:
                self.duplicates += 1
                return
            self._held[seq] = (pkt, now)
            if len(self._held) > self.window:
                self._skip(out)
        else:
            self._late_run += 1
            if self._late_run > self.window:  # the camera restarted its numbering: follow it
                self._flush(out)
                self.next = (seq + 1) & 0xFFFF
                self._late_run = 0
                out.append(pkt)
            elif seq in self._held:
                self.duplicates += 1
            else:
                self.late += 1

    @property
    def waiting(self) -> int:
        """Packets held ahead of a hole."""
        return len(self._held)

    def expire(self, now: float, out: list[bytes]) -> None:
        """Give up on holes older than ``max_delay`` (called every tick)."""
        while self._held and now - next(iter(self._held.values()))[1] >= self.max_delay:
            self._skip(out)

    def _drain(self, out: list[bytes]) -> None:
        held = self._held
        nxt = self.next
        assert nxt is not None
        while nxt in held:
            out.append(held.pop(nxt)[0])
            nxt = (nxt + 1) & 0xFFFF
        self.next = nxt

    def _skip(self, out: list[bytes]) -> None:
        base = self.next if self.next is not None else ((self._start or 0) - 0x4000) & 0xFFFF
        self.next = min(self._held, key=lambda s: (s - base) & 0xFFFF)
        self._drain(out)

    def _flush(self, out: list[bytes]) -> None:
        while self._held:
            self._skip(out)
