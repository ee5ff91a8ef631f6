"""The per-camera audio switch reaches the camera (docs/design/audio.md): the real ingest loop, over loopback TCP, to
an in-test RTSP camera that serves ffmpeg's real video and audio packets in real time. With the camera's ``audio``
off (the default) the audio track is never SET UP and the segment has one track; with it on, it has two; the
recorder builds its sources from the registry's ``audio_enabled``, and a change of it is a changed source (the
session is reconfigured at the next registry reload)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from camgrid.clock import SystemClock
from camgrid.config import RecorderConfig
from camgrid.ingest.loop import CameraSource, IngestLoop
from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.rtp import AccessUnit
from camgrid.storage.segmenter import OpenSegment, Segmenter
from tests.backends import wait_for
from tests.media.audio_media import Capture, camera_sdp, capture, ffprobe_streams

NS = 1_000_000_000


class Camera:
    """One RTSP camera on loopback: answers DESCRIBE/SETUP/PLAY and sends the channels it was SET UP on."""

    def __init__(self, cap: Capture, audio_rate: int) -> None:
        self.cap = cap
        self.rate = audio_rate
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[str] = []
        self.done = threading.Event()
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            buf = b""
            channels: list[int] = []
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                self.requests.append(lines[0])
                cseq = next(v.split(":", 1)[1].strip() for v in lines if v.lower().startswith("cseq"))
                method, url = lines[0].split(" ")[:2]
                extra = ""
                if method == "DESCRIBE":
                    body = camera_sdp(self.cap)
                    extra = f"Content-Base: rtsp://127.0.0.1:{self.port}/\r\nContent-Length: {len(body)}\r\n\r\n{body}"
                elif method == "SETUP":
                    ch = 0 if url.endswith("trackID=0") else 2
                    channels.append(ch)
                    extra = f"Session: 42;timeout=60\r\nTransport: RTP/AVP/TCP;unicast;interleaved={ch}-{ch + 1}\r\n"
                else:
                    extra = "Session: 42\r\n"
                conn.sendall(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{extra}".encode() + (b"" if "Content-Length" in
                                                                                     extra else b"\r\n"))  # fmt: skip
                if method == "PLAY":
                    self._play(conn, channels)
                    self.done.set()
                    self._stop.wait(30)
                    return

    def _play(self, conn: socket.socket, channels: Sequence[int]) -> None:
        """Send both tracks paced in real time by their RTP clocks, as a camera does (a camera's own pacing)."""
        frames: list[tuple[float, bytes]] = []
        for pkts, rate, ch in ((self.cap.video, 90000, 0), (self.cap.audio, self.rate, 2)):
            if ch not in channels:
                continue
            t0 = struct.unpack_from(">I", pkts[0], 4)[0]
            for p in pkts:
                at = ((struct.unpack_from(">I", p, 4)[0] - t0) & 0xFFFFFFFF) / rate
                frames.append((at, b"$" + bytes([ch]) + struct.pack(">H", len(p)) + p))
        frames.sort(key=lambda f: f[0])
        start = time.monotonic()
        for at, frame in frames:
            delay = start + at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            conn.sendall(frame)


class Sink:
    """The recorder's part of the ingest contract, on a real segmenter writing a file per segment."""

    def __init__(self, folder: Path) -> None:
        self.files: list[Path] = []
        self.frames = 0
        self.audio_frames = 0
        self._data: dict[str, bytearray] = {}
        self.seg = Segmenter("cam", folder, segment_seconds=60, fragment_seconds=1.0, write_open=self._open,
                             write_append=self._append, write_close=self._close)  # fmt: skip
        self.folder = folder

    def _open(self, seg: OpenSegment, init: bytes) -> None:
        self._data[seg.key] = bytearray(init)

    def _append(self, seg: OpenSegment, data: list[bytes | bytearray]) -> None:
        self._data[seg.key] += b"".join(data)

    def _close(self, seg: OpenSegment, end_ns: int) -> None:
        path = self.folder / f"{len(self.files)}.mp4"
        path.write_bytes(bytes(self._data.pop(seg.key)))
        self.files.append(path)

    def on_access_unit(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None:
        self.frames += 1
        self.seg.push(au, ext_ts, jump)

    def on_stream(self, camera_id: str, codec: str, params: Sequence[bytes]) -> None:
        self.seg.set_codec(codec, list(params))

    def on_audio_stream(self, camera_id: str, track: AudioTrack | None) -> None:
        self.seg.set_audio(track)

    def on_audio_frame(self, camera_id: str, frame: AudioFrame, wall_ns: int, ext_ts: int, jump: bool) -> None:
        self.audio_frames += 1
        self.seg.push_audio(frame, wall_ns, ext_ts, jump)

    def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
        pass

    def on_tick(self) -> None:
        pass


@pytest.fixture
def aac() -> Iterator[Camera]:
    cam = Camera(capture("aac"), 48000)
    yield cam
    cam.close()


@pytest.mark.parametrize("audio", [False, True])
def test_the_switch_decides_whether_the_audio_track_is_set_up_and_recorded(
    audio: bool, aac: Camera, tmp_path: Path
) -> None:
    sink = Sink(tmp_path)
    loop = IngestLoop(sink=sink, config=RecorderConfig(poll_interval_ms=20), clock=SystemClock(), seed=1)
    loop.add(CameraSource("cam", f"rtsp://127.0.0.1:{aac.port}/", audio=audio))
    loop.start()
    try:
        pictures = len({struct.unpack_from(">I", p, 4)[0] for p in aac.cap.video})
        wait_for(lambda: aac.done.is_set() and sink.frames >= pictures, 20, what="every picture of the clip")
    finally:
        loop.stop()
    sink.seg.finish()
    setups = [r for r in aac.requests if r.startswith("SETUP")]
    assert len(setups) == (2 if audio else 1) and setups[0].split(" ")[1].endswith("trackID=0")
    (path,) = sink.files
    kinds = [s["codec_type"] for s in ffprobe_streams(path)]
    assert kinds == (["video", "audio"] if audio else ["video"])
    assert (sink.audio_frames > 100) == audio


def test_the_registry_switch_is_part_of_the_recorded_source() -> None:
    """A camera's ``audio_enabled`` reaches ingest through its source, and changing it changes the source: the
    recorder's registry reload then re-adds the camera, whose new session sets the audio track up (or not)."""
    from camgrid.registry.models import Camera as CameraRow
    from camgrid.storage.recorder import camera_source

    class Box:
        def open(self, sealed: str, *, owner: str) -> str:
            raise AssertionError("no sealed secrets here")

    row = CameraRow(id="c1", rtsp_url="rtsp://10.0.0.1/", sub_rtsp_url="", username="", credentials="",
                    feeder_id="f", site_id="s", audio_enabled=False)  # fmt: skip
    off = camera_source(row, Box())  # type: ignore[arg-type]
    row.audio_enabled = True
    on = camera_source(row, Box())  # type: ignore[arg-type]
    assert off is not None and on is not None
    assert (off.audio, on.audio) == (False, True) and off != on
    assert CameraSource("c1", "rtsp://x/").audio is False  # off unless asked for
