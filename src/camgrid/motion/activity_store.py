"""Where activity levels live: one byte per camera-second beside the index, deleted with the recordings.

``<home>/activity/<camera>/<YYYYMMDD>/<HH>.lv``: 3600 bytes per camera-hour, byte ``k`` the level of second ``k`` of
the hour (0 = nothing recorded; a file shorter than 3600 bytes reads as zeros beyond its end). Fixed positions make
a batch one ``pwrite`` per camera-hour and a read one ``pread`` per hour; nothing is ever parsed.

Retention (docs/design/motion-search.md, "Activity"): nothing is kept for a time whose video is gone. The retention
runner tells :class:`ActivityRetention` which segments it deleted; it erases the camera's activity before the end
of the newest of them, except where a segment is still kept there (an evidence hold). Whole hours go as files;
partial hours are zeroed in place, never unlinked, so a writer in another process never loses a second it writes.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.db.engine import unit_of_work
from camgrid.storage.models import Segment
from camgrid.storage.retention import SegInfo

log = logging.getLogger("camgrid.motion")
NS = 1_000_000_000
HOUR = 3600
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_DAY_DIR = re.compile(r"^\d{8}$")
_HOUR_FILE = re.compile(r"^(\d{2})\.lv$")


@dataclass(frozen=True)
class ActivitySeries:
    """One camera's levels from ``start_s``, one byte per second (0 = no data)."""

    start_s: int
    levels: bytes

    @property
    def end_s(self) -> int:
        return self.start_s + len(self.levels)

    def windows(self, *, min_level: int, pad_s: int) -> list[tuple[int, int]]:
        """Seconds ``[start, end)`` whose level is above ``min_level``, padded by ``pad_s`` on each side (within the
        series), overlapping or touching windows merged."""
        if pad_s < 0:
            raise ValueError("pad_s must be >= 0")
        out: list[tuple[int, int]] = []
        levels, n, k = self.levels, len(self.levels), 0
        while k < n:
            if levels[k] <= min_level:
                k += 1
                continue
            j = k
            while j < n and levels[j] > min_level:
                j += 1
            a, b = max(0, k - pad_s), min(n, j + pad_s)
            if out and a <= out[-1][1] - self.start_s:
                out[-1] = (out[-1][0], self.start_s + b)
            else:
                out.append((self.start_s + a, self.start_s + b))
            k = j
        return out


def _hour_path(root: Path, camera_id: str, hour_s: int) -> Path:
    dt = datetime.fromtimestamp(hour_s, UTC)
    return root / camera_id / f"{dt:%Y%m%d}" / f"{dt:%H}.lv"


