"""ONVIF Profile G in the simulator, judged by foreign clients: onvif-python (through camgrid's ``connect``) for the
Search and Replay services, a hand-written replay reader for the RTSP replay's every byte, and GStreamer's own ONVIF
replay client (rtspsrc onvif-mode) for the pictures (docs/design/onvif.md, "SD cards and Profile G in the
simulator")."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from onvif.utils.exceptions import ONVIFOperationException

from camgrid.media.nal import H264, split_annexb
from camgrid.onvif.connect import OnvifTarget, connect
from camgrid.sim.replay import cadence_of, format_clock
from camgrid.sim.sdcard import SdCard
from camgrid.sim.sendloop import picture_digest
from tests.backends import TIMEOUT_SCALE, wait_for
from tests.interop.pictures import picture_slices
from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec
from tests.sim.onvif_wire import envelope, request, token
from tests.sim.replay_wire import NTP_EPOCH_S, ReplayReader, pictures

S = 1_000_000_000
PICTURE = S // 10  # the harness films at 10 fps, a keyframe every second
OFFSET = 2_500_000_000  # camera 1's clock runs 2.5 s ahead of true time
SEARCH = "http://www.onvif.org/ver10/search/wsdl"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
TT = "http://www.onvif.org/ver10/schema"
C, E, D = 0x80, 0x40, 0x20
GST_CLIENT = Path(__file__).with_name("gst_replay_client.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with gi (the venv has none)


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[OnvifSim, int]]:
    """Cameras 1 (everything, battery), 2 (card, no battery) and 4 (no Profile G). Camera 1's card is set to what
    it would hold had it been recording for 20 s, with a 3 s power cut 12 s ago that its battery kept the content
    through (the card's own model: a battery that keeps content but does not ride through)."""
    with running_onvif_sim([spec(1), spec(2), spec(4)]) as s:
        cam = s.cameras["cam-0001"]
        t = time.time_ns() // S * S
        card = SdCard(3600 * S, battery=True, cadence=cadence_of(cam), rides_through=False)
        card.start(t - 20 * S)
        card.power(False, t - 12 * S)
        card.power(True, t - 9 * S)
        cam.card = card
        cam.clock_offset_ns = OFFSET
        yield s, t


def client(sim: OnvifSim, camera_id: str) -> Any:
    return connect(OnvifTarget(sim.device_url(camera_id), USER, sim.cameras[camera_id].spec.password))


def ns(value: datetime) -> int:
    return round(value.timestamp() * 1000) * 1_000_000


def reader(sim: OnvifSim, camera_id: str = "cam-0001") -> ReplayReader:
    cam = sim.cameras[camera_id]
    return ReplayReader("127.0.0.1", sim.rtsp_port, camera_id, USER, cam.spec.password)


def expected_times(t: int, start: int, end: int) -> list[int]:
    """True times of the pictures a replay of [start, end) must send: the held spans [t-20, t-12) and [t-9, ...),
    from the keyframe (whole second) at or before the start."""
    out = []
    for s, e in ((t - 20 * S, t - 12 * S), (t - 9 * S, t)):
        lo, hi = max(s, start), min(e, end)
        if hi > lo:
            first = lo // S * S
            out += list(range(first, hi, PICTURE))
    return out


def test_search_finds_the_card_in_the_camera_clock(sim: tuple[OnvifSim, int]) -> None:
    s, t = sim
    search = client(s, "cam-0001").search()
    caps = search.GetServiceCapabilities()
    assert caps.MetadataSearch is False
    summary = search.GetRecordingSummary()
    assert ns(summary.DataFrom) == t - 20 * S + OFFSET
    assert summary.NumberRecordings == 1
    token = search.FindRecordings(Scope={}, KeepAliveTime="PT10S", MaxMatches=5)
    res = search.GetRecordingSearchResults(SearchToken=token, MaxResults=10, WaitTime="PT1S")
    assert res.SearchState == "Completed"
    [info] = res.RecordingInformation
    assert info.RecordingToken == "SD_RECORDING"
    assert info.RecordingStatus == "Recording"
    assert ns(info.EarliestRecording) == t - 20 * S + OFFSET
    assert abs(ns(info.LatestRecording) - (time.time_ns() + OFFSET)) < 5 * S
    assert [(tr.TrackToken, tr.TrackType) for tr in info.Track] == [("VIDEO001", "Video")]
    assert ns(search.EndSearch(SearchToken=token)) > t
    with pytest.raises(ONVIFOperationException):  # the search is over
        search.GetRecordingSearchResults(SearchToken=token)
    same = search.GetRecordingInformation(RecordingToken="SD_RECORDING")
    assert ns(same.EarliestRecording) == ns(info.EarliestRecording)
    with pytest.raises(ONVIFOperationException):
        search.GetRecordingInformation(RecordingToken="nope")
    # a scope naming another recording finds nothing
    token = search.FindRecordings(Scope={"IncludedRecordings": ["other"]}, KeepAliveTime="PT10S")
    assert not search.GetRecordingSearchResults(SearchToken=token).RecordingInformation


def _events(search: Any, start: datetime, end: datetime | None, most: int | None = None) -> list[tuple[int, str, bool]]:
    token = search.FindEvents(
        StartPoint=start,
        EndPoint=end,
        Scope={},
        SearchFilter={},
        IncludeStartState=False,
        MaxMatches=most,
        KeepAliveTime="PT10S",
    )
    out = []
    while True:
        res = search.GetEventSearchResults(SearchToken=token, MaxResults=3, WaitTime="PT1S")
        for r in res.Result or []:
            # zeep drops the topic's text (mixed content): read it from the XML it keeps
            msg = r.Event.Message._value_1[0]
            topic = msg.getparent().getparent().findtext(f"{{{WSNT}}}Topic")
            item = msg.find(f"{{{TT}}}Data/{{{TT}}}SimpleItem")
            assert item.get("Name") == ("IsDataPresent" if topic.endswith("Track/State") else "IsRecording")
            out.append((ns(r.Time), topic, item.get("Value") == "true"))
        if res.SearchState == "Completed":
            break
    search.EndSearch(SearchToken=token)
    return out


def test_find_events_gives_recording_history(sim: tuple[OnvifSim, int]) -> None:
    s, t = sim
    search = client(s, "cam-0001").search()

    def at(offset_s: int) -> datetime:
        return datetime.fromtimestamp((t + OFFSET) / S + offset_s, UTC)

    events = _events(search, at(-30), at(1))
    track = [(when, present) for when, topic, present in events if topic == "tns1:RecordingHistory/Track/State"]
    # data present at each held span's start, absent at its end; the open span has no end yet
    assert track == [(t - 20 * S + OFFSET, True), (t - 12 * S + OFFSET, False), (t - 9 * S + OFFSET, True)]
    recording = [w for w, topic, _ in events if topic == "tns1:RecordingHistory/Recording/State"]
    assert recording == [w for w, _ in track]
    # bounded: MaxMatches, and the interval
    assert len(_events(search, at(-30), at(1), most=2)) == 2
    assert [(w, p) for w, _, p in _events(search, at(-11), at(1))][:1] == [(t - 9 * S + OFFSET, True)]


def test_replay_uri_and_no_profile_g(sim: tuple[OnvifSim, int]) -> None:
    s, _ = sim
    c = client(s, "cam-0001")
    replay = c.replay()
    assert replay.GetServiceCapabilities().RTP_RTSP_TCP is True
    uri = replay.GetReplayUri(
        StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}, RecordingToken="SD_RECORDING"
    )
    assert uri == f"rtsp://127.0.0.1:{s.rtsp_port}/replay/cam-0001"
    assert replay.GetReplayConfiguration().SessionTimeout is not None
    # camera 4 has no Profile G: not in its services, and its search path is not there
    assert SEARCH not in {x.Namespace for x in client(s, "cam-0004").services}
    addr = s.cameras["cam-0004"].spec.onvif_address
    status, _ = request(addr, s.onvif_port, "/onvif/search_service", envelope("GetRecordingSummary", ns=SEARCH))
    assert status == 404
    r = reader(s, "cam-0004")
    assert r.request("DESCRIBE").status == 404  # and no replay URI on the RTSP server
    r.close()


