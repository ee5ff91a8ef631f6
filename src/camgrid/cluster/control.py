"""The control plane's side of the bus: camera state from many nodes into one table (docs/design/cluster.md).

``StateFeed`` subscribes to every ``CameraState`` with a durable consumer, so state published while the central
node was away is delivered when it returns, and hands the newest state of each camera to ``apply`` (in the API,
``StateStore.set`` on the event loop). A message older than what is known for its camera (a late redelivery, or two
nodes during a handover) is dropped: the newest ``since_ns`` wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from camgrid.bus import AnyMessage, Bus, CameraState

Apply = Callable[[str, str, str, int], None]  # (camera, state, reason, since_ns)


class StateFeed:
    def __init__(self, bus: Bus, apply: Apply, *, durable: str = "control-plane") -> None:
        self.bus = bus
        self.apply = apply
        self.durable = durable
        self.latest: dict[str, int] = {}
        self.received = 0
        self.stale = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        self.bus.subscribe(CameraState, self.on_message, durable=self.durable)
        self.bus.start()

    def on_message(self, msg: AnyMessage) -> None:
        if not isinstance(msg, CameraState):
            return
        with self._lock:
            self.received += 1
            if msg.since_ns < self.latest.get(msg.camera_id, -1):
                self.stale += 1
                return
            self.latest[msg.camera_id] = msg.since_ns
        self.apply(msg.camera_id, msg.state, msg.reason, msg.since_ns)
