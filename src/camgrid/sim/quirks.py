"""The quirk corpus: ways in which real cameras' RTSP servers misbehave, each one switchable per simulated camera.

``camgrid sim --quirk NAME`` gives every camera the quirk, ``--quirk CAMERA=NAME`` one camera; tests put them in
:class:`~camgrid.sim.layout.SimCameraSpec.quirks`. Sources are the RTSP library retina (scottlamb/retina, its
changelog and ~20 vendors' captures), Moonfire NVR, MediaMTX/gortsplib and go2rtc issue trackers, collected in the
project's REFERENCES.md ("Real cameras' RTSP quirks") and issue 14; "measured here" is our own measurement of a
live555 server.
"""

from __future__ import annotations

QUIRKS: dict[str, str] = {
    "slice-markers": (
        "live555-based servers: each picture is encoded as several slices (x264 slices=2) and the RTP marker bit is "
        "set after every slice, not only after the picture's last packet (measured here; issue 14)"
    ),
    "no-get-parameter": (
        "Siqura/Flir and many embedded servers: GET_PARAMETER is answered 501 Not Implemented and OPTIONS' Public "
        "does not list it (mediamtx#449; retina v0.1.0)"
    ),
    "udp-only": (
        "VLC's RTSP server and cameras configured for UDP: SETUP with a TCP transport is answered 461 Unsupported "
        "Transport; RTP/RTCP go over UDP to the client's ports (retina Transport::Udp docs; issue 14)"
    ),
    "bogus-rtp-info": (
        "Hikvision, Tapo: the PLAY reply's RTP-Info says seq=0 and an rtptime that disagree with the packets "
        "(retina v0.4.6, moonfire-nvr#224, retina#117)"
    ),
    "rtcp-before-play": (
        "Reolink: an RTCP sender report arrives on the interleaved channel before the PLAY reply (moonfire-nvr#213)"
    ),
    "data-before-play": (
        "Reolink, v4l2rtspserver: the first picture's RTP packets arrive before the PLAY reply (moonfire-nvr#213, "
        "retina#17)"
    ),
    "old-session-leak": (
        "Reolink: after a new PLAY, a few packets with the previous session's SSRC and sequence numbers arrive "
        "before the new session's (retina#17, moonfire-nvr#213)"
    ),
    "stray-pt": (
        "Geovision: occasional packets with another payload type (here 107) among the video (moonfire-nvr#352, "
        "retina#115)"
    ),
    "empty-fmtp": (
        "Ubiquiti: the SDP has an empty `a=fmtp:96` line (no sprop-parameter-sets; SPS/PPS only in-band) "
        "(retina#52, moonfire-nvr#238, gortsplib#88)"
    ),
    "content-base-no-scheme": (
        "Anjvision: `Content-Base` without the rtsp:// scheme (host:port/path/) (moonfire-nvr#356, retina#9)"
    ),
    "odd-ssrc": ("Dahua, Rubetek: the SETUP reply's Transport puts ssrc= first, as 4 hex digits (retina#120, #128)"),
    "sps-change": (
        "many cameras after a settings change: SPS/PPS change mid-stream to another resolution, at a keyframe "
        "(retina v0.0.5; kerberos-io/agent#105)"
    ),
    "sps-trailing": (
        "Reolink: the SPS carries trailing garbage bytes after its RBSP stop bit, in-band and in the SDP "
        "(retina#102, #68)"
    ),
    "fua-type-change": (
        "Tiandy: the NAL type bits of FU-A (H.265: FU) middle and end fragments differ from the start fragment's "
        "(moonfire-nvr#344)"
    ),
    "ts-jump": (
        "Intelbras DVRs: the RTP timestamps jump forward by three hours once, 2.5 s into the session "
        "(mediamtx PR#6255, retina#64)"
    ),
    "fps-short": (
        "various: the SDP declares 25 fps (a=framerate:25) but 21 pictures a second are delivered (open-nvr#229)"
    ),
    "b-frames": (
        "cameras with B-frames enabled: RTP timestamps are presentation times, packets are sent in decode order "
        "(issue 14)"
    ),
    "short-session-timeout": (
        "Siqura/Flir, GW4089IP: `Session: ...;timeout=10` and the session (its connection) is dropped when no "
        "keepalive arrives for 10 s (mediamtx#449; retina v0.4.1)"
    ),
    "stale-session": (
        "live555 servers: after a reconnect, the first SETUP is answered 454 Session Not Found once, while the old "
        "session is being torn down (moonfire-nvr#213, retina#17)"
    ),
    "audio-aac": "Hikvision, Dahua, Amcrest: a second track of AAC (MPEG4-GENERIC) audio (retina#22, #126)",
    "audio-pcma": "most cameras: a second track of G.711 A-law audio, payload type 8 (retina#22)",
    "audio-pcmu": "most cameras: a second track of G.711 µ-law audio, payload type 0 (retina#22)",
    "audio-opus": "newer cameras and WebRTC-minded servers (go2rtc): a second track of Opus audio (go2rtc README)",
    "cseq-space": "Longse: whitespace around the CSeq value in replies (REFERENCES.md, retina)",
    "no-content-type": "TP-Link: the DESCRIBE reply has no Content-Type (moonfire-nvr#238)",
    "rtcp-unknown-ssrc": (
        "Tapo C320WS: RTCP sender reports with an SSRC that no RTP packet carries, every second (retina v0.4.6)"
    ),
    "teardown-500": "Hikvision: TEARDOWN is answered 500 Internal Server Error (REFERENCES.md, retina)",
    "set-parameter-drops": "GW4089IP: a SET_PARAMETER request makes the camera drop the connection (retina v0.4.1)",
    "unassigned-channel": (
        "Reolink, v4l2rtspserver: packets on an interleaved channel no SETUP assigned (here 6), every second "
        "(moonfire-nvr#213, retina#17)"
    ),
    "sdp-no-origin": "Ubiquiti, TP-Link: an SDP with no o= line and trailing spaces in rtpmap (retina#52)",
    "annexb-in-rtp": ("V380: single-NAL RTP payloads start with an Annex B start code (00 00 00 01) (retina#68, #108)"),
    "rtp-info-trailing": "Hikvision: RTP-Info with a trailing semicolon and an empty rtptime (retina#117)",
    "session-id-change": "Tapo C320WS: each SETUP is answered with another session id (retina v0.4.6)",
    "empty-fu": "Tiandy: an empty FU-A (H.265: FU) fragment after each start fragment (moonfire-nvr#344)",
    "bad-sprop": (
        "VStarcam, Hikvision: sprop-parameter-sets that is not base64 of any SPS/PPS; SPS/PPS only in-band "
        "(retina#42, gortsplib#88)"
    ),
    "ts-backstep": ("Intelbras DVRs: the RTP timestamps step back by 100 ms once, 2.5 s into the session (retina#64)"),
}

