"""Activity from the compressed stream: per camera and per UTC second, how much its pictures changed, for free.

A still scene gives tiny P-frames, motion big ones, a covered or frozen lens almost empty ones. :class:`ActivityTap`
sits on the recorder's packets (``Recorder.add_tap``) and only counts: per picture a few attribute reads and
additions (the budget is 8 µs per picture, 0.0002 cores per camera at 25 fps). When a second closes it is judged
against the camera's own :class:`Baseline` (per hour of day; constant-bitrate cameras noticed) as a level 1..255
(65 = as usual), handed to listeners (the tamper detectors) and written to the :class:`ActivityStore` in batches.
Design note: docs/design/motion-search.md ("Activity"). Never people, never anything across cameras.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from camgrid.clock import Clock
from camgrid.media.rtp import AccessUnit
from camgrid.motion.activity_store import ActivityStore

log = logging.getLogger("camgrid.motion")
NS = 1_000_000_000
USUAL = 64  # a ratio of 1 ("as usual") is level 65
ALPHA = 1 / 600  # the baseline's weight per second once warm (about ten minutes of memory per hour of day)
SEED = 60  # a new hour of day starts from the last one, as if it had seen this many seconds (adapts fast)
CBR_CV = 0.1  # per-second totals steadier than this (keyframes included) mean a constant-bitrate camera
VBR_CV = 0.25  # a CBR camera's deviations are scaled up to a VBR camera's usual spread...
MAX_GAIN = 8.0  # ...by at most this much
REORDER_S = 2  # a picture this much earlier than the open second belongs to it (B-frames, a late slice)
QUIET_S = 5  # a camera's open second older than this (by the clock) is closed by the housekeeping thread


def level_of(ratio: float) -> int:
    """The level of a second whose non-key pictures were ``ratio`` times the camera's usual (1..255)."""
    return 1 + min(254, max(0, round(USUAL * ratio)))


@dataclass(frozen=True, slots=True)
class SecondStats:
    """One closed camera-second: what was received, and its level (0 = nothing recorded, 65 = as usual)."""

    camera_id: str
    second: int  # unix seconds (UTC)
    pictures: int
    key_pictures: int
    key_bytes: int
    other_bytes: int
    level: int


