"""The recorder watches its own threads: one that died is started again, and says so in ``/metrics``.

Why: every thread of the recorder is shared by all its cameras. Each guards its per-camera work (a camera's
exception becomes that camera's ``internal_error`` gap), but a bug outside those guards would end the thread, and
the process, still up, would record nothing, silently. The watchdog checks each thread every interval, restarts a
dead one through the restart action its owner registered (which also writes the gaps the death caused), counts the
restart, and keeps doing so with a bounded backoff if it keeps dying.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from camgrid.clock import Clock

log = logging.getLogger("camgrid.storage")


@dataclass(frozen=True)
class ThreadStatus:
    """What ``Recorder.thread_status()`` says of one thread."""

    name: str
    running: bool
    restarts: int


@dataclass
class _Watched:
    name: str
    alive: Callable[[], bool]
    restart: Callable[[], None]
    restarts: int = 0
    not_before: float = 0.0  # monotonic: a thread that dies at once again is not restarted in a tight loop


class ThreadWatch:
    """Restart actions by thread name; ``check()`` is one pass (the recorder's ``watchdog`` thread calls it)."""

    def __init__(self, *, clock: Clock, max_delay_s: float = 30.0) -> None:
        self.clock = clock
        self.max_delay_s = max_delay_s
        self._watched: dict[str, _Watched] = {}
        self._lock = threading.Lock()

    def watch(self, name: str, *, alive: Callable[[], bool], restart: Callable[[], None]) -> None:
        with self._lock:
            self._watched[name] = _Watched(name, alive, restart)

    def check(self) -> list[str]:
        """Restart every watched thread that is not running (and due); returns the names restarted."""
        restarted: list[str] = []
        now = self.clock.monotonic()
        with self._lock:
            watched = list(self._watched.values())
        for w in watched:
            if w.alive() or now < w.not_before:
                continue
            w.restarts += 1
            w.not_before = now + min(self.max_delay_s, 0.5 * 2.0 ** min(w.restarts - 1, 16))
            log.error("recorder thread %s is not running: restarting it (restart %d)", w.name, w.restarts)
            try:
                w.restart()
            except Exception:
                log.exception("recorder thread %s could not be restarted; will retry", w.name)
                continue
            restarted.append(w.name)
        return restarted

    def status(self) -> list[ThreadStatus]:
        with self._lock:
            watched = list(self._watched.values())
        return [ThreadStatus(w.name, bool(w.alive()), w.restarts) for w in watched]

    def run(self, stop: threading.Event, interval_s: float) -> None:
        """The watchdog thread's body: nothing it meets ends it before ``stop``."""
        while not stop.wait(interval_s):
            try:
                self.check()
            except Exception:
                log.exception("recorder watchdog pass failed; will retry")
