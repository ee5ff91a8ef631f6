"""What a camera's card holds, asked with the real onvif-python client of the simulator's real Search and Replay
services (docs/design/onvif.md, "Edge backfill"): spans in the camera's clock, holes included, the replay URI, and a
plain "no Profile G" from a camera without them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from camgrid.onvif.connect import OnvifError, OnvifTarget
from camgrid.onvif.recordings import Span, card_contents, held_spans
from camgrid.sim.replay import install_cards
from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec

S = 1_000_000_000
MS = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    # camera 1: every service, a battery; camera 4: a model without Profile G (sim.layout.onvif_traits)
    with running_onvif_sim([spec(1), spec(4)]) as s:
        install_cards(s.cameras, time.time_ns())  # as ``camgrid sim`` does when it starts
        yield s


def _target(sim: OnvifSim, cid: str, password: str | None = None) -> OnvifTarget:
    index = sim.cameras[cid].spec.index
    return OnvifTarget(sim.device_url(cid), USER, password or f"onvif-pw-{index}", timeout_s=5)


def _wait_until(t_ns: int) -> None:
    while time.time_ns() < t_ns:
        time.sleep(0.02)


def test_spans_in_camera_time_with_holes_and_the_replay_uri(sim: OnvifSim) -> None:
    cam = sim.cameras["cam-0001"]
    assert cam.card is not None
    cam.clock_offset_ns = 7 * S  # the camera's clock runs seven seconds ahead
    cam.card.rides_through = False  # its battery keeps the card's content, not the recording, through a power cut
    _wait_until(time.time_ns() + 2500 * MS)  # the card records from a keyframe (one a second)
    t_off = time.time_ns()
    cam.card.power(False, t_off)
    _wait_until(t_off + 2 * S)
    t_on = time.time_ns()
    cam.card.power(True, t_on)
    _wait_until(t_on + 2500 * MS)
    truth = cam.card.held(time.time_ns())
    assert len(truth) == 2
    lo, hi = truth[0][0] - 10 * S, time.time_ns()
    got = card_contents(_target(sim, "cam-0001"), start_ns=lo + cam.clock_offset_ns, end_ns=hi + cam.clock_offset_ns)
    assert got.profile_g and got.source == "events" and got.recording_token
    assert got.replay_uri.startswith("rtsp://")
    ms = MS  # the search's times have milliseconds
    want = [(s + cam.clock_offset_ns, min(e, hi) + cam.clock_offset_ns) for s, e in truth]
    assert len(got.spans) == 2
    for span, (s, e) in zip(got.spans, want, strict=True):
        assert abs(span.start_ns - s) <= ms and abs(span.end_ns - e) <= ms
    # Asked inside the hole only: nothing held.
    hole = card_contents(
        _target(sim, "cam-0001"),
        start_ns=truth[0][1] + cam.clock_offset_ns + 100 * ms,
        end_ns=truth[1][0] + cam.clock_offset_ns - 100 * ms,
    )
    assert hole.profile_g and hole.spans == () and hole.replay_uri == ""


def test_a_camera_without_profile_g_says_so(sim: OnvifSim) -> None:
    now = time.time_ns()
    got = card_contents(_target(sim, "cam-0004"), start_ns=now - 60 * S, end_ns=now)
    assert not got.profile_g and "Profile G" in got.detail and got.spans == ()


def test_a_wrong_password_is_an_error_without_it(sim: OnvifSim) -> None:
    now = time.time_ns()
    with pytest.raises(OnvifError) as err:
        card_contents(_target(sim, "cam-0001", password="Wr0ng-s3cret!"), start_ns=now - 60 * S, end_ns=now)
    assert "Wr0ng-s3cret!" not in str(err.value)


@pytest.mark.parametrize(
    ("events", "want"),
    [
        ([], []),
        ([(5, "V", True)], [(5, 100)]),  # still recording at the end
        ([(0, "V", True), (40, "V", False), (60, "V", True)], [(0, 40), (60, 100)]),
        ([(-10, "V", True), (30, "V", False)], [(0, 30)]),  # the start state, before the interval
        ([(10, "A", True), (20, "A", False)], []),  # another track (audio) says nothing of the video
        ([(10, "V", True), (15, "V", True), (20, "V", False), (20, "V", False)], [(10, 20)]),  # repeated states
    ],
)
def test_held_spans(events: list[tuple[int, str, bool]], want: list[tuple[int, int]]) -> None:
    assert list(held_spans(events, 0, 100, {"V"})) == [Span(a, b) for a, b in want]
