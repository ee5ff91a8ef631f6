"""The tamper-evident audit log: who did what, to which camera and time range, when and from where.

Entries are the leaves of an RFC 6962 / RFC 9162 Merkle tree; signed checkpoints (C2SP tlog-checkpoint) are issued
at least every ``checkpoint_interval_s`` while entries arrive. Fail closed: :meth:`AuditLog.append` returns only
after the entry is committed and raises :class:`AuditWriteError` otherwise; the caller must then refuse the action.

The log owns its transactions (unlike service code): an audit entry must survive the caller's rollback (a refused
login is still audited) and be durable before the video leaves. Design note: docs/design/audit-log.md.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from camgrid.audit.merkle import (
    HASH_SIZE,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    mth,
    node_hash,
)
from camgrid.audit.models import AuditCheckpoint, AuditCosignature, AuditEntry, AuditTile
from camgrid.audit.note import Checkpoint, Signer, load_or_create_signer
from camgrid.auditing import AuditError as AuditError
from camgrid.auditing import AuditWriteError as AuditWriteError
from camgrid.auditing import Entry as Entry
from camgrid.auditing import canonical_entry
from camgrid.clock import NS_PER_S, Clock

log = logging.getLogger(__name__)

# rounds lost to other writers before an append fails (docs/design/audit-log.md)
_WRITE_ATTEMPTS = 20

TILE_LEVEL = 8  # tiles of 256 leaves: their hashes are persisted, everything above them is kept in memory
ENTRIES_FILE = "entries.jsonl"
CHECKPOINTS_FILE = "checkpoints.txt"
LEAF_HASHES_FILE = "leaf_hashes.bin"
KEY_FILE = "key.pub"
WITNESS_ANSWERS_FILE = "witness_answers.json"  # what each witness answered for the newest checkpoint (as stored)

_E: Table = AuditEntry.__table__  # type: ignore[assignment]
_T: Table = AuditTile.__table__  # type: ignore[assignment]
_C: Table = AuditCheckpoint.__table__  # type: ignore[assignment]
_W: Table = AuditCosignature.__table__  # type: ignore[assignment]
_ENTRY_COLS = ("idx", "at_ns", "who", "action", "camera", "data", "leaf_hash")


class AuditIntegrityError(AuditError):
    """The stored log does not match its own checkpoints."""


_canonical = canonical_entry


@dataclass
class _Slot:
    row: list[Any]
    index: int | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class ExportSummary:
    size: int
    checkpoints: int
    key: str


# id(engine) -> its open log; the log holds its engine, so the id cannot be reused while the entry exists.
_LOGS: weakref.WeakValueDictionary[int, AuditLog] = weakref.WeakValueDictionary()


class AuditLog:
    """Append-only Merkle log in the database. One writer process per database (see the design note)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        signer: Signer,
        checkpoint_interval_s: float = 60.0,
        auto_checkpoint: bool = True,
        tile_level: int = TILE_LEVEL,
    ) -> None:
        if tile_level < 1:
            raise ValueError("tile_level must be >= 1")
        self._engine = engine
        self._clock = clock
        self.signer = signer
        self.origin = signer.name
        self._interval_ns = int(checkpoint_interval_s * NS_PER_S)
        self._auto = auto_checkpoint
        self._tile = tile_level
        self._wlock = threading.RLock()
        self._qlock = threading.Lock()
        self._queue: list[_Slot] = []
        self._leaf_cache: OrderedDict[int, list[bytes]] = OrderedDict()
        self._frontier = CompactRange()
        self._levels: list[bytearray] = []
        self._last_ckpt: tuple[int, int, str] | None = None  # size, at_ns, note
        self._wconn: Connection | None = None
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(engine.dialect.paramstyle)
        if mark is None:
            raise AuditError(f"unsupported driver parameter style {engine.dialect.paramstyle}")
        self._insert_sql = (
            f"INSERT INTO {_E.name} ({', '.join(_ENTRY_COLS)}) VALUES ({', '.join([mark] * len(_ENTRY_COLS))})"
        )
        self._load()
        _LOGS[id(engine)] = self

    @classmethod
    def open(cls, engine: Engine, *, home: Path, clock: Clock, **kwargs: Any) -> AuditLog:
        """The installation's log, signing with $CAMGRID_HOME/keys/audit.key (created on first use, mode 600).

        Keep a reference (e.g. on the app context): ``record(session, ...)`` finds the log only while it is alive.
        """
        return cls(engine, clock=clock, signer=load_or_create_signer(home / "keys" / "audit.key"), **kwargs)

    # ---- state -------------------------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._frontier.size

    def _load(self) -> None:
        """Rebuild the in-memory upper tree from the tile hashes and the frontier from the last partial tile."""
        t = self._tile
        self._leaf_cache.clear()
        with self._engine.connect() as conn:
            top = conn.scalar(select(func.max(_E.c.idx)))  # primary key: O(log n), unlike count(*)
            n = 0 if top is None else int(top) + 1  # gaps show up when leaves are read (and in verify_store)
            tiles = [bytes(h) for h in conn.execute(select(_T.c.hash).order_by(_T.c.idx)).scalars()]
            if len(tiles) != n >> t:
                tiles = self._rebuild_tiles(conn, n)
            q = select(_C.c.size, _C.c.at_ns, _C.c.note, _C.c.root).order_by(_C.c.size.desc()).limit(1)
            ck = conn.execute(q).first()
            self._last_ckpt = (int(ck[0]), int(ck[1]), str(ck[2])) if ck else None
        self._levels = [bytearray(b"".join(tiles))]
        while len(self._levels[-1]) >= 2 * HASH_SIZE:
            below, up = self._levels[-1], bytearray()
            for i in range(0, len(below) - HASH_SIZE, 2 * HASH_SIZE):
                up += node_hash(bytes(below[i : i + HASH_SIZE]), bytes(below[i + HASH_SIZE : i + 2 * HASH_SIZE]))
            self._levels.append(up)
        full = (n >> t) << t
        nodes: list[bytes] = []
        done = 0
        for bit in range(full.bit_length() - 1, t - 1, -1):
            if full >> bit & 1:
                nodes.append(self._upper(bit, done >> bit))
                done += 1 << bit
        fr = CompactRange(full, nodes)
        for h in self._leaves(full, n):
            fr.append(h)
        self._frontier = fr
        if ck is not None and int(ck[0]) <= n:
            if self.root(int(ck[0])) != bytes(ck[3]):
                raise AuditIntegrityError(f"stored entries do not match the checkpoint of size {ck[0]}")
        elif ck is not None:
            raise AuditIntegrityError(f"checkpoint of size {ck[0]} but only {n} entries")

    def _rebuild_tiles(self, conn: Connection, n: int) -> list[bytes]:
        """Tile hashes missing (older rows, or another tile size): recompute them from the leaves and store them."""
        per = 1 << self._tile
        tiles: list[bytes] = []
        for ti in range(n >> self._tile):
            tiles.append(_fold(self._leaves(ti * per, (ti + 1) * per, conn)))
        with self._engine.begin() as wconn:
            wconn.execute(_T.delete())
            if tiles:
                wconn.execute(insert(_T), [{"idx": i, "hash": h} for i, h in enumerate(tiles)])
        return tiles

    def _leaves(self, lo: int, hi: int, conn: Connection | None = None) -> list[bytes]:
        if hi <= lo:
            return []
        q = select(_E.c.leaf_hash).where(_E.c.idx >= lo, _E.c.idx < hi).order_by(_E.c.idx)
        if conn is not None:
            out = [bytes(h) for h in conn.execute(q).scalars()]
        else:
            with self._engine.connect() as c:
                out = [bytes(h) for h in c.execute(q).scalars()]
        if len(out) != hi - lo:
            raise AuditIntegrityError(f"leaves {lo}..{hi - 1} missing from the store")
        return out

    def _upper(self, level: int, index: int) -> bytes:
        lv = self._levels[level - self._tile]
        return bytes(lv[index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def perfect(self, level: int, index: int) -> bytes:
        """NodeSource: upper levels from memory, lower ones folded from one cached tile of leaves."""
        if level >= self._tile:
            return self._upper(level, index)
        per = 1 << self._tile
        lo = index << level
        ti = lo >> self._tile
        cached = self._leaf_cache.get(ti)
        need = lo - ti * per + (1 << level)
        if cached is None or len(cached) < need:
            cached = self._leaves(ti * per, min((ti + 1) * per, self.size))
            self._leaf_cache[ti] = cached
            if len(self._leaf_cache) > 64:
                self._leaf_cache.popitem(last=False)
        off = lo - ti * per
        return _fold(cached[off : off + (1 << level)])

    # ---- writing -----------------------------------------------------------------------------------------------

    def _row(self, entry: Entry, now_ns: int | None = None) -> list[Any]:
        """[idx (set at write), at_ns, who, action, camera, data, leaf_hash]: the columns of _ENTRY_COLS."""
        at_ns = entry.at_ns
        if at_ns is None:
            at_ns = self._clock.wall_ns() if now_ns is None else now_ns
        data = _canonical(entry, at_ns)
        return [0, at_ns, entry.who, entry.action, entry.camera, data.decode(), leaf_hash(data)]

    def append(self, entry: Entry) -> int:
        """Write one entry and return its index, or raise (fail closed). Concurrent callers share a commit."""
        slot = _Slot(self._row(entry))
        with self._qlock:
            self._queue.append(slot)
        with self._wlock:
            if slot.index is None and slot.error is None:
                with self._qlock:
                    batch, self._queue = self._queue, []
                try:
                    first = self._write([s.row for s in batch])
                except BaseException as exc:
                    for s in batch:
                        s.error = exc
                else:
                    for k, s in enumerate(batch):
                        s.index = first + k
                    self._after_write()
        if slot.error is not None:
            if isinstance(slot.error, AuditError):
                raise slot.error
            raise AuditWriteError(f"audit entry not written: {slot.error}") from slot.error
        assert slot.index is not None
        return slot.index

    def append_many(self, entries: Iterable[Entry]) -> int:
        """Write entries in one transaction; returns the index of the first. All or nothing."""
        now = self._clock.wall_ns()
        rows = [self._row(e, now) for e in entries]
        with self._wlock:
            try:
                first = self._write(rows)
            except AuditError:
                raise
            except Exception as exc:
                raise AuditWriteError(f"audit entries not written: {exc}") from exc
            self._after_write()
        return first

    def _write(self, rows: list[list[Any]]) -> int:
        """Optimistic: the primary key catches another process that appended since our last write (a CLI command
        beside the server, a second node). We follow its entries and try again; a busy second writer can win
        several rounds in a row, so the retries are bounded and spaced, not one."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                return self._write_once(rows)
            except IntegrityError:
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise
                log.info("audit log: another writer appended; following it (attempt %d)", attempt + 1)
                self._load()
                if attempt:
                    time.sleep(random.uniform(0.0, 0.005 * attempt))  # spacing, not a secret
        raise AssertionError("the last attempt returns or raises")

    def _write_once(self, rows: list[list[Any]]) -> int:
        fr = self._frontier.copy()
        start = fr.size
        tiles: list[dict[str, Any]] = []
        nodes: list[tuple[int, bytes]] = []
        t = self._tile
        for i, row in enumerate(rows):
            row[0] = start + i
            for level, index, node in fr.append(row[6]):
                if level >= t:
                    nodes.append((level, node))
                    if level == t:
                        tiles.append({"idx": index, "hash": node})
        if rows:
            conn = self._writer()
            try:
                with conn.begin():
                    # Straight to the driver: SQLAlchemy's per-row parameter processing was a third of the cost.
                    conn.exec_driver_sql(self._insert_sql, [tuple(r) for r in rows])
                    if tiles:
                        conn.execute(insert(_T), tiles)
            except BaseException:
                self._wconn = None
                conn.close()  # a broken connection is not reused: the next append reconnects
                raise
        self._frontier = fr
        for level, node in nodes:
            while len(self._levels) <= level - t:
                self._levels.append(bytearray())
            self._levels[level - t] += node
        return start

    def _writer(self) -> Connection:
        """One connection kept for writes (no pool checkout per append); callers hold the write lock."""
        if self._wconn is None:
            self._wconn = self._engine.connect()
        return self._wconn

    def close(self) -> None:
        with self._wlock:
            if self._wconn is not None:
                self._wconn.close()
                self._wconn = None

    def _after_write(self) -> None:
        if self._auto:
            try:
                self.maybe_checkpoint(self._clock.wall_ns())
            except (SQLAlchemyError, OSError) as exc:  # the entries are written; the next call retries
                log.warning("audit checkpoint failed: %s", exc)

    # ---- reading -----------------------------------------------------------------------------------------------

    def root(self, size: int | None = None) -> bytes:
        with self._wlock:
            if size is None or size == self.size:
                return self._frontier.root()
            if not 0 <= size <= self.size:
                raise AuditError(f"no tree of size {size} (log has {self.size})")
            return mth(self, 0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        with self._wlock:
            n = self.size if size is None else size
            if n > self.size:
                raise AuditError(f"no tree of size {n} (log has {self.size})")
            return inclusion_proof(self, index, n)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        with self._wlock:
            n = self.size if new is None else new
            if n > self.size:
                raise AuditError(f"no tree of size {n} (log has {self.size})")
            return consistency_proof(self, old, n)

    def verify_store(self) -> None:
        """Full check of the database (O(n)): each row's data hashes to its leaf hash, tiles match the leaves, and
        every stored checkpoint's root is reproduced. Raises AuditIntegrityError naming the first problem."""
        with self._wlock:
            tree = MemoryTree()
            with self._engine.connect() as conn:
                rows = conn.execute(select(_E.c.idx, _E.c.data, _E.c.leaf_hash).order_by(_E.c.idx))
                for idx, data, h in rows:
                    if idx != tree.size:
                        raise AuditIntegrityError(f"entry {tree.size} is missing")
                    if leaf_hash(str(data).encode()) != bytes(h):
                        raise AuditIntegrityError(f"entry {idx} was edited (data does not match its leaf hash)")
                    tree.append(bytes(h))
                for idx, th in conn.execute(select(_T.c.idx, _T.c.hash).order_by(_T.c.idx)):
                    if tree.perfect(self._tile, idx) != bytes(th):
                        raise AuditIntegrityError(f"tile {idx} does not match its leaves (a leaf hash was edited)")
                for size, root in conn.execute(select(_C.c.size, _C.c.root).order_by(_C.c.size)):
                    if size > tree.size or tree.root(size) != bytes(root):
                        raise AuditIntegrityError(f"checkpoint of size {size} does not match the entries")

    def entry_data(self, index: int) -> bytes:
        with self._engine.connect() as conn:
            data = conn.scalar(select(_E.c.data).where(_E.c.idx == index))
        if data is None:
            raise AuditError(f"no entry {index}")
        return str(data).encode()

    # ---- checkpoints -------------------------------------------------------------------------------------------

    def checkpoint(self, at_ns: int | None = None) -> str:
        """Sign and store a checkpoint of the current tree (or return the stored one if nothing was added)."""
        with self._wlock:
            size = self.size
            if self._last_ckpt is not None and self._last_ckpt[0] == size:
                return self._last_ckpt[2]
            now = self._clock.wall_ns() if at_ns is None else at_ns
            note = self.signer.sign_note(Checkpoint(self.origin, size, self._frontier.root()).body())
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(_C), {"size": size, "at_ns": now, "root": self._frontier.root(), "note": note})
            except IntegrityError:
                with self._engine.connect() as conn:
                    row = conn.execute(select(_C.c.at_ns, _C.c.note).where(_C.c.size == size)).one()
                now, note = int(row[0]), str(row[1])
            self._last_ckpt = (size, now, note)
            return note

    def maybe_checkpoint(self, now_ns: int) -> str | None:
        """Issue a checkpoint when entries were added and the last one is ``checkpoint_interval_s`` old.

        The server calls this periodically (e.g. every 10 s) so that the last entries before a quiet spell get
        covered; appends call it too.
        """
        with self._wlock:
            last = self._last_ckpt
            if last is not None and (last[0] == self.size or now_ns - last[1] < self._interval_ns):
                return None
            if last is None and self.size == 0:
                return None
            return self.checkpoint(at_ns=now_ns)

    def checkpoints(self, up_to: int | None = None) -> list[str]:
        q = select(_C.c.note).order_by(_C.c.size)
        if up_to is not None:
            q = q.where(_C.c.size <= up_to)
        with self._engine.connect() as conn:
            return [str(n) for n in conn.execute(q).scalars()]

    # ---- export ------------------------------------------------------------------------------------------------

    def export(self, folder: Path, *, chunk: int = 20_000) -> ExportSummary:
        """Write entries.jsonl, leaf_hashes.bin, checkpoints.txt and key.pub, covered by a fresh checkpoint."""
        with self._wlock:
            self.checkpoint()
            size = self.size
        folder.mkdir(parents=True, exist_ok=True)
        with (
            open(folder / ENTRIES_FILE, "wb") as ef,
            open(folder / LEAF_HASHES_FILE, "wb") as hf,
            self._engine.connect() as conn,
        ):
            for lo in range(0, size, chunk):
                q = select(_E.c.data, _E.c.leaf_hash).where(_E.c.idx >= lo, _E.c.idx < min(size, lo + chunk))
                for data, h in conn.execute(q.order_by(_E.c.idx)):
                    ef.write(str(data).encode() + b"\n")
                    hf.write(bytes(h))
        notes = self.checkpoints(up_to=size)
        with self._engine.connect() as conn:
            rows = conn.execute(select(_W.c.size, _W.c.witness, _W.c.status, _W.c.detail, _W.c.line)).all()
        cosigs: dict[int, list[str]] = {}
        for r in sorted(rows, key=lambda r: (int(r[0]), str(r[1]))):
            if r[4]:
                cosigs.setdefault(int(r[0]), []).append(str(r[4]) + "\n")
        # Cosignatures are more signature lines of the same note (C2SP tlog-cosignature).
        notes = [n + "".join(cosigs.get(_note_size(n), [])) for n in notes]
        (folder / CHECKPOINTS_FILE).write_text("\n".join(notes))
        answers = [{"witness": str(r[1]), "status": str(r[2]), "detail": str(r[3])} for r in rows if int(r[0]) == size]
        (folder / WITNESS_ANSWERS_FILE).write_text(json.dumps({"size": size, "answers": answers}, indent=1) + "\n")
        key = self.signer.verifier.text()
        (folder / KEY_FILE).write_text(key + "\n")
        return ExportSummary(size=size, checkpoints=len(notes), key=key)


def _note_size(note: str) -> int:
    return int(note.split("\n", 2)[1])


def _fold(hashes: list[bytes]) -> bytes:
    """Root of a perfect subtree (power-of-two count of leaf hashes)."""
    level = hashes
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def log_for(target: Session | Engine | AuditLog) -> AuditLog:
    """The audit log open on this session's database; raises (fail closed) when there is none."""
    if isinstance(target, AuditLog):
        return target
    bind: Any = target.get_bind() if isinstance(target, Session) else target
    engine = bind.engine if isinstance(bind, Connection) else bind
    found = _LOGS.get(id(engine))
    if found is None:
        raise AuditWriteError("no audit log is open on this database: refusing the action")
    return found


def record(
    target: Session | Engine | AuditLog,
    *,
    who: str,
    action: str,
    camera: str | None = None,
    t_from_ns: int | None = None,
    t_to_ns: int | None = None,
    address: str = "",
    details: Mapping[str, Any] | None = None,
) -> int:
    """One-line audit call for routes: returns the entry's index or raises AuditError (then refuse the action).

    The entry is committed in the log's own transaction, not in ``target``'s: call it before the session writes
    (on SQLite an open write transaction in the same database would make the audit write wait for it).
    """
    entry = Entry(
        who=who,
        action=action,
        camera=camera,
        t_from_ns=t_from_ns,
        t_to_ns=t_to_ns,
        address=address,
        details=details or {},
    )
    return log_for(target).append(entry)
