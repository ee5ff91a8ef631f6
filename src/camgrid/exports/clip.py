"""Clip export: samples of the segments in a range, remuxed (never transcoded) into one MP4, with a manifest.

The clip starts at the last keyframe at or before the requested start (a clip cannot start between keyframes
without re-encoding) and ends with the last picture before the requested end; the manifest states the exact range
it holds, the SHA-256 of every file, who exported it, when and why. ``verify`` checks an export folder offline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camgrid.clock import ns_to_iso
from camgrid.media import fmp4, fmp4_audio
from camgrid.vocabulary import SegmentSource

NS = 1_000_000_000
FORMAT = "camgrid-export/1"


@dataclass(frozen=True)
class SourceSegment:
    path: Path
    start_ns: int
    end_ns: int


class ExportError(ValueError):
    """Nothing to export, or the sources are unreadable; the message says which."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_clip(segments: Sequence[SourceSegment], start_ns: int, end_ns: int, out: Path) -> tuple[int, int, int]:
    """Write the clip; returns (actual start ns, actual end ns, pictures)."""
    chosen: list[tuple[int, fmp4.Sample]] = []  # (UTC ns of the sample, sample)
    heard: list[tuple[int, fmp4.Sample]] = []  # the audio track's samples, the same way (docs/design/audio.md)
    init: bytes | None = None
    for seg in sorted(segments, key=lambda s: s.start_ns):
        data = seg.path.read_bytes()
        if init is None:
            init = fmp4.init_bytes(data)
        elif fmp4.init_bytes(data) != init:
            # New parameter sets (the camera was reconfigured): keep to the first so the file stays one stream.
            if chosen:
                break
            init = fmp4.init_bytes(data)
        heard += _audio_samples(init, data, seg.start_ns, end_ns)
        for sample in fmp4.read_samples(data):
            t = seg.start_ns + sample.time * NS // fmp4.TIMESCALE
            if t >= end_ns:
                break
            if t + sample.duration * NS // fmp4.TIMESCALE <= start_ns and not sample.key and not chosen:
                continue  # before the requested start, and no keyframe yet that it would depend on
            if sample.key and t <= start_ns:
                chosen.clear()  # a later keyframe at or before the start: what came before it is not needed
            chosen.append((t, sample))
    # Start on the last keyframe at or before the requested start (or the first keyframe after it).
    key_idx = [i for i, (t, s) in enumerate(chosen) if s.key and t <= start_ns]
    first = key_idx[-1] if key_idx else next((i for i, (_, s) in enumerate(chosen) if s.key), None)
    if init is None or first is None:
        raise ExportError("no recording in the requested range")
    chosen = chosen[first:]
    origin = chosen[0][0]
    audio = fmp4_audio.audio_of_init(init)
    rate = audio[1] if audio is not None else 0
    heard = [(t, s) for t, s in heard if t >= origin]
    with out.open("wb") as fh:
        fh.write(init)
        seq = 0
        i = 0
        while i < len(chosen):
            batch = chosen[i : i + 25]
            seq += 1
            base = (batch[0][0] - origin) * fmp4.TIMESCALE // NS
            parts = fmp4.fragment_parts(
                seq,
                base,
                [(s.duration, len(s.data), s.key) for _, s in batch],
                [s.data for _, s in batch],
                [s.cto for _, s in batch],  # B-frames keep their composition offsets
            )
            if heard and rate:
                until = chosen[i + 25][0] if i + 25 < len(chosen) else end_ns
                parts = _with_audio(parts, [h for h in heard if h[0] < until], origin, rate)
                heard = [h for h in heard if h[0] >= until]
            fh.write(b"".join(parts))
            i += 25
    last_t, last = chosen[-1]
    return origin, last_t + last.duration * NS // fmp4.TIMESCALE, len(chosen)


def _audio_samples(init: bytes | None, data: bytes, seg_start_ns: int, end_ns: int) -> list[tuple[int, fmp4.Sample]]:
    """The audio track's samples of a segment before ``end_ns``, with their UTC ns."""
    audio = fmp4_audio.audio_of_init(init) if init is not None else None
    if audio is None or fmp4.init_bytes(data) != init:
        return []
    rate = audio[1]
    out = []
    for sample in fmp4_audio.read_track(data):
        t = seg_start_ns + sample.time * NS // rate
        if t < end_ns:  # (the clip may start at a keyframe well before start_ns: cut at its start later)
            out.append((t, sample))
    return out


