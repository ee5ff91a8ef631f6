"""What the control room and ``/metrics`` know of the recorder's own threads (a mixin of the recorder).

Apart from the recorder to keep each file readable; the threads themselves are started and restarted there
(docs/design/gaps-and-recovery.md, "Failures of camgrid itself").
"""

from __future__ import annotations

from camgrid.storage import index as ix
from camgrid.storage.watchdog import ThreadStatus, ThreadWatch

THREADS = ("ingest", "disk-writer", "index-writer", "housekeeping")  # the threads the watchdog keeps running


class ThreadSupervision:
    """Reads the recorder's watchdog; ``_watch`` is None until the recorder starts."""

    _watch: ThreadWatch | None
    _index: ix.IndexWriter

    def thread_status(self) -> list[ThreadStatus]:
        """Each of the recorder's threads: running or not, and how often the watchdog restarted it.

        What the control room shows as the recorder's own health: a thread that is not running means cameras are
        not recorded (ingest, disk-writer), or their index or heartbeat lags (index-writer, housekeeping)."""
        if self._watch is None:
            return [ThreadStatus(name, False, 0) for name in THREADS]
        return self._watch.status()

    def supervise(self) -> list[str]:
        """One watchdog pass now (the ``watchdog`` thread makes one every heartbeat): restart the threads that died;
        returns their names."""
        return self._watch.check() if self._watch is not None else []

    def threads_not_running(self) -> list[str]:
        """Names of the recorder's threads that are not running now (empty when the recorder is healthy)."""
        return [t.name for t in self.thread_status() if not t.running]

    def thread_gauges(self) -> dict[str, float]:
        """``/metrics`` gauges of the recorder's own health: ``camgrid_recorder_thread_up{thread}``,
        ``camgrid_recorder_thread_restarts_total{thread}`` and ``camgrid_recorder_index_quarantined_total``."""
        out: dict[str, float] = {"camgrid_recorder_index_quarantined_total": float(self._index.quarantined)}
        for t in self.thread_status():
            out[f'camgrid_recorder_thread_up{{thread="{t.name}"}}'] = 1.0 if t.running else 0.0
            out[f'camgrid_recorder_thread_restarts_total{{thread="{t.name}"}}'] = float(t.restarts)
        return out
