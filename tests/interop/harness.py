"""The interop harness: fixed source clips (encoded once, cached), third-party servers, camgrid's real recorder.

Used by tests/interop/test_*.py and bench/bench_interop.py. A *variant* is one third-party server configuration
with the clip it serves; :func:`record` registers cameras pointing at running servers, runs ``camgrid record`` until
each camera has a few complete segments (or gave up with a final reason), stops it and judges each camera's
recording picture by picture against the source (tests/interop/pictures.py). See docs/design/interop.md.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camgrid.vocabulary import SLOW_RETRY_REASONS, GapReason
from tests.conftest import ROOT, City, make_city, wait_for
from tests.interop.pictures import Comparison, Picture, compare, index_problems, recorded_pictures, source_pictures

NS = 1_000_000_000
CACHE = ROOT / "var" / "test-cache" / "interop"
SYSTEM_PYTHON = "/usr/bin/python3"
HERE = Path(__file__).resolve().parent


# clips --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clip:
    """A synthetic clip (ffmpeg's testsrc2 with a running clock): every picture differs from every other."""

    codec: str = "h264"
    seconds: float = 30.0
    slices: int = 1
    width: int = 320
    height: int = 240
    fps: int = 25
    gop: int = 25

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()[:16]


def _ffmpeg(args: list[str], out: Path) -> Path:
    """Run ffmpeg into ``out`` atomically (cached: nothing runs when ``out`` exists)."""
    if out.exists() and out.stat().st_size > 0:
        return out
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is not installed: run `make deps`")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp{out.suffix}")
    try:
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(tmp)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        tmp.replace(out)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"ffmpeg failed: {exc.stderr.decode(errors='replace')[-800:]}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    out.chmod(0o644)
    return out


def annexb(clip: Clip) -> Path:
    """The clip as an Annex B elementary stream (parameter sets before every IDR, no B-frames)."""
    ext = "h264" if clip.codec == "h264" else "h265"
    src = f"testsrc2=size={clip.width}x{clip.height}:rate={clip.fps}"
    args = ["-f", "lavfi", "-i", src, "-t", f"{clip.seconds:.3f}", "-pix_fmt", "yuv420p", "-threads", "1"]
    g = clip.gop
    if clip.codec == "h264":
        params = f"repeat-headers=1:slices={clip.slices}"
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-g", str(g), "-keyint_min", str(g)]
        args += ["-sc_threshold", "0", "-x264-params", params, "-b:v", "400k", "-f", "h264"]
    else:
        params = f"keyint={g}:min-keyint={g}:scenecut=0:bframes=0:repeat-headers=1:log-level=error"
        if clip.slices > 1:
            params += f":slices={clip.slices}"
        args += ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", params, "-b:v", "400k", "-f", "hevc"]
    return _ffmpeg(args, CACHE / f"{clip.key()}.{ext}")