class Baseline:
    """One camera's usual non-key picture size per hour of day (UTC hours: 24 separate habits), and whether it is a
    constant-bitrate camera (its per-second totals barely move, keyframes and all: a VBR camera's swing with every
    keyframe). A mean and mean absolute deviation per hour, exponentially weighted; what a second adds is clipped
    to [half, double] the mean so that a minute of motion barely moves it."""

    __slots__ = ("count", "dev", "last_hour", "mean", "tot_count", "tot_dev", "tot_mean")

    def __init__(self) -> None:
        self.mean = [0.0] * 24
        self.dev = [0.0] * 24
        self.count = [0] * 24
        self.last_hour = -1
        self.tot_mean = 0.0
        self.tot_dev = 0.0
        self.tot_count = 0

    @property
    def cbr(self) -> bool:
        return self.tot_count >= SEED and self.tot_dev < CBR_CV * self.tot_mean

    def judge(self, second: int, pictures: int, key_pictures: int, key_bytes: int, other_bytes: int) -> int:
        """The second's level, then learn from it."""
        if pictures <= 0:
            return 0
        total = float(key_bytes + other_bytes)
        a = max(1.0 / (self.tot_count + 1), ALPHA)
        self.tot_dev += a * (abs(total - self.tot_mean) - self.tot_dev) if self.tot_count else 0.0
        self.tot_mean += a * (total - self.tot_mean)
        self.tot_count += 1
        others = pictures - key_pictures
        if others <= 0:
            return level_of(1.0)  # keyframes only: nothing to compare (intra-only streams are rare)
        x = other_bytes / others
        h = (second // 3600) % 24
        if self.count[h] == 0:
            last = self.last_hour
            if last < 0 or self.count[last] == 0:
                self.mean[h], self.dev[h], self.count[h], self.last_hour = x, 0.0, 1, h
                return level_of(1.0)
            self.mean[h], self.dev[h], self.count[h] = self.mean[last], self.dev[last], min(self.count[last], SEED)
        self.last_hour = h
        mean = self.mean[h]
        ratio = x / mean if mean > 0 else 1.0
        if self.cbr:
            cv = self.dev[h] / mean if mean > 0 else 0.0
            gain = min(MAX_GAIN, VBR_CV / cv) if cv > VBR_CV / MAX_GAIN else MAX_GAIN
            ratio = max(0.0, 1.0 + gain * (ratio - 1.0)) if gain > 1.0 else ratio
        clipped = min(max(x, mean / 2), mean * 2)
        a = max(1.0 / (self.count[h] + 1), ALPHA)
        self.dev[h] += a * (abs(clipped - mean) - self.dev[h])
        self.mean[h] = mean + a * (clipped - mean)
        self.count[h] += 1
        return level_of(ratio)

    def state(self) -> dict[str, Any]:
        return {
            "mean": self.mean, "dev": self.dev, "count": self.count, "last_hour": self.last_hour,
            "tot": [self.tot_mean, self.tot_dev, self.tot_count],
        }  # fmt: skip

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Baseline | None:
        try:
            b = cls()
            b.mean = [float(v) for v in data["mean"]][:24]
            b.dev = [float(v) for v in data["dev"]][:24]
            b.count = [int(v) for v in data["count"]][:24]
            b.last_hour = int(data["last_hour"])
            b.tot_mean, b.tot_dev, b.tot_count = float(data["tot"][0]), float(data["tot"][1]), int(data["tot"][2])
        except (KeyError, TypeError, ValueError, IndexError):
            return None
        if len(b.mean) != 24 or len(b.dev) != 24 or len(b.count) != 24 or not -1 <= b.last_hour < 24:
            return None
        return b


class _Acc:
    """One camera's open second (ingest thread only, but for closing an idle one under the tap's lock)."""

    __slots__ = ("base", "camera_id", "closed", "key_bytes", "key_pictures", "other_bytes", "pictures", "second")

    def __init__(self, camera_id: str, second: int, base: Baseline) -> None:
        self.camera_id = camera_id
        self.second = second
        self.base = base
        self.pictures = self.key_pictures = self.key_bytes = self.other_bytes = 0
        self.closed = False


class ActivityTap:
    """The recorder tap: ``(camera_id, au, ext_ts, jump)`` per picture, O(1); a second closes when the camera's
    next second begins (or, for a camera gone quiet, at the next :meth:`tick`).

    ``records``: whether a session id is a recorded camera (live-only substreams are counted but never stored or
    told). Listeners are called on the thread that closes a second (ingest, or housekeeping for quiet cameras):
    they must be cheap and never block. ``tick`` (a housekeeping hook) writes the batch every ``flush_s``."""

    def __init__(
        self,
        *,
        clock: Clock,
        store: ActivityStore | None,
        records: Callable[[str], bool] | None = None,
        flush_s: float = 10.0,
    ) -> None:
        self.clock = clock
        self.store = store
        self.records = records
        self.flush_s = flush_s
        self._accs: dict[str, _Acc] = {}
        self._bases: dict[str, Baseline] = {}
        self._fresh: set[str] = set()  # cameras whose stored baseline is still to be loaded (off the ingest thread)
        self._listeners: list[Callable[[SecondStats], None]] = []
        self._lock = threading.Lock()
        self._pending: dict[str, list[tuple[int, bytearray]]] = {}  # runs of levels to write, per camera
        self._next_flush = clock.monotonic() + flush_s
        self._next_save = clock.monotonic() + 60.0

    def add_listener(self, fn: Callable[[SecondStats], None]) -> None:
        """``fn`` gets every closed second of every recorded camera (register before the recorder starts)."""
        self._listeners.append(fn)

    def baseline(self, camera_id: str) -> Baseline | None:
        return self._bases.get(camera_id)

    # the ingest thread's path ------------------------------------------------------------------------------------
    def __call__(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None:
        acc = self._accs.get(camera_id)
        s = au.arrival_ns // NS
        if acc is None or s != acc.second:
            acc = self._turn(camera_id, acc, s, jump)
        if au.key:
            acc.key_bytes += len(au.data)
            if not au.continuation:
                acc.key_pictures += 1
                acc.pictures += 1
        else:
            acc.other_bytes += len(au.data)
            if not au.continuation:
                acc.pictures += 1

    def _turn(self, camera_id: str, acc: _Acc | None, s: int, jump: bool) -> _Acc:
        """A picture outside the open second: close it and open ``s`` (or keep counting in it, for a picture only
        slightly earlier: reordered B-frames must not reopen a closed second)."""
        with self._lock:
            if acc is not None and not acc.closed:
                if s < acc.second and acc.second - s <= REORDER_S and not jump:
                    return acc
                self._close(acc)
            base = self._bases.get(camera_id)
            if base is None:
                base = self._bases[camera_id] = Baseline()
                self._fresh.add(camera_id)
            acc = self._accs[camera_id] = _Acc(camera_id, s, base)
            return acc

    def _close(self, acc: _Acc) -> None:
        """Judge, tell, and queue a second (under the lock)."""
        acc.closed = True
        cid = acc.camera_id
        if self.records is not None and not self.records(cid):
            return
        level = acc.base.judge(acc.second, acc.pictures, acc.key_pictures, acc.key_bytes, acc.other_bytes)
        stats = SecondStats(cid, acc.second, acc.pictures, acc.key_pictures, acc.key_bytes, acc.other_bytes, level)
        for fn in self._listeners:
            try:
                fn(stats)
            except Exception:
                log.exception("activity listener failed on %s", cid)
        runs = self._pending.get(cid)
        if runs is None:
            self._pending[cid] = [(acc.second, bytearray((level,)))]
            return
        start, levels = runs[-1]
        if start + len(levels) == acc.second:
            levels.append(level)
        else:
            runs.append((acc.second, bytearray((level,))))

    # housekeeping ------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """A housekeeping hook: close quiet cameras' seconds and write the batch, every ``flush_s``."""
        mono = self.clock.monotonic()
        if mono < self._next_flush:
            return
        self._next_flush = mono + self.flush_s
        self.flush(save_baselines=mono >= self._next_save)
        if mono >= self._next_save:
            self._next_save = mono + 60.0

    def flush(self, *, save_baselines: bool = False, close_all: bool = False) -> int:
        """Close open seconds older than ``QUIET_S`` (a camera gone quiet; all of them with ``close_all``: stopping),
        write what is pending, load baselines of cameras seen for the first time. Returns the seconds written."""
        quiet_before = self.clock.wall_ns() // NS - QUIET_S
        with self._lock:
            for cid, acc in list(self._accs.items()):
                if not acc.closed and (close_all or acc.second < quiet_before):
                    self._close(acc)
                    del self._accs[cid]
            pending, self._pending = self._pending, {}
            fresh, self._fresh = self._fresh, set()
        if self.store is None:
            return sum(len(lv) for runs in pending.values() for _, lv in runs)
        for cid in fresh:
            self._load_baseline(cid)
        written = 0
        for cid, runs in pending.items():
            for start, levels in runs:
                try:
                    self.store.write(cid, start, levels)
                    written += len(levels)
                except (OSError, ValueError) as exc:
                    log.warning("activity of %s not written: %s", cid, exc)
        if save_baselines or close_all:
            for cid, base in list(self._bases.items()):
                if self.records is None or self.records(cid):
                    try:
                        with self._lock:
                            state = base.state()
                        self.store.save_baseline(cid, state)
                    except (OSError, ValueError) as exc:
                        log.warning("activity baseline of %s not saved: %s", cid, exc)
        return written

    def _load_baseline(self, camera_id: str) -> None:
        assert self.store is not None
        try:
            data = self.store.load_baseline(camera_id)
        except ValueError:
            return
        stored = Baseline.from_state(data) if data is not None else None
        if stored is None:
            return
        with self._lock:
            base = self._bases.get(camera_id)
            # The stored habits win over the few seconds learnt since the start.
            if base is not None and sum(base.count) < SEED:
                for name in Baseline.__slots__:
                    setattr(base, name, getattr(stored, name))

    def close(self) -> None:
        """Stopping: close every open second, write everything, keep the baselines."""
        self.flush(close_all=True)
