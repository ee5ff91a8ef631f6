"""What real cameras send, fed to the RTSP client without sockets (docs/design/packet-path.md, "Transports").

Each test is one quirk from the field (retina's list in shared/REFERENCES.md, issue 14): the client records through
it, names it in ``quirks`` and counts what it dropped, or ends with a gap whose detail says what the camera did.
"""

from __future__ import annotations

import struct

import pytest

from camgrid.ingest.auth import Credentials
from camgrid.ingest.rtcp import RTCP_RR, RTCP_SR, parse_rtcp
from camgrid.ingest.rtsp import SSRC_FOLLOW, RtspClient, RtspError
from camgrid.ingest.transport import parse_ssrc, parse_transport, resolve_base
from camgrid.media.rtp import AccessUnit, rtp_header

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtoBQBbsBEAAAAMAQAAADKPFi6g=,aM48gA==\r\n"
    "a=control:trackID=0\r\n"
)
SSRC = 0x1234ABCD
IDR = b"\x65" + bytes(40)


def _describe_answer(body: str = SDP, base: bytes = b"Content-Base: rtsp://cam/\r\n") -> bytes:
    data = body.encode()
    return b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n" + base + b"Content-Length: %d\r\n\r\n" % len(data) + data


def _client(aus: list[AccessUnit] | None = None, **kw: object) -> RtspClient:
    sink = aus if aus is not None else []
    c = RtspClient("rtsp://cam/", Credentials("", ""), sink.append, **kw)  # type: ignore[arg-type]
    c.start()
    return c


def _setup_reply(transport: bytes = b"RTP/AVP/TCP;unicast;interleaved=0-1", cseq: int = 2) -> bytes:
    return b"RTSP/1.0 200 OK\r\nCSeq: %d\r\nSession: 77;timeout=30\r\nTransport: %s\r\n\r\n" % (cseq, transport)


def _play_reply(rtp_info: bytes = b"", cseq: int = 3) -> bytes:
    extra = b"RTP-Info: " + rtp_info + b"\r\n" if rtp_info else b""
    return b"RTSP/1.0 200 OK\r\nCSeq: %d\r\nSession: 77\r\n%s\r\n" % (cseq, extra)


def _playing(aus: list[AccessUnit] | None = None, rtp_info: bytes = b"", transport: bytes | None = None) -> RtspClient:
    c = _client(aus)
    c.feed(_describe_answer())
    c.feed(_setup_reply(transport) if transport else _setup_reply())
    c.feed(_play_reply(rtp_info))
    assert c.state == "playing"
    return c


def _pkt(seq: int, ssrc: int = SSRC, pt: int = 96, ts: int | None = None) -> bytes:
    return rtp_header(seq, ts if ts is not None else seq * 3600, ssrc, True, pt) + IDR


def _frame(pkt: bytes, channel: int = 0) -> bytes:
    return b"$" + bytes([channel]) + struct.pack(">H", len(pkt)) + pkt


def _stream(first: int, count: int, **kw: int) -> bytes:
    return b"".join(_frame(_pkt((first + i) & 0xFFFF, **kw)) for i in range(count))


# keepalives: RTCP ------------------------------------------------------------------------------------------------
def test_receiver_reports_go_on_the_rtcp_channel_with_loss_and_the_last_sender_report() -> None:
    c = _playing()
    c.now = 10.0
    sr = struct.pack("!BBHIIIIII", 0x80, RTCP_SR, 6, SSRC, 0x0001ABCD, 0x12340000, 90000, 10, 1000)
    c.feed(_frame(sr, 1))
    c.feed(_stream(100, 10) + _stream(115, 5))  # 100..109, 115..119: 5 lost
    c.rtcp_report(12.5)
    frame = c.outbox[-1]
    assert frame[:2] == b"$\x01"
    rr = frame[4:]
    assert struct.unpack_from(">H", frame, 2)[0] == len(rr) == 32
    b0, pt, words, own, media, lost_word, ext_max, jitter, lsr, dlsr = struct.unpack("!BBHIIIIIII", rr)
    assert (b0, pt, words) == (0x81, RTCP_RR, 7) and own == c.own_ssrc and media == SSRC
    assert lost_word & 0xFFFFFF == 5 and lost_word >> 24 == (5 << 8) // 20
    assert ext_max == 119 and jitter == 0
    assert lsr == 0xABCD1234 and dlsr == int(2.5 * 65536)
    assert c.lost == 5


