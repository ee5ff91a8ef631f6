"""Audio over RTP (docs/design/audio.md): SDP of the audio track, depacketizers for AAC (RFC 3640), G.711 and Opus,
and the second fMP4 track that leaves the video boxes byte for byte as they are."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.ingest.auth import Credentials
from camgrid.ingest.rtsp import RtspClient
from camgrid.media import fmp4, fmp4_audio
from camgrid.media.audio import (
    AAC,
    OPUS,
    PCMA,
    PCMU,
    AudioDepacketizeError,
    AudioDepacketizer,
    AudioTrack,
    AudioUnsupported,
    opus_duration,
    packetize_aac,
    parse_asc,
    parse_audio_sdp,
)
from camgrid.media.nal import H264, StreamInfo

VIDEO = "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n"
AAC_SDP = (
    "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/16000/1\r\n"
    "a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=1408\r\n"
    "a=control:trackID=1\r\n"
)
ASC_16K_MONO = bytes.fromhex("1408")  # AAC-LC, 16 kHz, mono
AAC_TRACK = AudioTrack(AAC, "rtsp://cam/trackID=1", 97, 16000, 1, ASC_16K_MONO)


def rtp(seq: int, ts: int, payload: bytes, *, marker: bool = True, pt: int = 97, csrc: int = 0, ext: bytes = b"",
        pad: int = 0) -> bytes:  # fmt: skip
    first = 0x80 | csrc | (0x10 if ext else 0) | (0x20 if pad else 0)
    head = struct.pack(">BBHII", first, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x1234)
    head += bytes(4 * csrc)
    if ext:
        head += struct.pack(">HH", 0xBEDE, len(ext) // 4) + ext
    tail = bytes(pad - 1) + bytes([pad]) if pad else b""
    return head + payload + tail


# SDP ---------------------------------------------------------------------------------------------------------------
def test_sdp_aac_track_with_its_config_and_control() -> None:
    t = parse_audio_sdp(VIDEO + AAC_SDP, "rtsp://cam/live/")
    assert t == AudioTrack(AAC, "rtsp://cam/live/trackID=1", 97, 16000, 1, ASC_16K_MONO, 13, 3, 3, 1024)


def test_sdp_g711_by_static_payload_type_without_rtpmap() -> None:
    t = parse_audio_sdp(VIDEO + "m=audio 0 RTP/AVP 8\r\na=control:rtsp://cam/audio\r\n", "rtsp://cam/")
    assert t is not None and (t.codec, t.clock_rate, t.control) == (PCMA, 8000, "rtsp://cam/audio")
    t = parse_audio_sdp(VIDEO + "m=audio 0 RTP/AVP 0\r\n", "rtsp://cam/")
    assert t is not None and (t.codec, t.payload_type, t.control) == (PCMU, 0, "rtsp://cam/")


def test_sdp_opus_stereo() -> None:
    sdp = VIDEO + "m=audio 0 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 sprop-stereo=1\r\n"
    t = parse_audio_sdp(sdp, "rtsp://cam/")
    assert t is not None and (t.codec, t.clock_rate, t.channels) == (OPUS, 48000, 2)


def test_sdp_without_audio_is_none() -> None:
    assert parse_audio_sdp(VIDEO, "rtsp://cam/") is None


@pytest.mark.parametrize(
    ("media", "words"),
    [
        ("m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/44100/2\r\na=fmtp:96 cpresent=0;config=40002420\r\n", "LATM"),
        ("m=audio 0 RTP/AVP 96\r\na=rtpmap:96 G726-32/8000\r\n", "g726-32"),
        ("m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MPEG4-GENERIC/16000/1\r\na=fmtp:96 mode=AAC-hbr\r\n", "no config"),
        (
            "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MPEG4-GENERIC/16000/1\r\na=fmtp:96 mode=CELP-cbr;config=1408\r\n",
            "CELP",
        ),
    ],
)
def test_sdp_audio_not_recordable_as_sent_is_refused_clearly(media: str, words: str) -> None:
    with pytest.raises(AudioUnsupported, match=words):
        parse_audio_sdp(VIDEO + media, "rtsp://cam/")


def test_asc_fields() -> None:
    c = parse_asc(bytes.fromhex("1190"))
    assert (c.object_type, c.sample_rate, c.channels, c.frame_length) == (2, 48000, 2, 1024)
    assert parse_asc(bytes.fromhex("1414")).frame_length == 960  # frameLengthFlag
    with pytest.raises(AudioUnsupported):
        parse_asc(b"\x11")


# AAC ---------------------------------------------------------------------------------------------------------------
def aac_packets(frames: list[bytes], per_packet: int, mtu: int, seq0: int, ts0: int) -> list[bytes]:
    """RFC 3640 packets: ``per_packet`` AUs together, or one AU fragmented when it does not fit in ``mtu``."""
    out: list[bytes] = []
    seq = seq0
    i = 0
    while i < len(frames):
        group = frames[i : i + per_packet]
        ts = ts0 + i * 1024
        if len(group) == 1 and len(group[0]) > mtu:
            au = group[0]
            header = packetize_aac([au])[:4]  # one AU header with the whole size
            for off in range(0, len(au), mtu):
                out.append(rtp(seq, ts, header + au[off : off + mtu], marker=off + mtu >= len(au)))
                seq += 1
        else:
            out.append(rtp(seq, ts, packetize_aac(group)))
            seq += 1
        i += len(group)
    return out


@settings(max_examples=60, deadline=None)
@given(
    frames=st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=12),
    per_packet=st.integers(1, 5),
    seq0=st.integers(0, 0xFFFF),
    ts0=st.integers(0, 0xFFFFFFFF),
)
def test_aac_frames_come_back_whole_with_their_timestamps(
    frames: list[bytes], per_packet: int, seq0: int, ts0: int
) -> None:
    """Several AUs per packet and AUs fragmented over several packets (RFC 3640 3.2.3), across the sequence and
    timestamp wrap: every frame comes back as sent, at ts0 + n x 1024."""
    mtu = 1200
    dep = AudioDepacketizer(AAC_TRACK)
    got = [f for p in aac_packets(frames, per_packet if max(map(len, frames)) <= 8191 else 1, mtu, seq0, ts0)
           for f in dep.push(p)]  # fmt: skip
    assert [f.data for f in got] == frames
    assert [f.ts for f in got] == [(ts0 + n * 1024) & 0xFFFFFFFF for n in range(len(frames))]
    assert all(f.duration == 1024 for f in got) and dep.lost == 0


def test_aac_fragment_with_a_lost_piece_is_dropped_and_the_next_frame_says_so() -> None:
    au = bytes(range(256)) * 10
    pkts = aac_packets([au, b"next"], 1, 1000, 10, 0)
    dep = AudioDepacketizer(AAC_TRACK)
    got = [f for i, p in enumerate(pkts) if i != 1 for f in dep.push(p)]
    assert [f.data for f in got] == [b"next"] and got[0].after_loss and dep.lost == 1


def test_aac_au_headers_beyond_the_packet_are_an_error() -> None:
    dep = AudioDepacketizer(AAC_TRACK)
    with pytest.raises(AudioDepacketizeError):
        dep.push(rtp(1, 0, struct.pack(">H", 16 * 40) + b"\x00\x08"))
    with pytest.raises(AudioDepacketizeError):
        dep.push(rtp(2, 0, packetize_aac([b"abcd", b"ef"])[:-3]))


# G.711 and Opus ----------------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(min_size=1, max_size=1400),
    csrc=st.integers(0, 15),
    ext=st.sampled_from([b"", b"\x01\x02\x03\x04", bytes(12)]),
    pad=st.integers(0, 4),
)
def test_g711_frame_is_the_payload_whatever_the_header(payload: bytes, csrc: int, ext: bytes, pad: int) -> None:
    """CSRCs, a header extension and padding are not audio: the frame is the payload, one sample per byte."""
    for codec, pt in ((PCMA, 8), (PCMU, 0)):
        dep = AudioDepacketizer(AudioTrack(codec, "", pt, 8000))
        (frame,) = dep.push(rtp(5, 1000, payload, pt=pt, csrc=csrc, ext=ext, pad=pad))
        assert (frame.data, frame.ts, frame.duration) == (payload, 1000, len(payload))


@pytest.mark.parametrize(
    ("packet", "samples"),
    [
        (bytes([31 << 3]) + b"x", 960),  # CELT fullband 20 ms, one frame
        (bytes([28 << 3]) + b"x", 120),  # CELT fullband 2.5 ms
        ((31 << 3 | 1).to_bytes(1, "big") + b"x", 1920),  # code 1: two 20 ms frames
        (bytes([31 << 3 | 3, 0x03]) + b"x", 2880),  # code 3: three frames
        (bytes([3 << 3]) + b"x", 2880),  # SILK narrowband 60 ms
        (bytes([12 << 3]) + b"x", 480),  # hybrid 10 ms
        (bytes([15 << 3]) + b"x", 960),  # hybrid 20 ms
    ],
)
def test_opus_duration_from_the_toc(packet: bytes, samples: int) -> None:
    assert opus_duration(packet) == samples
    dep = AudioDepacketizer(AudioTrack(OPUS, "", 111, 48000))
    assert dep.push(rtp(1, 7, packet, pt=111))[0].duration == samples


def test_duplicates_are_dropped_and_losses_counted() -> None:
    dep = AudioDepacketizer(AudioTrack(PCMU, "", 0, 8000))
    assert len(dep.push(rtp(100, 0, b"a" * 160, pt=0))) == 1
    assert dep.push(rtp(100, 0, b"a" * 160, pt=0)) == []
    (f,) = dep.push(rtp(103, 480, b"b" * 160, pt=0))
    assert f.after_loss and dep.lost == 2


def test_not_rtp_is_an_error() -> None:
    with pytest.raises(AudioDepacketizeError):
        AudioDepacketizer(AAC_TRACK).push(b"\x00" * 20)


# fMP4 --------------------------------------------------------------------------------------------------------------
INFO = StreamInfo(H264, 320, 240, 66, 13)
SPS = bytes.fromhex("6742c00d8c8d40a0fd00f08846a0")
PPS = bytes.fromhex("68ce3c80")
VSAMPLES = [(3600, 5, True), (3600, 3, False)]
VPAYLOAD = [b"\x00\x00\x00\x01\x65", b"\x00\x00\x00"]


def test_without_audio_the_video_boxes_are_byte_for_byte_the_same() -> None:
    assert fmp4_audio.init_segment_av(INFO, [SPS, PPS], None) == fmp4.init_segment(INFO, [SPS, PPS])
    assert fmp4_audio.fragment_parts_av(3, 7200, VSAMPLES, VPAYLOAD) == fmp4.fragment_parts(3, 7200, VSAMPLES, VPAYLOAD)


@pytest.mark.parametrize(
    "track",
    [AAC_TRACK, AudioTrack(OPUS, "", 111, 48000, 2), AudioTrack(PCMA, "", 8, 8000), AudioTrack(PCMU, "", 0, 8000)],
)
def test_two_track_segment_reads_back_each_track(track: AudioTrack) -> None:
    init = fmp4_audio.init_segment_av(INFO, [SPS, PPS], track)
    audio = [(1024, 4), (1024, 2)]
    data = init + b"".join(fmp4_audio.fragment_parts_av(1, 0, VSAMPLES, VPAYLOAD, 100, audio, [b"aaaa", b"bb"]))
    assert [s.data for s in fmp4.read_samples(data)] == VPAYLOAD  # the video reader never sees the audio
    assert [(s.time, s.duration, s.data) for s in fmp4_audio.read_track(data)] == [
        (100, 1024, b"aaaa"),
        (1124, 1024, b"bb"),
    ]
    scanned = fmp4.scan(data)
    assert scanned.valid_bytes == len(data) and scanned.samples == 2 and scanned.end_time == 7200
    found = fmp4_audio.audio_of_init(fmp4.init_bytes(data))
    assert found is not None and found[:2] == (track.codec, track.clock_rate)
    assert fmp4_audio.audio_of_init(fmp4.init_segment(INFO, [SPS, PPS])) is None


def test_codec_strings_for_mse() -> None:
    assert fmp4_audio.audio_codec_string(AAC_TRACK) == "mp4a.40.2"
    assert fmp4_audio.audio_codec_string(AudioTrack(OPUS, "", 111, 48000)) == "opus"


# RTSP --------------------------------------------------------------------------------------------------------------
def _described(on_audio: bool) -> RtspClient:
    c = RtspClient("rtsp://cam/", Credentials("", ""), lambda au: None, on_audio=(lambda f: None) if on_audio else None)
    c.start()
    body = (VIDEO + AAC_SDP).encode()
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Base: rtsp://cam/\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nSession: 9;timeout=10\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n")
    return c


def test_audio_off_never_sets_up_the_audio_track() -> None:
    c = _described(on_audio=False)
    assert c.outbox[-1].startswith(b"PLAY ") and not any(b"trackID=1" in m for m in c.outbox)
    assert c.audio_track is None


def test_audio_on_sets_up_the_audio_track_on_channels_2_3_after_the_video() -> None:
    c = _described(on_audio=True)
    assert c.outbox[-1].startswith(b"SETUP rtsp://cam/trackID=1 ") and b"interleaved=2-3" in c.outbox[-1]
    assert b"Session: 9" in c.outbox[-1]
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 9\r\nTransport: RTP/AVP/TCP;interleaved=4-5\r\n\r\n")
    assert c.outbox[-1].startswith(b"PLAY ") and (c.rtp_channel, c.audio_channel) == (0, 4)


def test_a_camera_that_refuses_the_audio_setup_is_recorded_without_it() -> None:
    c = _described(on_audio=True)
    c.feed(b"RTSP/1.0 461 Unsupported Transport\r\nCSeq: 3\r\n\r\n")
    assert c.outbox[-1].startswith(b"PLAY ") and c.audio_track is None and "461" in c.audio_refused
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 9\r\n\r\n")
    assert c.state == "playing"


# The web player's fixtures (web/tests/mp4audio.test.ts) ----------------------------------------------------------
FIXTURES = Path(__file__).resolve().parents[2] / "web" / "tests" / "fixtures"


def web_fixtures() -> dict[str, bytes]:
    """Two-track segments (AAC, G.711) and the same video alone, for the player's audio-dropping code."""
    audio = [(1024, 4), (1024, 2)]
    out = {}
    for name, track in (("aac", AAC_TRACK), ("pcma", AudioTrack(PCMA, "", 8, 8000))):
        av = fmp4_audio.init_segment_av(INFO, [SPS, PPS], track)
        for seq in (1, 2):
            av += b"".join(fmp4_audio.fragment_parts_av(seq, 0, VSAMPLES, VPAYLOAD, 0, audio, [b"aaaa", b"bb"]))
        out[f"two-track-{name}.mp4"] = av
    video = fmp4.init_segment(INFO, [SPS, PPS])
    for seq in (1, 2):
        video += fmp4.fragment(seq, 0, VSAMPLES, VPAYLOAD)
    out["video-only.mp4"] = video
    return out


def test_web_fixtures_are_what_the_recorder_writes() -> None:
    """Regenerate with: PYTHONPATH=src python -c 'from tests.media.test_audio import write_web_fixtures as w; w()'"""
    stored = json.loads((FIXTURES / "audio-segments.json").read_text())
    assert stored == {k: v.hex() for k, v in web_fixtures().items()}, "stale: regenerate (see the docstring)"


def write_web_fixtures() -> None:
    text = json.dumps({k: v.hex() for k, v in web_fixtures().items()}, indent=1)
    (FIXTURES / "audio-segments.json").write_text(text + "\n")
