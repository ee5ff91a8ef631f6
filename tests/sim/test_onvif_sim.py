"""The simulated cameras as ONVIF devices, judged by foreign clients: onvif-python (through camgrid's ``connect``)
for the services, ffprobe for the stream URIs they give, PyAV for the snapshot, the ONVIF WSDLs' own schemas for the
answers, and raw sockets for what a client library hides (status codes, silence, resets, limits).
Design: docs/design/onvif.md, "The simulator as ONVIF devices"."""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import pytest
import requests
from onvif.utils.exceptions import ONVIFOperationException

from camgrid.onvif.connect import OnvifError, OnvifTarget, connect
from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec
from tests.sim.onvif_wire import envelope, request, token

NS_MEDIA2 = "http://www.onvif.org/ver20/media/wsdl"
ALL = {
    "http://www.onvif.org/ver10/device/wsdl",
    "http://www.onvif.org/ver10/media/wsdl",
    NS_MEDIA2,
    "http://www.onvif.org/ver10/events/wsdl",
    "http://www.onvif.org/ver10/search/wsdl",
    "http://www.onvif.org/ver10/replay/wsdl",
    "http://www.onvif.org/ver10/recording/wsdl",
}
PROFILE_G = {
    "http://www.onvif.org/ver10/search/wsdl",
    "http://www.onvif.org/ver10/replay/wsdl",
    "http://www.onvif.org/ver10/recording/wsdl",
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnvifSim]:
    truth = tmp_path_factory.mktemp("onvif") / "truth.jsonl"
    with running_onvif_sim([spec(1), spec(2), spec(3), spec(4, "h265"), spec(5), spec(6)], truth=truth) as s:
        yield s


def client(sim: OnvifSim, camera_id: str, password: str | None = None) -> Any:
    cam = sim.cameras[camera_id]
    pw = cam.spec.password if password is None else password
    return connect(OnvifTarget(sim.device_url(camera_id), USER, pw))


def address(sim: OnvifSim, camera_id: str) -> str:
    return sim.cameras[camera_id].spec.onvif_address


def test_device_information_and_services_follow_the_model(sim: OnvifSim) -> None:
    expect = {
        "cam-0001": ("CG-1000", ALL, True),
        "cam-0002": ("CG-1100", ALL, False),
        "cam-0003": ("CG-1200", ALL - {"http://www.onvif.org/ver10/events/wsdl"}, True),
        "cam-0004": ("CG-1300", ALL - PROFILE_G, True),
    }
    serials = set()
    for camera_id, (model, services, masks) in expect.items():
        c = client(sim, camera_id)
        info = c.devicemgmt().GetDeviceInformation()
        assert (info.Manufacturer, info.Model) == ("camgrid-sim", model)
        serials.add(info.SerialNumber)
        assert {s.Namespace for s in c.services} == services, camera_id
        for s in c.services:  # every service at the camera's own address
            assert s.XAddr.startswith(f"http://{address(sim, camera_id)}:{sim.onvif_port}/onvif/")
        assert bool(c.media2().GetServiceCapabilities().Mask) is masks
        caps = c.devicemgmt().GetCapabilities(Category="All")
        assert (caps.Events is not None) == ("http://www.onvif.org/ver10/events/wsdl" in services)
        has_g = caps.Extension is not None and caps.Extension.Search is not None
        assert has_g == (services >= PROFILE_G)
        scopes = [s.ScopeItem for s in c.devicemgmt().GetScopes()]
        assert "onvif://www.onvif.org/name/Street%20%23" + camera_id[-1] in scopes
        assert ("onvif://www.onvif.org/Profile/G" in scopes) == has_g
    assert len(serials) == 4
    # a service the camera lacks is not there at all
    status, _ = request(
        address(sim, "cam-0003"), sim.onvif_port, "/onvif/events_service", envelope("GetEventProperties")
    )
    assert status == 404