# quirks that change the packets themselves (the rest act on the RTSP dialogue or on a session's numbers)
PACKET_QUIRKS = frozenset(
    {
        "slice-markers",
        "stray-pt",
        "fua-type-change",
        "fps-short",
        "sps-change",
        "sps-trailing",
        "annexb-in-rtp",
        "empty-fu",
    }
)
AUDIO_QUIRKS = {"audio-aac": "aac", "audio-pcma": "pcma", "audio-pcmu": "pcmu", "audio-opus": "opus"}
DECLARED_FPS = 25  # fps-short declares this
SHORT_FPS = 21  # and delivers this
SHORT_TIMEOUT_S = 10
TS_JUMP_S = 3 * 3600
TS_BACKSTEP = -9000  # ts-backstep: 100 ms back (90 kHz)
TS_JUMP_AFTER_S = 2.5  # mid-GOP, so the jump never coincides with a segment cut
STRAY_PT = 107
STRAY_EVERY = 37  # one stray packet after every STRAY_EVERY-th picture


class QuirkError(ValueError):
    """An unknown quirk name."""


def check(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``names`` in catalogue order, each once; raises :class:`QuirkError` on an unknown name."""
    unknown = sorted(set(names) - set(QUIRKS))
    if unknown:
        raise QuirkError(f"unknown quirk {', '.join(unknown)}; known: {', '.join(QUIRKS)}")
    audio = [n for n in names if n in AUDIO_QUIRKS]
    if len(set(audio)) > 1:
        raise QuirkError(f"one audio track per camera: {', '.join(audio)}")
    return tuple(q for q in QUIRKS if q in names)


def assign(camera_ids: list[str], values: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``--quirk`` values (``NAME`` for every camera, ``CAMERA=NAME`` for one) as each camera's quirks."""
    out: dict[str, list[str]] = {c: [] for c in camera_ids}
    for value in values:
        cam, sep, name = value.partition("=")
        if not sep:
            for names in out.values():
                names.append(cam)
        elif cam in out:
            out[cam].append(name)
        else:
            raise QuirkError(f"--quirk {value}: no camera {cam!r}")
    return {c: check(names) for c, names in out.items()}
