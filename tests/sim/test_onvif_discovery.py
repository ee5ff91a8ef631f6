"""WS-Discovery of the simulated cameras, judged by the ``wsdiscovery`` package: its Probe messages and parser on a
socket of the test's own (its daemon does not read answers to unicast probes), and its threaded daemon itself over
multicast where the host routes it. Design: docs/design/onvif.md, "The simulator as ONVIF devices"."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from wsdiscovery.actions import constructProbe
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage
from wsdiscovery.qname import QName
from wsdiscovery.scope import Scope

from camgrid.sim.onvif.discovery import MAX_MESSAGE, DiscoveryResponder, endpoint
from tests.sim.onvif_harness import OnvifSim, running_onvif_sim, spec

NVT = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    with running_onvif_sim([spec(1), spec(2), spec(3)], discovery=True) as s:
        yield s


def probe(
    sim: OnvifSim, dest: str, *, types: list[Any] | None = None, scopes: list[Any] | None = None, wait_s: float = 0.4
) -> tuple[Any, list[tuple[str, Any]]]:
    """Send one Probe to ``dest`` and gather (peer, parsed answer) until ``wait_s`` passes without one."""
    env = constructProbe([NVT] if types is None else types, scopes or [])
    data = createSOAPMessage(env).encode()
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(wait_s)
        sock.sendto(data, (dest, sim.discovery_port))
        sock.sendto(data, (dest, sim.discovery_port))  # as UDP clients do: the repeat must not be answered again
        while True:
            try:
                answer, peer = sock.recvfrom(65535)
            except TimeoutError:
                break
            out.append((str(peer[0]), parseSOAPMessage(answer, peer[0])))
    return env, out


def test_a_camera_address_answers_for_that_camera_from_that_address(sim: OnvifSim) -> None:
    eprs = set()
    for camera_id, cam in sim.cameras.items():
        env, answers = probe(sim, cam.spec.onvif_address)
        assert len(answers) == 1, camera_id
        peer, answer = answers[0]
        assert peer == cam.spec.onvif_address
        assert answer.getRelatesTo() == env.getMessageId()
        (match,) = answer.getProbeResolveMatches()
        assert match.getXAddrs() == [sim.device_url(camera_id)]
        assert match.getEPR() == endpoint(cam) and match.getEPR().startswith("urn:uuid:")
        assert (NVT.getNamespace(), NVT.getLocalname()) in [
            (t.getNamespace(), t.getLocalname()) for t in match.getTypes()
        ]
        assert f"onvif://www.onvif.org/location/site/S-{cam.spec.index:03d}" in [
            s.getValue() for s in match.getScopes()
        ]
        eprs.add(match.getEPR())
    assert len(eprs) == 3


def test_localhost_answers_for_every_reachable_camera(sim: OnvifSim) -> None:
    _, answers = probe(sim, "127.0.0.1")
    found = [m.getXAddrs()[0] for _, a in answers for m in a.getProbeResolveMatches()]
    assert sorted(found) == sorted(sim.device_url(c) for c in sim.cameras)
    sim.fault("uplink_cut", "U-02")
    try:
        _, answers = probe(sim, "127.0.0.1")
        found = [m.getXAddrs()[0] for _, a in answers for m in a.getProbeResolveMatches()]
        assert sorted(found) == sorted(sim.device_url(c) for c in ("cam-0001", "cam-0003"))
        assert probe(sim, sim.cameras["cam-0002"].spec.onvif_address)[1] == []
    finally:
        sim.fault("uplink_restore", "U-02")


def test_types_and_scopes_filter(sim: OnvifSim) -> None:
    other = QName("http://example.com/printers", "Printer", "p")
    assert probe(sim, "127.0.0.1", types=[other])[1] == []
    _, answers = probe(sim, "127.0.0.1", types=[], scopes=[Scope("onvif://www.onvif.org/location/site/S-003")])
    found = [m.getXAddrs()[0] for _, a in answers for m in a.getProbeResolveMatches()]
    assert found == [sim.device_url("cam-0003")]


def test_anything_but_a_probe_is_ignored(sim: OnvifSim) -> None:
    junk = [
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
        createSOAPMessage(constructProbe([NVT], [])).encode().replace(b"/Probe<", b"/Hello<"),
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        for data in junk:
            sock.sendto(data, ("127.0.0.1", sim.discovery_port))
        with pytest.raises(TimeoutError):
            sock.recvfrom(65535)
    assert len(probe(sim, "127.0.0.1")[1]) == 1  # still answering


def test_a_big_city_answers_in_messages_under_64_kib(sim: OnvifSim) -> None:
    base = sim.cameras["cam-0001"]
    cams = [
        dataclasses.replace(base, spec=dataclasses.replace(base.spec, id=f"cam-{i:05d}", index=i))
        for i in range(1, 3001)
    ]
    responder = DiscoveryResponder(sim.onvif)
    messages = responder.messages(cams, "urn:uuid:0000")
    assert len(messages) > 1 and all(len(m) < MAX_MESSAGE for m in messages)
    parsed = [parseSOAPMessage(m, "127.0.0.1") for m in messages]
    xaddrs = [m.getXAddrs()[0] for p in parsed for m in p.getProbeResolveMatches()]
    assert len(xaddrs) == len(set(xaddrs)) == 3000
    assert len({p.getMessageId() for p in parsed}) == len(parsed)  # each message its own id: none is dropped


def _multicast_address() -> str | None:
    import ifaddr

    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                return ip.ip
    return None


def test_the_wsdiscovery_daemon_finds_the_cameras_by_multicast(sim: OnvifSim) -> None:
    """The package's own ThreadedWSDiscovery probes the group from the host's interfaces (port 3702, its fixed
    port; SO_REUSEADDR lets it share it), so the responder here listens there and accepts the host's own address."""
    if _multicast_address() is None:
        pytest.skip("no interface beyond loopback to send multicast from")
    from wsdiscovery.discovery import ThreadedWSDiscovery

    responder = DiscoveryResponder(sim.onvif, loopback_only=False)
    asyncio.run_coroutine_threadsafe(responder.start(3702), sim.loop).result(5)
    wsd = ThreadedWSDiscovery()
    wsd.start()
    try:
        services = wsd.searchServices(types=[NVT], timeout=2)
    finally:
        wsd.stop()
        sim.loop.call_soon_threadsafe(responder.close)
    ours = {s.getXAddrs()[0] for s in services if f":{sim.onvif_port}/" in s.getXAddrs()[0]}
    assert ours == {sim.device_url(c) for c in sim.cameras}


def test_probes_from_beyond_loopback_are_not_answered(sim: OnvifSim) -> None:
    outside = _multicast_address()
    if outside is None:
        pytest.skip("no address beyond loopback on this host")
    data = createSOAPMessage(constructProbe([NVT], [])).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((outside, 0))  # the probe comes from the host's own network address
        sock.settimeout(0.5)
        sock.sendto(data, (outside, sim.discovery_port))
        with pytest.raises(TimeoutError):
            sock.recvfrom(65535)
