"""One file the disk writer fails on (camgrid's bug, not the disk's) ends that file only; the others are written."""

from __future__ import annotations

import time
from pathlib import Path

from camgrid.storage.writer import DiskWriter


def test_a_failing_file_stops_neither_the_writer_nor_the_other_files(tmp_path: Path) -> None:
    reported: list[tuple[str, str]] = []
    closed: dict[str, int] = {}
    w = DiskWriter(fsync_interval_s=0, on_error=lambda *a: None)
    w.on_internal_error = lambda key, error: reported.append((key, error))
    w.start()
    try:
        w.open("bad:1", tmp_path / "bad.mp4", b"INIT")
        w.open("good:1", tmp_path / "good.mp4", b"INIT")
        w.append("bad:1", [b"ok"])
        w.append("bad:1", ["text"])  # type: ignore[list-item]  # a buffer that is no bytes: camgrid's own bug
        w.append("good:1", [b"A"])
        w.append("bad:1", [b"after"])  # never written after a hole
        w.append("good:1", [b"B"])
        w.close("bad:1", lambda n: closed.__setitem__("bad", n))
        w.close("good:1", lambda n: closed.__setitem__("good", n))
        w.submit()
        deadline = time.monotonic() + 10
        while len(closed) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert w.is_running()
    finally:
        w.stop()
    assert (tmp_path / "good.mp4").read_bytes() == b"INITAB" and closed["good"] == 6
    assert (tmp_path / "bad.mp4").read_bytes() == b"INITok" and closed["bad"] == 6
    assert [k for k, _ in reported] == ["bad:1"] and "TypeError" in reported[0][1]
