"""The events WebSocket's memory: every message gets an id, the last few thousand are kept for a reconnecting client.

A control room whose socket blipped sends ``?since=<last id>&epoch=<process epoch>``; the events after it are replayed
from the ring when it still holds them all, else the client is told to fetch a snapshot (``{"type": "resync"}``), whose
``event_id`` says which events it already contains (docs/design/never-stale.md). Ids restart with the process, hence the
epoch: an id of another process means nothing here.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass, field

# Enough for the state changes of a few minutes of a large city's ordinary life; a city-wide outage (tens of
# thousands of changes at once) overflows it, and one snapshot is then cheaper than replaying every change anyway.
RING_SIZE = 16_384
# A subscriber this far behind is skipped (it drops events, then resynchronises from a snapshot): never waited for.
QUEUE_MAX = 10_000

Event = tuple[int, str]


@dataclass
class EventRing:
    """Numbered messages of this process. Event loop only (the state store calls it under its lock)."""

    epoch: str = field(default_factory=lambda: secrets.token_hex(6))
    last: int = 0
    ring: deque[Event] = field(default_factory=lambda: deque(maxlen=RING_SIZE))
    subscribers: set[asyncio.Queue[Event]] = field(default_factory=set)

    def publish(self, messages: list[str]) -> None:
        for msg in messages:
            self.last += 1
            item = (self.last, msg)
            self.ring.append(item)
            for q in list(self.subscribers):
                if q.qsize() < QUEUE_MAX:  # a stuck client loses events; its handler sees the gap in the ids
                    q.put_nowait(item)

    def after(self, since: int | None, epoch: str | None) -> list[Event] | None:
        """The events after ``since`` (none when current), or None when they are not all here: resync."""
        if since is None or epoch != self.epoch or since < 0 or since > self.last:
            return None
        if since == self.last:
            return []
        if not self.ring or self.ring[0][0] > since + 1:
            return None
        start = since + 1 - self.ring[0][0]
        return [self.ring[i] for i in range(start, len(self.ring))]


def with_id(eid: int, msg: str) -> str:
    """The JSON object ``msg`` with ``"eid"`` first (messages are objects; cheaper than parsing and re-encoding)."""
    return f'{{"eid":{eid},{msg[1:]}' if msg != "{}" else f'{{"eid":{eid}}}'
