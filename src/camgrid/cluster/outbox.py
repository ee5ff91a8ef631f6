"""The local outbox: a node's index rows survive a database outage, and even a crash during one.

The recorder's index writer keeps rows in memory and retries; this one also numbers every row and, as soon as a
flush fails, appends the rows not yet journaled to ``<home>/outbox/index.jsonl`` (fsync'd). A restarted node
replays the journal first. Rows are applied in order, in one transaction per batch together with the node's
``cluster_outbox_marks.seq``, so a batch whose commit acknowledgement was lost is not applied twice: rows at or below
the mark are skipped. The journal is removed once everything in it is applied.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from camgrid.clock import Clock
from camgrid.cluster.models import OutboxMark
from camgrid.storage import index as ix
from camgrid.storage.models import Segment

log = logging.getLogger("camgrid.cluster")
OPS: dict[str, type[ix.Op]] = {
    "SegOpen": ix.SegOpen,
    "SegClose": ix.SegClose,
    "SegDrop": ix.SegDrop,
    "GapOpen": ix.GapOpen,
    "GapClose": ix.GapClose,
}


def encode(seq: int, op: ix.Op) -> str:
    return json.dumps({"seq": seq, "op": type(op).__name__, **asdict(op)}, separators=(",", ":"))


def decode(line: str) -> tuple[int, ix.Op]:
    doc: dict[str, Any] = json.loads(line)
    seq = int(doc.pop("seq"))
    cls = OPS[doc.pop("op")]
    return seq, cls(**doc)


def read_journal(path: Path) -> list[tuple[int, ix.Op]]:
    """Entries of a journal; a torn last line (crash while appending) is ignored."""
    out: list[tuple[int, ix.Op]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for n, line in enumerate(lines):
        try:
            out.append(decode(line))
        except (ValueError, KeyError, TypeError):
            if n != len(lines) - 1:
                raise
            log.warning("outbox: ignoring a torn last line in %s", path)
    return out


def apply(conn: Connection, ops: list[ix.Op]) -> None:
    """Apply index rows in order (consecutive segment opens in one statement)."""
    i = 0
    while i < len(ops):
        op = ops[i]
        if isinstance(op, ix.SegOpen):
            run: list[ix.SegOpen] = []
            while i < len(ops) and isinstance(ops[i], ix.SegOpen):
                run.append(ops[i])  # type: ignore[arg-type]
                i += 1
            conn.execute(
                insert(Segment),
                [
                    {
                        "camera_id": o.camera_id,
                        "start_ns": o.start_ns,
                        "end_ns": o.start_ns,
                        "path": o.path,
                        "codec": o.codec,
                        "node_id": o.node_id,
                        "status": "writing",
                        "bytes": 0,
                        "frames": 0,
                    }
                    for o in run
                ],
            )
            continue
        ix._apply_one(conn, op)
        i += 1


class OutboxIndexWriter(ix.IndexWriter):
    """Drop-in for the recorder's ``IndexWriter`` on a cluster node."""

    def __init__(
        self, engine: Engine, *, folder: Path, node_id: str, clock: Clock, flush_interval_s: float = 0.5
    ) -> None:
        super().__init__(engine, flush_interval_s=flush_interval_s)
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "index.jsonl"
        self.node_id = node_id
        self.clock = clock
        self._queue: list[tuple[int, ix.Op]] = read_journal(self.path)
        self._journaled = self._queue[-1][0] if self._queue else 0  # highest seq already in the journal
        self._seq = max(self._journaled, clock.wall_ns())
        self.replayed = len(self._queue)
        self.skipped = 0
        if self._queue:
            log.warning("outbox: %d index rows from the last run to replay", len(self._queue))

    def put(self, op: ix.Op) -> None:
        with self._lock:
            # Sequence numbers grow across restarts: wall-clock nanoseconds, never below the last one given.
            self._seq = max(self._seq + 1, self.clock.wall_ns())
            self._queue.append((self._seq, op))

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def stop(self) -> None:
        super().stop()
        if not self.flush():
            self._journal()
            log.warning("outbox: %d index rows kept in %s for the next run", self.pending(), self.path)

    def _journal(self) -> None:
        with self._lock:
            fresh = [(s, o) for s, o in self._queue if s > self._journaled]
        if not fresh:
            return
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write("".join(encode(s, o) + "\n" for s, o in fresh))
            fh.flush()
            os.fsync(fh.fileno())
        self._journaled = fresh[-1][0]

    def flush(self) -> bool:
        with self._lock:
            batch = list(self._queue)
        if not batch:
            return True
        try:
            with self.engine.begin() as conn:
                mark = conn.scalar(select(OutboxMark.seq).where(OutboxMark.node_id == self.node_id).with_for_update())
                todo = [o for s, o in batch if mark is None or s > mark]
                self.skipped += len(batch) - len(todo)
                apply(conn, todo)
                last = batch[-1][0]
                if mark is None:
                    conn.execute(insert(OutboxMark).values(node_id=self.node_id, seq=last))
                else:
                    conn.execute(update(OutboxMark).where(OutboxMark.node_id == self.node_id).values(seq=last))
        except Exception as exc:
            self.failures += 1
            try:
                self._journal()
            except OSError as err:
                log.error("outbox: cannot write %s (%s); rows kept in memory only", self.path, err)
            if self.failures in (1, 10) or self.failures % 100 == 0:
                log.warning("outbox: database unavailable (%s); %d index rows kept", exc, len(batch))
            time.sleep(min(2.0, 0.2 * self.failures))
            return False
        with self._lock:
            del self._queue[: len(batch)]
            if self._journaled and batch[-1][0] >= self._journaled:
                self.path.unlink(missing_ok=True)
                self._journaled = 0
        if self.failures:
            log.info("outbox: database back; %d index rows applied", len(batch))
        self.failures = 0
        self.applied += len(batch)
        return True