def mp4(clip: Clip, audio: str | None = None) -> Path:
    """The same pictures in an MP4 (exact 90 kHz timestamps for demuxing servers), with an audio track if asked:
    "aac" (MP4) or "pcma" (G.711 A-law 8 kHz mono, in a QuickTime .mov, the MP4 family's format that carries it)."""
    es = annexb(clip)
    fmt = "h264" if clip.codec == "h264" else "hevc"
    args = ["-f", fmt, "-r", str(clip.fps), "-i", str(es)]
    container, ext = "mp4", "mp4"
    if audio == "aac":
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={clip.seconds}"]
        args += ["-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "64k"]
    elif audio == "pcma":
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=8000:duration={clip.seconds}"]
        args += ["-map", "0:v", "-map", "1:a", "-c:a", "pcm_alaw", "-ac", "1"]
        container, ext = "mov", "mov"
    elif audio is not None:
        raise ValueError(f"unknown audio {audio!r}")
    args += ["-c:v", "copy", "-video_track_timescale", "90000", "-f", container]
    if clip.codec == "h265":
        args += ["-tag:v", "hvc1"]
    return _ffmpeg(args, CACHE / f"{clip.key()}-{audio or 'video'}.{ext}")


def clip_pictures(clip: Clip) -> list[Picture]:
    return source_pictures(annexb(clip).read_bytes(), clip.codec, clip.fps)


def readable_copy(path: Path) -> Path:
    """``path`` copied where an unprivileged user (VLC refuses root) can read it."""
    folder = Path(tempfile.gettempdir()) / "camgrid-interop-public"
    folder.mkdir(mode=0o755, exist_ok=True)
    folder.chmod(0o755)
    out = folder / path.name
    if not out.exists() or out.stat().st_size != path.stat().st_size:
        tmp = folder / f".{path.name}.{os.getpid()}"
        shutil.copyfile(path, tmp)
        tmp.chmod(0o644)
        tmp.replace(out)
    return out


# servers ------------------------------------------------------------------------------------------------------------
@dataclass
class Server:
    """A third-party server process, its log, and how to stop it (by its own pid only)."""

    popen: subprocess.Popen[bytes]
    log: Path
    cleanup: list[Path] = field(default_factory=list)  # folders to remove once it has stopped

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for folder in self.cleanup:
            shutil.rmtree(folder, ignore_errors=True)


def start_server(cmd: list[str], log: Path, ready: Callable[[str], bool], what: str, **kw: Any) -> Server:
    fh = log.open("wb")
    popen = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
    server = Server(popen, log)
    try:
        wait_for(lambda: ready(server.text()) or popen.poll() is not None, 60, interval=0.1, what=what)
    except AssertionError:
        server.stop()
        raise
    if popen.poll() is not None:
        raise RuntimeError(f"{what} exited at start: {server.text()[-2000:]}")
    return server


def rtsp_ready(port: int) -> Callable[[str], bool]:
    """True once something accepts TCP connections on ``port`` (for servers that print nothing when ready)."""
    import socket

    def check(_text: str) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    return check


# recording ----------------------------------------------------------------------------------------------------------
@dataclass
class Camera:
    id: str
    url: str
    source: list[Picture]
    username: str = ""
    password: str = ""


@dataclass
class Result:
    camera: str
    comparison: Comparison | None
    index_problems: list[str]
    segments: list[Any]
    gaps: list[Any]
    window: tuple[int, int]
    recorded: list[Picture] = field(default_factory=list)
    interruptions: list[str] = field(default_factory=list)  # gaps other than the routine ones, readable

    @property
    def exact(self) -> bool:
        """Every source picture once, in order, with its duration; the index in the window; no interruption."""
        return (
            self.comparison is not None and self.comparison.exact and not self.index_problems and not self.interruptions
        )

    @property
    def summary(self) -> str:
        head = f"{self.camera}: {len(self.segments)} segments, gaps {[(g[3], g[4]) for g in self.gaps]}"
        body = self.comparison.summary if self.comparison is not None else "nothing recorded"
        return "\n".join([head, body, *self.index_problems, *self.interruptions])


SEGMENT_SECONDS = 3


def recorder_city(tmp_path: Path, extra_env: dict[str, str] | None = None) -> City:
    env = {"CAMGRID_RECORDER__SEGMENT_SECONDS": str(SEGMENT_SECONDS), **(extra_env or {})}
    return make_city(tmp_path, 0, extra_env=env)


def register(city: City, cameras: list[Camera]) -> None:
    path = city.home / "interop-cameras.csv"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    cols = ["id", "name", "lat", "lon", "district", "site", "feeder", "uplink", "rtsp_url", "username", "password"]
    with open(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for i, cam in enumerate(cameras):
            place = [52.5 + i / 1000, 13.4, "interop", "lab", "F-1", "U-1"]
            w.writerow([cam.id, cam.id, *place, cam.url, cam.username, cam.password])
    city.run("cameras", "import", str(path))


def complete(city: City, camera: str) -> list[Any]:
    return [s for s in city.segments(camera) if s[7] == "complete"]


def settled(city: City, camera: str, segments: int) -> bool:
    """Enough complete segments, or the recorder gave up on the camera for a reason it retries only slowly."""
    if len(complete(city, camera)) >= segments:
        return True
    return any(g[3] in SLOW_RETRY_REASONS for g in city.gaps(camera))


def record(
    city: City,
    cameras: list[Camera],
    *,
    segments: int = 3,
    timeout: float = 60,
    seconds: float | None = None,
    min_seconds: float = 0.0,
) -> dict[str, Result]:
    """Record ``cameras`` with ``camgrid record`` until each has ``segments`` complete segments (or gave up) and at
    least ``min_seconds`` have passed, or for ``seconds`` of wall-clock time when given (the benchmark), stop the
    recorder (it closes its open segments), and judge each camera's complete segments against its source."""
    register(city, cameras)
    t0 = time.time_ns()
    rec = city.start_recorder("interop")
    try:
        if seconds is not None:
            end = time.monotonic() + seconds
            wait_for(lambda: time.monotonic() >= end or rec.popen.poll() is not None, seconds + 5, interval=0.5)
        else:
            start = time.monotonic()
            wait_for(
                lambda: (
                    (time.monotonic() - start >= min_seconds and all(settled(city, c.id, segments) for c in cameras))
                    or rec.popen.poll() is not None
                ),
                timeout,
                interval=0.5,
                what=f"{segments} complete segments per camera",
            )
    finally:
        rec.stop()
    t1 = time.time_ns()
    assert rec.popen.returncode == 0, rec.text()[-3000:]
    return {cam.id: judge(city, cam, (t0, t1)) for cam in cameras}


# gaps every recording has: before the first keyframe, and after the recorder stopped
ROUTINE_GAPS = frozenset({GapReason.STARTING, GapReason.NOT_RUNNING})


def judge(city: City, cam: Camera, window: tuple[int, int]) -> Result:
    segs = complete(city, cam.id)
    gaps = city.gaps(cam.id)
    problems = index_problems([(s[1], s[2]) for s in segs], window)
    # a recording interrupted (a stall, a reconnect) is not exact even when the pictures around it are contiguous
    interruptions = []
    for g in gaps:
        if g[3] not in ROUTINE_GAPS:
            until = "open" if g[2] is None else f"{(g[2] - g[1]) / NS:.2f} s"
            interruptions.append(f"gap {g[3]} ({g[4]}) at {(g[1] - window[0]) / NS:.2f} s into the recording, {until}")
    if not segs:
        return Result(cam.id, None, problems, segs, gaps, window, interruptions=interruptions)
    pictures = recorded_pictures([Path(s[3]) for s in segs], starts=[s[1] for s in segs])
    cmp = compare(cam.source, pictures, stopped=True)  # the recorder was stopped after the last picture
    # the index's end of each segment is its start plus the durations stored in it (time never runs ahead)
    at = 0
    for i, s in enumerate(segs):
        stored = sum(p.duration_ns for p in pictures[at : at + s[5]])
        at += s[5]
        if abs((s[2] - s[1]) - stored) > NS // 100:
            problems.append(f"segment {i}: index spans {(s[2] - s[1]) / NS:.3f} s, its pictures {stored / NS:.3f} s")
    if at != len(pictures):
        problems.append(f"the index counts {at} frames, the files hold {len(pictures)} pictures")
    return Result(cam.id, cmp, problems, segs, gaps, window, pictures, interruptions)
