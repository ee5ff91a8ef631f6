"""``describe`` and ``clock_offset`` against the simulator's ONVIF services, spoken to by the real onvif-python
client (docs/design/onvif.md, "Discovery and set-up"): each model's services, streams and mask support as the
simulator serves them, Media ver10 when Media2 is not used, the camera's clock offset, a wrong login, and a silent
camera that costs no more than its timeouts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import requests.adapters

from camgrid.clock import NS_PER_S, SystemClock
from camgrid.onvif.connect import OnvifError, OnvifTarget, parse_target
from camgrid.onvif.device import camera_utc_ns, clock_offset, describe, posix_tz_east_s
from camgrid.sim.layout import onvif_traits
from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec

SPECS = [spec(i) for i in (1, 2, 3, 4)]


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    with running_onvif_sim(SPECS) as s:
        yield s


def target(sim: OnvifSim, index: int, *, password: str | None = None, timeout_s: int = 3) -> OnvifTarget:
    s = SPECS[index - 1]
    pw = s.password if password is None else password
    return parse_target(sim.device_url(s.id), username=USER, password=pw, timeout_s=timeout_s)


@pytest.mark.parametrize("index", [1, 2, 3, 4])
def test_each_model_is_described_as_the_simulator_serves_it(sim: OnvifSim, index: int) -> None:
    cam = SPECS[index - 1]
    traits = onvif_traits(index)
    facts = describe(target(sim, index))
    assert facts.maker == "camgrid-sim" and facts.model and facts.serial and facts.firmware
    assert set(facts.services) == set(traits.services)
    assert facts.masks is (traits.masks and "media2" in traits.services)
    assert facts.events is ("events" in traits.services)
    assert facts.profile_g is ({"search", "replay"} <= traits.services)
    assert facts.media_version == "media2"
    assert facts.main is not None and facts.sub is not None
    assert facts.main.stream_uri == f"rtsp://127.0.0.1:{sim.rtsp_port}/h264/{cam.id}"
    assert facts.sub.stream_uri == f"rtsp://127.0.0.1:{sim.rtsp_port}/h264/{cam.id}/sub"
    assert facts.main.width * facts.main.height > facts.sub.width * facts.sub.height
    assert facts.main.encoding == "H264" and facts.main.fps > 0
    assert facts.snapshot_uri.startswith(f"http://{sim.device_url(cam.id).split('/')[2]}/")


def test_media_ver10_gives_the_same_streams(sim: OnvifSim) -> None:
    by2, by1 = describe(target(sim, 1)), describe(target(sim, 1), media2=False)
    assert by1.media_version == "media"
    assert by1.main is not None and by2.main is not None and by1.sub is not None and by2.sub is not None
    assert (by1.main.stream_uri, by1.sub.stream_uri) == (by2.main.stream_uri, by2.sub.stream_uri)
    assert (by1.main.width, by1.main.height) == (by2.main.width, by2.main.height)
    assert by1.masks is False  # masks are a Media2 matter


def test_a_wrong_password_is_refused_without_showing_it(sim: OnvifSim) -> None:
    with pytest.raises(OnvifError) as err:
        describe(target(sim, 1, password="Wr0ng-pass!"))
    assert "wrong login" in str(err.value) and "Wr0ng-pass!" not in str(err.value)


def test_the_clock_offset_is_measured_against_the_requests_midpoint(sim: OnvifSim) -> None:
    state = sim.cameras[SPECS[1].id]
    state.clock_offset_ns = 90 * NS_PER_S
    try:
        reading = clock_offset(target(sim, 2), SystemClock())
    finally:
        state.clock_offset_ns = 0
    assert reading.basis == "utc"
    # whole seconds from the camera: the middle of its second is taken, so within half a second and the round trip
    assert abs(reading.offset_ns - 90 * NS_PER_S) <= NS_PER_S // 2 + reading.round_trip_ns
    assert 0 < reading.round_trip_ns < 2 * NS_PER_S
    assert abs(reading.camera_utc_ns - (time.time_ns() + 90 * NS_PER_S)) < 3 * NS_PER_S
    plain = clock_offset(target(sim, 2), SystemClock())
    assert abs(plain.offset_ns) <= NS_PER_S // 2 + plain.round_trip_ns


def test_a_silent_camera_costs_its_timeouts_not_more(sim: OnvifSim, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed (docs/design/tests-on-a-busy-machine.md): every HTTP request to the silent camera is seen
    at the transport, and describe gives up after GetServices and GetCapabilities, each cut off by the target's own
    timeout; a third request (the time question, or any other call) would cost a third timeout."""
    uplink = SPECS[2].uplink
    host = sim.device_url(SPECS[2].id).split("/")[2]
    sent: list[tuple[Any, BaseException | None]] = []  # (the timeout given to the transport, its failure)
    send = requests.adapters.HTTPAdapter.send

    def counted(self: requests.adapters.HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        if f"//{host}/" not in (request.url or ""):
            return send(self, request, *args, **kwargs)
        try:
            answer = send(self, request, *args, **kwargs)
        except BaseException as exc:
            sent.append((kwargs.get("timeout"), exc))
            raise
        sent.append((kwargs.get("timeout"), None))
        return answer

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", counted)
    sim.fault("uplink_cut", uplink)
    try:
        with pytest.raises(OnvifError, match="no answer"):
            describe(target(sim, 3, timeout_s=1))
    finally:
        sim.fault("uplink_restore", uplink)
    assert len(sent) == 2, sent  # GetServices, then GetCapabilities
    assert all(timeout == 1 and isinstance(exc, requests.exceptions.ReadTimeout) for timeout, exc in sent), sent
    sent.clear()
    assert describe(target(sim, 3)).model  # back once the uplink is
    assert sent and all(exc is None for _, exc in sent)  # the same transport, answered


def _when(y: int, mo: int, d: int, h: int, mi: int, s: int) -> SimpleNamespace:
    return SimpleNamespace(
        Date=SimpleNamespace(Year=y, Month=mo, Day=d), Time=SimpleNamespace(Hour=h, Minute=mi, Second=s)
    )


T = 1_767_225_600 * NS_PER_S  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("tz", "dst", "east_s"),
    [
        ("UTC0", False, 0),
        ("CET-1CEST,M3.5.0,M10.5.0/3", False, 3600),
        ("CET-1CEST,M3.5.0,M10.5.0/3", True, 7200),
        ("EST5EDT,M3.2.0,M11.1.0", False, -5 * 3600),
        ("EST5EDT,M3.2.0,M11.1.0", True, -4 * 3600),
        ("<+0545>-5:45", False, 5 * 3600 + 45 * 60),
        ("IST-5:30", True, 5 * 3600 + 30 * 60),  # no daylight part: DaylightSavings cannot apply
        ("Asia/Kathmandu", False, None),  # an Olson name is not a POSIX TZ string
    ],
)
def test_posix_time_zones(tz: str, dst: bool, east_s: int | None) -> None:
    assert posix_tz_east_s(tz, dst=dst) == east_s