def _subtract(lo: int, hi: int, keep: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``[lo, hi)`` without the kept ranges (sorted or not)."""
    parts = [(lo, hi)]
    for k0, k1 in keep:
        nxt = []
        for a, b in parts:
            if k1 <= a or b <= k0:
                nxt.append((a, b))
                continue
            if a < k0:
                nxt.append((a, k0))
            if k1 < b:
                nxt.append((k1, b))
        parts = nxt
    return parts


class ActivityStore:
    """The levels of every camera this node records, under ``root`` (``<home>/activity``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _camera_dir(self, camera_id: str) -> Path:
        if not _SAFE_ID.match(camera_id) or camera_id in {".", ".."}:
            raise ValueError(f"not a camera id: {camera_id!r}")
        return self.root / camera_id

    # writing -----------------------------------------------------------------------------------------------------
    def write(self, camera_id: str, start_s: int, levels: bytes | bytearray) -> None:
        """Put ``levels`` (one per second from ``start_s``) in place: one ``pwrite`` per camera-hour touched."""
        self._camera_dir(camera_id)
        k = 0
        while k < len(levels):
            s = start_s + k
            hour_s = s - s % HOUR
            n = min(len(levels) - k, hour_s + HOUR - s)
            self._put(_hour_path(self.root, camera_id, hour_s), s - hour_s, bytes(levels[k : k + n]))
            k += n

    @staticmethod
    def _put(path: Path, offset: int, data: bytes) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)

    # reading -----------------------------------------------------------------------------------------------------
    def read(self, *, camera_id: str, start_s: int, end_s: int) -> ActivitySeries:
        """The levels of ``[start_s, end_s)`` (zeros where nothing is kept). The caller bounds the range."""
        if end_s < start_s:
            raise ValueError("end_s must not be before start_s")
        self._camera_dir(camera_id)
        out = bytearray(end_s - start_s)
        s = start_s
        while s < end_s:
            hour_s = s - s % HOUR
            n = min(end_s - s, hour_s + HOUR - s)
            try:
                with open(_hour_path(self.root, camera_id, hour_s), "rb") as fh:
                    fh.seek(s - hour_s)
                    got = fh.read(n)
                out[s - start_s : s - start_s + len(got)] = got
            except FileNotFoundError:
                pass
            s += n
        return ActivitySeries(start_s, bytes(out))

    # baselines (so that a restart does not relearn every camera) -----------------------------------------------
    def save_baseline(self, camera_id: str, state: dict[str, Any]) -> None:
        folder = self._camera_dir(camera_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / "baseline.json.tmp"
        tmp.write_text(json.dumps(state, separators=(",", ":")))
        tmp.replace(folder / "baseline.json")

    def load_baseline(self, camera_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self._camera_dir(camera_id) / "baseline.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    # deleting ----------------------------------------------------------------------------------------------------
    def cameras(self) -> list[str]:
        try:
            return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _SAFE_ID.match(p.name))
        except FileNotFoundError:
            return []

    def erase(self, *, camera_id: str, before_s: int, keep: Iterable[tuple[int, int]] = ()) -> int:
        """Erase the camera's seconds before ``before_s`` except the ``keep`` ranges (``[start_s, end_s)``).
        Returns the number of hour files removed."""
        folder = self._camera_dir(camera_id)
        kept = sorted((a, b) for a, b in keep if a < before_s)
        removed = 0
        try:
            days = sorted(p for p in folder.iterdir() if _DAY_DIR.match(p.name))
        except FileNotFoundError:
            return 0
        for day in days:
            day_s = int(datetime.strptime(day.name, "%Y%m%d").replace(tzinfo=UTC).timestamp())
            if day_s >= before_s:
                break
            for f in sorted(day.iterdir()):
                m = _HOUR_FILE.match(f.name)
                if m is None:
                    continue
                h0 = day_s + int(m.group(1)) * HOUR
                if h0 >= before_s:
                    continue
                parts = _subtract(h0, min(h0 + HOUR, before_s), kept)
                if parts == [(h0, h0 + HOUR)]:
                    f.unlink(missing_ok=True)
                    removed += 1
                    continue
                for a, b in parts:
                    self._zero(f, a - h0, b - a)
            try:
                day.rmdir()  # only when empty
            except OSError:
                pass
        return removed

    @staticmethod
    def _zero(path: Path, offset: int, n: int) -> None:
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            n = min(n, size - offset)  # never grow a file with zeros
            if n > 0:
                os.pwrite(fd, bytes(n), offset)
        finally:
            os.close(fd)


class ActivityRetention:
    """Erases activity with the recordings: a listener of ``storage.retention.RetentionRunner``.

    Per camera: everything before the end of the newest deleted segment, except the seconds of segments still kept
    there (held as evidence, or recorded by another node). Retention deletes oldest first, so what is older than a
    deleted segment and not kept has no video any more (or never had: a gap)."""

    def __init__(self, *, store: ActivityStore, factory: sessionmaker[Session]) -> None:
        self.store = store
        self.factory = factory

    def __call__(self, deleted: Sequence[SegInfo]) -> None:
        newest: dict[str, int] = {}
        for s in deleted:
            newest[s.camera_id] = max(newest.get(s.camera_id, 0), s.end_ns)
        for camera_id, end_ns in newest.items():
            with unit_of_work(self.factory) as session:
                keep = [
                    (a // NS, -(-b // NS))
                    for a, b in session.execute(
                        select(Segment.start_ns, Segment.end_ns).where(
                            Segment.camera_id == camera_id, Segment.start_ns < end_ns
                        )
                    )
                ]
            try:
                self.store.erase(camera_id=camera_id, before_s=end_ns // NS, keep=keep)
            except (OSError, ValueError) as exc:
                log.warning("activity of %s not erased with its recordings: %s", camera_id, exc)