def test_profiles_give_stream_uris_that_really_play(sim: OnvifSim) -> None:
    for camera_id, codec in (("cam-0001", "h264"), ("cam-0004", "hevc")):
        c = client(sim, camera_id)
        profiles = c.media2().GetProfiles(Type=["All"])
        assert [p.token for p in profiles] == ["main", "sub"]
        for p in profiles:
            enc = p.Configurations.VideoEncoder
            uri = c.media2().GetStreamUri(Protocol="RTSP", ProfileToken=p.token)
            assert (
                uri
                == c.media()
                .GetStreamUri(
                    StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}, ProfileToken=p.token
                )
                .Uri
            )
            password = sim.cameras[camera_id].spec.password
            authed = uri.replace("rtsp://", f"rtsp://{USER}:{password}@", 1)
            out = _ffprobe(authed)
            assert (out["codec_name"], out["width"], out["height"]) == (
                codec,
                enc.Resolution.Width,
                enc.Resolution.Height,
            )
            assert enc.Encoding == ("H265" if codec == "hevc" else "H264")
            assert enc.RateControl.FrameRateLimit == sim.server.fps
    # ver10 profiles name H.264 only (the enumeration has no H.265)
    v10 = client(sim, "cam-0004").media().GetProfiles()
    assert [p.VideoEncoderConfiguration for p in v10] == [None, None]
    assert client(sim, "cam-0001").media().GetProfiles()[0].VideoEncoderConfiguration.Encoding == "H264"


def _ffprobe(url: str) -> dict[str, Any]:
    import subprocess

    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-analyzeduration",
            "200000",
            "-probesize",
            "32768",
            "-timeout",
            "5000000",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "json",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(json.loads(out.stdout)["streams"][0])


def test_snapshot_is_a_jpeg_of_the_picture(sim: OnvifSim) -> None:
    c = client(sim, "cam-0001")
    uri = c.media().GetSnapshotUri(ProfileToken="main").Uri
    assert uri == f"http://{address(sim, 'cam-0001')}:{sim.onvif_port}/onvif/snapshot.jpg"
    assert c.media2().GetSnapshotUri(ProfileToken="main") == uri
    resp = requests.get(uri, timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/jpeg"
    with av.open(io.BytesIO(resp.content)) as container:
        frame = next(container.decode(video=0))
    info = sim.cameras["cam-0001"].clip.info
    assert (frame.width, frame.height) == (info.width, info.height)


def _camera_utc(c: Any) -> float:
    t = c.devicemgmt().GetSystemDateAndTime().UTCDateTime
    return datetime(
        t.Date.Year, t.Date.Month, t.Date.Day, t.Time.Hour, t.Time.Minute, t.Time.Second, tzinfo=UTC
    ).timestamp()


def test_clock_offset_fault_shows_in_the_camera_clock_and_the_truth(sim: OnvifSim) -> None:
    c = client(sim, "cam-0005")
    assert abs(_camera_utc(c) - time.time()) < 3
    entry = sim.fault("camera_clock_offset", "cam-0005", -3600)
    try:
        assert abs(_camera_utc(c) - (time.time() - 3600)) < 3
        assert abs(_camera_utc(client(sim, "cam-0006")) - time.time()) < 3  # only that camera
        assert sim.truth is not None
        lines = [json.loads(line) for line in sim.truth.read_text().splitlines()]
        assert entry in lines and entry["seconds"] == -3600 and entry["cameras"] == ["cam-0005"]
    finally:
        sim.fault("camera_clock_offset", "cam-0005", 0)
    assert abs(_camera_utc(c) - time.time()) < 3


def test_wrong_password_is_refused_but_the_clock_is_open(sim: OnvifSim) -> None:
    host, port = address(sim, "cam-0001"), sim.onvif_port
    password = sim.cameras["cam-0001"].spec.password
    status, body = request(host, port, "/onvif/device_service", envelope("GetDeviceInformation", token(USER, "nope")))
    assert status == 400 and b"ter:NotAuthorized" in body
    status, body = request(host, port, "/onvif/device_service", envelope("GetDeviceInformation"))
    assert status == 400 and b"ter:NotAuthorized" in body
    for digest in (True, False):
        status, body = request(
            host, port, "/onvif/device_service", envelope("GetDeviceInformation", token(USER, password, digest=digest))
        )
        assert status == 200 and b"camgrid-sim" in body
    status, body = request(host, port, "/onvif/device_service", envelope("GetSystemDateAndTime"))
    assert status == 200 and b"UTCDateTime" in body
    sim.fault("auth_refuse", "cam-0001")  # the camera's password changed: the old one is refused here too
    try:
        status, body = request(
            host, port, "/onvif/device_service", envelope("GetDeviceInformation", token(USER, password))
        )
        assert status == 400 and b"ter:NotAuthorized" in body
    finally:
        sim.fault("auth_accept", "cam-0001")
    # the real client: the refusal reaches it as an error, never with the password in it
    with pytest.raises((OnvifError, ONVIFOperationException)) as info:
        client(sim, "cam-0001", password="wrong-one").devicemgmt().GetDeviceInformation()
    assert "NotAuthorized" in str(info.value) or "Not Authorized" in str(info.value)
    status, body = request(
        host, port, "/onvif/device_service", envelope("SetSystemFactoryDefault", token(USER, password))
    )
    assert status == 500 and b"ter:ActionNotSupported" in body


def test_power_cut_resets_and_uplink_cut_is_silent(sim: OnvifSim) -> None:
    host, port = address(sim, "cam-0006"), sim.onvif_port
    body = envelope("GetSystemDateAndTime")
    sim.fault("uplink_cut", "U-06")
    try:
        with pytest.raises(TimeoutError):
            request(host, port, "/onvif/device_service", body, timeout=1.0)
    finally:
        sim.fault("uplink_restore", "U-06")
    assert request(host, port, "/onvif/device_service", body)[0] == 200
    sim.fault("power_cut", "F-06")
    try:
        with pytest.raises(ConnectionError):
            request(host, port, "/onvif/device_service", body, timeout=5.0)
        with pytest.raises((OnvifError, ONVIFOperationException)):  # connect itself, or the first call
            client(sim, "cam-0006").devicemgmt().GetDeviceInformation()
    finally:
        sim.fault("power_restore", "F-06")
    assert request(host, port, "/onvif/device_service", body)[0] == 200


def test_bodies_are_bounded_before_they_are_read(sim: OnvifSim) -> None:
    host, port = address(sim, "cam-0001"), sim.onvif_port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"POST /onvif/device_service HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        reply = sock.recv(4096)  # answered at once: the ten megabytes were never waited for
    assert reply.startswith(b"HTTP/1.1 413")
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"POST /onvif/device_service HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 431")
    padding = "<!--" + "x" * 200_000 + "-->"  # just under the bound: read and answered
    body = envelope("GetSystemDateAndTime", inner=padding)
    assert 200_000 < len(body) < 256 * 1024
    assert request(host, port, "/onvif/device_service", body)[0] == 200


