"""The disk writer's write pattern, what decides how many cameras a hard disk holds (docs/design/packet-path.md,
"Hard disks"): one ``syncfs`` per filesystem per ``fsync_interval_s`` whatever the number of files, each file's
collected fragments in one ``writev``, a closed segment reported only once durable, a crash losing at most about
one interval, and one failing file failing alone. Flushes are paced by an injected clock."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from camgrid.clock import FakeClock, SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.storage.metrics import render
from camgrid.storage.recorder import Recorder
from camgrid.storage.writer import SYNCFS, DiskWriter
from tests.backends import wait_for


def wait(pred: Callable[[], object], what: str) -> None:
    wait_for(pred, 10, 0.005, what=what)


def settle(w: DiskWriter) -> None:
    """Wait until everything submitted so far has been collected and applied (two whole collections)."""
    seen = w.collections
    wait(lambda: w.collections >= seen + 2, "two collections")


@pytest.fixture
def shm_dir() -> Iterator[Path]:
    """A folder on another filesystem (tmpfs) than pytest's tmp_path."""
    d = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="camgrid-writer-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def make(clock: FakeClock, **kw: object) -> DiskWriter:
    w = DiskWriter(fsync_interval_s=1.0, on_error=lambda *a: None, monotonic=clock.monotonic, **kw)  # type: ignore[arg-type]
    w.collect_interval_s = 0.005
    return w


@pytest.mark.parametrize("files", [1, 40])
def test_one_flush_per_filesystem_per_interval_whatever_the_number_of_files(
    tmp_path: Path, shm_dir: Path, files: int
) -> None:
    assert SYNCFS is not None, "syncfs(2) should be reachable through libc on Linux"
    clock = FakeClock()
    w = make(clock)
    w.start()
    try:
        dirs = [tmp_path, shm_dir]
        devs = {os.stat(d).st_dev for d in dirs}
        for i in range(files):
            for d in dirs:
                w.open(f"{d.name}-{i}:1", d / f"seg{i}.mp4", b"INIT")
        for second in range(3):
            for i in range(files):
                for d in dirs:
                    w.append(f"{d.name}-{i}:1", [b"moof", b"sample%d" % second])
            w.submit()
            settle(w)
            assert w.flushes == len(devs) * second, "flushed before the interval was over"
            assert w.unflushed_seconds() == 0.0  # the injected clock has not moved since the write
            clock.advance(0.6)
            settle(w)
            assert w.flush_rounds == second and w.unflushed_seconds() == pytest.approx(0.6)
            clock.advance(0.4)  # the interval is over: the next collection flushes, once per filesystem
            wait(lambda: w.flush_rounds == second + 1, "the flush of this interval")  # noqa: B023
            assert w.flushes == len(devs) * (second + 1) and w.unflushed_seconds() == 0.0
        clock.advance(5)  # nothing written since: nothing to flush
        settle(w)
        settle(w)
        assert w.flush_rounds == 3
    finally:
        w.stop()
    for i in range(files):
        for d in dirs:
            assert (d / f"seg{i}.mp4").read_bytes() == b"INIT" + b"".join(b"moofsample%d" % s for s in range(3))


def test_fragments_collected_together_go_down_in_one_write_per_file(tmp_path: Path) -> None:
    clock = FakeClock()
    w = make(clock)
    closed: list[int] = []
    for i in range(10):
        w.open(f"cam{i}:1", tmp_path / f"{i}.mp4", b"INIT")
    for f in range(5):  # five fragments each, as when the disk held the writer up for a few seconds
        for i in range(10):
            w.append(f"cam{i}:1", [b"moof%d" % f, bytearray(b"x" * 100)])
    for i in range(10):
        w.close(f"cam{i}:1", closed.append)
    w.submit()
    w.start()
    try:
        settle(w)
        assert w.write_calls == 10
    finally:
        w.stop()
    body = b"INIT" + b"".join(b"moof%d" % f + b"x" * 100 for f in range(5))
    assert closed == [len(body)] * 10 and all((tmp_path / f"{i}.mp4").read_bytes() == body for i in range(10))


def test_a_closed_segment_is_reported_once_its_bytes_are_durable(tmp_path: Path) -> None:
    clock = FakeClock()
    w = make(clock)
    done: list[tuple[int, int]] = []
    w.start()
    try:
        w.open("cam:1", tmp_path / "a.mp4", b"INIT")
        w.append("cam:1", [b"frag"])
        w.close("cam:1", lambda n: done.append((n, w.flushes)))
        w.submit()
        settle(w)
        assert done == [], "the index would call the segment closed before its bytes are on disk"
        clock.advance(1.0)
        wait(lambda: done, "the close")
        assert done == [(8, 1)]  # after the one syncfs of that interval
    finally:
        w.stop()


def test_without_syncfs_each_file_is_flushed_and_each_new_directory_once(tmp_path: Path) -> None:
    clock = FakeClock()
    w = make(clock, group_flush=False)
    w.start()
    try:
        for i in range(6):
            w.open(f"cam{i}:1", tmp_path / "hour" / f"{i}.mp4", b"INIT")
            w.append(f"cam{i}:1", [b"frag"])
        w.submit()
        settle(w)
        clock.advance(1.0)
        wait(lambda: w.flush_rounds == 1, "the first flush")
        assert w.flushes == 6 + 1  # one fdatasync per file, one fsync of their new directory entries
        for i in range(6):
            w.append(f"cam{i}:1", [b"more"])
        w.submit()
        settle(w)
        clock.advance(1.0)
        wait(lambda: w.flush_rounds == 2, "the second flush")
        assert w.flushes == 7 + 6
    finally:
        w.stop()
    assert all((tmp_path / "hour" / f"{i}.mp4").read_bytes() == b"INITfragmore" for i in range(6))