def test_a_camera_without_utc_is_read_from_its_local_time_and_zone() -> None:
    utc_answer = SimpleNamespace(UTCDateTime=_when(2026, 1, 1, 0, 0, 0), LocalDateTime=_when(2026, 1, 1, 5, 45, 0))
    assert camera_utc_ns(utc_answer) == (T + NS_PER_S // 2, "utc")
    zoned = SimpleNamespace(
        UTCDateTime=None,
        LocalDateTime=_when(2026, 1, 1, 5, 45, 0),
        TimeZone=SimpleNamespace(TZ="<+0545>-5:45"),
        DaylightSavings=False,
    )
    assert camera_utc_ns(zoned) == (T + NS_PER_S // 2, "local+tz")
    unzoned = SimpleNamespace(UTCDateTime=None, LocalDateTime=_when(2026, 1, 1, 0, 0, 0), TimeZone=None)
    assert camera_utc_ns(unzoned) == (T + NS_PER_S // 2, "local")
    with pytest.raises(OnvifError):
        camera_utc_ns(SimpleNamespace(UTCDateTime=None, LocalDateTime=None))
    with pytest.raises(OnvifError):  # a date that does not exist
        camera_utc_ns(SimpleNamespace(UTCDateTime=_when(2026, 2, 30, 0, 0, 0), LocalDateTime=None))
