"""The simulator really emits each quirk of its corpus (camgrid.sim.quirks), checked on the wire with a raw client.

One simulator (in this process, paced by an injected clock) serves a camera per quirk and a plain one to compare;
each test asserts the wire-level fact the quirk is about: markers per picture, a 461, an RTCP packet before the
PLAY reply, a timestamp jump, ...
"""

from __future__ import annotations

import base64
import itertools
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from camgrid.media.nal import H264, parse_sps
from camgrid.sim import quirks as q
from camgrid.sim.sendloop import SPS_GARBAGE
from tests.sim.wire import Harness, Reply, Rtp, pictures, spec

pytestmark = pytest.mark.timeout(120)
TESTED = [name for name in q.QUIRKS]


@pytest.fixture(scope="module")
def sim() -> Iterator[Harness]:
    specs = [spec("plain")] + [spec(name, (name,)) for name in TESTED]
    h = Harness(specs)
    yield h
    h.close()


def played(sim: Harness, cam: str, seconds: float = 1.0, audio: bool = False) -> tuple[list[Rtp], Reply]:
    client = sim.connect(cam)
    reply = client.play(audio=audio)
    sim.advance(seconds)
    client.close()
    return client.packets(), reply


def sps_of(payloads: list[bytes]) -> list[bytes]:
    return [p for p in payloads if p and p[0] & 0x1F == 7]


def test_every_quirk_has_a_source_and_the_cli_parses_them() -> None:
    for name, doc in q.QUIRKS.items():
        assert "(" in doc and ")" in doc, f"{name}: say who does it and the source"
    got = q.assign(["a", "b"], ("slice-markers", "b=udp-only"))
    assert got == {"a": ("slice-markers",), "b": ("slice-markers", "udp-only")}
    with pytest.raises(q.QuirkError):
        q.assign(["a"], ("no-such-quirk",))
    with pytest.raises(q.QuirkError):
        q.assign(["a"], ("audio-aac", "audio-pcma"))


def test_slice_markers_mark_every_slice(sim: Harness) -> None:
    plain, _ = played(sim, "plain")
    sliced, _ = played(sim, "slice-markers")
    assert [sum(p.marker for p in pic) for pic in pictures(plain)][:20] == [1] * 20
    markers = [sum(p.marker for p in pic) for pic in pictures(sliced)]
    assert len(markers) >= 20 and set(markers) == {2}, markers


def test_no_get_parameter(sim: Harness) -> None:
    c = sim.connect("no-get-parameter")
    assert "GET_PARAMETER" not in c.request("OPTIONS").header("Public")
    c.play()
    assert c.request("GET_PARAMETER").status == 501
    assert "GET_PARAMETER" in sim.connect("plain").request("OPTIONS").header("Public")


