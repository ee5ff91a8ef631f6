"""RTP packetizing and depacketizing round trips (RFC 6184 / RFC 7798), with loss."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.media.nal import H264, H265, is_vcl, nal_type
from camgrid.media.rtp import Depacketizer, packetize, rtp_header, sample_nals


def nal_strategy(codec: str) -> st.SearchStrategy[bytes]:
    if codec == H264:
        header = st.sampled_from([0x65, 0x41, 0x67, 0x68, 0x06])
        return st.builds(lambda h, body: bytes([h]) + body, header, st.binary(min_size=1, max_size=4000))
    types = st.sampled_from([19, 1, 32, 33, 34, 39])
    return st.builds(lambda t, body: bytes([t << 1, 1]) + body, types, st.binary(min_size=1, max_size=4000))


def _with_a_picture(codec: str, au: list[bytes]) -> list[bytes]:
    """Every access unit holds a slice (one of parameter sets or SEI alone goes with the next picture)."""
    if any(is_vcl(codec, nal_type(codec, n)) for n in au):
        return au
    return [*au, b"\x41\x9a\x00" if codec == H264 else b"\x02\x01\xd0"]


def aus_strategy(codec: str) -> st.SearchStrategy[list[list[bytes]]]:
    au = st.lists(nal_strategy(codec), min_size=1, max_size=5).map(lambda a: _with_a_picture(codec, a))
    return st.lists(au, min_size=1, max_size=6)


def send(codec: str, aus: list[list[bytes]], drop: set[int] | None = None) -> tuple[list[bytes], list[list[bytes]]]:
    dep = Depacketizer(codec)
    dep.expect_seq(0)  # as RTSP's RTP-Info tells the recorder
    seq = 0
    out = []
    for i, au in enumerate(aus):
        payloads = packetize(codec, au, mtu=600)
        for j, payload in enumerate(payloads):
            if drop is None or seq not in drop:
                dep.push(rtp_header(seq, 1000 + i * 3600, 7, j == len(payloads) - 1) + payload)
            seq += 1
        out.extend(dep.ready)
        dep.ready.clear()
    return [bytes(a.data) for a in out], aus


@given(st.sampled_from([H264, H265]).flatmap(lambda c: st.tuples(st.just(c), aus_strategy(c))))
@settings(max_examples=150, deadline=None)
def test_round_trip_is_exact(case: tuple[str, list[list[bytes]]]) -> None:
    codec, aus = case
    got, sent = send(codec, aus)
    assert len(got) == len(sent)
    for data, au in zip(got, sent, strict=True):
        assert sample_nals(data) == au
        assert data == b"".join(struct.pack(">I", len(n)) + n for n in au)


@given(
    st.sampled_from([H264, H265]).flatmap(lambda c: st.tuples(st.just(c), aus_strategy(c))),
    st.sets(st.integers(0, 60), min_size=1, max_size=5),
)
@settings(max_examples=150, deadline=None)
def test_loss_never_yields_a_corrupt_access_unit(case: tuple[str, list[list[bytes]]], drop: set[int]) -> None:
    """An access unit that lost a packet is dropped whole; every one delivered is exactly one that was sent."""
    codec, aus = case
    got, sent = send(codec, aus, drop)
    expected = [b"".join(struct.pack(">I", len(n)) + n for n in au) for au in sent]
    for data in got:
        assert data in expected
