"""Edge backfill's runner (docs/design/onvif.md, "Edge backfill"): throttled per uplink and per node, audited per job,
never twice, safe across a restart, and quiet about cameras without Profile G.

The writer here is a fault injector standing in for ``storage.backfill_writer`` (tested on its own against the
simulator): it blocks until the test lets it go, so the replays in flight can be counted; the rest (database,
audit log, jobs, throttle, threads) is real. The clock is a FakeClock, advanced by the test.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from camgrid.audit.log import AuditLog
from camgrid.auditing import SYSTEM
from camgrid.clock import FakeClock
from camgrid.config import BackfillSettings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.onvif.connect import OnvifTarget
from camgrid.onvif.recordings import CardContents, Span
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.storage.backfill import jobs_of
from camgrid.storage.backfill_runner import BackfillRunner, WriteResult
from camgrid.storage.models import BackfillJob, Gap
from camgrid.vocabulary import AuditAction, BackfillState, GapReason
from tests.backends import db_url

NS = 1_000_000_000
T0 = 1_800_000_000 * NS
UPLINKS = {"a-1": "U-A", "a-2": "U-A", "a-3": "U-A", "b-1": "U-B", "b-2": "U-B", "c-1": "U-C"}


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


class Injector:
    """The writer's stand-in: records who replays at once, blocks until released, fails when told to."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.peak_total = 0
        self.calls: list[tuple[str, int, int, int]] = []
        self.gate = threading.Event()
        self.fail: set[str] = set()

    def __call__(self, *, camera_id: str, start_ns: int, end_ns: int, clock_offset_ns: int, stop: threading.Event,
                 **_: Any) -> WriteResult:  # fmt: skip
        up = UPLINKS[camera_id]
        with self.lock:
            self.calls.append((camera_id, start_ns, end_ns, clock_offset_ns))
            self.active[up] += 1
            self.peak[up] = max(self.peak[up], self.active[up])
            self.peak_total = max(self.peak_total, sum(self.active.values()))
        try:
            while not self.gate.wait(0.01):
                if stop.is_set():
                    raise RuntimeError("stopped")
            if camera_id in self.fail:
                raise ConnectionError("camera closed the replay session")
            return WriteResult(recovered_ns=end_ns - start_ns, segments=1, pictures=25, detail="")
        finally:
            with self.lock:
                self.active[up] -= 1


def _cam(cid: str) -> CameraIn:
    return CameraIn(
        id=cid, name=cid, lat=27.7, lon=85.3, district="D-1", site=f"S-{cid}", feeder="F-1", uplink=UPLINKS[cid],
        rtsp_url=f"rtsp://127.0.0.1:1/{cid}", onvif_url=None if cid == "c-1" else f"http://127.0.0.1:1/{cid}",
    )  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(db_url(tmp_path / "bf.db"))
    upgrade(eng)
    yield eng
    eng.dispose()


class Rig:
    def __init__(self, engine: Engine, home: Path) -> None:
        self.clock = FakeClock(start_ns=T0)
        self.factory = session_factory(engine)
        self.log = AuditLog.open(engine, home=home, clock=self.clock)
        self.home = home
        self.writer = Injector()
        self.cards: dict[str, CardContents] = {}
        self.offsets: dict[str, int] = {}
        with unit_of_work(self.factory) as s:
            registry.import_cameras(session=s, audit=self.log, actor=SYSTEM, rows=[_cam(c) for c in UPLINKS], now_ns=T0)

    def runner(self, **cfg: Any) -> BackfillRunner:
        settings = BackfillSettings(interval_s=5, min_gap_s=10, **cfg)

        def card(target: OnvifTarget, start_ns: int, end_ns: int) -> CardContents:
            cid = target.url.rsplit("/", 1)[1]
            got = self.cards.get(cid)
            if got is not None:
                return got
            return CardContents(profile_g=True, spans=(Span(start_ns, end_ns),), replay_uri=f"rtsp://x/{cid}",
                                source="events")  # fmt: skip

        def target(cid: str) -> OnvifTarget | None:
            return None if cid == "c-1" else OnvifTarget(url=f"http://127.0.0.1:1/{cid}", username="u", password="p")

        return BackfillRunner(
            factory=self.factory, cfg=settings, audit=self.log, clock=self.clock, node_id="local",
            recordings_dir=self.home / "recordings", targets=target, offset_of=lambda c: self.offsets.get(c, 0),
            card=card, writer=self.writer,
        )  # fmt: skip

    def gap(self, cid: str, start_s: float, end_s: float | None, reason: str = GapReason.UNREACHABLE) -> None:
        with unit_of_work(self.factory) as s:
            s.add(Gap(camera_id=cid, start_ns=T0 + int(start_s * NS), end_ns=None if end_s is None else
                      T0 + int(end_s * NS), reason=reason, detail="", node_id="local"))  # fmt: skip

    def jobs(self) -> list[BackfillJob]:
        with unit_of_work(self.factory) as s:
            rows = list(s.scalars(select(BackfillJob).order_by(BackfillJob.id)))
            s.expunge_all()
            return rows

    def audit_actions(self) -> list[dict[str, Any]]:
        return [json.loads(self.log.entry_data(i)) for i in range(self.log.size)]


