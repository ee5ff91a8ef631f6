"""Depacketizer micro-benchmark: RTP packets per second through ``media.rtp.Depacketizer`` (one core).

Two streams of 250 pictures (10 kB pictures, a 60 kB keyframe every 25, FU-A at 1400 bytes): one as most cameras
send it (a marker at the end of each picture) and one as live555 does (two slices a picture, a marker after each).
Prints ``bench-depacketize: plain_pps=X live555_pps=Y`` (best of 9 passes).

    PYTHONPATH=src python bench/bench_depacketize.py
"""

from __future__ import annotations

import random
import time

from camgrid.media.nal import H264
from camgrid.media.rtp import Depacketizer, packetize, rtp_header


def stream(sliced: bool) -> list[bytes]:
    rnd = random.Random(1)
    pkts: list[bytes] = []
    for i in range(250):
        key = i % 25 == 0
        nal = bytes([0x65 if key else 0x41, 0x88]) + rnd.randbytes(60000 if key else 10000)
        nals = [b"\x67\x42\x00\x1e", b"\x68\xce"] if key else []
        if sliced:  # the second half as a further slice (first_mb_in_slice != 0), a marker after each slice
            half = len(nal) // 2
            nals += [nal[:half], bytes([nal[0], 0x16]) + nal[half:]]
        else:
            nals.append(nal)
        for k, n in enumerate(nals):
            payloads = packetize(H264, [n])
            for j, p in enumerate(payloads):
                end = j == len(payloads) - 1 and (k == len(nals) - 1 or (sliced and n[0] & 0x1F in (1, 5)))
                pkts.append(rtp_header(len(pkts), i * 3600, 7, end) + p)
    return pkts


def rate(pkts: list[bytes]) -> float:
    best = 0.0
    for _ in range(9):
        dep = Depacketizer(H264)
        ready = dep.ready
        t = time.perf_counter()
        for p in pkts:
            dep.push(p)
            if ready:
                ready.clear()
        best = max(best, len(pkts) / (time.perf_counter() - t))
    return best


def main() -> None:
    print(f"bench-depacketize: plain_pps={rate(stream(False)):.0f} live555_pps={rate(stream(True)):.0f}")


if __name__ == "__main__":
    main()
