"""Where segments live: ``<data>/recordings/<camera>/YYYY/MM/DD/HH/<start-ms>.mp4`` (UTC).

The start time in the name lets recovery index a file that never reached the database. Segments replayed from a
camera's card (docs/design/onvif.md) sit beside them as ``<start-ms>.edge.mp4``: never the same name as a live one,
and never picked up by recovery (their rows go in only once the file is durable, by the backfill itself).
"""

from __future__ import annotations

from pathlib import Path

from camgrid.clock import ns_to_datetime


def segment_path(root: Path, camera_id: str, start_ns: int) -> Path:
    dt = ns_to_datetime(start_ns)
    return root / camera_id / f"{dt:%Y/%m/%d/%H}" / f"{start_ns // 1_000_000}.mp4"


EDGE_SUFFIX = ".edge.mp4"


def edge_segment_path(root: Path, camera_id: str, start_ns: int) -> Path:
    """Where a segment replayed from the camera's card goes: the live segment's hour folder, its own name."""
    dt = ns_to_datetime(start_ns)
    return root / camera_id / f"{dt:%Y/%m/%d/%H}" / f"{start_ns // 1_000_000}{EDGE_SUFFIX}"


def start_ns_from_name(path: Path) -> int | None:
    stem = path.stem
    return int(stem) * 1_000_000 if stem.isdigit() else None


def hour_dirs(root: Path, camera_id: str, from_ns: int, to_ns: int) -> list[Path]:
    """Hour folders of a camera that may hold segments started in [from_ns, to_ns]."""
    out = []
    hour = 3600 * 1_000_000_000
    t = (from_ns // hour) * hour
    while t <= to_ns:
        out.append(root / camera_id / f"{ns_to_datetime(t):%Y/%m/%d/%H}")
        t += hour
    return out
