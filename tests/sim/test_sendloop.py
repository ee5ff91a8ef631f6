"""The simulator's send loop (camgrid.sim.sendloop, docs/design/simulator.md "The packet path"): a loop rendered
once, patched per tick, continues seamlessly across loops and carries exactly the clip's pictures."""

from __future__ import annotations

import itertools
import struct

from camgrid.media.nal import H264
from camgrid.sim import clips, sendloop
from tests.conftest import CLIP_CACHE
from tests.interop.pictures import source_pictures

SPEC = clips.ClipSpec(H264, 320, 240, 25, 300, 25, 50, "SENDLOOP", 7)


def headers(buf: bytes) -> list[tuple[int, int, int, int, bytes]]:
    """(channel, seq, ts, ssrc, payload) of each interleaved packet."""
    out, pos = [], 0
    while pos < len(buf):
        assert buf[pos] == 0x24
        ch, size = buf[pos + 1], struct.unpack_from(">H", buf, pos + 2)[0]
        _b0, _b1, seq, ts, ssrc = struct.unpack_from(">BBHII", buf, pos + 4)
        out.append((ch, seq, ts, ssrc, bytes(buf[pos + 16 : pos + 4 + size])))
        pos += 4 + size
    return out


def test_loops_continue_and_carry_the_clip() -> None:
    clip = clips.load(clips.encode(SPEC, CLIP_CACHE), H264)
    loop = sendloop.build(clip, 25)
    seq0, ts0, ssrc = [65530, 0], [(1 << 32) - 5000, 0], [0x1234, 0]
    n = loop.packets
    # three loops, sent in uneven ticks (a tick's packets are one slice of the blob)
    sent = []
    for k in range(3):
        cuts = [0, 1, 7, n // 2, n - 1, n]
        for a, b in itertools.pairwise(cuts):
            sent += headers(loop.render(a, b, k, seq0, ts0, ssrc))
    assert len(sent) == 3 * n
    assert all(ch == 0 and s == 0x1234 for ch, _, _, s, _ in sent)
    seqs = [p[1] for p in sent]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs)), "sequence numbers continue (and wrap)"
    starts = [sent[i][2] for k in range(3) for i in (k * n + j for j in loop.pic_first)]
    assert all((b - a) % (1 << 32) == 3600 for a, b in itertools.pairwise(starts)), "40 ms a picture, across loops"
    payloads = [p for au in clip.payloads for p in au]
    assert [p[4] for p in sent[:n]] == payloads
    assert loop.due_by(0.0) == (0, len(clip.payloads[0]))  # the first picture is due at once
    assert loop.due_by(loop.seconds + 0.039) == (1, len(clip.payloads[0]))


def test_ground_truth_digest_is_the_interop_digest() -> None:
    path = clips.encode(SPEC, CLIP_CACHE)
    loop = sendloop.build(clips.load(path, H264), 25)
    assert loop.pic_digest == [p.digest for p in source_pictures(path.read_bytes(), H264, 25)]
