"""Audio with the real simulator and the real ``camgrid record`` (docs/design/audio.md): four cameras that send a
440 Hz tone beside their pictures (``--quirk`` audio-aac, audio-opus, audio-pcma and none), sound switched on with
``camgrid cameras audio ID on`` for three of them and left off for the AAC twin: the switched cameras' segments have
two tracks that ffmpeg decodes to the tone, the camera left off records pictures only."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from camgrid.cli.main import cli
from tests.conftest import CAMGRID, make_city, wait_for
from tests.media.audio_media import decode_audio, dominant_frequency, ffprobe_streams

SIM_ENV = {
    "CAMGRID_SIM__SHARED_CLIP": "1",
    "CAMGRID_SIM__WIDTH": "320",
    "CAMGRID_SIM__HEIGHT": "240",
    "CAMGRID_SIM__BITRATE_KBPS": "300",
    "CAMGRID_SIM__GOP_SECONDS": "1",
    "CAMGRID_SIM__CLIP_SECONDS": "4",
    "CAMGRID_RECORDER__SEGMENT_SECONDS": "2",
}
QUIRKS = {"cam-0001": "audio-aac", "cam-0002": "audio-opus", "cam-0003": "audio-pcma", "cam-0004": "audio-aac"}
SOUND_ON = {"cam-0001": "aac", "cam-0002": "opus", "cam-0003": "pcm_alaw"}


def test_switched_cameras_record_their_sound_and_the_others_do_not(tmp_path: Path) -> None:
    city = make_city(tmp_path, len(QUIRKS), h265_every=0, extra_env=SIM_ENV)
    args = [f"--quirk={cam}={quirk}" for cam, quirk in QUIRKS.items()]
    log = city.home / "sim.log"
    with log.open("wb") as fh:
        sim = subprocess.Popen(
            [*CAMGRID, "sim", "--count", str(len(QUIRKS)), "--out", str(city.registry), *args],
            env=city.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ready" in log.read_text() or sim.poll() is not None, 300, what="the simulator")
        assert sim.poll() is None, log.read_text()
        city.run("cameras", "import", str(city.registry))
        for cam in SOUND_ON:  # in process: the command's effect is the subject here, not its process
            assert "audio on" in CliRunner().invoke(cli, ["cameras", "audio", cam, "on"], env=city.env).stdout
        rec = city.start_recorder()
        try:
            wait_for(
                lambda: all(len([s for s in city.segments(c) if s[7] == "complete"]) >= 2 for c in QUIRKS),
                60,
                what="two complete segments per camera",
            )
        finally:
            rec.stop()
    finally:
        sim.terminate()
        sim.wait(20)
    for cam in QUIRKS:
        path = Path(next(s for s in city.segments(cam) if s[7] == "complete")[3])
        streams = ffprobe_streams(path)
        if cam not in SOUND_ON:
            assert [s["codec_type"] for s in streams] == ["video"], cam
            continue
        assert [(s["codec_type"], s["codec_name"]) for s in streams] == [("video", "h264"), ("audio", SOUND_ON[cam])]
        samples, rate = decode_audio(path)
        video_s = float(str(streams[0]["duration"]))
        assert abs(len(samples) / rate - video_s) < 0.15, (cam, len(samples) / rate, video_s)
        assert abs(dominant_frequency(samples, rate) - 440) < 3, cam
