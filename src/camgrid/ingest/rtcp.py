"""RTCP (RFC 3550 section 6): the receiver reports camgrid sends and the sender reports it reads.

Why send receiver reports: some servers (live555 among them) count RTCP from the client as a sign of life, and
RFC 3550 asks every receiver to send them; a receiver that never reports is dropped by the stricter ones. Why read
sender reports: the RR's LSR/DLSR fields echo the last one, which lets the camera measure the round trip.

Everything here is tolerant: a malformed RTCP packet is counted and ignored, never a reason to end a session
(cameras send odd RTCP, and it carries nothing the recording needs).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

RTCP_SR = 200
RTCP_RR = 201
_HDR = struct.Struct("!BBH")
_RR = struct.Struct("!BBHI" + "IIIIII")


@dataclass
class SenderReport:
    ssrc: int
    ntp_mid: int  # the middle 32 bits of the NTP timestamp (what an RR echoes as LSR)
    rtp_ts: int


def parse_rtcp(data: bytes | memoryview) -> tuple[list[SenderReport], bool]:
    """The sender reports of a compound RTCP packet, and whether all of it parsed (False: something malformed)."""
    out: list[SenderReport] = []
    pos, n = 0, len(data)
    while pos + 4 <= n:
        b0, pt, words = _HDR.unpack_from(data, pos)
        end = pos + 4 + words * 4
        if (b0 & 0xC0) != 0x80 or end > n:
            return out, False
        if pt == RTCP_SR and end - pos >= 28:
            ssrc, ntp_hi, ntp_lo, rtp_ts = struct.unpack_from("!IIII", data, pos + 4)
            out.append(SenderReport(ssrc, ((ntp_hi & 0xFFFF) << 16) | (ntp_lo >> 16), rtp_ts))
        pos = end
    return out, pos == n


class ReceptionStats:
    """What an RR says about one source (RFC 3550 A.3), computed at report time from counters the hot path keeps
    anyway: the first and last sequence numbers delivered and how many packets were. Sequence wraps are seen at
    report time, so a report is needed at least every 65,536 packets (every few seconds is far more often)."""

    def __init__(self) -> None:
        self.base_seq: int | None = None
        self.cycles = 0
        self.prev_seq = 0
        self.expected_prior = 0
        self.received_prior = 0
        self.last_sr: SenderReport | None = None
        self.last_sr_at = 0.0

    def on_sr(self, sr: SenderReport, now: float) -> None:
        self.last_sr = sr
        self.last_sr_at = now

    def report(self, *, own_ssrc: int, media_ssrc: int, last_seq: int, received: int, now: float) -> bytes:
        """One RR packet (with no SDES: servers accept a bare RR, and it keeps the report 32 bytes)."""
        if self.base_seq is None:
            self.base_seq = last_seq
            self.prev_seq = last_seq
        if last_seq < self.prev_seq and self.prev_seq - last_seq > 0x8000:
            self.cycles += 0x10000
        self.prev_seq = last_seq
        ext_max = self.cycles + last_seq
        expected = ext_max - self.base_seq + 1
        lost = max(0, expected - received)
        exp_int = expected - self.expected_prior
        rec_int = received - self.received_prior
        self.expected_prior, self.received_prior = expected, received
        lost_int = exp_int - rec_int
        fraction = 0 if exp_int <= 0 or lost_int <= 0 else min(255, (lost_int << 8) // exp_int)
        lsr = dlsr = 0
        if self.last_sr is not None:
            lsr = self.last_sr.ntp_mid
            dlsr = min(0xFFFFFFFF, int(max(0.0, now - self.last_sr_at) * 65536))
        return receiver_report(own_ssrc, media_ssrc, fraction, lost, ext_max, 0, lsr, dlsr)


def receiver_report(
    own_ssrc: int, media_ssrc: int, fraction: int, lost: int, ext_max: int, jitter: int, lsr: int, dlsr: int
) -> bytes:
    """An RTCP RR with one report block (RFC 3550 6.4.2); the cumulative loss is clamped to its 24 bits."""
    lost = max(-0x800000, min(0x7FFFFF, lost)) & 0xFFFFFF
    return _RR.pack(
        0x81,
        RTCP_RR,
        7,
        own_ssrc,
        media_ssrc,
        (fraction << 24) | lost,
        ext_max & 0xFFFFFFFF,
        jitter,
        lsr,
        dlsr,
    )