def test_udp_only_refuses_tcp_and_sends_datagrams(sim: Harness) -> None:
    c = sim.connect("udp-only")
    c.request("DESCRIBE")
    assert c.request("SETUP", c.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1").status == 461
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtp.setblocking(False)
    port = rtp.getsockname()[1]
    reply = c.request("SETUP", c.url + "/trackID=0", Transport=f"RTP/AVP;unicast;client_port={port}-{port + 1}")
    assert reply.status == 200 and "server_port=" in reply.header("Transport")
    c.request("PLAY")
    sim.advance(0.5)
    got = []
    while True:
        try:
            got.append(rtp.recv(2048))
        except BlockingIOError:
            break
    rtp.close()
    assert len(got) >= 10 and all(d[0] == 0x80 and d[1] & 0x7F == 96 for d in got)
    assert not c.packets(None), "nothing interleaved on the TCP connection"


def test_bogus_rtp_info(sim: Harness) -> None:
    packets, reply = played(sim, "bogus-rtp-info", 0.2)
    assert "seq=0;rtptime=0" in reply.header("RTP-Info")
    assert (packets[0].seq, packets[0].ts) != (0, 0)


@pytest.mark.parametrize("quirk", ["rtcp-before-play", "data-before-play"])
def test_before_play(sim: Harness, quirk: str) -> None:
    c = sim.connect(quirk)
    c.request("DESCRIBE")
    c.request("SETUP", c.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
    c.request("PLAY")
    play_at = next(i for i, e in enumerate(c.events) if isinstance(e, Reply) and e.header("RTP-Info"))
    before = [e for e in c.events[:play_at] if isinstance(e, Rtp)]
    if quirk == "rtcp-before-play":
        assert before and before[0].channel == 1 and before[0].pt == 200 & 0x7F  # the RTCP SR (PT 200)
    else:
        assert before and all(p.channel == 0 and p.pt == 96 for p in before)
        assert before[-1].marker, "a whole picture before the reply"


def test_old_session_leak(sim: Harness) -> None:
    first = sim.connect("old-session-leak")
    first.play()
    sim.advance(0.5)
    old_ssrc = first.packets()[-1].ssrc
    first.close()
    second = sim.connect("old-session-leak")
    second.play()
    sim.advance(0.3)
    packets = second.packets()
    assert [p.ssrc for p in packets[:3]] == [old_ssrc] * 3
    assert packets[3].ssrc != old_ssrc and {p.ssrc for p in packets[3:]} == {packets[3].ssrc}


def test_stray_payload_types(sim: Harness) -> None:
    packets, _ = played(sim, "stray-pt", 2.0)
    stray = [p for p in packets if p.pt == q.STRAY_PT]
    assert len(stray) >= 1 and all(p.pt in (96, q.STRAY_PT) for p in packets)
    plain, _ = played(sim, "plain", 2.0)
    assert {p.pt for p in plain} == {96}


def test_sdp_and_header_quirks(sim: Harness) -> None:
    c = sim.connect("empty-fmtp")
    assert "a=fmtp:96\r\n" in c.request("DESCRIBE").body
    base = sim.connect("content-base-no-scheme").request("DESCRIBE").header("Content-Base")
    assert base and not base.startswith("rtsp://") and base.startswith("127.0.0.1:")
    assert sim.connect("no-content-type").request("DESCRIBE").header("Content-Type") == ""
    assert sim.connect("plain").request("DESCRIBE").header("Content-Type") == "application/sdp"
    c = sim.connect("cseq-space")
    assert "CSeq:  1 \r\n" in c.request("OPTIONS").head + "\r\n"


def test_odd_ssrc(sim: Harness) -> None:
    c = sim.connect("odd-ssrc")
    c.request("DESCRIBE")
    transport = c.request("SETUP", c.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1").header(
        "Transport"
    )
    assert transport.startswith("RTP/AVP/TCP;ssrc=")
    value = transport.split("ssrc=")[1].split(";")[0]
    assert len(value) == 4
    c.request("PLAY")
    sim.advance(0.2)
    assert {p.ssrc for p in c.packets()} == {int(value, 16)}


def test_sps_change_switches_resolution_at_a_keyframe(sim: Harness) -> None:
    packets, _ = played(sim, "sps-change", 4.2)
    sizes = [parse_sps(H264, s) for s in sps_of([p.payload for p in packets])]
    dims = [(i.width, i.height) for i in sizes]
    assert (320, 240) in dims and (240, 180) in dims, set(dims)


def test_sps_trailing_bytes(sim: Harness) -> None:
    c = sim.connect("sps-trailing")
    sdp = c.request("DESCRIBE").body
    sprop = sdp.split("sprop-parameter-sets=")[1].split(",")[0]
    assert base64.b64decode(sprop).endswith(SPS_GARBAGE)
    packets, _ = played(sim, "sps-trailing", 1.1)
    in_band = sps_of([p.payload for p in packets])
    assert in_band and all(s.endswith(SPS_GARBAGE) for s in in_band)


def test_fua_type_changes_mid_fragment(sim: Harness) -> None:
    packets, _ = played(sim, "fua-type-change", 1.1)
    changed = 0
    start_type = 0
    for p in packets:
        if p.payload[0] & 0x1F != 28:
            continue
        fu = p.payload[1]
        if fu & 0x80:
            start_type = fu & 0x1F
        elif fu & 0x1F != start_type:
            changed += 1
    assert changed > 0


def test_ts_jump_once(sim: Harness) -> None:
    packets, _ = played(sim, "ts-jump", 4.0)
    ts = [pic[0].ts for pic in pictures(packets)]
    steps = [(b - a) & 0xFFFFFFFF for a, b in itertools.pairwise(ts)]
    jumps = [i for i, s in enumerate(steps) if s != 3600]
    assert len(jumps) == 1 and steps[jumps[0]] == 3600 + q.TS_JUMP_S * 90_000
    assert abs(jumps[0] + 1 - q.TS_JUMP_AFTER_S * 25) <= 1


def test_fps_short(sim: Harness) -> None:
    c = sim.connect("fps-short")
    assert "a=framerate:25" in c.request("DESCRIBE").body
    packets, _ = played(sim, "fps-short", 4.0)
    pics = list(pictures(packets))
    assert abs(len(pics) - 4 * q.SHORT_FPS) <= 2, len(pics)
    steps = {(b[0].ts - a[0].ts) & 0xFFFFFFFF for a, b in itertools.pairwise(pics)}
    assert steps <= {4285, 4286}


def test_b_frames_timestamps_are_presentation_times(sim: Harness) -> None:
    packets, _ = played(sim, "b-frames", 1.0)
    ts = [pic[0].ts for pic in pictures(packets)]
    assert any(b < a for a, b in itertools.pairwise(ts)), "decode order is not presentation order"
    assert len(set(ts)) == len(ts)
    plain, _ = played(sim, "plain", 1.0)
    plain_ts = [pic[0].ts for pic in pictures(plain)]
    assert plain_ts == sorted(plain_ts)


def test_short_session_timeout(sim: Harness) -> None:
    alive = sim.connect("short-session-timeout")
    alive.play()
    dead = sim.connect("short-session-timeout")
    dead.request("DESCRIBE")
    setup_session = dead.request(
        "SETUP", dead.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1"
    ).header("Session")
    assert setup_session.endswith(f"timeout={q.SHORT_TIMEOUT_S}")
    dead.request("PLAY")
    for _ in range(3):
        sim.advance(4.0)
        alive.request("GET_PARAMETER")
    assert dead.closed and not alive.closed


def test_stale_session_once_after_a_reconnect(sim: Harness) -> None:
    first = sim.connect("stale-session")
    first.play()
    sim.advance(0.2)
    first.close()
    c = sim.connect("stale-session")
    c.request("DESCRIBE")
    setup = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    assert c.request("SETUP", c.url + "/trackID=0", **setup).status == 454
    assert c.request("SETUP", c.url + "/trackID=0", **setup).status == 200


@pytest.mark.parametrize(
    ("quirk", "pt", "rtpmap", "per_second"),
    [
        ("audio-aac", 97, "MPEG4-GENERIC/32000/1", 31.25),
        ("audio-pcma", 8, "PCMA/8000", 50),
        ("audio-pcmu", 0, "PCMU/8000", 50),
        ("audio-opus", 111, "opus/48000/2", 50),
    ],
)
def test_audio_track(sim: Harness, quirk: str, pt: int, rtpmap: str, per_second: float) -> None:
    c = sim.connect(quirk)
    sdp = c.request("DESCRIBE").body
    assert f"m=audio 0 RTP/AVP {pt}" in sdp and f"a=rtpmap:{pt} {rtpmap}" in sdp
    video_only, _ = played(sim, quirk, 0.5)
    assert video_only and not [p for p in video_only if p.pt == pt]
    c2 = sim.connect(quirk)
    c2.play(audio=True)
    sim.advance(2.0)
    audio = c2.packets(2)
    assert audio and {p.pt for p in audio} == {pt}
    assert abs(len(audio) - 2 * per_second) <= 2, len(audio)
    steps = {b.ts - a.ts for a, b in itertools.pairwise(audio)}
    assert len(steps) == 1
    if quirk == "audio-aac":
        assert all(p.payload[:2] == b"\x00\x10" for p in audio)
        size = struct.unpack(">H", audio[5].payload[2:4])[0] >> 3
        assert size == len(audio[5].payload) - 4
    elif quirk in ("audio-pcma", "audio-pcmu"):
        assert {len(p.payload) for p in audio} == {160}
    assert {p.pt for p in c2.packets(0)} == {96}, "video keeps its channel"


def test_rtcp_with_an_unknown_ssrc(sim: Harness) -> None:
    c = sim.connect("rtcp-unknown-ssrc")
    c.play()
    sim.advance(2.5)
    rtcp = c.packets(1)
    assert len(rtcp) >= 2
    video_ssrcs = {p.ssrc for p in c.packets(0)}
    # the RTCP SR's SSRC is at bytes 4-7 of the packet: our parser put bytes 4-7 in ``ts``
    assert all(p.ts not in video_ssrcs for p in rtcp)


def test_ground_truth_lists_each_picture_sent(sim: Harness) -> None:
    cam = sim.cameras["slice-markers"]
    before = len(cam.truth)
    packets, _ = played(sim, "slice-markers", 1.0)
    new = [t for t in list(cam.truth)[before:] if t[0] == cam.sessions_played]  # (other sessions still play)
    assert [t[1] for t in new] == [pic[0].ts for pic in pictures(packets)]
    assert len({t[2] for t in new}) == len(new), "a digest per picture"


def test_teardown_500_and_set_parameter_drops(sim: Harness) -> None:
    c = sim.connect("teardown-500")
    c.play()
    assert c.request("TEARDOWN").status == 500
    c = sim.connect("set-parameter-drops")
    c.play()
    c.cseq += 1
    c.sock.sendall(f"SET_PARAMETER {c.url} RTSP/1.0\r\nCSeq: {c.cseq}\r\nSession: {c.session}\r\n\r\n".encode())
    sim.advance(0.2)
    assert c.closed


def test_unassigned_channel(sim: Harness) -> None:
    c = sim.connect("unassigned-channel")
    c.play()
    sim.advance(2.5)
    assert len(c.packets(6)) >= 2 and c.packets(0)


def test_sdp_no_origin(sim: Harness) -> None:
    sdp = sim.connect("sdp-no-origin").request("DESCRIBE").body
    assert "\r\no=" not in sdp and "a=rtpmap:96 H264/90000 \r\n" in sdp


def test_annexb_start_codes_in_rtp(sim: Harness) -> None:
    packets, _ = played(sim, "annexb-in-rtp", 1.1)
    singles = [p for p in packets if p.payload[:4] == b"\x00\x00\x00\x01"]
    assert singles and any(p.payload[4] & 0x1F == 7 for p in singles), "the SPS comes with a start code"
    assert all(p.payload[:4] == b"\x00\x00\x00\x01" or p.payload[0] & 0x1F == 28 for p in packets)


def test_rtp_info_trailing(sim: Harness) -> None:
    _, reply = played(sim, "rtp-info-trailing", 0.1)
    assert reply.header("RTP-Info").endswith("rtptime=;")


def test_cli_lists_quirks_and_refuses_unknown_ones(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from camgrid.cli.main import cli

    runner = CliRunner()
    listed = runner.invoke(cli, ["--home", str(tmp_path), "sim", "quirks"])
    assert listed.exit_code == 0 and all(name in listed.output for name in q.QUIRKS)
    bad = runner.invoke(cli, ["--home", str(tmp_path), "sim", "--count", "1", "--layout-only", "--quirk", "nope"])
    assert bad.exit_code != 0 and "unknown quirk nope" in bad.output


def test_session_id_changes_between_setups(sim: Harness) -> None:
    c = sim.connect("session-id-change")
    c.request("DESCRIBE")
    first = c.request("SETUP", c.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
    second = c.request("SETUP", c.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
    assert first.header("Session").split(";")[0] != second.header("Session").split(";")[0]


def test_empty_fragments(sim: Harness) -> None:
    packets, _ = played(sim, "empty-fu", 1.1)
    empty = [p for p in packets if p.payload[0] & 0x1F == 28 and len(p.payload) == 2]
    assert empty and all(not p.payload[1] & 0xC0 for p in empty)


def test_bad_sprop(sim: Harness) -> None:
    sdp = sim.connect("bad-sprop").request("DESCRIBE").body
    sprop = sdp.split("sprop-parameter-sets=")[1].split("\r\n")[0]
    with pytest.raises(ValueError):
        base64.b64decode(sprop.split(",")[1], validate=True)
    packets, _ = played(sim, "bad-sprop", 1.1)
    assert sps_of([p.payload for p in packets]), "the true SPS comes in-band"


def test_ts_backstep_once(sim: Harness) -> None:
    packets, _ = played(sim, "ts-backstep", 4.0)
    ts = [pic[0].ts for pic in pictures(packets)]
    steps = [(b - a + (1 << 31)) % (1 << 32) - (1 << 31) for a, b in itertools.pairwise(ts)]
    odd = [s for s in steps if s != 3600]
    assert odd == [3600 + q.TS_BACKSTEP]
