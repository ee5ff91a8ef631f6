"""Clips for the simulated cameras, encoded once with ffmpeg and cached, then packetized once.

Each camera gets its own short clip whose picture tells which camera it is: its id in large text, a running clock,
and its index as a row of black/white cells (machine-readable: see :func:`id_cells`). The simulator never runs an
encoder per camera: a clip is encoded once (cached by its parameters) and replayed in a loop with rewritten RTP
timestamps, as real cameras would send it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from camgrid.media.nal import (
    H264,
    StreamInfo,
    access_units,
    is_aud,
    is_keyframe_nal,
    is_parameter_set,
    nal_type,
    param_set_type,
    parse_sps,
    split_annexb,
)
from camgrid.media.rtp import packetize

ID_BITS = 16
CELL = 32  # pixels per id cell (at 1280 wide; scaled with the width)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SCENE_VERSION = 2  # bump when camgrid.sim.scenes draws its pictures differently (the cache is keyed by it)


@dataclass(frozen=True)
class ClipSpec:
    codec: str
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    gop_frames: int
    frames: int
    label: str
    index: int
    pattern: bool = False  # draw a bright checkerboard in the top-right quarter (privacy-mask tests)
    slices: int = 1  # slices per picture (live555-style servers mark every slice: the `slice-markers` quirk)
    bframes: int = 0  # B-frames between references (the `b-frames` quirk): presentation order != decode order
    scene: str = ""  # a scene camera's picture (camgrid.sim.scenes: "still", "cover", "motion-0004", ...)

    def key(self) -> str:
        fields = dict(self.__dict__)
        # the defaults keep the keys of clips cached before these fields
        for name, default in (("slices", 1), ("bframes", 0), ("scene", "")):
            if fields[name] == default:
                del fields[name]
        if self.scene:
            fields["scene_v"] = SCENE_VERSION  # scene pictures drawn differently are other clips
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:20]


def id_cells(index: int) -> list[int]:
    """The cell row drawn at the top-left: a white start cell, 16 bits of the index (MSB first), a black end cell."""
    return [1] + [(index >> (ID_BITS - 1 - i)) & 1 for i in range(ID_BITS)] + [0]


def _filter(spec: ClipSpec) -> str:
    if spec.scene:
        from camgrid.sim.scenes import scene_filter

        return scene_filter(spec.scene, spec.width, spec.height, spec.fps, FONT if os.path.exists(FONT) else "")
    cell = max(8, CELL * spec.width // 1280)
    parts = [f"testsrc2=size={spec.width}x{spec.height}:rate={spec.fps}"]
    for i, bit in enumerate(id_cells(spec.index)):
        color = "white" if bit else "black"
        parts.append(f"drawbox=x={i * cell}:y=0:w={cell}:h={cell}:color={color}:t=fill")
    if spec.pattern:
        x0, h = spec.width // 2, spec.height // 2
        parts.append(f"drawbox=x={x0}:y=0:w={spec.width - x0}:h={h}:color=magenta:t=fill")
    if os.path.exists(FONT):
        size = max(12, spec.height // 12)
        text = spec.label.replace(":", r"\:").replace("'", "")
        parts.append(
            f"drawtext=fontfile={FONT}:text='{text}':x=20:y={cell + 10}:fontsize={size}:fontcolor=white"
            f":box=1:boxcolor=black@0.6"
        )
        parts.append(
            f"drawtext=fontfile={FONT}:text='%{{pts\\:hms}}':x=20:y={cell + 20 + size}:fontsize={size}"
            f":fontcolor=yellow:box=1:boxcolor=black@0.6"
        )
    return ",".join(parts)


def encode(spec: ClipSpec, cache_dir: Path) -> Path:
    """Encode ``spec`` to an Annex B file in ``cache_dir`` unless it is already there."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    ext = "h264" if spec.codec == H264 else "h265"
    out = cache_dir / f"{spec.key()}.{ext}"
    if out.exists() and out.stat().st_size > 0:
        return out
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is not installed: run `make deps` (it installs Debian's ffmpeg)")
    seconds = spec.frames / spec.fps
    rate = f"{spec.bitrate_kbps}k"
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", _filter(spec)]
    cmd += ["-t", f"{seconds:.3f}", "-pix_fmt", "yuv420p", "-threads", "1"]
    x264 = "repeat-headers=1" + (f":slices={spec.slices}" if spec.slices > 1 else "")
    if spec.codec == H264 and spec.bframes:
        cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-bf", str(spec.bframes), "-b_strategy", "0"]
        cmd += ["-g", str(spec.gop_frames), "-keyint_min", str(spec.gop_frames), "-sc_threshold", "0"]
        cmd += ["-x264-params", x264, "-f", "mpegts"]  # MPEG-TS keeps each picture's presentation time
    elif spec.codec == H264:
        cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-bf", "0"]
        cmd += ["-g", str(spec.gop_frames), "-keyint_min", str(spec.gop_frames), "-sc_threshold", "0"]
        cmd += ["-x264-params", x264, "-f", "h264"]
    else:
        g = spec.gop_frames
        params = f"keyint={g}:min-keyint={g}:scenecut=0:bframes={spec.bframes}:repeat-headers=1:log-level=error"
        if spec.slices > 1:
            params += f":slices={spec.slices}"
        cmd += ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", params, "-f", "hevc"]
    # A scene camera encodes as a camera in VBR mode does (quality first, the rate capped): a still picture gives
    # tiny P-frames and motion big ones, what the activity from picture sizes reads (docs/design/simulator.md).
    cmd += ["-crf", "26"] if spec.scene else ["-b:v", rate]
    cmd += ["-maxrate", rate, "-bufsize", rate]
    with tempfile.NamedTemporaryFile(dir=cache_dir, suffix="." + ext, delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        subprocess.run([*cmd, str(tmp_path)], check=True, capture_output=True, timeout=600)
        if spec.codec == H264 and spec.bframes:
            _split_ts(tmp_path, out)
        else:
            tmp_path.replace(out)
    except subprocess.CalledProcessError as exc:
        tmp_path.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed to encode a clip: {exc.stderr.decode(errors='replace')[-500:]}") from exc
    return out


def _split_ts(ts_path: Path, out: Path) -> None:
    """An MPEG-TS encode into the Annex B stream (``out``) and each picture's presentation time in 90 kHz units, in
    decode order (``out`` + ``.pts.json``)."""
    try:
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "packet=pts,dts",
                "-of",
                "json",
                str(ts_path),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        packets = json.loads(probe.stdout)["packets"]
        first = int(packets[0]["dts"])
        pts = [int(p["pts"]) - first for p in packets]
        raw = ts_path.with_suffix(".annexb")
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(ts_path), "-c", "copy", "-f", "h264"]
        subprocess.run([*cmd, str(raw)], check=True, capture_output=True, timeout=120)
        pts_path(out).write_text(json.dumps(pts))
        raw.replace(out)
    finally:
        ts_path.unlink(missing_ok=True)


def pts_path(clip_path: Path) -> Path:
    return clip_path.with_name(clip_path.name + ".pts.json")


def encode_many(specs: list[ClipSpec], cache_dir: Path, workers: int = 2) -> list[Path]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda s: encode(s, cache_dir), specs))


