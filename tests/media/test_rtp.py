"""RTP packetizing and depacketizing round trips (RFC 6184 / RFC 7798), with loss."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.media.nal import H264, H265, is_vcl, nal_type
from camgrid.media.rtp import (
    Depacketizer,
    PictureJoiner,
    merge_continuation,
    packetize,
    rtp_header,
    sample_nals,
)


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


def _slices(n: int) -> list[bytes]:
    """``n`` slices of one H.264 picture: first_mb_in_slice 0 (ue '1'), then 10, 20, ... (ue of 10 = 0001011)."""
    out = [b"\x65\x88" + bytes(50)]
    out += [b"\x65" + bytes([0x16, 0x00]) + bytes(50) for _ in range(n - 1)]
    return out


def _sliced(dep: Depacketizer, ts: int, seq: int, nals: list[bytes]) -> int:
    for nal in nals:
        dep.push(rtp_header(seq, ts, 7, True) + nal)  # a marker after every slice
        seq += 1
    return seq


def test_slices_with_a_marker_each_are_continuations_of_one_picture() -> None:
    dep = Depacketizer(H264)
    seq = _sliced(dep, 1000, 0, [b"\x67\x42\x00\x1e", b"\x68\xce", *_slices(3)])
    first, *more = dep.ready
    assert not first.continuation and [a.continuation for a in more] == [True, True]
    assert [a.part for a in more] == [1, 2] and dep.sliced
    for a in more:
        assert merge_continuation(first, a) and merge_continuation(first, a)  # idempotent: two holders merge
    assert sample_nals(bytes(first.data))[2:] == _slices(3)
    dep.ready.clear()
    _sliced(dep, 1000, seq, _slices(1))  # the same timestamp, first_mb_in_slice == 0: a new picture
    assert len(dep.ready) == 1 and not dep.ready[0].continuation


def test_a_lost_continuation_tells_the_holder_to_drop_the_picture() -> None:
    dep = Depacketizer(H264)
    seq = _sliced(dep, 1000, 0, _slices(1))
    _sliced(dep, 1000, seq + 1, _slices(2)[1:])  # one packet lost between the slices
    _first, lost = dep.ready
    assert lost.continuation and lost.after_loss and not lost.data


def test_a_marker_on_an_sei_does_not_make_it_a_picture() -> None:
    """Tiandy/Geovision: the marker on an SEI. It goes with the picture that follows."""
    dep = Depacketizer(H264)
    dep.push(rtp_header(0, 1000, 7, True) + b"\x06\x05\x01\x00\x80")
    assert not dep.ready
    dep.push(rtp_header(1, 1000, 7, True) + _slices(1)[0])
    (au,) = dep.ready
    assert sample_nals(bytes(au.data)) == [b"\x06\x05\x01\x00\x80", _slices(1)[0]] and au.key


def test_fu_a_type_changing_mid_fragment_keeps_the_start_fragments_type() -> None:
    """Tiandy: later fragments of an FU-A carry another type. The start fragment's type stands (RFC 6184 says the
    type is the same in every fragment; only the start's is used), the NAL unit is stored intact."""
    nal = b"\x65" + bytes(range(256)) * 10
    payloads = packetize(H264, [nal], mtu=600)
    assert len(payloads) > 2
    bent = [payloads[0]] + [p[:1] + bytes([(p[1] & 0xE0) | 1]) + p[2:] for p in payloads[1:]]
    dep = Depacketizer(H264)
    for i, p in enumerate(bent):
        dep.push(rtp_header(i, 1000, 7, i == len(bent) - 1) + p)
    (au,) = dep.ready
    assert sample_nals(bytes(au.data)) == [nal] and au.key


def test_a_picture_joiner_gives_whole_pictures_to_a_decoder() -> None:
    """Privacy masks decode each picture: a live555 camera's slices are joined first (after the first sign)."""
    dep = Depacketizer(H264)
    joiner = PictureJoiner()
    out: list[bytes] = []
    seq = 0
    for i in range(4):
        seq = _sliced(dep, 1000 + i * 3600, seq, _slices(2))
        for au in dep.ready:
            whole = joiner.push(au, au.ts, False)
            if whole is not None:
                out.append(bytes(whole[0].data))
        dep.ready.clear()
    assert joiner.active
    assert [len(sample_nals(d)) for d in out] == [1, 2, 2], "the first went out alone, then whole pictures"


def test_h265_slice_segments_after_a_marker_are_continuations() -> None:
    """H.265: first_slice_segment_in_pic_flag (the first bit after the NAL header) tells a further segment."""
    dep = Depacketizer(H265)
    first = bytes([19 << 1, 1, 0x80]) + bytes(40)  # IDR_W_RADL, first segment
    more = bytes([19 << 1, 1, 0x00]) + bytes(40)  # the same picture's next segment
    for seq, nal in enumerate([first, more]):
        dep.push(rtp_header(seq, 1000, 7, True) + nal)
    a, b = dep.ready
    assert not a.continuation and b.continuation and a.key
    dep.ready.clear()
    dep.push(rtp_header(2, 1000, 7, True) + first)  # the same timestamp, a first segment: a new picture
    assert not dep.ready[0].continuation
