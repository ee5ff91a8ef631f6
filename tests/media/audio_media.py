"""Real RTP audio for the tests: ffmpeg encodes a tone (and a small H.264 picture) and packetizes both with its own
RTP muxer (a third-party packetizer: RFC 3640 AU headers, RFC 7587 Opus, G.711), captured once over loopback UDP
into a cache; then the packets are recorded through the real RTSP client, anchors and segmenter."""

from __future__ import annotations

import json
import selectors
import socket
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from camgrid.ingest.auth import Credentials
from camgrid.ingest.rtsp import RtspClient
from camgrid.ingest.timing import Anchor
from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.rtp import AccessUnit
from camgrid.storage.segmenter import OpenSegment, Segmenter

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "var" / "test-cache" / "audio"
NS = 1_000_000_000
T0 = 1_780_000_000 * NS
TONE_HZ = 440
SECONDS = 3
ENCODERS = {
    "aac": ["-c:a", "aac", "-ar", "48000", "-ac", "1"],
    "opus": ["-c:a", "libopus", "-ar", "48000", "-ac", "1", "-b:a", "32k"],
    "pcma": ["-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1"],
    "pcmu": ["-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1"],
}
ENCODER_DELAY = {"aac": 1024, "opus": 312, "pcma": 0, "pcmu": 0}  # samples of priming the encoder adds


@dataclass
class Capture:
    sdp: str
    video: list[bytes]
    audio: list[bytes]


def _port_pair() -> tuple[socket.socket, socket.socket]:
    while True:
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        if port % 2:
            a.close()
            continue
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            b.bind(("127.0.0.1", port + 1))
        except OSError:
            a.close()
            b.close()
            continue
        return a, b


def capture(codec: str) -> Capture:
    """ffmpeg's RTP packets of SECONDS of a TONE_HZ tone in ``codec`` and of 320x240 H.264 (cached)."""
    path = CACHE / f"{codec}-{TONE_HZ}-{SECONDS}.json"
    if path.exists():
        doc = json.loads(path.read_text())
        return Capture(doc["sdp"], [bytes.fromhex(p) for p in doc["video"]], [bytes.fromhex(p) for p in doc["audio"]])
    CACHE.mkdir(parents=True, exist_ok=True)
    socks = [_port_pair(), _port_pair()]
    for pair in socks:
        for s in pair:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    vport, aport = socks[0][0].getsockname()[1], socks[1][0].getsockname()[1]
    sdp_path = CACHE / f"{codec}.sdp.tmp"
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error",
        "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:sample_rate=48000:duration={SECONDS}",
        "-map", "0:v", "-c:v", "libx264", "-g", "25", "-bf", "0", "-pix_fmt", "yuv420p", "-preset", "ultrafast",
        "-f", "rtp", f"rtp://127.0.0.1:{vport}",
        "-map", "1:a", *ENCODERS[codec], "-f", "rtp", f"rtp://127.0.0.1:{aport}",
        "-sdp_file", str(sdp_path),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd)
    sel = selectors.DefaultSelector()
    sel.register(socks[0][0], selectors.EVENT_READ, "video")
    sel.register(socks[1][0], selectors.EVENT_READ, "audio")
    got: dict[str, list[bytes]] = {"video": [], "audio": []}
    idle = 0
    while idle < 5:
        events = sel.select(timeout=0.1)
        if not events and proc.poll() is not None:
            idle += 1
        for key, _ in events:
            got[key.data].append(key.fileobj.recv(65536))  # type: ignore[union-attr]
    assert proc.wait(10) == 0
    for pair in socks:
        for s in pair:
            s.close()
    sdp = sdp_path.read_text()
    sdp_path.unlink()
    doc = {"sdp": sdp, "video": [p.hex() for p in got["video"]], "audio": [p.hex() for p in got["audio"]]}
    path.write_text(json.dumps(doc))
    return Capture(sdp, got["video"], got["audio"])


def camera_sdp(cap: Capture) -> str:
    """ffmpeg's SDP as a camera would DESCRIBE it: a control URL per track."""
    out = []
    track = 0
    for line in cap.sdp.splitlines():
        out.append(line)
        if line.startswith("m="):
            out.append(f"a=control:trackID={track}")
            track += 1
    return "\r\n".join(out) + "\r\n"


def _clock(pkt: bytes) -> int:
    return int(struct.unpack_from(">I", pkt, 4)[0])


def interleaved(
    cap: Capture, audio_rate: int, audio_channel: int = 2, audio_delay_ns: int = 0
) -> list[tuple[int, bytes]]:
    """(arrival ns, interleaved frame) of both tracks in media-time order, as a camera with a perfect clock sends;
    the audio starts ``audio_delay_ns`` after the first picture."""
    out: list[tuple[int, bytes]] = []
    for pkts, rate, ch, delay in ((cap.video, 90000, 0, 0), (cap.audio, audio_rate, audio_channel, audio_delay_ns)):
        if not pkts:
            continue
        t0 = _clock(pkts[0])
        for p in pkts:
            at = T0 + delay + ((_clock(p) - t0) & 0xFFFFFFFF) * NS // rate
            out.append((at, b"$" + bytes([ch]) + struct.pack(">H", len(p)) + p))
    out.sort(key=lambda x: x[0])
    return out


