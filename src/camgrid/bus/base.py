"""The bus interface and its in-process implementation (the single-machine default).

Publishing never blocks the caller (the recorder publishes from its ingest thread): messages go to a queue and a
dispatcher thread delivers them, in publish order, to every subscriber of their kind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from camgrid.bus.messages import CameraState, IncidentEvent, MessageType, NodeEvent

log = logging.getLogger("camgrid.bus")
AnyMessage = CameraState | IncidentEvent | NodeEvent
Handler = Callable[[AnyMessage], None]


class Bus(Protocol):
    """Publish/subscribe of typed messages. Handlers run on the bus's own thread and must be quick."""

    def start(self) -> None: ...

    def publish(self, msg: AnyMessage) -> None:
        """Queue a message; never blocks, never raises for an unreachable server (it is buffered)."""

    def subscribe(self, kind: MessageType | None, handler: Handler, *, durable: str = "") -> None:
        """Deliver every message of ``kind`` (None: all) published from now on (or since ``durable`` last acked)."""

    def pending(self) -> int:
        """Messages published here and not yet accepted by the bus (in-process: delivered)."""

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until ``pending() == 0``; False on timeout."""

    def close(self) -> None: ...


class InProcessBus:
    """One process, no server: a queue and a dispatcher thread. Durable names are accepted and ignored."""

    def __init__(self, *, max_queue: int = 1_000_000) -> None:
        self.max_queue = max_queue
        self._queue: deque[AnyMessage] = deque()
        self._subs: list[tuple[str | None, Handler]] = []
        self._cond = threading.Condition()
        self._busy = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="bus", daemon=True)
        self.dropped = 0
        self.delivered = 0

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def publish(self, msg: AnyMessage) -> None:
        with self._cond:
            if len(self._queue) >= self.max_queue:
                self.dropped += 1  # bounded: a stuck subscriber must not eat the recorder's memory
                return
            self._queue.append(msg)
            self._cond.notify_all()

    def subscribe(self, kind: MessageType | None, handler: Handler, *, durable: str = "") -> None:
        name = None if kind is None else str(kind.model_fields["kind"].default)
        with self._cond:
            self._subs.append((name, handler))

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._busy

    def flush(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        self.flush(5.0)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop:
                    self._cond.wait()
                if self._stop and not self._queue:
                    return
                batch = list(self._queue)
                self._queue.clear()
                self._busy = len(batch)
                subs = list(self._subs)
            for msg in batch:
                for kind, handler in subs:
                    if kind is None or kind == msg.kind:
                        try:
                            handler(msg)
                        except Exception:
                            log.exception("bus subscriber failed on %s", msg.subject)
                self.delivered += 1
            with self._cond:
                self._busy = 0
                self._cond.notify_all()
