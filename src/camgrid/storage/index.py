"""The index writer: segment and gap rows go to the database from one thread, in batched transactions.

The ingest thread only appends small tuples to a queue; a database that is slow or briefly unreachable delays the
index, never the video. Operations are applied in order; a batch the database could not take is retried whole.

An operation that can never apply (a constraint it breaks, a bug that built it wrong) must not hold every row behind
it forever: when a batch fails for any reason other than the database being unavailable, its operations are applied
one per transaction, in order, and the one that fails is quarantined (logged, counted in ``quarantined``, kept in
``poisoned`` for inspection) while the others go in. Should the thread die, ``restart()`` starts another on the same
queue (the recorder's watchdog calls it).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, insert, update
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from camgrid.storage.models import Gap, Segment

log = logging.getLogger("camgrid.storage")


@dataclass(frozen=True, slots=True)
class SegOpen:
    camera_id: str
    start_ns: int
    path: str
    codec: str
    node_id: str


@dataclass(frozen=True, slots=True)
class SegClose:
    path: str
    end_ns: int
    bytes: int
    frames: int


@dataclass(frozen=True, slots=True)
class SegDrop:
    path: str


@dataclass(frozen=True, slots=True)
class GapOpen:
    camera_id: str
    start_ns: int
    reason: str
    detail: str
    node_id: str


@dataclass(frozen=True, slots=True)
class GapClose:
    camera_id: str
    end_ns: int


Op = SegOpen | SegClose | SegDrop | GapOpen | GapClose


class IndexWriter:
    def __init__(self, engine: Engine, *, flush_interval_s: float = 0.5) -> None:
        self.engine = engine
        self.flush_interval_s = flush_interval_s
        self._ops: list[Op] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._flushed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="index-writer", daemon=True)
        self.failures = 0
        self.applied = 0
        self.quarantined = 0  # operations that could never apply, set aside (see the module's docstring)
        self.poisoned: list[tuple[Op, str]] = []  # the latest of them, with their error (at most MAX_POISONED)

    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.is_alive()

    def restart(self) -> None:
        """Start a new index thread after this one died; the queued rows carry on."""
        if self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="index-writer", daemon=True)
        self._thread.start()

    def put(self, op: Op) -> None:
        with self._lock:
            self._ops.append(op)

    def pending(self) -> int:
        with self._lock:
            return len(self._ops)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.flush()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.flush_interval_s):
                self.flush()
        except Exception:
            log.exception("the index writer thread failed; the recorder's watchdog restarts it")

    def flush(self) -> bool:
        with self._lock:
            ops, self._ops = self._ops, []
        if not ops:
            return True
        try:
            with self.engine.begin() as conn:
                _apply(conn, ops)
        except Exception as exc:
            if _unavailable(exc):
                return self._keep(ops, exc)
            return self._apply_singly(ops)
        self.failures = 0
        self.applied += len(ops)
        return True

    def _keep(self, ops: list[Op], exc: Exception) -> bool:
        """The database is away: keep the rows, in order, ahead of newer ones, and back off (bounded)."""
        self.failures = min(self.failures + 1, 25)
        log.warning("index writer: database unavailable (%s); keeping %d rows for retry", exc, len(ops))
        with self._lock:
            self._ops[:0] = ops
        time.sleep(0.2 * self.failures)
        return False

    def _apply_singly(self, ops: list[Op]) -> bool:
        for i, op in enumerate(ops):
            try:
                with self.engine.begin() as conn:
                    _apply(conn, [op])
            except Exception as exc:
                if _unavailable(exc):
                    return self._keep(ops[i:], exc)
                self.quarantined += 1
                self.poisoned = [*self.poisoned[-(MAX_POISONED - 1) :], (op, f"{type(exc).__name__}: {exc}"[:500])]
                log.error("index writer: %r can never apply; quarantined (%s)", op, exc)
                continue
            self.applied += 1
        self.failures = 0
        return True


MAX_POISONED = 100


def _unavailable(exc: BaseException) -> bool:
    """The database (or the way to it) failed, not the operation: retrying the same rows later is right."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _apply(conn: Connection, ops: list[Op]) -> None:
    for group in _groups(ops):
        first = group[0]
        if isinstance(first, SegOpen):
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
                    for o in group
                    if isinstance(o, SegOpen)
                ],
            )
        else:
            for o in group:
                _apply_one(conn, o)


def _groups(ops: list[Op]) -> list[list[Op]]:
    out: list[list[Op]] = []
    for op in ops:
        if out and type(out[-1][0]) is type(op) and isinstance(op, SegOpen):
            out[-1].append(op)
        else:
            out.append([op])
    return out


def _apply_one(conn: object, o: Op) -> None:
    execute = conn.execute  # type: ignore[attr-defined]
    if isinstance(o, SegClose):
        execute(
            update(Segment)
            .where(Segment.path == o.path)
            .values(end_ns=o.end_ns, bytes=o.bytes, frames=o.frames, status="complete")
        )
    elif isinstance(o, SegDrop):
        execute(delete(Segment).where(Segment.path == o.path))
    elif isinstance(o, GapOpen):
        execute(
            insert(Gap).values(
                camera_id=o.camera_id,
                start_ns=o.start_ns,
                end_ns=None,
                reason=o.reason,
                detail=o.detail[:500],
                node_id=o.node_id,
            )
        )
    elif isinstance(o, GapClose):
        execute(update(Gap).where(and_(Gap.camera_id == o.camera_id, Gap.end_ns.is_(None))).values(end_ns=o.end_ns))
