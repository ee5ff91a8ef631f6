"""The ONVIF watcher against the simulator: cameras with an onvif_url get their clock offset and their events into
health, a camera that never answers (uplink cut: the sim holds the request unanswered) does not delay the others,
cameras without an onvif_url are skipped; and the health service's view: conditions (clock off beyond the tolerance,
tamper/video loss/storage failure while their latest event is active, never motion), retention."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.backends import TIMEOUT_SCALE, db_url
from tests.onvif.simonvif import PASSWORD, USER, OnvifSim, running_onvif_sim, spec

from camgrid.audit.log import AuditLog
from camgrid.auditing import Actor
from camgrid.clock import SystemClock
from camgrid.config import OnvifSettings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.db.secrets import SecretBox
from camgrid.health import onvif_service
from camgrid.health.models import CameraClockRow, CameraEventRow, IncidentRow
from camgrid.health.onvif_watch import OnvifWatch
from camgrid.onvif.clock import ClockReading
from camgrid.onvif.events import CameraEvent
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import CameraCondition, CameraEventKind, Role

NS = 1_000_000_000
ADMIN = Actor("admin", Role.ADMIN)


def cam(cid: str, onvif_url: str | None) -> CameraIn:
    return CameraIn(
        id=cid, name=cid, lat=27.69, lon=85.31, district="D-01", site="S-1", feeder="F-1", uplink="U-1",
        rtsp_url=f"rtsp://127.0.0.1/{cid}", username=USER, password=PASSWORD, onvif_url=onvif_url,
    )  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(db_url(tmp_path / "w.db"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[OnvifSim]:
    specs = [spec("CAM-1", 1), spec("CAM-2", 2), spec("CAM-5", 5)]
    with running_onvif_sim(specs, tmp_path / "truth.jsonl") as s:
        s.cameras["CAM-1"].clock_offset_ns = 7 * NS  # off by more than the 2 s tolerance
        yield s


def wait_for(check: object, timeout_s: float = 10.0) -> None:
    """A safety net stretched like every wait of the suite (``tests.backends.TIMEOUT_SCALE``)."""
    deadline = time.monotonic() + timeout_s * TIMEOUT_SCALE
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_clocks_and_events_into_health_one_dead_camera_delays_no_other(
    engine: Engine, sim: OnvifSim, tmp_path: Path
) -> None:
    factory = session_factory(engine)
    box = SecretBox(tmp_path / "secrets.key")
    log = AuditLog.open(engine, home=tmp_path, clock=SystemClock())
    rows = [cam("CAM-1", sim.url("CAM-1")), cam("CAM-2", sim.url("CAM-2")), cam("CAM-5", sim.url("CAM-5"))]
    rows.append(cam("CAM-9", None))  # no ONVIF: skipped
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=ADMIN, rows=rows, now_ns=time.time_ns(), box=box)
    sim.cameras["CAM-2"].uplink_up = False  # answers nothing: each request to it waits the full timeout
    cfg = OnvifSettings(start_delay_s=0, workers=2, timeout_s=3, pull_timeout_s=1, clock_interval_s=5, backoff_max_s=30)
    watch = OnvifWatch(factory=factory, clock=SystemClock(), cfg=cfg, box=box)
    watch.start()
    try:
        wait_for(lambda: len(watch.cameras) == 3)
        assert set(watch.cameras) == {"CAM-1", "CAM-2", "CAM-5"}

        def clocks() -> dict[str, int]:
            with unit_of_work(factory) as s:
                return {r.camera_id: r.offset_ns for r in s.scalars(select(CameraClockRow))}

        wait_for(lambda: {"CAM-1", "CAM-5"} <= set(clocks()))
        got = clocks()
        assert abs(got["CAM-1"] - 7 * NS) < 1.2 * NS and abs(got["CAM-5"]) < 1.2 * NS and "CAM-2" not in got
        t0 = time.monotonic()
        sim.fault("camera_tamper", "CAM-1")

        def tampered() -> bool:
            with unit_of_work(factory) as s:
                q = select(CameraEventRow).where(
                    CameraEventRow.camera_id == "CAM-1", CameraEventRow.kind == "tamper", CameraEventRow.active
                )
                return s.scalars(q).first() is not None

        wait_for(tampered)
        assert time.monotonic() - t0 < 4.0  # CAM-2's hung requests held one worker, never CAM-1's turn
        with unit_of_work(factory) as s:
            st = onvif_service.onvif_status(
                session=s, camera_ids=["CAM-1", "CAM-5", "CAM-9"], clock_tolerance_ns=2 * NS
            )
            assert set(st) == {"CAM-1", "CAM-5"}
            assert set(st["CAM-1"].conditions) == {CameraCondition.CLOCK_OFF, CameraCondition.TAMPER}
            assert st["CAM-5"].conditions == []
            assert s.scalar(select(func.count()).select_from(IncidentRow)) == 0  # a condition is not an outage
    finally:
        watch.stop()
    assert all(w.busy is None or w.busy.done() for w in watch.cameras.values())

    def stored() -> int:
        with unit_of_work(factory) as s:
            return int(s.scalar(select(func.count()).select_from(CameraEventRow)) or 0)

    # a restarted watcher repeats nothing health already knows (the subscription's Initialized messages)
    before = stored()
    again = OnvifWatch(factory=factory, clock=SystemClock(), cfg=cfg, box=box)
    again.start()
    try:

        def pulled_twice() -> bool:
            w = again.cameras.get("CAM-1")
            return w is not None and w.consumer is not None and w.consumer.pulls >= 2

        wait_for(pulled_twice)
    finally:
        again.stop()
    assert stored() == before


def test_conditions_follow_the_latest_event_and_retention(engine: Engine) -> None:
    factory = session_factory(engine)

    def ev(kind: CameraEventKind, active: bool, t: int, cid: str = "c1") -> CameraEvent:
        return CameraEvent(cid, kind, active, t + 5, t, "tns1:x", "Changed")

    with unit_of_work(factory) as s:
        onvif_service.record_camera_events(
            session=s,
            events=[
                ev(CameraEventKind.TAMPER, True, 1 * NS),
                ev(CameraEventKind.TAMPER, False, 2 * NS),  # ended
                ev(CameraEventKind.STORAGE_FAILURE, True, 3 * NS),
                ev(CameraEventKind.MOTION, True, 4 * NS),  # motion is no trouble
                ev(CameraEventKind.VIDEO_LOSS, True, 5 * NS, cid="c2"),
            ],
        )
        onvif_service.record_clock(session=s, camera_id="c2", reading=ClockReading(-1 * NS, 6 * NS, 1000))
        onvif_service.record_clock(session=s, camera_id="c2", reading=ClockReading(-3 * NS, 7 * NS, 2000))
    with unit_of_work(factory) as s:
        st = onvif_service.onvif_status(session=s, camera_ids=["c1", "c2"], clock_tolerance_ns=2 * NS)
        assert st["c1"].conditions == [CameraCondition.STORAGE_FAILURE] and st["c1"].clock_offset_ns is None
        assert st["c1"].since_ns[CameraCondition.STORAGE_FAILURE] == 3 * NS
        assert set(st["c2"].conditions) == {CameraCondition.VIDEO_LOSS, CameraCondition.CLOCK_OFF}
        assert st["c2"].clock_offset_ns == -3 * NS and st["c2"].clock_round_trip_ns == 2000
        rows = onvif_service.camera_events_between(session=s, camera_id="c1", start_ns=2 * NS, end_ns=4 * NS)
        assert [(r.kind, r.active, r.camera_ns) for r in rows] == [
            ("tamper", False, 2 * NS + 5),
            ("storage_failure", True, 3 * NS + 5),
        ]
        assert onvif_service.last_states(session=s, camera_ids=["c1", "c2", "c3"]) == {
            "c1": {"tns1:x": True},  # the latest of c1's events on that topic (motion, at 4 s)
            "c2": {"tns1:x": True},
        }
        assert onvif_service.prune_camera_events(session=s, before_ns=3 * NS) == 2
    with unit_of_work(factory) as s:
        assert s.scalar(select(func.count()).select_from(CameraEventRow)) == 3
