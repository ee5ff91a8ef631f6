"""The ONVIF replay header extension (profile 0xABAC): read exactly, and any packet, however malformed, is either
read, ignored (no extension, another profile) or refused with ExtensionError: never another exception, never a
read past the packet. The live depacketizer's handling of extensions is unchanged."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.media.nal import H264
from camgrid.media.rtp import (
    NTP_UNIX_OFFSET_S,
    Depacketizer,
    ExtensionError,
    ReplayStamp,
    onvif_replay_extension,
    onvif_replay_header,
    rtp_header,
)

NS = 1_000_000_000


def packet(ext: bytes, payload: bytes = b"\x65\x88\x84", csrc: int = 0) -> bytes:
    b0 = 0x90 | csrc
    return bytes([b0]) + rtp_header(7, 9000, 0x1234, True)[1:] + bytes(4 * csrc) + ext + payload


def test_fields_at_their_bits() -> None:
    """Bytes written by hand after the ONVIF Streaming Specification: NTP seconds since 1900, fraction, C E D T."""
    secs = 1_700_000_000 + NTP_UNIX_OFFSET_S
    ext = struct.pack(">HHIIBBH", 0xABAC, 3, secs, 1 << 31, 0x80 | 0x20, 0x2A, 0)
    assert onvif_replay_extension(packet(ext)) == ReplayStamp(1_700_000_000 * NS + NS // 2, True, False, True, 0x2A)
    ext = struct.pack(">HHIIBBH", 0xABAC, 3, secs, 0, 0x40, 0, 0)
    assert onvif_replay_extension(packet(ext, csrc=2)) == ReplayStamp(1_700_000_000 * NS, False, True, False, 0)


def test_absent_or_foreign_extension_is_none() -> None:
    assert onvif_replay_extension(rtp_header(1, 2, 3, True) + b"\x65") is None
    assert onvif_replay_extension(packet(struct.pack(">HH", 0xBEDE, 1) + bytes(4))) is None


@pytest.mark.parametrize(
    "ext",
    [
        struct.pack(">HH", 0xABAC, 3) + bytes(8),  # 3 words announced, 2 present (and no payload)
        struct.pack(">HH", 0xABAC, 1) + bytes(4),  # too short for the replay fields
        struct.pack(">HH", 0xABAC, 0xFFFF),
        struct.pack(">H", 0xABAC),
    ],
)
def test_malformed_is_refused(ext: bytes) -> None:
    with pytest.raises(ExtensionError):
        onvif_replay_extension(packet(ext, payload=b""))


@given(st.integers(0, (1 << 32) * NS - 1 - NTP_UNIX_OFFSET_S * NS), st.booleans(), st.booleans(), st.booleans())
def test_round_trip_exact_to_the_nanosecond(ntp_ns: int, c: bool, e: bool, d: bool) -> None:
    ext = onvif_replay_header(ntp_ns, clean_point=c, end=e, discontinuity=d, cseq=5)
    assert onvif_replay_extension(packet(ext)) == ReplayStamp(ntp_ns, c, e, d, 5)


@given(st.integers(0, (1 << 32) * NS - 1 - NTP_UNIX_OFFSET_S * NS))
def test_truncating_writers_are_read_to_the_nanosecond(ntp_ns: int) -> None:
    """gst's rtponviftimestamp and most cameras truncate the fraction: still the same nanosecond."""
    secs, rest = divmod(ntp_ns, NS)
    ext = struct.pack(">HHIIBBH", 0xABAC, 3, secs + NTP_UNIX_OFFSET_S, (rest << 32) // NS, 0, 0, 0)
    stamp = onvif_replay_extension(packet(ext))
    assert stamp is not None and stamp.ntp_ns == ntp_ns


@settings(max_examples=400)
@given(st.binary(min_size=0, max_size=64), st.integers(0, 8), st.integers(0, 8))
def test_any_bytes_never_crash_or_overread(data: bytes, before: int, after: int) -> None:
    buf = bytes(before) + bytes([0x90]) + data + bytes(after)
    end = before + 1 + len(data)
    try:
        stamp = onvif_replay_extension(memoryview(buf), before, end)
    except ExtensionError:
        return
    if stamp is not None:  # what was read lay inside the packet: the same bytes alone give the same answer
        assert onvif_replay_extension(buf[before:end]) == stamp


def test_live_depacketizer_skips_the_extension_as_before() -> None:
    dep = Depacketizer(H264)
    ext = onvif_replay_header(1_700_000_000 * NS, clean_point=True)
    dep.push(packet(ext, payload=b"\x65\x88\x84\x00"))
    assert len(dep.ready) == 1 and dep.ready[0].key and bytes(dep.ready[0].data) == b"\x00\x00\x00\x04\x65\x88\x84\x00"