def test_malformed_rtcp_is_counted_never_fatal() -> None:
    c = _playing()
    c.feed(_frame(b"\x80\xc8\x00\x30garbage", 1) + _frame(b"\x01\x02", 1))
    assert c.rtcp_bad == 2 and c.state == "playing"
    assert parse_rtcp(b"")[1]


# quirks -----------------------------------------------------------------------------------------------------------
def test_bogus_rtp_info_seq_is_ignored_and_never_counted_as_loss() -> None:
    """Hikvision and Tapo send an RTP-Info seq that has nothing to do with the first packet."""
    aus: list[AccessUnit] = []
    c = _playing(aus, rtp_info=b"url=rtsp://cam/trackID=0;seq=1;rtptime=0")
    c.feed(_stream(40000, 10))
    assert c.lost == 0 and len(aus) >= 9
    assert "bogus_rtp_info" in c.quirks


def test_a_true_rtp_info_still_counts_the_first_packets_lost() -> None:
    c = _playing(rtp_info=b"url=rtsp://cam/trackID=0;seq=500;rtptime=0")
    c.feed(_stream(503, 5))
    assert c.lost == 3 and "bogus_rtp_info" not in c.quirks


def test_data_before_the_play_reply_is_recorded() -> None:
    """Reolink sends RTCP and RTP before its PLAY answer: kept, and RTP-Info then does not rewind the numbering."""
    aus: list[AccessUnit] = []
    c = _client(aus)
    c.feed(_describe_answer())
    c.feed(_setup_reply())
    sr = struct.pack("!BBHIIIIII", 0x80, RTCP_SR, 6, SSRC, 1, 2, 3, 4, 5)
    c.feed(_frame(sr, 1) + _stream(7000, 5) + _play_reply(b"url=rtsp://cam/trackID=0;seq=7000"))
    c.feed(_stream(7005, 5))
    assert c.state == "playing" and c.lost == 0 and len(aus) >= 9
    assert "data_before_play" in c.quirks


def test_an_old_sessions_packets_are_dropped_and_counted() -> None:
    """Reolink leaks the previous session's packets into the new one: they used to end the session."""
    aus: list[AccessUnit] = []
    c = _playing(aus)
    c.feed(_stream(10, 5) + _stream(900, 3, ssrc=0xDEAD) + _stream(15, 5))
    assert c.dropped_ssrc == 3 and c.lost == 0 and len(aus) >= 9
    assert c.ssrc == SSRC.to_bytes(4, "big") and "stray_ssrc" in c.quirks


def test_the_transport_ssrc_picks_the_new_session_from_the_start() -> None:
    c = _playing(transport=b"RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1234ABCD")
    c.feed(_stream(900, 3, ssrc=0xDEAD) + _stream(10, 5))
    assert c.ssrc == SSRC.to_bytes(4, "big") and c.dropped_ssrc == 3


def test_a_camera_whose_ssrc_changes_for_good_is_followed() -> None:
    aus: list[AccessUnit] = []
    c = _playing(aus)
    c.feed(_stream(10, 5))
    c.feed(_stream(3000, SSRC_FOLLOW + 20, ssrc=0xBEEF))
    assert c.ssrc == (0xBEEF).to_bytes(4, "big") and "ssrc_changed" in c.quirks
    assert c.dropped_ssrc == SSRC_FOLLOW - 1 and len(aus) >= 5 + 19
    assert c.lost <= 1


def test_stray_payload_types_are_dropped_and_counted() -> None:
    """Geovision sends packets of another payload type on the video channel."""
    aus: list[AccessUnit] = []
    c = _playing(aus)
    c.feed(_stream(10, 3) + _frame(rtp_header(13, 0, SSRC, True, 0) + b"\xff" * 20) + _stream(13, 3))
    assert c.dropped_pt == 1 and c.lost == 0 and "stray_payload_type" in c.quirks and c.state == "playing"


def test_a_stray_packet_with_its_own_sequence_number_is_no_loss() -> None:
    """When the stray packet takes a number of the stream's own sequence, the pictures after it are whole: no loss,
    nothing dropped while waiting for a keyframe. A real hole before it still counts."""
    aus: list[AccessUnit] = []
    c = _playing(aus)
    c.feed(_stream(10, 3) + _frame(rtp_header(13, 0, SSRC, True, 0) + b"\xff" * 20) + _stream(14, 3))
    assert c.dropped_pt == 1 and c.lost == 0 and not any(au.after_loss for au in aus) and len(aus) == 6
    c.feed(_frame(rtp_header(19, 0, SSRC, True, 0) + b"\xff" * 20) + _stream(20, 1))
    assert c.lost == 2