@pytest.fixture
def rig(engine: Engine, tmp_path: Path) -> Rig:
    r = Rig(engine, tmp_path)
    r.clock.advance(600)
    return r


def _settle(r: Rig, runner: BackfillRunner, done: int) -> None:
    """Tick until ``done`` jobs are finished (the writer released)."""

    def finished() -> bool:
        runner.tick()
        return sum(j.state != BackfillState.RUNNING and j.attempts > 0 for j in r.jobs()) >= done

    wait_for(finished)
    wait_for(lambda: runner.busy() == 0)


def test_throttled_per_uplink_and_per_node_then_all_done(rig: Rig) -> None:
    for cid in ("a-1", "a-2", "a-3", "b-1", "b-2"):
        rig.gap(cid, 0, 300)
    runner = rig.runner(per_uplink=1, per_node=2)
    runner.tick()
    assert len(rig.jobs()) == 5
    wait_for(lambda: sum(rig.writer.active.values()) == 2)
    for _ in range(20):  # more ticks while the two replays hold their slots start nothing more
        runner.tick()
    assert rig.writer.active == Counter({"U-A": 1, "U-B": 1})
    rig.writer.gate.set()
    _settle(rig, runner, 5)
    assert rig.writer.peak == Counter({"U-A": 1, "U-B": 1}) and rig.writer.peak_total == 2
    assert [j.state for j in rig.jobs()] == [BackfillState.DONE] * 5
    assert all(j.recovered_ns == 300 * NS for j in rig.jobs())


def test_per_uplink_two_lets_two_through(rig: Rig) -> None:
    for cid in ("a-1", "a-2", "a-3"):
        rig.gap(cid, 0, 300)
    runner = rig.runner(per_uplink=2, per_node=4)
    runner.tick()
    wait_for(lambda: rig.writer.active["U-A"] == 2)
    runner.tick()
    assert rig.writer.active["U-A"] == 2
    rig.writer.gate.set()
    _settle(rig, runner, 3)
    assert rig.writer.peak["U-A"] == 2


def test_each_job_audited_before_it_runs_and_camera_clock_used(rig: Rig) -> None:
    rig.gap("a-1", 0, 100)
    rig.gap("b-1", 50, 200, GapReason.NOT_RUNNING)
    rig.offsets["b-1"] = 2 * NS  # the camera's clock is two seconds ahead
    rig.writer.gate.set()
    runner = rig.runner(per_node=4)
    size = rig.log.size
    runner.tick()
    _settle(rig, runner, 2)
    entries = [e for e in rig.audit_actions()[size:] if e["action"] == AuditAction.BACKFILL]
    assert sorted((e["camera"], e["t_from_ns"], e["t_to_ns"], e["who"]) for e in entries) == [
        ("a-1", T0, T0 + 100 * NS, "camgrid"),
        ("b-1", T0 + 50 * NS, T0 + 200 * NS, "camgrid"),
    ]
    # The card was asked in camera time; the writer gets our time back and the offset to read the card's clock.
    assert sorted(rig.writer.calls) == [("a-1", T0, T0 + 100 * NS, 0), ("b-1", T0 + 50 * NS, T0 + 200 * NS, 2 * NS)]


def test_which_gaps_become_jobs(rig: Rig) -> None:
    rig.gap("a-1", 0, 100)  # yes
    rig.gap("a-2", 0, 5)  # too short
    rig.gap("a-3", 0, 100, GapReason.AUTH_REFUSED)  # the camera refused: its card is no different
    rig.gap("b-1", 0, None)  # still open: the camera is not back
    rig.gap("c-1", 0, 100)  # no ONVIF address
    rig.gap("b-2", 0, 100)
    rig.gap("b-2", 400, None)  # down again now
    runner = rig.runner()
    assert runner.scan() == 1
    assert [(j.camera_id, j.state) for j in rig.jobs()] == [("a-1", BackfillState.PENDING)]
    assert runner.scan() == 0  # never twice


