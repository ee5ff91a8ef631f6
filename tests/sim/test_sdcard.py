"""The simulated SD card (camgrid.sim.sdcard): what it holds through uplink cuts, power cuts, wrapping and failure
(docs/design/onvif.md, "SD cards and Profile G in the simulator")."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from camgrid.sim.faults import FaultError
from camgrid.sim.sdcard import Cadence, SdCard
from camgrid.sim.service import ControlApi
from tests.sim.onvif_harness import OnvifSim, running_onvif_sim, spec

S = 1_000_000_000
T0 = 1_800_000_000 * S
# 25 pictures per second, a 2 s loop with keyframes every second
CAD = Cadence(50, 2 * S, (0, 25))


def card(capacity_s: int = 3600, battery: bool = False, rides_through: bool = True) -> SdCard:
    c = SdCard(capacity_ns=capacity_s * S, battery=battery, rides_through=rides_through)
    c.start(T0)
    return c


def test_cadence_pictures_and_keyframes() -> None:
    g = CAD.at_or_after(T0 + 1)
    assert CAD.time_of(g) >= T0 + 1 and CAD.time_of(g - 1) < T0 + 1
    assert CAD.time_of(CAD.at_or_after(T0)) == T0  # T0 is a whole second: a picture
    k = CAD.key_at_or_before(T0 + S // 2)
    assert CAD.time_of(k) == T0 and CAD.is_key(k)
    k2 = CAD.key_at_or_after(T0 + S // 2)
    assert CAD.time_of(k2) == T0 + S and CAD.is_key(k2)
    assert not CAD.is_key(k + 1)
    assert CAD.frame(k + 50) == CAD.frame(k)


@pytest.mark.parametrize(
    ("events", "expect"),
    [
        # nothing happens: one span from the start
        ([], [(0, 100)]),
        # an uplink cut, a stall or nobody connected change nothing: the card has no such inputs at all
        # a power cut without a battery: stops recording and loses what was held
        ([("off", 40), ("on", 60)], [(60, 100)]),
        # with a battery the camera rides through its own power cut: it keeps recording (and what it held)
        ([("battery", 0), ("off", 40), ("on", 60)], [(0, 100)]),
        # a battery that only keeps the card's content (model parameter): the cut itself is a gap
        ([("battery", 0), ("keeps-only", 0), ("off", 40), ("on", 60)], [(0, 40), (60, 100)]),
        # a failed card is empty and records nothing until replaced
        ([("fail", 30)], []),
        ([("fail", 30), ("replace", 70)], [(70, 100)]),
        # a power cut while the card has failed: still nothing; replaced later, records again
        ([("fail", 10), ("off", 20), ("on", 30), ("replace", 50)], [(50, 100)]),
    ],
)
def test_card_model(events: list[tuple[str, int]], expect: list[tuple[int, int]]) -> None:
    c = card()
    for what, at in events:
        t = T0 + at * S
        if what == "battery":
            c.battery = True
        elif what == "keeps-only":
            c.rides_through = False
        elif what in ("off", "on"):
            c.power(what == "on", t)
        elif what == "fail":
            c.fail(t)
        elif what == "replace":
            c.replace(t)
    assert c.held(T0 + 100 * S) == [(T0 + a * S, T0 + b * S) for a, b in expect]


def test_wraps_dropping_the_oldest() -> None:
    c = card(capacity_s=30, battery=True, rides_through=False)
    c.power(False, T0 + 10 * S)
    c.power(True, T0 + 20 * S)
    # held 10 s, then 20 s more by t=40: full; by t=45, the oldest 5 s are gone
    assert c.held(T0 + 40 * S) == [(T0, T0 + 10 * S), (T0 + 20 * S, T0 + 40 * S)]
    assert c.held(T0 + 45 * S) == [(T0 + 5 * S, T0 + 10 * S), (T0 + 20 * S, T0 + 45 * S)]
    # the whole first span goes, then the open one is cut from its start
    assert c.held(T0 + 70 * S) == [(T0 + 40 * S, T0 + 70 * S)]
    total = sum(e - s for s, e in c.held(T0 + 1000 * S))
    assert total == 30 * S


def test_recording_and_wrapping_start_on_keyframes() -> None:
    c = SdCard(capacity_ns=10 * S, cadence=CAD)
    c.start(T0 + S // 3)  # mid-GOP: the card's first picture is the next keyframe
    held = c.held(T0 + 5 * S)
    assert held == [(T0 + S, T0 + 5 * S)]
    later = c.held(T0 + 20 * S + S // 2)  # 10.5 s past capacity: cut to the next keyframe after the excess
    assert later[0][0] % S == 0 and CAD.is_key(CAD.at_or_after(later[0][0]))
    assert later[0][1] - later[0][0] <= 10 * S


def test_cheap_state_only_changes_on_events() -> None:
    """62,000 cameras: a card is a few integers, and holding for a long time adds nothing."""
    c = card()
    for _ in range(1000):
        c.held(T0 + 10**6 * S)
    assert c.spans == [] and c.since is not None


def test_cards_of_62000_cameras_are_cheap() -> None:
    """A card per camera for a whole city is a few integers each, and holding for hours adds nothing (the card
    changes on faults, never per picture). Memory, not time: a timing would measure the machine's load."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cards = [SdCard(capacity_ns=24 * 3600 * S, battery=i % 3 == 0, cadence=CAD) for i in range(62_000)]
    for c in cards:
        c.start(T0 + S // 3)
    made = tracemalloc.get_traced_memory()[0] - before
    for c in cards:
        c.held(T0 + 10 * 3600 * S)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert made / len(cards) < 1024, f"{made / len(cards):.0f} bytes per card"
    assert held - made < 64 * len(cards)
    assert cards[0].held(T0 + 5 * S) == [(T0 + S, T0 + 5 * S)]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnvifSim]:
    truth = tmp_path_factory.mktemp("sd") / "truth.jsonl"
    with running_onvif_sim([spec(1), spec(2), spec(4)], truth=truth) as s:
        yield s