def test_an_empty_fmtp_line_is_accepted() -> None:
    """Ubiquiti: ``a=fmtp:96`` and nothing else; the parameter sets then come in-band."""
    c = _client()
    c.feed(_describe_answer(SDP.replace(SDP.splitlines()[6], "a=fmtp:96")))
    assert c.state == "setup" and c.sdp is not None and c.sdp.params == []
    assert "empty_fmtp" in c.quirks


@pytest.mark.parametrize(
    ("base", "setup_url"),
    [
        (b"Content-Base: cam/live/\r\n", b"SETUP rtsp://cam/live/trackID=0 RTSP/1.0"),
        (b"Content-Base: /live/\r\n", b"SETUP rtsp://cam/live/trackID=0 RTSP/1.0"),
    ],
)
def test_a_content_base_without_scheme_is_resolved_against_the_request(base: bytes, setup_url: bytes) -> None:
    """Anjvision: ``Content-Base: 192.168.1.10/live/`` (no scheme)."""
    c = _client()
    c.feed(_describe_answer(base=base))
    assert c.outbox[-1].startswith(setup_url)
    assert "content_base_no_scheme" in c.quirks
    assert resolve_base("rtsp://x/a/", "rtsp://cam/") == ("rtsp://x/a/", False)
    assert resolve_base("h/p", "rtsps://cam/") == ("rtsps://h/p", True)


@pytest.mark.parametrize(
    ("text", "values", "odd"),
    [
        ("1234ABCD", {0x1234ABCD}, False),
        ("4ABCD", {0x4ABCD}, True),  # Dahua: leading zeros dropped
        (" 1234ABCD ", {0x1234ABCD}, True),  # spaces
        ("3735928559", {3735928559}, True),  # Rubetek: decimal
        ("12345", {0x12345, 12345}, True),  # ambiguous: the first packet decides
    ],
)
def test_ssrc_in_odd_forms(text: str, values: set[int], odd: bool) -> None:
    assert parse_ssrc(text) == (values, odd)


def test_a_decimal_transport_ssrc_is_matched_to_the_stream() -> None:
    c = _playing(transport=b"RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=305441741")
    c.feed(_stream(10, 5))
    assert c.ssrc == SSRC.to_bytes(4, "big") and c.dropped_ssrc == 0 and "odd_transport_ssrc" in c.quirks


@pytest.mark.parametrize("status", [454, 455])
def test_a_stale_session_is_set_up_again_once(status: int) -> None:
    """live555 after a reconnect: SETUP answered 454/455; a clean SETUP (without a session) then works."""
    c = _client()
    c.feed(_describe_answer())
    c.feed(b"RTSP/1.0 %d Session Not Found\r\nCSeq: 2\r\n\r\n" % status)
    assert c.outbox[-1].startswith(b"SETUP ") and b"Session:" not in c.outbox[-1]
    assert "stale_session" in c.quirks
    c.feed(_setup_reply(cseq=3))
    c.feed(_play_reply(cseq=4))
    assert c.state == "playing"


def test_a_stale_session_twice_says_so() -> None:
    c = _client()
    c.feed(_describe_answer())
    c.feed(b"RTSP/1.0 454 Session Not Found\r\nCSeq: 2\r\n\r\n")
    with pytest.raises(RtspError) as exc:
        c.feed(b"RTSP/1.0 454 Session Not Found\r\nCSeq: 3\r\n\r\n")
    assert exc.value.reason == "refused" and "454 twice" in exc.value.detail


# transports ------------------------------------------------------------------------------------------------------
def test_461_to_tcp_falls_back_to_udp() -> None:
    """VLC's server and UDP-only cameras answer TCP interleaved with 461: it was called ``refused``."""
    c = _client(bind_udp=lambda: (50000, 50001))
    c.feed(_describe_answer())
    assert b"interleaved=0-1" in c.outbox[-1]
    c.feed(b"RTSP/1.0 461 Unsupported Transport\r\nCSeq: 2\r\n\r\n")
    assert c.outbox[-1].startswith(b"SETUP ") and b"RTP/AVP;unicast;client_port=50000-50001" in c.outbox[-1]
    c.feed(_setup_reply(b"RTP/AVP;unicast;client_port=50000-50001;server_port=6970-6971;ssrc=1234ABCD", cseq=3))
    assert c.udp and c.server_ports == (6970, 6971) and "udp_only" in c.quirks
    assert [port for port, _ in c.udp_out] == [0, 1, 0, 1]  # punches through NATs and firewalls
    c.feed(_play_reply(cseq=4))
    assert c.state == "playing"


