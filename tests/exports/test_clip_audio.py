"""Exports carry the camera's audio (docs/design/audio.md): a clip cut from several two-track segments keeps the
audio track, in sync, every codec as recorded (G.711 included: players that cannot play it skip it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from camgrid.exports.clip import SourceSegment, build_clip
from tests.media.audio_media import (
    NS,
    T0,
    TONE_HZ,
    capture,
    decode_audio,
    dominant_frequency,
    ffprobe_streams,
    record,
)

CODEC_NAMES = {"aac": "aac", "pcma": "pcm_alaw", "opus": "opus"}


@pytest.mark.parametrize("codec", ["aac", "pcma", "opus"])
def test_a_clip_across_segments_keeps_the_audio(codec: str, tmp_path: Path) -> None:
    rec = record(capture(codec), tmp_path / "rec", audio=True, segment_seconds=1)
    assert len(rec.files) >= 3
    sources = [SourceSegment(p, s, e) for p, (s, e) in zip(rec.files, rec.spans, strict=True)]
    out = tmp_path / "clip.mp4"
    start, end, pictures = build_clip(sources, T0 + NS // 2, T0 + 5 * NS // 2, out)
    # from the last keyframe at or before 0.5 s (the recording's first, at 0 s) to the last picture before 2.5 s
    assert start == T0 and pictures == 63, (start - T0, pictures)
    streams = ffprobe_streams(out)
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [("video", "h264"), ("audio", CODEC_NAMES[codec])]
    samples, rate = decode_audio(out)
    assert abs(len(samples) / rate - (end - start) / NS) <= 0.025 + 0.02  # the clip's span, within about a frame
    assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 2
    audio = next(s for s in streams if s["codec_type"] == "audio")
    assert abs(float(str(audio["start_time"]))) <= 0.025


def test_a_clip_of_a_camera_without_audio_has_one_track(tmp_path: Path) -> None:
    rec = record(capture("aac"), tmp_path / "rec", audio=False, segment_seconds=1)
    sources = [SourceSegment(p, s, e) for p, (s, e) in zip(rec.files, rec.spans, strict=True)]
    out = tmp_path / "clip.mp4"
    build_clip(sources, T0, T0 + 2 * NS, out)
    assert [s["codec_type"] for s in ffprobe_streams(out)] == ["video"]
