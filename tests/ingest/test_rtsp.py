"""The RTSP client state machine without sockets: SDP, authentication, garbage."""

from __future__ import annotations

import hashlib

import pytest

from camgrid.ingest.auth import Credentials, parse_challenges
from camgrid.ingest.rtsp import RtspClient, RtspError, parse_sdp

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=control:trackID=1\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtoBQBbsBEAAAAMAQAAADKPFi6g=,aM48gA==\r\n"
    "a=control:trackID=0\r\n"
)


def test_sdp_picks_the_video_stream_and_resolves_control() -> None:
    sdp = parse_sdp(SDP, "rtsp://10.0.0.1/stream1/")
    assert sdp.codec == "h264"
    assert sdp.control == "rtsp://10.0.0.1/stream1/trackID=0"
    assert [p[0] & 0x1F for p in sdp.params] == [7, 8]


@pytest.mark.parametrize(
    "bad", ["v=0\r\nm=video 0 RTP/AVP 97\r\na=rtpmap:97 MP4V-ES/90000\r\n", "v=0\r\nm=audio 0 RTP/AVP 0\r\n"]
)
def test_sdp_without_h264_or_h265_is_unsupported(bad: str) -> None:
    with pytest.raises(RtspError) as exc:
        parse_sdp(bad, "rtsp://x/")
    assert exc.value.reason == "unsupported"


def test_digest_answer_matches_rfc2617() -> None:
    creds = Credentials("admin", "s3cret")
    creds.challenge(['Digest realm="cam", nonce="abc123"'])
    header = creds.header("DESCRIBE", "rtsp://cam/")
    assert header is not None
    ha1 = hashlib.md5(b"admin:cam:s3cret").hexdigest()
    ha2 = hashlib.md5(b"DESCRIBE:rtsp://cam/").hexdigest()
    assert f'response="{hashlib.md5(f"{ha1}:abc123:{ha2}".encode()).hexdigest()}"' in header
    assert "s3cret" not in repr(creds)


def test_challenges_parse_quoted_commas() -> None:
    parsed = parse_challenges(['Digest realm="a, b", nonce="n", qop="auth,auth-int"', 'Basic realm="x"'])
    assert parsed["digest"]["realm"] == "a, b" and parsed["digest"]["qop"] == "auth,auth-int"
    assert "basic" in parsed


def _client() -> RtspClient:
    c = RtspClient("rtsp://cam/", Credentials("u", "p"), lambda au: None)
    c.start()
    return c


def test_garbage_is_a_bad_stream() -> None:
    c = _client()
    with pytest.raises(RtspError) as exc:
        c.feed(b"\x17\x99garbage that is neither RTSP nor interleaved RTP")
    assert exc.value.reason == "bad_stream"


def test_wrong_password_is_auth_refused_after_one_retry() -> None:
    c = _client()
    c.feed(b'RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm="r", nonce="n"\r\n\r\n')
    assert b"Authorization: Digest" in c.outbox[-1]
    with pytest.raises(RtspError) as exc:
        c.feed(b'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="r", nonce="n"\r\n\r\n')
    assert exc.value.reason == "auth_refused"
    assert "p" not in exc.value.detail.split()


def test_responses_split_across_reads_are_reassembled() -> None:
    c = _client()
    body = SDP.encode()
    msg = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Base: rtsp://cam/\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    for i in range(0, len(msg), 7):
        c.feed(msg[i : i + 7])
    assert c.state == "setup" and c.sdp is not None
    assert c.outbox[-1].startswith(b"SETUP rtsp://cam/trackID=0 RTSP/1.0")


def _playing() -> RtspClient:
    c = RtspClient("rtsp://cam/", Credentials("", ""), lambda au: None)
    c.start()
    body = SDP.encode()
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Base: rtsp://cam/\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nSession: 4242;timeout=10\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n")
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 4242\r\n\r\n")
    assert c.state == "playing"
    return c


def _options_answer(c: RtspClient, cseq: int, public: bytes) -> None:
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: %d\r\nPublic: %s\r\n\r\n" % (cseq, public))


def test_the_first_keepalive_is_options_and_its_public_header_decides() -> None:
    """OPTIONS first (every server takes it); GET_PARAMETER only when the server's Public lists it."""
    c = _playing()
    c.keepalive()
    assert c.outbox[-1].startswith(b"OPTIONS ") and b"Session: 4242" in c.outbox[-1]
    _options_answer(c, 4, b"OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")
    c.keepalive()
    assert c.outbox[-1].startswith(b"OPTIONS ")
    assert "no_get_parameter" in c.quirks


def test_a_camera_that_lists_get_parameter_is_kept_alive_with_it() -> None:
    c = _playing()
    c.keepalive()
    _options_answer(c, 4, b"OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, SET_PARAMETER")
    c.keepalive()
    assert c.outbox[-1].startswith(b"GET_PARAMETER ") and b"Session: 4242" in c.outbox[-1]
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 4242\r\n\r\n")
    c.keepalive()
    assert c.outbox[-1].startswith(b"GET_PARAMETER ")
    assert not c.quirks


@pytest.mark.parametrize("status", [b"501 Not Implemented", b"405 Method Not Allowed", b"400 Bad Request"])
def test_a_camera_that_refuses_get_parameter_is_kept_alive_with_options(status: bytes) -> None:
    """Many RTSP servers answer GET_PARAMETER with 501, some even while listing it in Public: the session timed out
    every few seconds (issue 14). The keepalive turns to OPTIONS with the session, at once and from then on; the
    session is not given up."""
    c = _playing()
    c.keepalive()
    _options_answer(c, 4, b"OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER")
    c.keepalive()
    assert c.outbox[-1].startswith(b"GET_PARAMETER ") and b"Session: 4242" in c.outbox[-1]
    c.feed(b"RTSP/1.0 " + status + b"\r\nCSeq: 5\r\n\r\n")
    assert c.state == "playing"
    assert c.outbox[-1].startswith(b"OPTIONS ") and b"Session: 4242" in c.outbox[-1]
    c.feed(b"RTSP/1.0 200 OK\r\nCSeq: 6\r\n\r\n")
    c.keepalive()
    assert c.outbox[-1].startswith(b"OPTIONS ") and b"Session: 4242" in c.outbox[-1]
