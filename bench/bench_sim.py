"""bench-sim: what the simulator costs per stream, against raw readers (no recorder).

Starts ``camgrid sim --count N`` (720p, 25 fps, 2 Mbit/s, one shared clip unless ``--own-clips``), opens one RTSP
session per camera from this process (Digest, SETUP over TCP, PLAY) and reads everything; after a warm-up it
measures the simulator process's CPU (utime + stime from /proc) over the window and prints

    bench-sim: streams=N seconds=S sim_cpu_per_stream=X sim_cpu=C mbit_per_stream=M sim_pss_mb=P

``sim_cpu_per_stream`` is a fraction of one core per stream (target: at most 0.001). The readers run in this
process, so their cost is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
TICK = os.sysconf("SC_CLK_TCK")


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Reader:
    def __init__(self, url: str, user: str, password: str) -> None:
        self.url, self.user, self.password = url, user, password
        self.bytes = 0
        self.cseq = 0
        self.nonce = ""

    def _auth(self, method: str) -> str:
        if not self.nonce:
            return ""
        ha1 = hashlib.md5(f"{self.user}:camgrid-sim:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{self.url}".encode()).hexdigest()
        resp = hashlib.md5(f"{ha1}:{self.nonce}:{ha2}".encode()).hexdigest()
        return (
            f'Authorization: Digest username="{self.user}", realm="camgrid-sim", nonce="{self.nonce}", '
            f'uri="{self.url}", response="{resp}"\r\n'
        )

    async def request(self, r: asyncio.StreamReader, w: asyncio.StreamWriter, method: str, url: str, extra: str) -> str:
        for _ in range(2):
            self.cseq += 1
            w.write(f"{method} {url} RTSP/1.0\r\nCSeq: {self.cseq}\r\n{self._auth(method)}{extra}\r\n".encode())
            head = (await r.readuntil(b"\r\n\r\n")).decode("latin-1")
            m = re.search(r"Content-Length:\s*(\d+)", head)
            if m:
                await r.readexactly(int(m.group(1)))
            if " 401 " in head.split("\r\n")[0]:
                nonce = re.search(r'nonce="([^"]+)"', head)
                self.nonce = nonce.group(1) if nonce else ""
                continue
            return head
        raise RuntimeError(f"{method} refused: {head.splitlines()[0]}")

    async def run(self, host: str, port: int, playing: list[int]) -> None:
        r, w = await asyncio.open_connection(host, port, limit=1 << 22)
        await self.request(r, w, "DESCRIBE", self.url, "Accept: application/sdp\r\n")
        transport = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
        head = await self.request(r, w, "SETUP", self.url + "/trackID=0", transport)
        session = re.search(r"Session:\s*([^;\r]+)", head)
        assert session
        await self.request(r, w, "PLAY", self.url, f"Session: {session.group(1)}\r\n")
        playing.append(1)
        while True:
            data = await r.read(1 << 20)
            if not data:
                return
            self.bytes += len(data)


async def measure(args: argparse.Namespace, registry: Path, port: int, pid: int) -> tuple[float, float, float]:
    with registry.open() as fh:
        rows = list(csv.DictReader(fh))
    readers = [Reader(row["rtsp_url"], row["username"], row["password"]) for row in rows]
    playing: list[int] = []
    tasks = [asyncio.create_task(rd.run("127.0.0.1", port, playing)) for rd in readers]
    deadline = time.monotonic() + 60
    while len(playing) < len(readers):
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(playing)} of {len(readers)} sessions play")
        await asyncio.sleep(0.1)
    await asyncio.sleep(args.warmup)
    c0, b0, t0 = cpu_seconds(pid), sum(rd.bytes for rd in readers), time.monotonic()
    await asyncio.sleep(args.seconds)
    c1, b1, t1 = cpu_seconds(pid), sum(rd.bytes for rd in readers), time.monotonic()
    pss = pss_mb(pid)
    for t in tasks:
        t.cancel()
    n = len(readers)
    return (c1 - c0) / (t1 - t0) / n, (b1 - b0) * 8 / (t1 - t0) / n / 1e6, pss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--streams", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--own-clips", action="store_true", help="a clip per camera (as `camgrid sim` does by default)")
    ap.add_argument("--tick-ms", type=int, default=0, help="sim.tick_ms (default: the simulator's)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        work = Path(tmp)
        registry = work / "cameras.csv"
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ)
        env.update(
            {
                "CAMGRID_HOME": str(work),
                "CAMGRID_SIM__PORT": str(port),
                "CAMGRID_SIM__CONTROL_PORT": "0",
                "CAMGRID_SIM__H265_EVERY": "0",
                "CAMGRID_SIM__CACHE_DIR": str(ROOT / "var" / "test-cache" / "clips"),
                "CAMGRID_SIM__CLIP_SECONDS": "4",
            }
        )
        if not args.own_clips:
            env["CAMGRID_SIM__SHARED_CLIP"] = "1"
        if args.tick_ms:
            env["CAMGRID_SIM__TICK_MS"] = str(args.tick_ms)
        log = (work / "sim.log").open("wb")
        sim = subprocess.Popen(
            [*CAMGRID, "sim", "--count", str(args.streams), "--out", str(registry)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 600
            while b"ready" not in (work / "sim.log").read_bytes():
                if sim.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("simulator failed:\n" + (work / "sim.log").read_text())
                time.sleep(0.2)
            per_stream, mbit, pss = asyncio.run(measure(args, registry, port, sim.pid))
        finally:
            sim.send_signal(signal.SIGTERM)
            try:
                sim.wait(20)
            except subprocess.TimeoutExpired:
                sim.kill()
    print(
        f"bench-sim: streams={args.streams} seconds={args.seconds:.0f} sim_cpu_per_stream={per_stream:.5f} "
        f"sim_cpu={per_stream * args.streams:.3f} mbit_per_stream={mbit:.2f} sim_pss_mb={pss:.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