@dataclass
class Recorded:
    client: RtspClient
    files: list[Path]
    requests: list[bytes]
    spans: list[tuple[int, int]]  # each file's (start ns, end ns)


def record(
    cap: Capture, folder: Path, *, audio: bool, audio_delay_ns: int = 0, segment_seconds: float = 60
) -> Recorded:
    """Play ``cap`` to the real RTSP client (DESCRIBE/SETUP/PLAY answered as a camera would) and record what it
    delivers with the real anchors and segmenter into segment files under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytearray] = {}
    paths: list[Path] = []
    spans: list[tuple[int, int]] = []

    def w_open(seg: OpenSegment, init: bytes) -> None:
        files[seg.key] = bytearray(init)

    def w_append(seg: OpenSegment, data: list[bytes | bytearray]) -> None:
        files[seg.key] += b"".join(data)

    def w_close(seg: OpenSegment, end_ns: int) -> None:
        p = folder / f"{len(paths):03d}.mp4"
        p.write_bytes(bytes(files.pop(seg.key)))
        paths.append(p)
        spans.append((seg.start_ns, end_ns))

    seg = Segmenter("cam", folder, segment_seconds=segment_seconds, fragment_seconds=1.0, write_open=w_open,
                    write_append=w_append, write_close=w_close)  # fmt: skip

    def on_audio(track: AudioTrack, frame: AudioFrame, wall: int, ext: int, jump: bool) -> None:
        seg.push_audio(frame, wall, ext, jump)

    client = play(cap, seg.push, on_audio if audio else None, on_track=seg.set_audio, audio_delay_ns=audio_delay_ns)
    seg.finish()
    return Recorded(client, paths, list(client.outbox), spans)


def play(
    cap: Capture,
    on_au: Callable[[AccessUnit, int, bool], None],
    on_audio: Callable[[AudioTrack, AudioFrame, int, int, bool], None] | None,
    *,
    on_track: Callable[[AudioTrack | None], None] | None = None,
    audio_delay_ns: int = 0,
    pace: Callable[[int], None] | None = None,
) -> RtspClient:
    """Play ``cap`` to the real RTSP client (DESCRIBE/SETUP/PLAY answered as a camera would); its pictures and audio
    frames, anchored to UTC by the real anchors, go to ``on_au`` (``au.arrival_ns`` set) and ``on_audio``.
    ``pace(ns from the start)`` is called before each packet (a camera's real-time pacing; none: all at once)."""
    vanchor, aanchor = Anchor(), Anchor()
    arrival = [T0]

    def got_au(au: AccessUnit) -> None:
        wall, ext, jump = vanchor.place(au.ts, arrival[0])
        au.arrival_ns = wall
        on_au(au, ext, jump)

    def got_audio(frame: AudioFrame) -> None:
        track = client.audio_track
        assert track is not None and on_audio is not None
        aanchor.clock_rate = track.clock_rate
        wall, ext, jump = aanchor.place(frame.ts, arrival[0])
        on_audio(track, frame, wall, ext, jump)

    client = RtspClient("rtsp://cam/", Credentials("", ""), got_au, on_audio=got_audio if on_audio else None)
    client.start()
    body = camera_sdp(cap).encode()
    client.feed(
        b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Base: rtsp://cam/\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    cseq = 2
    while client.state != "playing":
        last = client.outbox[-1]
        if last.startswith(b"SETUP"):
            ch = b"2-3" if b"interleaved=2-3" in last else b"0-1"
            client.feed(b"RTSP/1.0 200 OK\r\nCSeq: %d\r\nSession: 77\r\nTransport: RTP/AVP/TCP;interleaved=%s\r\n\r\n"
                        % (cseq, ch))  # fmt: skip
        else:
            client.feed(b"RTSP/1.0 200 OK\r\nCSeq: %d\r\nSession: 77\r\n\r\n" % cseq)
        cseq += 1
    if on_audio is not None:
        assert client.audio_track is not None, client.audio_refused
    if on_track is not None:
        on_track(client.audio_track)  # as ingest tells the sink before the first picture
    rate = client.audio_track.clock_rate if client.audio_track is not None else 8000
    for at, frame in interleaved(cap, rate, audio_delay_ns=audio_delay_ns):
        if pace is not None:
            pace(at - T0)  # a camera sends in real time: wait until this packet is due
        arrival[0] = at
        client.feed(frame)
    return client


def ffprobe_streams(path: Path) -> list[dict[str, object]]:
    r = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    streams: list[dict[str, object]] = json.loads(r.stdout)["streams"]
    return streams


def decode_audio(path: Path) -> tuple[list[int], int]:
    """The audio track decoded by ffmpeg: 16-bit mono samples and their rate."""
    rate = 48000
    r = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", str(rate),
         "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    n = len(r.stdout) // 2
    return list(struct.unpack(f"<{n}h", r.stdout[: 2 * n])), rate


def dominant_frequency(samples: list[int], rate: int) -> float:
    """The tone's frequency from its zero crossings (the middle half of the signal, away from fades)."""
    mid = samples[len(samples) // 4 : 3 * len(samples) // 4]
    crossings = [i for i in range(1, len(mid)) if (mid[i - 1] < 0) != (mid[i] < 0)]
    if len(crossings) < 2:
        return 0.0
    return (len(crossings) - 1) / 2 / ((crossings[-1] - crossings[0]) / rate)
