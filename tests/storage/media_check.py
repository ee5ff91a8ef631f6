"""Checks of stored media with the real ffmpeg/ffprobe."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from camgrid.media.nal import access_units, is_aud, is_parameter_set, nal_type, split_annexb


def decode_errors(path: Path) -> str:
    """Everything ffmpeg complains about while decoding every frame of ``path`` (empty when clean)."""
    r = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
    )
    return r.stderr.strip() + ("" if r.returncode == 0 else f" (exit {r.returncode})")


def probe(path: Path) -> dict[str, object]:
    r = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames:format=duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(r.stdout)
    stream = doc["streams"][0]
    return {
        "codec": stream["codec_name"],
        "width": int(stream["width"]),
        "height": int(stream["height"]),
        "frames": int(stream["nb_read_frames"]),
        "duration": float(doc["format"]["duration"]),
    }


def stored_access_units(path: Path, codec: str) -> list[list[bytes]]:
    """The access units ffmpeg reads from a segment, as NAL lists (Annex B via the mp4toannexb filter)."""
    name = "h264" if codec == "h264" else "hevc"
    r = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-c",
            "copy",
            "-bsf:v",
            f"{name}_mp4toannexb",
            "-f",
            name,
            "-",
        ],
        capture_output=True,
        check=True,
    )
    aus = access_units(codec, split_annexb(r.stdout))
    out = []
    for au in aus:
        # hevc_mp4toannexb re-inserts the hvcC parameter sets before every IRAP picture even when the sample carries
        # them in-band; drop those repeats (the filter's addition, not the recorder's) so the comparison is exact.
        seen: list[bytes] = []
        nals = []
        for n in au:
            t = nal_type(codec, n)
            if is_aud(codec, t):
                continue
            if is_parameter_set(codec, t):
                if n in seen:
                    continue
                seen.append(n)
            nals.append(n)
        out.append(nals)
    return out
