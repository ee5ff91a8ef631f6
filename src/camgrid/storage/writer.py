"""The disk writer: one thread that owns every open segment file, so a slow disk never stalls the ingest loop.

The ingest thread queues operations without waking anyone and publishes the batch once per tick
(:meth:`DiskWriter.submit`, a list swap under a lock); the writer thread collects published batches on its own
schedule (``collect_interval_s``). Waking the writer per fragment or per tick cost more CPU, through GIL hand-offs,
than writing the bytes. Each fragment is written with one
``writev()`` of its header and samples (no join); open files are ``fdatasync``-ed every ``fsync_interval_s`` so a
power cut loses at most about that much. A full disk (ENOSPC) or any other write error is reported back instead of
raised, and the file is cut back to its last whole fragment. Any other exception on one file (a bug) fails that
file only: it is reported through ``on_internal_error`` (the recorder cuts that camera's segment with an
``internal_error`` gap) and the thread goes on with the others. Should the thread die all the same, ``restart()``
starts another on the same queue and files (the recorder's watchdog calls it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("camgrid.storage")
Buffers = Sequence[bytes | bytearray]


@dataclass
class _Open:
    fd: int
    path: Path
    written: int = 0
    dirty: bool = False
    failed: bool = False


def writev_all(fd: int, buffers: Buffers) -> int:
    """Write every buffer, continuing after partial writes. Returns bytes written."""
    total = 0
    views = [memoryview(b) for b in buffers if len(b)]
    while views:
        n = os.writev(fd, views[:1024])
        total += n
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if n and views:
            views[0] = views[0][n:]
    return total


class DiskWriter:
    def __init__(self, *, fsync_interval_s: float, on_error: Callable[[str, str, int], None]) -> None:
        """``on_error(segment_key, error, valid_bytes)`` is called from the writer thread."""
        self.fsync_interval_s = fsync_interval_s
        self.on_error = on_error
        self._batch: list[tuple[str, str, object]] = []
        self._published: list[tuple[str, str, object]] = []
        self._pub_lock = threading.Lock()
        self._stopping = threading.Event()
        self.collect_interval_s = 0.1
        self._files: dict[str, _Open] = {}
        self._thread = threading.Thread(target=self._run, name="disk-writer", daemon=True)
        # ``(segment_key, error)`` when camgrid failed on one file (writer thread); None: logged only.
        self.on_internal_error: Callable[[str, str], None] | None = None
        self.enqueued_bytes = 0  # only the ingest thread writes this
        self.bytes_written = 0  # only the writer thread writes this (failed bytes count as done)

    @property
    def backlog_bytes(self) -> int:
        return self.enqueued_bytes - self.bytes_written

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

    def close(self, key: str, done: Callable[[int], None] | None = None) -> None:
        """Close after everything queued before; ``done(bytes_on_disk)`` runs on the writer thread."""
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
        last_sync = time.monotonic()
        while True:
            stopping = self._stopping.wait(self.collect_interval_s)
            with self._pub_lock:
                batch, self._published = self._published, []
            for op, key, arg in batch:
                try:
                    if op == "open":
                        path, init = arg  # type: ignore[misc]
                        self._open(key, path, init)  # type: ignore[has-type]
                    elif op == "append":
                        self._write(key, arg)  # type: ignore[arg-type]
                    else:
                        self._close(key, arg)  # type: ignore[arg-type]
                except Exception as exc:  # never let one bad file stop the writer
                    self._file_failed(op, key, exc)
            if stopping:
                for k in list(self._files):
                    self._close(k, None)
                return
            now = time.monotonic()
            if self.fsync_interval_s > 0 and now - last_sync >= self.fsync_interval_s:
                self._sync_all()
                last_sync = now

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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        except OSError as exc:
            self._files[key] = _Open(-1, path, failed=True)
            self.bytes_written += len(init)
            self.on_error(key, os.strerror(exc.errno or 0), 0)
            return
        f = _Open(fd, path)
        self._files[key] = f
        self._write_fd(key, f, [init])
        try:  # make the new directory entry durable too
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass

    def _write(self, key: str, data: Buffers) -> None:
        f = self._files.get(key)
        if f is None or f.failed:
            self.bytes_written += sum(len(b) for b in data)
            return
        self._write_fd(key, f, data)

    def _write_fd(self, key: str, f: _Open, data: Buffers) -> None:
        size = sum(len(b) for b in data)
        before = f.written
        try:
            f.written += writev_all(f.fd, data)
            f.dirty = True
        except OSError as exc:
            f.failed = True
            # Cut the file back to its last whole fragment so that no torn fragment stays behind.
            try:
                os.ftruncate(f.fd, before)
                f.written = before
            except OSError:
                pass
            self.on_error(key, os.strerror(exc.errno or 0), f.written)
        finally:
            self.bytes_written += size

    def _close(self, key: str, done: Callable[[int], None] | None) -> None:
        f = self._files.pop(key, None)
        size = 0
        if f is not None and f.fd >= 0:
            try:
                if f.dirty:
                    os.fdatasync(f.fd)
            except OSError:
                pass
            os.close(f.fd)
            size = f.written
        if done is not None:
            done(size)

    def _sync_all(self) -> None:
        for f in self._files.values():
            if f.dirty and not f.failed and f.fd >= 0:
                try:
                    os.fdatasync(f.fd)
                    f.dirty = False
                except OSError:
                    pass