@dataclass
class Clip:
    """A clip ready to send: per frame (in decode order), its NAL units; its RTP payloads on demand."""

    codec: str
    info: StreamInfo
    params: list[bytes]  # parameter sets (for the SDP)
    frames: list[list[bytes]]  # NAL units per access unit (no AUD)
    keys: list[bool]
    pts: list[int] | None = None  # presentation time of each frame in 90 kHz units (B-frame clips), decode order

    @property
    def payloads(self) -> list[list[bytes]]:
        """RTP payloads per access unit (computed on each call: the simulator keeps only its send loops)."""
        return [packetize(self.codec, au) for au in self.frames]


def load(path: Path, codec: str) -> Clip:
    pts = json.loads(pts_path(path).read_text()) if pts_path(path).exists() else None
    try:
        return parse(path.read_bytes(), codec, pts)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def parse(data: bytes, codec: str, pts: list[int] | None = None) -> Clip:
    """A clip from an Annex B stream in memory (decode order; ``pts`` per picture for B-frame clips)."""
    nals = split_annexb(data)
    aus = [[n for n in au if not is_aud(codec, nal_type(codec, n))] for au in access_units(codec, nals)]
    aus = [au for au in aus if au]
    params: list[bytes] = []
    for n in aus[0]:
        if is_parameter_set(codec, nal_type(codec, n)):
            params.append(n)
    sps_type = param_set_type(codec, "sps")
    sps = next(n for n in params if nal_type(codec, n) == sps_type)
    keys = [any(is_keyframe_nal(codec, nal_type(codec, n)) for n in au) for au in aus]
    if not keys[0]:
        raise ValueError("clip does not start with a keyframe")
    if pts is not None and len(pts) != len(aus):
        raise ValueError(f"{len(pts)} presentation times for {len(aus)} pictures")
    return Clip(codec, parse_sps(codec, sps), params, aus, keys, pts)
