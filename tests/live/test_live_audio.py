"""The live view carries the camera's sound where browsers play it (docs/design/audio.md): the hub's stream for a
viewer, fed by the real RTSP client and anchors with ffmpeg's AAC/Opus/G.711 packets (tests/media/audio_media.py),
is one two-track fMP4 (codec message with the audio codec, init with both tracks, audio fragments between the
pictures) that ffprobe reads and ffmpeg decodes to the tone; G.711, which no browser's MSE plays, is left out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from camgrid.live.hub import LiveHub, Message
from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.nal import H264
from camgrid.media.rtp import AccessUnit
from tests.media.audio_media import TONE_HZ, capture, decode_audio, dominant_frequency, ffprobe_streams, play


def watch(codec: str) -> list[Message]:
    loop = asyncio.new_event_loop()
    hub = LiveHub(loop, codec_of=lambda cam: H264)
    got: list[Message] = []

    async def collect() -> None:
        async for m in hub.watch("cam"):
            got.append(m)

    task = loop.create_task(collect())
    loop.run_until_complete(asyncio.sleep(0.01))

    def on_au(au: AccessUnit, ext: int, jump: bool) -> None:
        hub.tap("cam", au, ext, jump)
        for _ in range(5):  # the viewer reads as the pictures come (a viewer that falls behind is cut back)
            loop.run_until_complete(asyncio.sleep(0))

    def on_audio(track: AudioTrack, frame: AudioFrame, wall: int, ext: int, jump: bool) -> None:
        hub.audio_frame("cam", frame, wall, ext, jump)

    play(capture(codec), on_au, on_audio, on_track=lambda t: hub.audio_stream("cam", t))
    loop.run_until_complete(asyncio.sleep(0.05))
    task.cancel()
    loop.run_until_complete(asyncio.sleep(0.01))
    loop.close()
    return got


@pytest.mark.parametrize(("codec", "mime_audio"), [("aac", "mp4a.40.2"), ("opus", "opus"), ("pcma", None)])
def test_live_sends_the_sound_the_browser_can_play(codec: str, mime_audio: str | None, tmp_path: Path) -> None:
    got = watch(codec)
    codec_msg = json.loads(str(got[0]))
    assert codec_msg["type"] == "codec"
    stream = b"".join(m for m in got if isinstance(m, bytes))
    path = tmp_path / "live.mp4"
    path.write_bytes(stream)
    kinds = [s["codec_type"] for s in ffprobe_streams(path)]
    if mime_audio is None:
        assert "," not in codec_msg["mime"] and kinds == ["video"]
        return
    assert codec_msg["mime"].endswith(f',{mime_audio}"') and kinds == ["video", "audio"]
    samples, rate = decode_audio(path)
    assert abs(len(samples) / rate - 3.0) < 0.1
    assert abs(dominant_frequency(samples, rate) - TONE_HZ) < 2
