"""The cost of H.265 cameras in a browser that cannot decode H.265 (issue 16): the server's on-demand H.264.

``h265_costs(cameras=2, seconds=15.0)`` starts its own simulated city of ``cameras`` H.265 cameras, ``camgrid serve``
(recording them) and Debian's Chromium (which has no H.265 decoder: every tile goes through the transcode), and
returns:

- ``h265_live_p95_ms``: glass-to-glass latency p95 over every presented frame of ``cameras`` live tiles (one page
  each, main stream), measured as bench_control_room.py measures ``live_p50_ms``: the server tells the page the
  wall time of the stream's media time 0 (the recorder's arrival of its first picture, before the transcode), and
  the page's requestVideoFrameCallback compares each frame's presentation time with it (window.camgrid.stats.live).
  Target <= 800.
- ``h265_viewer_cpu``: cores per H.265 camera viewed: the server process's CPU (user+system, /proc) over
  ``seconds`` with the tiles open, minus the same with no viewer, divided by ``cameras``.
- ``h265_transcode_cpu``: the transcode threads' own CPU per camera (GET /api/live/transcodes busy_s / seconds).

Standalone: ``python bench/control_room_h265.py [--cameras N] [--seconds S]`` prints ``key=value`` per key.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
PASSWORD = "bench-password-1"
ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait(cond: object, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}")


def _pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def h265_costs(cameras: int = 2, seconds: float = 15.0, *, baseline: bool = False) -> dict[str, float]:
    """See the module docstring: a city of ``cameras`` H.265 cameras, ``seconds`` of measuring per phase.
    ``baseline``: the same with H.264 cameras (native path, no transcode): what the machine gives without it."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-h265-"))
    home = work / "home"
    home.mkdir()
    port = _free_port()
    env = dict(
        os.environ,
        CAMGRID_HOME=str(home),
        CAMGRID_SIM__CACHE_DIR=str(ROOT / "var" / "bench-cache" / "clips"),
        CAMGRID_SIM__H265_EVERY="0" if baseline else "1",
        CAMGRID_SIM__PORT=str(_free_port()),
        CAMGRID_SIM__CONTROL_PORT=str(_free_port()),
        CAMGRID_SIM__ONVIF_PORT=str(_free_port()),
        CAMGRID_SIM__DISCOVERY_PORT=str(_free_port()),
        CAMGRID_ONVIF__WATCH="false",
        CAMGRID_RECORDER__METRICS_PORT="0",
        CAMGRID_LIVE__MAX_TRANSCODES=str(max(4, cameras)),
        CAMGRID_SERVER__PORT=str(port),
        CAMGRID_NEW_PASSWORD=PASSWORD,
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        sim = subprocess.Popen(
            [*CAMGRID, "sim", "--count", str(cameras), "--out", str(home / "cams.csv")],
            env=env,
            stdout=(work / "sim.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        procs.append(sim)
        _wait(lambda: b"ready" in (work / "sim.log").read_bytes() or sim.poll() is not None, 600, "the simulator")
        subprocess.run(
            [*CAMGRID, "cameras", "import", str(home / "cams.csv")], env=env, check=True, capture_output=True
        )
        subprocess.run(
            [*CAMGRID, "users", "add", "bench", "--role", "operator"], env=env, check=True, capture_output=True
        )
        srv = subprocess.Popen(
            [*CAMGRID, "serve"], env=env, stdout=(home / "serve.log").open("wb"), stderr=subprocess.STDOUT
        )
        procs.append(srv)
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: urllib.request.urlopen(base + "/login", timeout=1), 60, "the server")
        ids = [f"cam-{i:04d}" for i in range(1, cameras + 1)]
        time.sleep(5)  # every camera connected and recording

        c0 = _cpu_s(srv.pid)
        time.sleep(seconds)
        idle = (_cpu_s(srv.pid) - c0) / seconds

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            pages = []
            for cam in ids:
                page = browser.new_page(viewport={"width": 640, "height": 400})
                page.goto(base + "/")
                page.fill('[data-testid="login-username"]', "bench")
                page.fill('[data-testid="login-password"]', PASSWORD)
                page.click('[data-testid="login-submit"]')
                page.wait_for_selector('[data-testid="camera-count"]', timeout=60_000)
                page.goto(base + f"/#/live?n=1&cams={cam}")
                pages.append(page)
            for page in pages:
                page.wait_for_function("() => Object.keys(window.camgrid.stats.live).length >= 1", timeout=60_000)
            time.sleep(3)  # settle
            for page in pages:
                page.evaluate(
                    "() => { for (const k in window.camgrid.stats.live) window.camgrid.stats.live[k].length = 0 }"
                )
            cookie = pages[0].context.cookies()[0]
            req = urllib.request.Request(
                base + "/api/live/transcodes", headers={"Cookie": f"{cookie['name']}={cookie['value']}"}
            )
            with urllib.request.urlopen(req, timeout=60) as resp:
                busy0 = sum(t["busy_s"] for t in json.loads(resp.read())["running"])
            c0 = _cpu_s(srv.pid)
            time.sleep(seconds)
            watched = (_cpu_s(srv.pid) - c0) / seconds
            with urllib.request.urlopen(req, timeout=60) as resp:
                running = json.loads(resp.read())["running"]
            busy = (sum(t["busy_s"] for t in running) - busy0) / seconds
            values = [
                v for page in pages for arr in page.evaluate("() => window.camgrid.stats.live").values() for v in arr
            ]
            browser.close()
        prefix = "native" if baseline else "h265"
        return {
            f"{prefix}_live_p50_ms": round(_pct(values, 0.5), 1),
            f"{prefix}_live_p95_ms": round(_pct(values, 0.95), 1),
            f"{prefix}_viewer_cpu": round((watched - idle) / cameras, 3),
            "h265_transcode_dropped": float(sum(t["dropped"] for t in running)),
            "h265_transcode_frames": float(sum(t["frames_out"] for t in running)),
            "h265_transcode_cpu": round(busy / max(1, len(running)), 3),
        }
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--baseline", action="store_true", help="H.264 cameras, native path: the machine's own figures")
    args = ap.parse_args()
    for k, v in h265_costs(args.cameras, args.seconds, baseline=args.baseline).items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main()
