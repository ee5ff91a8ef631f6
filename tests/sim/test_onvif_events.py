"""The simulator's ONVIF Events service, spoken to by the real onvif-python client (its Events, PullPoint and
SubscriptionManager bindings from the ONVIF WSDLs): properties first as Initialized, then changes stamped with the
camera's clock, bounded waits and subscriptions, renew, unsubscribe, synchronization points, and 404 for a model
without events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from onvif import CacheMode
from onvif.services import Events, PullPoint, Subscription
from onvif.utils.exceptions import ONVIFOperationException

from camgrid.sim.onvif import events as sim_events
from tests.onvif.simonvif import PASSWORD, USER, OnvifSim, running_onvif_sim, spec

WSNT = "{http://docs.oasis-open.org/wsn/b-2}"
TT = "{http://www.onvif.org/ver10/schema}"
OFFSET_NS = 90 * 1_000_000_000  # camera 1's clock is 90 s ahead


class Envelopes:
    """Keeps the raw answers (zeep drops a topic's text)."""

    def __init__(self) -> None:
        self.last: Any = None

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        self.last = envelope
        return envelope, http_headers

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> tuple[Any, Any]:
        return envelope, http_headers


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[OnvifSim]:
    with running_onvif_sim([spec("CAM-1", 1), spec("CAM-3", 3)], tmp_path / "truth.jsonl") as s:
        s.cameras["CAM-1"].clock_offset_ns = OFFSET_NS
        yield s


def args(sim: OnvifSim, camera_id: str, plugins: list[Any] | None = None) -> dict[str, Any]:
    return {
        "host": sim.cameras[camera_id].spec.onvif_address,
        "port": sim.port,
        "username": USER,
        "password": PASSWORD,
        "http_digest": False,
        "timeout": 5,
        "cache": CacheMode.MEM,
        "use_https": False,
        "verify_ssl": False,
        "apply_patch": True,
        "plugins": plugins,
    }


def base(sim: OnvifSim, camera_id: str) -> str:
    return f"http://{sim.cameras[camera_id].spec.onvif_address}:{sim.port}"


def notes(envelope: Any) -> list[tuple[str, str, str, str]]:
    """(topic, PropertyOperation, state, UtcTime) of each notification."""
    out = []
    for n in envelope.iter(f"{WSNT}NotificationMessage"):
        msg = n.find(f"{WSNT}Message/{TT}Message")
        item = msg.find(f"{TT}Data/{TT}SimpleItem")
        out.append((n.findtext(f"{WSNT}Topic"), msg.get("PropertyOperation"), item.get("Value"), msg.get("UtcTime")))
    return out


def subscribe(sim: OnvifSim, camera_id: str, plugin: Envelopes, termination: str = "PT60S") -> tuple[Any, Any, Any]:
    ev = Events(xaddr=base(sim, camera_id) + "/onvif/events_service", **args(sim, camera_id))
    ref = ev.CreatePullPointSubscription(InitialTerminationTime=termination)
    address = ref.SubscriptionReference.Address._value_1
    assert address.startswith(base(sim, camera_id) + "/onvif/pullpoint/")
    pp = PullPoint(xaddr=address, **args(sim, camera_id, [plugin]))
    mgr = Subscription(xaddr=address, **args(sim, camera_id))
    return ref, pp, mgr


def ns(text: str) -> int:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(at.timestamp() * 1e9)


def test_capabilities_and_topics(sim: OnvifSim) -> None:
    ev = Events(xaddr=base(sim, "CAM-1") + "/onvif/events_service", **args(sim, "CAM-1"))
    caps = ev.GetServiceCapabilities()
    assert caps.MaxPullPoints == sim_events.MAX_SUBSCRIPTIONS
    plugin = Envelopes()
    ev = Events(xaddr=base(sim, "CAM-1") + "/onvif/events_service", **args(sim, "CAM-1", [plugin]))
    props = ev.GetEventProperties()
    assert props.FixedTopicSet is True
    text = etree.tostring(plugin.last).decode()
    for leaf in ("ImagingService", "MotionAlarm", "SignalLoss", "StorageFailure"):
        assert f"<{leaf} " in text


def test_initialized_then_changes_in_the_cameras_clock(sim: OnvifSim) -> None:
    plugin = Envelopes()
    _, pp, _ = subscribe(sim, "CAM-1", plugin)
    pp.PullMessages(Timeout="PT1S", MessageLimit=10)
    first = notes(plugin.last)
    assert {(t, op, v) for t, op, v, _ in first} == {(topic, "Initialized", "false") for topic in sim_events.TOPICS}
    # nothing new: the pull waits about its timeout, then answers empty
    t0 = time.monotonic()
    pp.PullMessages(Timeout="PT1S", MessageLimit=10)
    assert notes(plugin.last) == [] and 0.8 < time.monotonic() - t0 < 3
    # a tamper while a pull waits: answered at once, stamped with the camera's time (true time + 90 s)
    true_ns = time.time_ns()
    sim.fault("camera_tamper", "CAM-1")
    t0 = time.monotonic()
    pp.PullMessages(Timeout="PT5S", MessageLimit=10)
    assert time.monotonic() - t0 < 2
    [(topic, op, value, utc)] = notes(plugin.last)
    assert (topic, op, value) == ("tns1:VideoSource/GlobalSceneChange/ImagingService", "Changed", "true")
    assert abs(ns(utc) - (true_ns + OFFSET_NS)) < 1_000_000_000
    sim.fault("camera_motion", "CAM-1", seconds=0.5)
    sim.fault("camera_tamper_end", "CAM-1")
    got: list[tuple[str, str]] = []
    deadline = time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < deadline:
        pp.PullMessages(Timeout="PT2S", MessageLimit=1)  # MessageLimit honoured: one at a time
        batch = notes(plugin.last)
        assert len(batch) <= 1
        got += [(t.rsplit("/", 1)[-1], v) for t, _, v, _ in batch]
    assert sorted(got) == sorted([("ImagingService", "false"), ("MotionAlarm", "true"), ("MotionAlarm", "false")])


def test_synchronization_point_renew_and_unsubscribe(sim: OnvifSim) -> None:
    plugin = Envelopes()
    _, pp, mgr = subscribe(sim, "CAM-1", plugin, termination="PT30S")
    pp.PullMessages(Timeout="PT1S", MessageLimit=10)
    sim.cameras["CAM-1"].stalled = True
    pp.SetSynchronizationPoint()
    pp.PullMessages(Timeout="PT1S", MessageLimit=10)
    again = {(t.rsplit("/", 1)[-1], op, v) for t, op, v, _ in notes(plugin.last)}
    assert ("SignalLoss", "Initialized", "true") in again and len(again) == len(sim_events.TOPICS)
    answer = mgr.Renew(TerminationTime="PT1000000S")  # bounded: at most an hour
    ends = answer.TerminationTime
    ends_ns = int(ends.timestamp() * 1e9) if isinstance(ends, datetime) else ns(str(ends))
    assert ends_ns - (time.time_ns() + OFFSET_NS) <= sim_events.MAX_TERMINATION_S * 1e9 + 2e9
    assert sim_events.subscriptions(sim.server, "CAM-1") == 1  # type: ignore[arg-type]
    mgr.Unsubscribe()
    assert sim_events.subscriptions(sim.server, "CAM-1") == 0  # type: ignore[arg-type]
    with pytest.raises(ONVIFOperationException):
        pp.PullMessages(Timeout="PT1S", MessageLimit=10)


def test_subscriptions_are_bounded_and_end(sim: OnvifSim) -> None:
    ev = Events(xaddr=base(sim, "CAM-1") + "/onvif/events_service", **args(sim, "CAM-1"))
    for _ in range(sim_events.MAX_SUBSCRIPTIONS):
        ev.CreatePullPointSubscription(InitialTerminationTime="PT10S")
    with pytest.raises(ONVIFOperationException):
        ev.CreatePullPointSubscription(InitialTerminationTime="PT10S")
    # an absolute termination time in the past is raised to the minimum (the subscription still lives)
    assert sim_events.parse_termination("2000-01-01T00:00:00Z", 10**18, 0) == 10**18 + 10 * 10**9


def test_a_model_without_events_answers_404(sim: OnvifSim) -> None:
    assert "events" not in sim.cameras["CAM-3"].onvif.services
    r = requests.post(base(sim, "CAM-3") + "/onvif/events_service", data=b"<x/>", timeout=5)
    assert r.status_code == 404
    r = requests.post(base(sim, "CAM-3") + "/onvif/pullpoint/1", data=b"<x/>", timeout=5)
    assert r.status_code == 404
