"""WS-Discovery and the describe pool against the simulator's responder and ONVIF services (docs/design/onvif.md,
"Discovery and set-up"): unicast probes find exactly the cameras asked, a probe to 127.0.0.1 (one responder for
many devices) finds them all, an address that never answers costs the probe's timeout, a wrong login or a silent
camera is that camera's error only, and everything is bounded."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from camgrid.clock import SystemClock
from camgrid.onvif.discovery import (
    DiscoveryRequest,
    Found,
    _matches,
    check_request,
    describe_all,
    expand_addresses,
    probe,
    run,
)
from camgrid.sim.layout import onvif_address
from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec

PASSWORD = "discover-pw-7"
SPECS = [spec(i, password=PASSWORD) for i in (1, 2, 3, 4)] + [spec(5, password="another-one-5")]
CLOCK = SystemClock()


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    with running_onvif_sim(SPECS, discovery=True) as s:
        yield s


def test_addresses_and_ranges_are_expanded_and_bounded() -> None:
    assert expand_addresses(["10.1.2.3", "10.1.2.0/30", "10.1.2.3"]) == ["10.1.2.3", "10.1.2.1", "10.1.2.2"]
    assert expand_addresses(["10.9.9.9/32"]) == ["10.9.9.9"]
    assert len(expand_addresses(["10.0.0.0/20"])) == 4094
    for bad in (
        ["10.0.0.0/19"],
        ["10.0.0.0/20", "10.1.0.0/24"],
        ["camera.local"],
        ["10.0.0.300"],
        ["0.0.0.0"],
        ["239.255.255.250"],
        ["255.255.255.255"],
    ):
        with pytest.raises(ValueError):
            expand_addresses(bad)
    for request in (
        DiscoveryRequest(addresses=("10.0.0.1",), port=0),
        DiscoveryRequest(addresses=("10.0.0.1",), timeout_s=60),
        DiscoveryRequest(addresses=("10.0.0.1",), describe_timeout_s=0),
        DiscoveryRequest(addresses=("10.0.0.1",), password="p" * 201),
    ):
        with pytest.raises(ValueError):
            check_request(request)
    assert "p" * 20 not in repr(DiscoveryRequest(password="p" * 20))


def test_a_unicast_probe_finds_exactly_the_cameras_asked(sim: OnvifSim) -> None:
    asked = [onvif_address(1), onvif_address(2)]
    start = time.monotonic()
    found = probe(asked, clock=CLOCK, port=sim.discovery_port, timeout_s=5.0)
    took = time.monotonic() - start
    assert sorted(f.xaddr for f in found) == sorted(sim.device_url(s.id) for s in SPECS[:2])
    assert {f.name for f in found} == {"Street #1", "Street #2"}
    assert all(f.responder == f.xaddr.split("/")[2].split(":")[0] for f in found)
    assert took < 2.0  # everyone asked has answered: no need to wait out the timeout


def test_one_responder_for_many_devices_gives_them_all(sim: OnvifSim) -> None:
    found = probe(["127.0.0.1"], clock=CLOCK, port=sim.discovery_port, timeout_s=3.0)
    assert sorted(f.xaddr for f in found) == sorted(sim.device_url(s.id) for s in SPECS)


def test_an_address_that_never_answers_costs_the_timeout(sim: OnvifSim) -> None:
    start = time.monotonic()
    assert probe([onvif_address(200)], clock=CLOCK, port=sim.discovery_port, timeout_s=0.6) == []
    assert 0.5 < time.monotonic() - start < 2.0


def test_garbage_and_foreign_answers_are_ignored() -> None:
    ids = frozenset({"urn:uuid:ours"})
    assert _matches(b"\x00\xffnot xml", "10.0.0.1", ids) == []
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert _matches(bomb, "10.0.0.1", ids) == []
    half = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/></s:Envelope>'
    assert _matches(half, "10.0.0.1", ids) == []


def test_discovery_describes_each_camera_and_one_wrong_login_is_its_own(sim: OnvifSim) -> None:
    request = DiscoveryRequest(
        addresses=(f"{onvif_address(0)}/29",),  # 127.1.0.1-6: five cameras and an empty address
        port=sim.discovery_port,
        timeout_s=1.0,
        describe_timeout_s=3,
        username=USER,
        password=PASSWORD,
    )
    probed, results = run(request, clock=CLOCK)
    assert probed == 6
    by_url = {r.found.xaddr: r for r in results}
    assert sorted(by_url) == sorted(sim.device_url(s.id) for s in SPECS)
    for s in SPECS[:4]:
        r = by_url[sim.device_url(s.id)]
        assert r.error == "" and r.facts is not None and r.clock is not None
        assert r.facts.main is not None and r.facts.main.stream_uri.endswith(f"/{s.id}")
    wrong = by_url[sim.device_url(SPECS[4].id)]
    assert wrong.facts is None and wrong.error and PASSWORD not in wrong.error


def test_a_silent_camera_is_reported_within_the_budget() -> None:
    with socket.socket() as silent:  # accepts connections, never answers a request
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        found = [Found(xaddr=f"http://127.0.0.1:{port}/onvif/device_service", responder="127.0.0.1")]
        start = time.monotonic()
        (result,) = describe_all(found, username="u", password="p", clock=CLOCK, timeout_s=2, budget_s=1.0)
        took = time.monotonic() - start
    assert result.facts is None and "no answer within" in result.error
    assert took < 2.0


def test_multicast_finds_the_cameras_on_the_local_network(sim: OnvifSim) -> None:
    """The probe goes to 239.255.255.250 (TTL 1) from the host's default interface and comes back to a responder of
    the simulator's that takes that interface's address as a peer (its own is for loopback peers only)."""
    from camgrid.onvif.connect import OnvifError
    from camgrid.sim.onvif.discovery import DiscoveryResponder

    responder = DiscoveryResponder(sim.onvif, loopback_only=False)
    port = asyncio.run_coroutine_threadsafe(responder.start(0), sim.loop).result(10)
    try:
        found = probe([], clock=CLOCK, port=port, timeout_s=1.5)
    except OnvifError as exc:
        pytest.skip(f"no multicast route on this host: {exc}")
    finally:
        sim.loop.call_soon_threadsafe(responder.close)
    assert sorted(f.xaddr for f in found) == sorted(sim.device_url(s.id) for s in SPECS)
