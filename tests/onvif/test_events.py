"""The PullPoint consumer end to end against the simulator's ONVIF services (real HTTP, the real onvif-python
client): a camera_tamper fault arrives as a TAMPER event stamped with the camera's clock (true time + its offset);
the subscription is renewed before it ends and made again after the simulator restarts; an unknown topic is kept as
OTHER; malformed notifications are skipped and counted; an SD card failure is a STORAGE_FAILURE event; Unsubscribe on
stop; the clock reader sees the offset."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from camgrid.clock import SystemClock
from camgrid.onvif.clock import read_clock
from camgrid.onvif.connect import parse_target
from camgrid.onvif.events import CameraEvent, ConsumerSettings, PullPointConsumer, parse_notifications
from camgrid.sim.onvif import events as sim_events
from camgrid.vocabulary import CameraEventKind
from tests.onvif.simonvif import PASSWORD, USER, OnvifSim, running_onvif_sim, spec

NS = 1_000_000_000
OFFSET_NS = -137 * NS  # the camera's clock is 137 s behind


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[OnvifSim]:
    with running_onvif_sim([spec("CAM-1", 1), spec("CAM-3", 3)], tmp_path / "truth.jsonl") as s:
        s.cameras["CAM-1"].clock_offset_ns = OFFSET_NS
        yield s


def consumer(
    sim: OnvifSim, camera_id: str = "CAM-1", known: dict[str, bool] | None = None, **kw: float
) -> PullPointConsumer:
    target = parse_target(sim.url(camera_id), username=USER, password=PASSWORD, timeout_s=4)
    args: dict[str, float] = {"pull_timeout_s": 1, "backoff_initial_s": 0.2, "backoff_max_s": 1.0} | kw
    settings = ConsumerSettings(**args)  # type: ignore[arg-type]
    return PullPointConsumer(camera_id=camera_id, target=target, clock=SystemClock(), settings=settings, known=known)


def pull_until(c: PullPointConsumer, want: Callable[[CameraEvent], bool], timeout_s: float = 10) -> CameraEvent:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for e in c.step():
            if want(e):
                return e
    raise AssertionError(f"no such event within {timeout_s} s (last error: {c.last_error!r})")


def test_a_tamper_fault_is_a_tamper_event_in_the_cameras_clock(sim: OnvifSim) -> None:
    c = consumer(sim)
    try:
        assert c.step() == []  # every property as Initialized, all off: nothing to say
        assert c.subscribed and c.subscriptions_made == 1
        true_ns = time.time_ns()
        sim.fault("camera_tamper", "CAM-1")
        e = pull_until(c, lambda e: e.kind is CameraEventKind.TAMPER)
        assert e.active and e.camera_id == "CAM-1"
        assert e.topic == "tns1:VideoSource/GlobalSceneChange/ImagingService"
        assert e.camera_ns is not None and abs(e.camera_ns - (true_ns + OFFSET_NS)) < NS
        assert abs(e.received_ns - true_ns) < 2 * NS  # ours: the true time
        sim.fault("camera_motion", "CAM-1", seconds=0.3)
        m = pull_until(c, lambda e: e.kind is CameraEventKind.MOTION and not e.active)
        assert m.camera_ns is not None
        sim.fault("sd_card_failure", "CAM-1")
        f = pull_until(c, lambda e: e.kind is CameraEventKind.STORAGE_FAILURE)
        assert f.active and f.topic == "tns1:Device/HardwareFailure/StorageFailure" and "Failed=true" in f.detail
        assert sim_events.subscriptions(sim.server, "CAM-1") == 1  # type: ignore[arg-type]
    finally:
        c.stop()
    assert sim_events.subscriptions(sim.server, "CAM-1") == 0  # type: ignore[arg-type]


def test_renewed_before_it_ends_and_made_again_after_a_restart(sim: OnvifSim) -> None:
    c = consumer(sim, termination_s=30, renew_margin_s=29.5)  # renews on (almost) every step
    try:
        c.step()
        c.step()
        assert c.subscriptions_made == 1 and c.failures == 0  # renewed, not re-made
        sim.stop_http()
        sim.start()  # same port, a new simulator: the subscription is forgotten
        assert c.step() == [] and c.failures == 1 and not c.subscribed
        sim.fault("camera_tamper", "CAM-1")
        e = pull_until(c, lambda e: e.kind is CameraEventKind.TAMPER)
        assert e.active and c.subscriptions_made == 2 and c.failures == 0
    finally:
        c.stop()


def test_what_health_knew_is_not_repeated_and_what_changed_meanwhile_is_told(sim: OnvifSim) -> None:
    sim.cameras["CAM-1"].stalled = True  # video lost while camgrid was away
    tamper = "tns1:VideoSource/GlobalSceneChange/ImagingService"
    c = consumer(sim, known={tamper: True, "tns1:VideoSource/SignalLoss": True})  # as health stored them
    try:
        got = c.step()
        assert [(e.kind, e.active) for e in got] == [(CameraEventKind.TAMPER, False)]  # it ended meanwhile
        assert got[0].detail.startswith("Initialized")
    finally:
        c.stop()


def test_a_camera_without_events_backs_off(sim: OnvifSim) -> None:
    c = consumer(sim, "CAM-3", backoff_initial_s=30.0, backoff_max_s=60.0)
    assert c.step() == [] and c.failures == 1 and not c.subscribed
    # told by its service list, not by a SOAP error from a guessed URL; looked at again after the longest backoff
    assert c.unsupported and "no ONVIF event service" in c.last_error
    assert c.due_ns() > time.time_ns() + 40 * NS  # 60 s, give or take its jitter
    assert c.step() == [] and c.failures == 1  # within its backoff nothing is tried
    assert c.last_error and PASSWORD not in c.last_error


ENVELOPE = """<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
<tev:PullMessagesResponse xmlns:tev="http://www.onvif.org/ver10/events/wsdl"
 xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema">
{notes}</tev:PullMessagesResponse></s:Body></s:Envelope>"""
NOTE = """<wsnt:NotificationMessage><wsnt:Topic Dialect="x">{topic}</wsnt:Topic><wsnt:Message>
<tt:Message UtcTime="{utc}" PropertyOperation="Changed"><tt:Data><tt:SimpleItem Name="{name}" Value="{value}"/>
</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>"""


def test_unknown_topics_are_other_and_malformed_ones_are_counted() -> None:
    notes = [
        NOTE.format(topic="tns1:Vendor/Doorbell/" + "x" * 400, utc="2026-12-02T10:00:00.5Z", name="Pressed", value="1"),
        NOTE.format(topic="tns1:VideoSource/SignalLoss", utc="not a time", name="State", value="true"),
        NOTE.format(topic="tns1:VideoSource/SignalLoss", utc="2026-12-02T10:00:01Z", name="State", value="maybe"),
        NOTE.format(topic="", utc="2026-12-02T10:00:01Z", name="State", value="true"),
        NOTE.format(topic="tns1:Device/HardwareFailure/StorageFailure", utc="2026-12-02T10:00:02Z", name="Failed",
                    value="true"),
    ]  # fmt: skip
    env = etree.fromstring(ENVELOPE.format(notes="".join(notes)).encode())
    events, bad = parse_notifications(env, camera_id="c", received_ns=5)
    assert bad == 3
    other, storage = events
    assert other.kind is CameraEventKind.OTHER and len(other.topic) == 200 and other.topic.startswith("tns1:Vendor")
    assert other.camera_ns == 1_796_205_600 * NS + NS // 2 and "Pressed=1" in other.detail
    assert storage.kind is CameraEventKind.STORAGE_FAILURE and storage.active and storage.received_ns == 5


def test_the_clock_reader_sees_the_cameras_offset(sim: OnvifSim) -> None:
    target = parse_target(sim.url("CAM-1"), username=USER, password=PASSWORD, timeout_s=4)
    reading = read_clock(target, clock=SystemClock())
    assert abs(reading.offset_ns - OFFSET_NS) < 1.2 * NS  # ONVIF gives whole seconds
    assert 0 < reading.round_trip_ns < 4 * NS
