"""B-frames end to end: RTP timestamps are presentation times, arrival order is decode order; the stored segment
must present every picture at its source time, in the source's display order (checked by ffprobe and ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from camgrid.clock import FakeClock
from camgrid.ingest.timing import Anchor
from camgrid.media import fmp4
from camgrid.media.nal import H264
from camgrid.media.rtp import Depacketizer, packetize, rtp_header
from camgrid.storage.segmenter import OpenSegment, Segmenter
from tests.conftest import CLIP_CACHE
from tests.media.streams import annexb_aus, encode, probe

NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def _md5s(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def record(src: Path, tmp_path: Path) -> Path:
    """Packetize ``src`` with its presentation times as RTP timestamps, in decode order, 25 pictures a second of
    arrival, and record it through the depacketizer, the anchor and the segmenter into one segment file."""
    packets = probe(src, "packets", "pts_time,dts_time")
    aus = annexb_aus(src)
    assert len(aus) == len(packets)
    assert any(p["pts_time"] != p["dts_time"] for p in packets), "the source has B-frames"
    out = tmp_path / "seg.mp4"
    chunks: list[bytes] = []

    def opened(seg: OpenSegment, init: bytes) -> None:
        chunks.append(init)

    def appended(seg: OpenSegment, data: list[bytes | bytearray]) -> None:
        chunks.extend(bytes(d) for d in data)

    s = Segmenter(
        "cam",
        tmp_path,
        segment_seconds=60,
        fragment_seconds=1.0,
        write_open=opened,
        write_append=appended,
        write_close=lambda seg, end: None,
    )
    s.set_codec(H264, [])
    dep = Depacketizer(H264)
    anchor = Anchor()
    clock = FakeClock(T0)
    seq = 0
    for au, pkt in zip(aus, packets, strict=True):
        ts = 1000 + round(float(pkt["pts_time"]) * 90_000)
        payloads = packetize(H264, au)
        for j, payload in enumerate(payloads):
            dep.push(rtp_header(seq, ts, 7, j == len(payloads) - 1) + payload)
            seq += 1
        for a in dep.ready:
            wall, ext, jump = anchor.place(a.ts, clock.wall_ns())
            a.arrival_ns = wall
            s.push(a, ext, jump)
        dep.ready.clear()
        clock.advance(0.04)
    s.finish()
    out.write_bytes(b"".join(chunks))
    return out


def test_b_frames_are_presented_at_their_source_times_in_display_order(tmp_path: Path) -> None:
    src = encode(["-preset", "veryfast", "-bf", "2", "-g", "25", "-sc_threshold", "0"], 2, CLIP_CACHE)
    stored = record(src, tmp_path)
    got = [float(f["pts_time"]) for f in probe(stored, "frames", "pts_time")]
    want = [float(f["pts_time"]) for f in probe(src, "frames", "pts_time")]
    assert len(got) == len(want) == 50
    assert [round(t - got[0], 3) for t in got] == [round(t - want[0], 3) for t in want], "presentation times"
    assert _md5s(stored) == _md5s(src), "the pictures, in the source's display order"
    samples = fmp4.read_samples(stored.read_bytes())
    times = [x.time for x in samples]
    assert times == sorted(times) and len(set(times)) == len(times), "decode times increase"
    assert any(x.cto for x in samples), "composition offsets written"
    shown = [x.time + x.cto for x in samples]
    assert samples[-1].time + samples[-1].duration == max(shown) + 3600, "ends where the last picture shown ends"
    # The SPS declares the reorder depth (VUI max_num_reorder_frames = 2): decoding starts two frames before the
    # first picture is shown, every decode step is a frame (a browser's MediaSource drops a whole GOP after a
    # decode step over two frames, and shows a one-tick sample as a hole) and no offset is negative.
    assert all(x.duration == 3600 for x in samples[:-1]) and min(x.cto for x in samples) >= 0


def test_a_stream_without_b_frames_writes_no_offsets() -> None:
    data = fmp4.fragment(1, 0, [(3600, 4, True), (3600, 4, False)], [b"abcd", b"efgh"], [0, 0])
    assert b"trun\x00\x00\x07\x01" in data, "version 0, no composition offsets: as before"