def _with_audio(
    parts: list[bytes | bytearray], heard: list[tuple[int, fmp4.Sample]], origin: int, rate: int
) -> list[bytes | bytearray]:
    """A clip fragment with the audio heard during it (a hole in the audio lengthens the frame before it)."""
    if not heard:
        return parts
    base = (heard[0][0] - origin) * rate // NS
    samples: list[tuple[int, int]] = []
    end = base
    for t, s in heard:
        pos = max(end, (t - origin) * rate // NS)
        if samples and pos > end + s.duration // 2:
            samples[-1] = (samples[-1][0] + pos - end, samples[-1][1])
            end = pos
        samples.append((s.duration, len(s.data)))
        end += s.duration
    return fmp4_audio.add_audio_to_fragment(parts, base, samples, [s.data for _, s in heard])


def edge_provenance(
    segments: Sequence[tuple[int, int, str, int | None]], start_ns: int, end_ns: int
) -> list[dict[str, Any]]:
    """The manifest's provenance entries: each edge segment (``(start, end, source, clock_offset_ns)``) inside the
    clip's range, clipped to it. Its pictures carry the camera's own clock, placed on ours with the offset measured
    when it was replayed (camera time = our time + offset; docs/design/onvif.md, "Edge backfill")."""
    out = []
    for s, e, source, offset in sorted(segments):
        a, b = max(s, start_ns), min(e, end_ns)
        if source != SegmentSource.EDGE or b <= a:
            continue
        out.append(
            {
                "from": ns_to_iso(a),
                "to": ns_to_iso(b),
                "from_ns": a,
                "to_ns": b,
                "source": str(SegmentSource.EDGE),
                "recovered_from": "camera card (ONVIF Profile G replay)",
                "clock": "camera",
                "clock_offset_ns": offset or 0,
            }
        )
    return out


def write_manifest(
    folder: Path,
    *,
    camera: dict[str, Any],
    requested: tuple[int, int],
    actual: tuple[int, int],
    pictures: int,
    exported_by: str,
    exported_ns: int,
    reason: str,
    gaps: list[dict[str, Any]],
    approval: list[dict[str, Any]] | None = None,
    audit_entries: list[int] | None = None,
    provenance: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``provenance``: the clip's stretches not recorded live (edge segments: replayed from the camera's card), each
    with its source, the clock its pictures were stamped by and the measured offset used to place them."""
    files = []
    for path in sorted(folder.iterdir()):
        if path.name not in ("manifest.json", "manifest.sig", "key.pub") and path.is_file():
            files.append({"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    manifest = {
        "format": FORMAT,
        "camera": camera,
        "requested": {"from": ns_to_iso(requested[0]), "to": ns_to_iso(requested[1])},
        "actual": {"from": ns_to_iso(actual[0]), "to": ns_to_iso(actual[1]), "from_ns": actual[0], "to_ns": actual[1]},
        "pictures": pictures,
        "gaps": gaps,
        "provenance": provenance or [],
        "exported_by": exported_by,
        "exported_at": ns_to_iso(exported_ns),
        "reason": reason,
        "approval": approval or [],
        "audit_entries": audit_entries or [],
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def verify(folder: Path) -> list[str]:
    """Problems found in an export folder (empty when every file is present and unchanged)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        return ["manifest.json is missing"]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [f"manifest.json is not valid JSON: {exc}"]
    if manifest.get("format") != FORMAT:
        return [f"manifest.json: unknown format {manifest.get('format')!r}"]
    problems = []
    listed = set()
    for entry in manifest.get("files", []):
        name = str(entry.get("name", ""))
        listed.add(name)
        path = folder / name
        if "/" in name or not path.is_file():
            problems.append(f"{name}: missing")
            continue
        if path.stat().st_size != entry.get("bytes"):
            problems.append(f"{name}: size {path.stat().st_size} differs from the manifest's {entry.get('bytes')}")
        digest = sha256_file(path)
        if digest != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 {digest} differs from the manifest's {entry.get('sha256')}")
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in ("manifest.json", "manifest.sig", "key.pub") and path.name not in listed:
            problems.append(f"{path.name}: not in the manifest")
    return problems
