"""The disk writer: one thread that owns every open segment file, so a slow disk never stalls the ingest loop.

The ingest thread queues operations without waking anyone and publishes the batch once per tick
(:meth:`DiskWriter.submit`, a list swap under a lock); the writer thread collects published batches on its own
schedule (``collect_interval_s``). Waking the writer per fragment or per tick cost more CPU, through GIL hand-offs,
than writing the bytes.

Write pattern (what decides how many cameras a hard disk holds, docs/design/packet-path.md "Hard disks"): all the
fragments of one file collected together go down in one ``writev()``, a new file's init with its first fragment (a
fragment every ``fragment_seconds``, so about one write per camera per second; more fragments per call when the
writer fell behind, so the slower the disk, the bigger the writes), and durability is grouped: every
``fsync_interval_s`` one ``syncfs()`` per filesystem (``st_dev``) holding dirty files, not one ``fdatasync`` per
file. A power cut still loses at most about ``fsync_interval_s`` plus one collection of what was handed over. Where
``syncfs`` is missing or fails, or with ``group_flush=False``, each dirty file is ``fdatasync``-ed instead (and the
directories of new files ``fsync``-ed once each). A closed file keeps its descriptor until the next flush, and its
``done`` callback runs only then: the index never calls a segment closed before its bytes are durable.

A full disk (ENOSPC) or any other write error is reported back instead of raised, and the file is cut back to its
last whole fragment. Any other exception on one file (a bug) fails that file only: it is reported through
``on_internal_error`` (the recorder cuts that camera's segment with an ``internal_error`` gap) and the thread goes
on with the others. Should the thread die all the same, ``restart()`` starts another on the same queue and files
(the recorder's watchdog calls it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("camgrid.storage")
Buffers = Sequence[bytes | bytearray]
Done = Callable[[int], None] | None


@dataclass
class _Open:
    fd: int
    path: Path
    dev: int = -1
    written: int = 0
    dirty: bool = False
    failed: bool = False
    new_entry: bool = False  # its directory entry is not yet durable
    head: bytes = b""  # the init, written with the first fragment (a file without one is of no use anyway)


def _load_syncfs() -> Callable[[int], int] | None:
    """``syncfs(2)`` (Python 3.11 has no ``os.syncfs``): from libc through ctypes, which releases the GIL."""
    native = getattr(os, "syncfs", None)
    if native is not None:  # pragma: no cover - a later Python
        return native  # type: ignore[no-any-return]
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int

    def syncfs(fd: int) -> int:
        if fn(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return 0

    return syncfs


SYNCFS = _load_syncfs()


def writev_some(fd: int, views: list[memoryview]) -> tuple[int, int, OSError | None]:
    """Write every buffer, continuing after partial writes (``views`` is consumed).
    Returns (bytes written, writev calls that wrote, the error that stopped it or None)."""
    total = calls = 0
    while views:
        try:
            n = os.writev(fd, views[:1024])
        except OSError as exc:
            return total, calls, exc
        calls += 1
        total += n
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if n and views:
            views[0] = views[0][n:]
    return total, calls, None


def writev_all(fd: int, buffers: Buffers) -> int:
    """Write every buffer, continuing after partial writes. Returns bytes written."""
    total, _, err = writev_some(fd, [memoryview(b) for b in buffers if len(b)])
    if err is not None:
        raise err
    return total


class DiskWriter:
    def __init__(
        self,
        *,
        fsync_interval_s: float,
        on_error: Callable[[str, str, int], None],
        group_flush: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``on_error(segment_key, error, valid_bytes)`` is called from the writer thread. ``group_flush``: one
        ``syncfs`` per filesystem per interval (False: one ``fdatasync`` per file). ``monotonic``: the clock that
        paces flushes (the recorder leaves it real: durability is about real seconds; tests inject one)."""
        self.fsync_interval_s = fsync_interval_s
        self.on_error = on_error
        self.group_flush = group_flush and SYNCFS is not None
        self._monotonic = monotonic
        self._batch: list[tuple[str, str, object]] = []
        self._published: list[tuple[str, str, object]] = []
        self._pub_lock = threading.Lock()
        self._stopping = threading.Event()
        self.collect_interval_s = 0.1
        self._files: dict[str, _Open] = {}
        self._closing: list[tuple[str, _Open, Done]] = []  # closed by the producer, flushed and finished next flush
        self._thread = threading.Thread(target=self._run, name="disk-writer", daemon=True)
        # ``(segment_key, error)`` when camgrid failed on one file (writer thread); None: logged only.
        self.on_internal_error: Callable[[str, str], None] | None = None
        self.enqueued_bytes = 0  # only the ingest thread writes this
        self.bytes_written = 0  # only the writer thread writes these (failed bytes count as done)
        self.write_calls = 0  # writev() calls on segment files
        self.flushes = 0  # syncfs / fdatasync / fsync calls
        self.flush_seconds = 0.0  # time spent in them
        self.flush_rounds = 0  # times the writer made everything handed over durable
        self.collections = 0  # batches collected (tests wait on it)
        self._unflushed_since: float | None = None  # monotonic time of the oldest write not yet flushed
        self._last_flush = monotonic()

    @property
    def backlog_bytes(self) -> int:
        return self.enqueued_bytes - self.bytes_written

    def unflushed_seconds(self) -> float:
        """Age of the oldest write not yet made durable: what a power cut would lose now (0 when all is flushed)."""
        since = self._unflushed_since
        return 0.0 if since is None else max(0.0, self._monotonic() - since)

    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.is_alive()

    def restart(self) -> None:
        """Start a new writer thread after this one died; queued operations and open files carry on."""
        if self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="disk-writer", daemon=True)
        self._thread.start()

    # called on the producing thread --------------------------------------------------------------------------
    def open(self, key: str, path: Path, init: bytes) -> None:
        self.enqueued_bytes += len(init)
        self._batch.append(("open", key, (path, init)))

    def append(self, key: str, data: Buffers) -> None:
        self.enqueued_bytes += sum(len(b) for b in data)
        self._batch.append(("append", key, data))

    def close(self, key: str, done: Done = None) -> None:
        """Close after everything queued before; ``done(bytes_on_disk)`` runs on the writer thread once those bytes
        are durable (at the next flush)."""
        self._batch.append(("close", key, done))

    def submit(self) -> None:
        """Hand the queued operations to the writer thread (once per ingest tick)."""
        if self._batch:
            batch, self._batch = self._batch, []
            with self._pub_lock:
                self._published += batch

    def stop(self) -> None:
        self.submit()
        self._stopping.set()
        self._thread.join(60)

    # writer thread ---------------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._serve()
        except Exception:
            log.exception("the disk writer thread failed; the recorder's watchdog restarts it")

    def _serve(self) -> None:
        while True:
            stopping = self._stopping.wait(self.collect_interval_s)
            with self._pub_lock:
                batch, self._published = self._published, []
            self._apply(batch)
            self.collections += 1
            if stopping:
                for k in list(self._files):
                    self._close(k, None)
                self._sync_all()
                return
            now = self._monotonic()
            if self.fsync_interval_s <= 0:
                if self._closing:  # no periodic flush: a closed file is made durable at once
                    self._sync_all()
            elif now - self._last_flush >= self.fsync_interval_s:
                self._sync_all()
                self._last_flush = now

    def _apply(self, batch: list[tuple[str, str, object]]) -> None:
        """Run a batch in order, each file's consecutive fragments (and a new file's init) in one ``writev``."""
        pending: dict[str, list[Buffers]] = {}
        for op, key, arg in batch:
            if op == "append":
                pending.setdefault(key, []).append(arg)  # type: ignore[arg-type]
                continue
            if key in pending:
                self._write_pending(key, pending.pop(key))
            try:
                if op == "open":
                    path, init = arg  # type: ignore[misc]
                    self._open(key, path, init)  # type: ignore[has-type]
                else:
                    self._close(key, arg)  # type: ignore[arg-type]
            except Exception as exc:  # never let one bad file stop the writer
                self._file_failed(op, key, exc)
        for key, frags in pending.items():
            self._write_pending(key, frags)

    def _file_failed(self, op: str, key: str, exc: Exception) -> None:
        f = self._files.get(key)
        if f is not None and not f.failed:
            f.failed = True  # what follows for this file is dropped (and counted), not written after a hole
            log.error("disk writer: %s on %s failed; the file ends here", op, key.split(":", 1)[0], exc_info=exc)
        elif f is None:
            log.error("disk writer: %s on %s failed", op, key.split(":", 1)[0], exc_info=exc)
        if self.on_internal_error is not None:
            try:
                self.on_internal_error(key, f"{type(exc).__name__}: {exc}"[:300])
            except Exception:
                log.exception("disk writer: reporting the failure of %s failed", key.split(":", 1)[0])

    def _open(self, key: str, path: Path, init: bytes) -> None:
        """Create the file; its init goes down with the first fragments (or at the close)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        except OSError as exc:
            self._files[key] = _Open(-1, path, failed=True)
            self.bytes_written += len(init)
            self.on_error(key, os.strerror(exc.errno or 0), 0)
            return
        self._files[key] = _Open(fd, path, dev=os.fstat(fd).st_dev, new_entry=True, head=init)

    def _write_pending(self, key: str, frags: list[Buffers]) -> None:
        f = self._files.get(key)
        if f is not None and f.head:
            frags, f.head = [[f.head], *frags], b""
        if not frags:
            return
        if f is None or f.failed:
            self.bytes_written += sum(len(b) for data in frags for b in data)
            return
        try:
            self._write_frags(key, f, frags)
        except Exception as exc:  # never let one bad file stop the writer
            self._file_failed("append", key, exc)

    def _write_frags(self, key: str, f: _Open, frags: list[Buffers]) -> None:
        """Write whole fragments; on a write error cut the file back to its last whole fragment."""
        views: list[memoryview] = []
        ends: list[int] = []  # offset in this write where each whole fragment ends
        size = 0
        bad: Exception | None = None
        for i, data in enumerate(frags):
            try:
                views += [memoryview(b) for b in data if len(b)]
            except Exception as exc:  # camgrid's bug: the fragments before it are written, none after
                bad = exc
                self.bytes_written += sum(len(b) for d in frags[i:] for b in d)
                break
            size += sum(len(b) for b in data)
            ends.append(size)
        before = f.written
        n, calls, err = writev_some(f.fd, views)
        self.write_calls += calls
        if err is None:
            f.written += n
            if n:
                self._mark_dirty(f)
        else:
            f.failed = True
            keep = max((e for e in ends if e <= n), default=0)
            try:
                os.ftruncate(f.fd, before + keep)
                f.written = before + keep
            except OSError:
                pass
            if calls:
                self._mark_dirty(f)
            self.on_error(key, os.strerror(err.errno or 0), f.written)
        self.bytes_written += size
        if bad is not None:
            raise bad

    def _mark_dirty(self, f: _Open) -> None:
        f.dirty = True
        if self._unflushed_since is None:
            self._unflushed_since = self._monotonic()

    def _close(self, key: str, done: Done) -> None:
        self._write_pending(key, [])  # a file closed before its first fragment still gets its init
        f = self._files.pop(key, None)
        if f is None or f.fd < 0:
            if done is not None:
                done(0)
            return
        self._closing.append((key, f, done))

    # durability ------------------------------------------------------------------------------------------------
    def _sync_all(self) -> None:
        """Make every write so far durable (one ``syncfs`` per filesystem, or ``fdatasync`` per file), then close
        the files closed since the last flush and run their ``done``."""
        closing, self._closing = self._closing, []
        dirty = [f for f in self._files.values() if f.fd >= 0 and (f.dirty or f.new_entry)]
        dirty += [f for _, f, _ in closing if f.dirty or f.new_entry]
        try:
            by_dev: dict[int, list[_Open]] = {}
            for f in dirty:
                by_dev.setdefault(f.dev, []).append(f)
            for files in by_dev.values():
                if not (self.group_flush and self._syncfs(files[0].fd)):
                    self._fsync_each(files)
                for f in files:
                    f.dirty = f.new_entry = False
            if dirty:
                self.flush_rounds += 1
            self._unflushed_since = None
        finally:  # closed files are finished whatever happened above
            for key, f, done in closing:
                try:
                    os.close(f.fd)
                    if done is not None:
                        done(f.written)
                except Exception as exc:
                    self._file_failed("close", key, exc)

    def _timed(self, fn: Callable[[int], object], fd: int) -> None:
        t0 = time.perf_counter()
        try:
            fn(fd)
        finally:
            self.flushes += 1
            self.flush_seconds += time.perf_counter() - t0

    def _syncfs(self, fd: int) -> bool:
        assert SYNCFS is not None
        try:
            self._timed(SYNCFS, fd)
            return True
        except OSError as exc:
            # ENOSYS: no syncfs here, from now on per file. Anything else (EIO): per file this round, so that
            # each file's own error is seen where it belongs.
            log.warning("disk writer: syncfs failed (%s); flushing file by file", exc.strerror)
            if exc.errno in (errno.ENOSYS, errno.EINVAL):
                self.group_flush = False
            return False

    def _fsync_each(self, files: list[_Open]) -> None:
        dirs: set[Path] = set()
        for f in files:
            if f.new_entry:
                dirs.add(f.path.parent)
            if f.dirty:
                try:
                    self._timed(os.fdatasync, f.fd)
                except OSError:
                    pass
        for d in dirs:  # make the new directory entries durable too, once per directory
            try:
                dfd = os.open(d, os.O_RDONLY)
            except OSError:
                continue
            try:
                self._timed(os.fsync, dfd)
            except OSError:
                pass
            finally:
                os.close(dfd)
