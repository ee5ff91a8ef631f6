"""Audio recorded end to end (docs/design/audio.md): a real tone, encoded by ffmpeg in AAC, Opus, G.711 A-law and
µ-law and packetized by ffmpeg's own RTP muxer, played to the real RTSP client and recorded by the real anchors and
segmenter; ffprobe and ffmpeg then read the files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from camgrid.media import fmp4
from camgrid.media.audio import opus_duration
from tests.media.audio_media import (
    NS,
    SECONDS,
    TONE_HZ,
    capture,
    decode_audio,
    dominant_frequency,
    ffprobe_streams,
    record,
)

CODEC_NAMES = {"aac": "aac", "opus": "opus", "pcma": "pcm_alaw", "pcmu": "pcm_mulaw"}
RATES = {"aac": 48000, "opus": 48000, "pcma": 8000, "pcmu": 8000}
FRAME = {"aac": 1024, "opus": 960, "pcma": 160, "pcmu": 160}  # one frame (G.711: 20 ms), in RTP ticks


def sent_seconds(codec: str, packets: list[bytes]) -> float:
    """How much audio the camera sent, from the RTP headers alone: the timestamp span plus the last packet."""
    first, last = (struct.unpack_from(">I", p, 4)[0] for p in (packets[0], packets[-1]))
    payload = packets[-1][12:]
    if codec == "aac":
        tail = struct.unpack_from(">H", payload)[0] // 16 * 1024  # AU headers of 16 bits, 1024 samples each
    elif codec == "opus":
        tail = opus_duration(payload)
    else:
        tail = len(payload)
    return ((last - first) & 0xFFFFFFFF) / RATES[codec] + tail / RATES[codec]


@pytest.mark.parametrize("codec", ["aac", "opus", "pcma", "pcmu"])
def test_audio_is_recorded_as_a_second_track_that_decodes_to_the_tone(codec: str, tmp_path: Path) -> None:
    cap = capture(codec)
    rec = record(cap, tmp_path / codec, audio=True)
    assert [r.split(b" ")[:2] for r in rec.requests if r.startswith(b"SETUP")] == [
        [b"SETUP", b"rtsp://cam/trackID=0"],
        [b"SETUP", b"rtsp://cam/trackID=1"],
    ]
    (path,) = rec.files
    streams = ffprobe_streams(path)
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [("video", "h264"), ("audio", CODEC_NAMES[codec])]
    samples, rate = decode_audio(path)
    frame_s = FRAME[codec] / RATES[codec]
    assert abs(len(samples) / rate - sent_seconds(codec, cap.audio)) <= frame_s, (len(samples) / rate, codec)
    assert abs(len(samples) / rate - SECONDS) <= 0.1  # and about what was encoded (AAC's muxer keeps its last AUs)
    assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 2
    # The video is untouched by the audio beside it: the same samples, at the same times, as recorded without it.
    (alone,) = record(cap, tmp_path / "video-only", audio=False).files
    assert fmp4.read_samples(path.read_bytes()) == fmp4.read_samples(alone.read_bytes())


def test_audio_off_records_video_only_and_never_sets_up_the_audio(tmp_path: Path) -> None:
    cap = capture("aac")
    rec = record(cap, tmp_path, audio=False)
    assert [r.split(b" ")[1] for r in rec.requests if r.startswith(b"SETUP")] == [b"rtsp://cam/trackID=0"]
    (path,) = rec.files
    assert [s["codec_type"] for s in ffprobe_streams(path)] == ["video"]
    assert rec.client.audio_dep is None


@pytest.mark.parametrize("codec", ["aac", "pcma"])
def test_audio_starts_where_it_was_heard_next_to_the_pictures(codec: str, tmp_path: Path) -> None:
    """Sync from the two RTP clocks anchored to the same arrival clock: audio that starts 0.5 s after the first
    picture starts 0.5 s into the segment (within one frame)."""
    rec = record(capture(codec), tmp_path, audio=True, audio_delay_ns=NS // 2)
    (path,) = rec.files
    audio = next(s for s in ffprobe_streams(path) if s["codec_type"] == "audio")
    assert abs(float(str(audio["start_time"])) - 0.5) <= FRAME[codec] / RATES[codec]