def test_restart_requeues_running_jobs_and_never_duplicates(rig: Rig) -> None:
    rig.gap("a-1", 0, 300)
    rig.gap("b-1", 0, 300)
    runner = rig.runner(per_node=2)
    runner.tick()
    wait_for(lambda: sum(rig.writer.active.values()) == 2)
    runner.stop()  # the process stops mid-replay
    assert {j.state for j in rig.jobs()} <= {BackfillState.PENDING, BackfillState.RUNNING}
    rig.writer.gate.set()
    again = rig.runner(per_node=2)  # the next start
    rig.clock.advance(10)
    again.tick()
    _settle(rig, again, 2)
    got = rig.jobs()
    assert [(j.camera_id, j.state, j.attempts) for j in got] == [
        ("a-1", BackfillState.DONE, 1),  # the interrupted attempt is not counted against the job
        ("b-1", BackfillState.DONE, 1),
    ]
    assert again.scan() == 0 and len(rig.jobs()) == 2


def test_a_failing_camera_is_retried_then_failed_and_disturbs_no_other(rig: Rig) -> None:
    rig.gap("a-1", 0, 100)
    rig.gap("b-1", 0, 100)
    rig.writer.fail.add("a-1")
    rig.writer.gate.set()
    runner = rig.runner(per_node=2, max_attempts=2, retry_after_s=60)
    runner.tick()
    _settle(rig, runner, 2)
    a, b = rig.jobs()
    assert (a.state, a.attempts, b.state) == (BackfillState.PENDING, 1, BackfillState.DONE)
    assert "ConnectionError" in a.detail
    runner.tick()  # not before retry_after_s
    assert runner.busy() == 0 and rig.jobs()[0].attempts == 1
    rig.clock.advance(61)
    runner.tick()
    wait_for(lambda: rig.jobs()[0].state == BackfillState.FAILED)
    assert rig.jobs()[0].attempts == 2


def test_no_profile_g_is_one_clear_answer(rig: Rig) -> None:
    rig.cards["a-1"] = CardContents(profile_g=False, detail="the camera lists no Search and Replay service")
    rig.gap("a-1", 0, 100)
    runner = rig.runner()
    runner.tick()
    wait_for(lambda: rig.jobs()[0].state == BackfillState.NOTHING_HELD)
    assert "no Profile G" in rig.jobs()[0].detail and rig.writer.calls == []
    rig.gap("a-1", 200, 300)  # the next gap of that camera is not even a job until the recheck time
    rig.clock.advance(10)
    runner.tick()
    assert len(rig.jobs()) == 1
    with unit_of_work(rig.factory) as s:
        assert [j.state for j in jobs_of(s, camera_id="a-1")] == [BackfillState.NOTHING_HELD]


def test_card_holding_nothing(rig: Rig) -> None:
    rig.cards["b-1"] = CardContents(profile_g=True, detail="no recording on the card (0 found)")
    rig.gap("b-1", 0, 100)
    runner = rig.runner()
    runner.tick()
    wait_for(lambda: rig.jobs()[0].state == BackfillState.NOTHING_HELD)
    assert rig.jobs()[0].recovered_ns == 0 and rig.writer.calls == []


def test_a_crash_leaves_running_jobs_that_the_next_start_runs_again(rig: Rig) -> None:
    """A process killed mid-replay writes nothing more: its job stays ``running``; the next start requeues it."""
    rig.gap("a-1", 0, 300)
    with unit_of_work(rig.factory) as s:
        s.add(
            BackfillJob(camera_id="a-1", start_ns=T0, end_ns=T0 + 300 * NS, state=BackfillState.RUNNING,
                        recovered_ns=0, attempts=1, detail="", created_ns=T0, updated_ns=T0, node_id="local")
        )  # fmt: skip
    rig.writer.gate.set()
    runner = rig.runner()
    runner.tick()
    _settle(rig, runner, 1)
    (job,) = rig.jobs()
    assert (job.state, job.attempts, job.recovered_ns) == (BackfillState.DONE, 1, 300 * NS)
    assert len(rig.writer.calls) == 1
