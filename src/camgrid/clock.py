"""Injected time.

Capability code never calls ``datetime.now()`` or ``time.time()`` directly: it takes a :class:`Clock`, so the
simulator and the tests can drive time. Wall time is UTC nanoseconds since the epoch (what the index stores);
monotonic time is for timeouts and is never stored.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

NS_PER_S = 1_000_000_000


class Clock(Protocol):
    """Where time comes from."""

    def wall_ns(self) -> int:
        """UTC wall time, nanoseconds since the Unix epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (for timeouts)."""
        ...


class SystemClock:
    """The real clock."""

    def wall_ns(self) -> int:
        return time.time_ns()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to (tests, replays)."""

    def __init__(self, start_ns: int = 1_700_000_000 * NS_PER_S) -> None:
        self._wall = start_ns
        self._mono = 1000.0
        self._lock = threading.Lock()

    def wall_ns(self) -> int:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._wall += int(seconds * NS_PER_S)
            self._mono += seconds

    def jump_wall(self, seconds: float) -> None:
        """Move wall time only, as an NTP step would."""
        with self._lock:
            self._wall += int(seconds * NS_PER_S)


def ns_to_datetime(ns: int) -> datetime:
    """UTC datetime from nanoseconds (for display and paths)."""
    return datetime.fromtimestamp(ns / NS_PER_S, tz=UTC)


def ns_to_iso(ns: int) -> str:
    """ISO 8601 UTC with milliseconds, for humans and JSON."""
    return ns_to_datetime(ns).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_to_ns(text: str) -> int:
    """Parse ISO 8601 (``Z`` or offset; naive means UTC) into UTC nanoseconds."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * NS_PER_S + dt.microsecond * 1000
