"""camgrid.bus: publish/subscribe of camera state and events; in-process by default, NATS JetStream for a cluster.

``make_bus(settings.bus)`` picks the implementation from one setting (``bus.url``).
"""

from __future__ import annotations

from pathlib import Path

from camgrid.bus.base import AnyMessage, Bus, Handler, InProcessBus
from camgrid.bus.messages import CameraState, IncidentEvent, NodeEvent
from camgrid.config import BusConfig

__all__ = [
    "AnyMessage",
    "Bus",
    "CameraState",
    "Handler",
    "InProcessBus",
    "IncidentEvent",
    "NodeEvent",
    "make_bus",
]


def make_bus(cfg: BusConfig, *, spool: Path | None = None) -> Bus:
    """The in-process bus when ``cfg.url`` is empty, else NATS JetStream (imported only then).

    ``spool``: a file where a JetStream publisher keeps unsent events while NATS is unreachable (a node's outbox).
    """
    if not cfg.url:
        return InProcessBus(max_queue=cfg.max_buffer)
    from camgrid.bus.jetstream import JetStreamBus

    return JetStreamBus(
        cfg.url, stream=cfg.stream, max_buffer=cfg.max_buffer, max_age_s=cfg.max_age_s, spool=spool, tls_ca=cfg.tls_ca
    )
