"""The simulated SD card (camgrid.sim.sdcard): what it holds through uplink cuts, power cuts, wrapping and failure
(docs/design/onvif.md, "SD cards and Profile G in the simulator")."""

from __future__ import annotations

import pytest

from camgrid.sim.sdcard import Cadence, SdCard

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