@pytest.mark.parametrize(
    ("transport", "answers", "detail"),
    [
        ("auto", 2, "SETUP answered 461 to TCP and UDP"),
        ("tcp", 1, "SETUP answered 461 to TCP interleaved (the camera is set to tcp: try udp or auto)"),
        ("udp", 1, "SETUP answered 461 to UDP (the camera is set to udp: try tcp or auto)"),
    ],
)
def test_461_to_every_transport_tried_says_which(transport: str, answers: int, detail: str) -> None:
    c = _client(transport=transport, bind_udp=lambda: (50000, 50001))
    c.feed(_describe_answer())
    for i in range(answers - 1):
        c.feed(b"RTSP/1.0 461 Unsupported Transport\r\nCSeq: %d\r\n\r\n" % (2 + i))
    with pytest.raises(RtspError) as exc:
        c.feed(b"RTSP/1.0 461 Unsupported Transport\r\nCSeq: %d\r\n\r\n" % (1 + answers))
    assert exc.value.reason == "refused" and exc.value.detail == detail


def test_udp_packets_are_put_back_in_order_and_holes_counted() -> None:
    aus: list[AccessUnit] = []
    c = _client(aus, transport="udp", bind_udp=lambda: (50000, 50001))
    c.feed(_describe_answer())
    assert b"client_port=50000-50001" in c.outbox[-1]
    c.feed(_setup_reply(b"RTP/AVP;unicast;client_port=50000-50001;server_port=6970-6971"))
    c.feed(_play_reply())
    order = [2, 1, 3, 4, 5, 7, 6, 8, 10, 11, 12, 14, 13]  # 9 never comes
    for i, seq in enumerate(order):
        c.feed_udp(_pkt(seq), now=i * 0.01)
    assert c.reordered == 1 and c.lost == 0  # 6 put back; 9 is still awaited (10..14 held)
    c.udp_tick(1.0)
    assert c.lost == 1
    assert len(aus) >= 11  # 9 lost, and 10 not trusted after the hole (it may have lost its start)
    assert [au.ts for au in aus] == [s * 3600 for s in range(1, 15) if s not in (9, 10)][: len(aus)]


def test_transport_header_forms() -> None:
    t = parse_transport("RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;source=10.0.0.9;ssrc=ABCD")
    assert t.server_ports == (6970, 6971) and t.source == "10.0.0.9" and t.ssrcs == {0xABCD} and t.odd_ssrc
    assert parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3").interleaved == 2


def test_a_camera_whose_sdp_names_the_wrong_payload_type_is_followed() -> None:
    """Only packets of another payload type come (the SDP said 96, the camera sends 97): after a run of them, with
    none of 96 between, 97 is the video's."""
    aus: list[AccessUnit] = []
    c = _playing(aus)
    c.feed(_stream(10, SSRC_FOLLOW + 10, pt=97))
    assert c.sdp is not None and c.sdp.payload_type == 97 and "payload_type_changed" in c.quirks
    assert c.dropped_pt == SSRC_FOLLOW - 1 and len(aus) >= 10


def test_a_server_that_answers_udp_with_tcp_interleaved_is_taken_at_its_word() -> None:
    c = _client(transport="udp", bind_udp=lambda: (50000, 50001))
    c.feed(_describe_answer())
    c.feed(_setup_reply(b"RTP/AVP/TCP;unicast;interleaved=2-3"))
    c.feed(_play_reply())
    c.feed(b"".join(_frame(_pkt(i), 2) for i in range(5)))
    assert not c.udp and c.rtp_channel == 2 and c.packets == 5


def test_a_malformed_cseq_is_a_bad_stream_not_a_crash() -> None:
    """A camera whose answer carries a CSeq that is not a number is a broken stream (a clear gap), never a traceback."""
    c = _client()
    with pytest.raises(RtspError) as err:
        c.feed(b"RTSP/1.0 200 OK\r\nCSeq: one\r\nContent-Length: 0\r\n\r\n")
    assert err.value.reason == "bad_stream" and "CSeq" in err.value.detail
