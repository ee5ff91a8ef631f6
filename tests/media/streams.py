"""Test streams for the picture path: H.264 encoded once by ffmpeg (cached), sent as cameras really packetize it."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from camgrid.media.nal import H264, access_units, is_vcl, nal_type, split_annexb
from camgrid.media.rtp import packetize, rtp_header


def encode(x264: list[str], seconds: float, cache: Path, *, size: str = "320x240", fps: int = 25) -> Path:
    """An ``.mp4`` (for its timestamps) encoded by libx264 with ``x264`` options, cached by its arguments."""
    cache.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(json.dumps([x264, seconds, size, fps]).encode()).hexdigest()[:16]
    out = cache / f"pictures-{key}.mp4"
    if not out.exists():
        tmp = out.with_suffix(".tmp.mp4")
        src = f"testsrc2=size={size}:rate={fps}"
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src, "-t", str(seconds)]
        cmd += ["-pix_fmt", "yuv420p", "-threads", "1", "-c:v", "libx264", *x264, str(tmp)]
        subprocess.run(cmd, check=True, timeout=120)
        tmp.replace(out)
    return out


def annexb_aus(mp4: Path) -> list[list[bytes]]:
    """The access units of ``mp4`` in decode order, as NAL units."""
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(mp4), "-c", "copy", "-bsf:v", "h264_mp4toannexb"]
    raw = subprocess.run(
        [*cmd, "-f", "h264", "-"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return access_units(H264, split_annexb(raw))


def probe(path: Path, what: str, fields: str) -> list[dict[str, str]]:
    """``ffprobe -show_<what>`` entries of the video stream (``packets`` in decode order, ``frames`` in display)."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", f"-show_{what}", "-show_entries"]
    out = subprocess.run(
        [*cmd, f"{what[:-1]}={fields}", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return list(json.loads(out)[what])


def live555_packets(au: list[bytes], ts: int, seq: int, ssrc: int = 7) -> list[bytes]:
    """One picture as live555 sends it: every NAL unit on its own, the marker set after every slice."""
    out = []
    for nal in au:
        payloads = packetize(H264, [nal])
        slice_ = is_vcl(H264, nal_type(H264, nal))
        for j, payload in enumerate(payloads):
            marker = slice_ and j == len(payloads) - 1
            out.append(rtp_header(seq + len(out), ts, ssrc, marker) + payload)
    return out