def sdcard(s: OnvifSim, camera_id: str) -> tuple[str, Any]:
    """``GET /sdcard/<camera>`` of the control API (the route, without its socket)."""
    return ControlApi(s.server, s.injector).route("GET", f"/sdcard/{camera_id}", b"")


def held(sim: OnvifSim, camera_id: str) -> list[list[int]]:
    """The card's spans once it holds something (recording starts at the next keyframe: at most a GOP, 1 s)."""
    deadline = time.monotonic() + 5
    while not (spans := _spans(sim, camera_id)):
        assert time.monotonic() < deadline, f"{camera_id}'s card holds nothing"
        time.sleep(0.02)
    return spans


def test_sdcard_route_is_the_ground_truth(sim: OnvifSim) -> None:
    held(sim, "cam-0001")
    status, body = sdcard(sim, "cam-0001")
    assert status == "200 OK"
    assert body["recording"] is True and body["failed"] is False and body["battery"] is True
    [[start, end]] = body["spans"]
    assert start <= end <= time.time_ns()
    assert sdcard(sim, "cam-0004")[0] == "404 Not Found"  # no Profile G: no card
    assert sdcard(sim, "nope")[0] == "404 Not Found"
    with pytest.raises(FaultError):
        sim.fault("sd_card_failure", "cam-0004")


def _spans(sim: OnvifSim, camera_id: str) -> list[list[int]]:
    status, body = sdcard(sim, camera_id)
    assert status == "200 OK"
    return list(body["spans"])


def test_faults_act_on_the_card(sim: OnvifSim) -> None:
    cam2 = sim.cameras["cam-0002"].spec
    [[first, _]] = held(sim, "cam-0002")
    # the uplink cut and a stall change nothing: the camera keeps recording
    sim.fault("uplink_cut", cam2.uplink)
    sim.fault("stall", "cam-0002")
    sim.fault("unstall", "cam-0002")
    sim.fault("uplink_restore", cam2.uplink)
    [[same, _]] = _spans(sim, "cam-0002")
    assert same == first
    # its own power cut (no battery): recording stops and what it held is lost
    sim.fault("site_cut", cam2.site)
    assert _spans(sim, "cam-0002") == []
    restored = time.time_ns()
    sim.fault("site_restore", cam2.site)
    [[again, _]] = held(sim, "cam-0002")
    assert again >= restored  # a new span, from the first keyframe after the power came back
    # camera 1 has a battery: it rides through its own power cut
    cam1 = sim.cameras["cam-0001"].spec
    [[before, _]] = held(sim, "cam-0001")
    sim.fault("site_cut", cam1.site)
    sim.fault("site_restore", cam1.site)
    [[after, _]] = _spans(sim, "cam-0001")
    assert after == before
    # a failed card is empty and records nothing, until replaced
    sim.fault("sd_card_failure", "cam-0001")
    _, body = sdcard(sim, "cam-0001")
    assert (body["spans"], body["recording"], body["failed"]) == ([], False, True)
    assert sim.cameras["cam-0001"].sd_failed
    replaced = time.time_ns()
    sim.fault("sd_card_replace", "cam-0001")
    [[fresh, _]] = held(sim, "cam-0001")
    assert fresh >= replaced
    assert sdcard(sim, "cam-0001")[1]["recording"] is True
    assert sim.truth is not None
    kinds = [json.loads(line)["kind"] for line in sim.truth.read_text().splitlines()]
    assert kinds[-2:] == ["sd_card_failure", "sd_card_replace"]
