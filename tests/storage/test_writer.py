"""The disk writer on a full disk (/dev/full answers every write with ENOSPC) and on a good one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from camgrid.storage.writer import DiskWriter, writev_all
from tests.backends import wait_for


def wait(pred: Callable[[], object]) -> None:
    wait_for(pred, 10, 0.02, what="the disk writer")


def test_full_disk_is_reported_not_raised() -> None:
    errors: list[tuple[str, str, int]] = []
    w = DiskWriter(fsync_interval_s=0, on_error=lambda k, e, n: errors.append((k, e, n)))
    w.start()
    w.open("cam:1", Path("/dev/full"), b"init")
    w.append("cam:1", [b"fragment"])
    w.submit()
    wait(lambda: errors)
    w.stop()
    assert errors[0][0] == "cam:1" and "space" in errors[0][1].lower()
    assert w.backlog_bytes == 0


def test_writes_whole_fragments_in_order(tmp_path: Path) -> None:
    closed: list[int] = []
    w = DiskWriter(fsync_interval_s=0.01, on_error=lambda *a: None)
    w.start()
    path = tmp_path / "a" / "b" / "seg.mp4"
    w.open("k", path, b"INIT")
    for i in range(50):
        w.append("k", [b"H%02d" % i, bytearray(b"x" * i)])
    w.close("k", closed.append)
    w.submit()
    wait(lambda: closed)
    w.stop()
    expected = b"INIT" + b"".join(b"H%02d" % i + b"x" * i for i in range(50))
    assert path.read_bytes() == expected and closed == [len(expected)]


def test_writev_all_handles_many_buffers(tmp_path: Path) -> None:
    import os

    bufs = [bytes([i % 256]) * (i % 7 + 1) for i in range(3000)]  # more than IOV_MAX
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    try:
        assert writev_all(fd, bufs) == sum(len(b) for b in bufs)
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == b"".join(bufs)