def test_entities_and_doctypes_are_refused(sim: OnvifSim, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-XXE")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl">&x;</GetSystemDateAndTime>'
        "</s:Body></s:Envelope>"
    ).encode()
    status, body = request(address(sim, "cam-0001"), sim.onvif_port, "/onvif/device_service", xxe)
    assert status == 400 and b"ter:WellFormed" in body and b"TOP-SECRET" not in body
    status, body = request(address(sim, "cam-0001"), sim.onvif_port, "/onvif/device_service", b"<not xml")
    assert status == 400 and b"ter:WellFormed" in body


def test_no_camera_answers_at_an_address_that_is_not_one(sim: OnvifSim) -> None:
    status, _ = request("127.0.0.1", sim.onvif_port, "/onvif/device_service", envelope("GetSystemDateAndTime"))
    assert status == 404


def _outside_address() -> str | None:
    import ipaddress

    import ifaddr

    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                return ip.ip
    return None


def test_peers_outside_loopback_are_refused(sim: OnvifSim) -> None:
    outside = _outside_address()
    if outside is None:
        pytest.skip("no address beyond loopback on this host")
    with pytest.raises(ConnectionError):  # the listener is on 0.0.0.0, but the city is for this host only
        request(outside, sim.onvif_port, "/onvif/device_service", envelope("GetSystemDateAndTime"))


def test_the_control_api_names_each_cameras_device(sim: OnvifSim) -> None:
    from camgrid.sim.service import ControlApi

    status, rows = ControlApi(sim.server, sim.injector).route("GET", "/cameras", b"")
    assert status == "200 OK"
    by_id = {r["id"]: r for r in rows}
    assert by_id["cam-0004"]["onvif_address"] == "127.1.0.4" and by_id["cam-0004"]["onvif_model"] == "CG-1300"
    assert by_id["cam-0001"]["clock_offset_s"] == 0.0