def test_replay_sends_what_the_card_holds(sim: tuple[OnvifSim, int]) -> None:
    s, t = sim
    cam = s.cameras["cam-0001"]
    r = reader(s)
    assert r.request("DESCRIBE").status == 200
    assert r.request("SETUP", r.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1").status == 200
    no_require = r.request("PLAY", Range="clock=20200101T000000Z-")
    assert no_require.status == 551 and no_require.headers["unsupported"] == "onvif-replay"
    nothing = r.request(
        "PLAY",
        Require="onvif-replay",
        Range=f"clock={format_clock(t - 11 * S + OFFSET)}-{format_clock(t - 10 * S + OFFSET)}",
    )
    assert nothing.status == 457  # the power cut: nothing held
    start, end = t - 15 * S - S // 2, t - 5 * S
    rng = f"clock={format_clock(start + OFFSET)}-{format_clock(end + OFFSET)}"
    began = time.monotonic()
    ok = r.request("PLAY", Require="onvif-replay", Range=rng, Rate_Control="no")
    play_cseq = r.cseq
    assert ok.status == 200
    assert ok.headers["range"] == f"clock={format_clock(t - 16 * S + OFFSET)}-{format_clock(end + OFFSET)}"
    r.read_until_bye()
    took = time.monotonic() - began
    want = expected_times(t, start, end)
    assert len(want) == 80  # 4 s before the cut, 4 s after it
    held_s = len(want) / 10
    assert took >= held_s / 32 * 0.9, "Rate-Control: no is capped at 32x real time (its speed is a benchmark's)"
    pics = pictures(r.packets)
    assert [when - OFFSET for when, _, _ in pics] == want  # the extension's times, in the camera's clock
    loop, cad = cam.loops["main"], cadence_of(cam)
    for when, packets, digest in pics:
        g = cad.at_or_after(when - OFFSET)
        assert digest == loop.pic_digest[cad.frame(g)], "the clip's picture at that time"
        key = cad.is_key(g)
        for p in packets:
            assert (p.profile, p.words, p.cseq) == (0xABAC, 3, play_cseq & 0xFF)
            assert bool(p.flags & C) is key
        assert packets[-1].marker
    flags = [(when - OFFSET, p.flags & (D | E)) for when, ps, _ in pics for p in ps if p.flags & (D | E)]
    assert flags == [(t - 12 * S - PICTURE, E), (t - 9 * S, D), (t - 5 * S - PICTURE, E)]
    # RTP time follows the pictures' times at 90 kHz, sequence numbers have no holes
    ts0 = r.packets[0].ts
    assert all((p.ts - ts0) % (1 << 32) == (p.ntp_ns - want[0] - OFFSET) * 90_000 // S for p in r.packets)
    assert all((b.seq - a.seq) % 65536 == 1 for a, b in zip(r.packets, r.packets[1:], strict=False))
    # after the BYE the session stays until TEARDOWN
    assert r.request("GET_PARAMETER").status == 200
    # Rate-Control: yes (the default) is real time
    r.packets.clear()
    r.rtcp.clear()
    began = time.monotonic()
    one_s = f"clock={format_clock(t - 9 * S + OFFSET)}-{format_clock(t - 8 * S + OFFSET)}"
    assert r.request("PLAY", Require="onvif-replay", Range=one_s).status == 200
    r.read_until_bye()
    assert time.monotonic() - began >= 0.85
    assert len(pictures(r.packets)) == 10
    assert r.request("TEARDOWN").status == 200
    r.close()


def test_replay_through_a_cut_uplink_or_an_unpowered_camera(sim: tuple[OnvifSim, int]) -> None:
    s, _ = sim
    uplink, site = s.cameras["cam-0002"].spec.uplink, s.cameras["cam-0002"].spec.site
    r = reader(s, "cam-0002")
    assert r.request("DESCRIBE").status == 200
    s.fault("uplink_cut", uplink)
    try:
        with pytest.raises(TimeoutError):
            r.request("SETUP", r.url + "/trackID=0", timeout=0.5, Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
    finally:
        s.fault("uplink_restore", uplink)
    r.close()
    # a replay under way goes silent while the uplink is cut, and goes on when it returns
    cam = s.cameras["cam-0002"]
    card = SdCard(3600 * S, battery=False, cadence=cadence_of(cam))
    card.start(time.time_ns() - 30 * S)
    cam.card = card
    r = reader(s, "cam-0002")
    assert r.request("SETUP", r.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1").status == 200
    assert r.request("PLAY", Require="onvif-replay").status == 200  # real time, from the card's start
    wait_for(lambda: _read(r, 0.1) >= 5, 10, interval=0, what="replayed pictures")
    s.fault("uplink_cut", uplink)
    try:
        _read(r, 0.3)  # what was already on its way
        before = len(r.packets)
        _read(r, 0.7)
        assert len(r.packets) == before, "nothing crosses a cut uplink"
    finally:
        s.fault("uplink_restore", uplink)
    wait_for(lambda: _read(r, 0.1) > before, 10, interval=0, what="the replay to go on")
    r.close()
    r = reader(s, "cam-0002")
    s.fault("site_cut", site)
    try:
        with pytest.raises(ConnectionError):
            r.request("DESCRIBE", timeout=2)
    finally:
        s.fault("site_restore", site)
    r.close()


def _read(r: ReplayReader, seconds: float) -> int:
    """Read whatever comes for ``seconds``; the pictures received so far."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            r.next_reply(deadline - time.monotonic())
    return len({p.ntp_ns for p in r.packets})


def gst_client_missing() -> str | None:
    """Why GStreamer's ONVIF client cannot run here (None when it can): Debian's python3 with gi and the plugins."""
    if shutil.which(SYSTEM_PYTHON) is None:
        return f"{SYSTEM_PYTHON} is missing"
    probe = (
        "import gi, sys; gi.require_version('Gst', '1.0'); gi.require_version('GstRtp', '1.0'); "
        "from gi.repository import Gst, GstRtp; Gst.init(None); "
        "sys.exit(0 if all(Gst.ElementFactory.find(e) for e in "
        "['rtspsrc', 'rtponvifparse', 'rtph264depay', 'h264parse', 'appsink']) else 3)"
    )
    r = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=60)
    return None if r.returncode == 0 else "GStreamer (good, bad plugins) or python3-gi is missing: " + r.stderr[-300:]


def test_gstreamer_onvif_client_replays_the_pictures(sim: tuple[OnvifSim, int], tmp_path: Path) -> None:
    """rtspsrc onvif-mode=true, a foreign ONVIF replay client: its RTP parser reads our extension, its depayloader
    and parser make the clip's pictures of it, timestamped by the replay's clock range."""
    missing = gst_client_missing()
    if missing:
        pytest.skip(missing)
    s, t = sim
    cam = s.cameras["cam-0001"]
    start, end = t - 13 * S, t - 7 * S
    rng = f"clock={format_clock(start + OFFSET)}-{format_clock(end + OFFSET)}"
    url = f"rtsp://{USER}:{cam.spec.password}@127.0.0.1:{s.rtsp_port}/replay/cam-0001"
    out = tmp_path / "gst.jsonl"
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(GST_CLIENT), url, rng, str(out)], capture_output=True, text=True, timeout=60 * TIMEOUT_SCALE
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    rtp = [x for x in lines if x["kind"] == "rtp"]
    aus = [x for x in lines if x["kind"] == "au"]
    want = expected_times(t, start, end)
    assert len(want) == 30  # 1 s before the cut, 2 s after it
    seen = []
    for x in rtp:
        assert (x["profile"], x["words"]) == (0xABAC, 3)
        when = (x["ntp_s"] - NTP_EPOCH_S) * S + ((x["ntp_f"] * S + (1 << 31)) >> 32) - OFFSET
        if not seen or seen[-1] != when:
            seen.append(when)
    assert seen == want
    cad, loop = cadence_of(cam), cam.loops["main"]
    assert len(aus) == len(want)
    for au, when in zip(aus, want, strict=True):
        assert au["pts"] == when + OFFSET + NTP_EPOCH_S * S  # GStreamer's ONVIF time: ns since 1900
        [slices] = picture_slices(H264, split_annexb(bytes.fromhex(au["data"])))
        assert picture_digest(H264, slices) == loop.pic_digest[cad.frame(cad.at_or_after(when))]


def test_a_replay_nobody_reads_neither_grows_nor_slows_live_cameras(sim: tuple[OnvifSim, int]) -> None:
    """Rate-Control: no against a client that stops reading: the replay waits on the connection's buffer (bounded),
    another camera's live stream keeps its pace, and the replay ends with its connection."""
    s, _ = sim
    cam = s.cameras["cam-0002"]
    now = time.time_ns()
    hour = SdCard(3600 * S, battery=False, cadence=cadence_of(cam))
    hour.start(now - 3600 * S)  # an hour on the card: about 90 MB at this clip's bit rate
    cam.card = hour
    s.server.replay_max_rate = 1000.0  # flat out (sim.replay_max_rate): only the client's reading holds it back
    stuck = reader(s, "cam-0002")
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    assert stuck.request("DESCRIBE").status == 200
    assert (
        stuck.request("SETUP", stuck.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1").status == 200
    )
    assert stuck.request("PLAY", Require="onvif-replay", Rate_Control="no").status == 200
    conn = next(c for c in list(s.server.connections) if c.camera is cam and c.replay is not None)
    live = ReplayReader("127.0.0.1", s.rtsp_port, "cam-0001", USER, s.cameras["cam-0001"].spec.password)
    url = s.cameras["cam-0001"].spec.url("127.0.0.1", s.rtsp_port)
    assert live.request("DESCRIBE", url).status == 200
    assert live.request("SETUP", url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1").status == 200
    assert live.request("PLAY", url).status == 200
    peak = [0]

    def live_keeps_pace() -> bool:
        with contextlib.suppress(TimeoutError):
            live.next_reply(0.05)
        assert conn.transport is not None
        peak[0] = max(peak[0], conn.transport.get_write_buffer_size())
        return len({p.ts for p in live.packets}) >= 20 and peak[0] > 256 * 1024  # the buffer did fill

    wait_for(live_keeps_pace, 10, interval=0, what="live pictures while the replay is stuck")
    assert peak[0] <= 1024 * 1024, "the replay waits for the client instead of queueing the card"
    task = conn.replay.task if conn.replay is not None else None
    assert task is not None and not task.done()
    stuck.close()
    deadline = time.monotonic() + 5
    while not task.done():
        assert time.monotonic() < deadline, "the replay outlives its connection"
        time.sleep(0.02)
    live.close()
    s.server.replay_max_rate = 32.0


@pytest.mark.parametrize(
    ("expression", "topics"),
    [
        ("tns1:RecordingHistory/Track/State", {"Track"}),
        ("tns1:RecordingHistory/Recording/State", {"Recording"}),
        ("tns1:RecordingHistory//.", {"Track", "Recording"}),
        ("tns1:RecordingHistory/Track/State|tns1:RecordingHistory/Recording/State", {"Track", "Recording"}),
        ("tns1:RecordingConfig/JobState", set()),
        ("tns1:RecordingHistory/Track", set()),
    ],
)
def test_find_events_topic_filter(sim: tuple[OnvifSim, int], expression: str, topics: set[str]) -> None:
    s, _ = sim
    cam = s.cameras["cam-0001"]
    body = (
        f'<tse:FindEvents xmlns:tse="{SEARCH}" xmlns:tt="{TT}" xmlns:wsnt="{WSNT}"><tse:StartPoint>2020-01-01T00:00:00Z'
        f'</tse:StartPoint><tse:Scope/><tse:SearchFilter><wsnt:TopicExpression Dialect="x">{expression}'
        f"</wsnt:TopicExpression></tse:SearchFilter><tse:IncludeStartState>false</tse:IncludeStartState>"
        f"<tse:KeepAliveTime>PT5S</tse:KeepAliveTime></tse:FindEvents>"
    )
    token = _raw(s, cam, body).findtext(f"{{{SEARCH}}}SearchToken")
    got = _raw(
        s,
        cam,
        f'<tse:GetEventSearchResults xmlns:tse="{SEARCH}"><tse:SearchToken>{token}</tse:SearchToken>'
        f"</tse:GetEventSearchResults>",
    )
    found = {t.text.split("/")[1] for t in got.iter(f"{{{WSNT}}}Topic") if t.text}
    assert found == topics


def _raw(s: OnvifSim, cam: Any, body: str) -> Any:
    """One SOAP call with a hand-written body (what onvif-python will not send), its response element."""
    from lxml import etree

    envelope_ = (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>'
        f"{token(USER, cam.spec.password)}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()
    status, reply = request(cam.spec.onvif_address, s.onvif_port, "/onvif/search_service", envelope_)
    assert status == 200, reply[:500]
    return etree.fromstring(reply).find(".//{http://www.w3.org/2003/05/soap-envelope}Body")[0]