def test_a_failing_file_fails_alone_under_the_grouped_flush(tmp_path: Path) -> None:
    clock = FakeClock()
    w = make(clock)
    reported: list[str] = []
    closed: dict[str, int] = {}
    w.on_internal_error = lambda key, error: reported.append(key)
    keys = ["bad:1"] + [f"good{i}:1" for i in range(8)]
    for k in keys:
        w.open(k, tmp_path / f"{k[:-2]}.mp4", b"INIT")
        w.append(k, [b"A"])
    w.append("bad:1", ["text"])  # type: ignore[list-item]  # a buffer that is no bytes: camgrid's own bug
    for k in keys:
        w.append(k, [b"B"])
        w.close(k, lambda n, k=k: closed.__setitem__(k, n))  # type: ignore[misc]
    w.start()
    try:
        w.submit()
        settle(w)
        clock.advance(1.0)
        wait(lambda: len(closed) == len(keys), "every close")
        assert w.is_running() and w.flushes == 1
    finally:
        w.stop()
    assert reported == ["bad:1"] and closed["bad:1"] == 5 and (tmp_path / "bad.mp4").read_bytes() == b"INITA"
    for k in keys[1:]:
        assert closed[k] == 6 and (tmp_path / f"{k[:-2]}.mp4").read_bytes() == b"INITAB"


def test_a_write_error_inside_a_grouped_write_cuts_back_to_the_last_whole_fragment(tmp_path: Path) -> None:
    """The kernel refuses bytes past RLIMIT_FSIZE (EFBIG after a short write), as a full disk does (ENOSPC)."""
    clock = FakeClock()
    w = make(clock)
    errors: list[tuple[str, str, int]] = []
    w.on_error = lambda k, e, n: errors.append((k, e, n))
    closed: list[int] = []
    frag = [b"moof", b"y" * 96]  # 100 bytes
    w.open("cam:1", tmp_path / "a.mp4", b"INIT")
    for _ in range(4):
        w.append("cam:1", frag)
    w.close("cam:1", closed.append)
    w.open("other:1", tmp_path / "b.mp4", b"INIT")
    w.append("other:1", [b"ok"])
    w.close("other:1", closed.append)
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 + 250, old_limit[1]))  # room for two and a half fragments
    try:
        w.submit()
        w.start()
        settle(w)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    try:
        clock.advance(1.0)
        wait(lambda: len(closed) == 2, "both closes")
    finally:
        w.stop()
    assert errors == [("cam:1", os.strerror(27), 204)]  # EFBIG; the file holds its init and two whole fragments
    assert (tmp_path / "a.mp4").read_bytes() == b"INIT" + b"moof" + b"y" * 96 + b"moof" + b"y" * 96
    assert closed == [204, 6] and (tmp_path / "b.mp4").read_bytes() == b"INITok"
    assert w.backlog_bytes == 0


def test_metrics_count_write_calls_and_flushes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    env.update({"CAMGRID_RECORDER__METRICS_PORT": "0", "CAMGRID_RECORDER__FSYNC_INTERVAL_S": "0.05"})
    settings = load_settings(home, env)
    engine = make_engine(settings.database_url)
    try:
        rec = Recorder(settings=settings, engine=engine, factory=session_factory(engine), clock=SystemClock())
        w = rec._writer
        w.collect_interval_s = 0.005
        w.start()
        try:
            for i in range(3):
                w.open(f"cam{i}:1", tmp_path / f"{i}.mp4", b"INIT")
                w.append(f"cam{i}:1", [b"frag"])
            w.submit()
            wait(lambda: w.flush_rounds >= 1, "a flush")
            text = render({}, rec.gauges())
        finally:
            w.stop()
    finally:
        engine.dispose()
    assert "camgrid_recorder_write_calls_total 3\n" in text  # init and fragment of each file in one writev
    assert "camgrid_recorder_flushes_total 1\n" in text  # one syncfs for the one filesystem
    assert "# TYPE camgrid_recorder_flush_seconds_total counter" in text
    assert "camgrid_recorder_unflushed_seconds 0\n" in text


def test_a_new_file_s_init_goes_down_with_its_first_fragment(tmp_path: Path) -> None:
    clock = FakeClock()
    w = make(clock)
    closed: list[int] = []
    w.start()
    try:
        w.open("a:1", tmp_path / "a.mp4", b"INIT")
        w.open("b:1", tmp_path / "b.mp4", b"INIT")  # closed before any fragment: its init is still written
        w.submit()
        settle(w)
        assert w.write_calls == 0
        w.append("a:1", [b"frag"])
        w.close("b:1", closed.append)
        w.submit()
        settle(w)
        assert w.write_calls == 2
    finally:
        w.stop()
    assert (tmp_path / "a.mp4").read_bytes() == b"INITfrag" and (tmp_path / "b.mp4").read_bytes() == b"INIT"
    assert closed == [4]
