"""bench-control-room: live latency on a 16-tile wall, seek time, and the map with 62,000 cameras, in real Chromium.

Live latency runs from the recorder receiving a picture to Chromium presenting it: the server tells each viewer the
wall time its fragments' media time counts from, and the page measures every presented frame with
requestVideoFrameCallback (window.camgrid.stats.live). Seek runs from a click on the timeline to the first frame
presented (window.camgrid.stats.seeks). The map figures come from a second server with 62,000 registered cameras
(no recorder): first render of the camera layer, then frames per second while panning continuously.

Last line: ``bench-control-room: live_p50_ms=A live_p95_ms=B tiles=16 seek_p95_ms=C map_cameras=62000
map_first_render_ms=D map_pan_fps=E``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def wait_http(url: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


def server(home: Path, env: dict[str, str], record: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    e = dict(env, CAMGRID_HOME=str(home), CAMGRID_SERVER__PORT=str(port), CAMGRID_NEW_PASSWORD=PASSWORD)
    subprocess.run([*CAMGRID, "users", "add", "bench", "--role", "operator"], env=e, check=True, capture_output=True)
    cmd = [*CAMGRID, "serve"] + ([] if record else ["--no-record"])
    proc = subprocess.Popen(cmd, env=e, stdout=(home / "serve.log").open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/login", 60)
    return proc, base


def login(page: object, base: str) -> None:
    page.goto(base + "/")  # type: ignore[attr-defined]
    page.fill('[data-testid="login-username"]', "bench")  # type: ignore[attr-defined]
    page.fill('[data-testid="login-password"]', PASSWORD)  # type: ignore[attr-defined]
    page.click('[data-testid="login-submit"]')  # type: ignore[attr-defined]
    page.wait_for_selector('[data-testid="camera-count"]', timeout=60_000)  # type: ignore[attr-defined]


def city_registry(path: Path, n: int) -> None:
    """n cameras spread over the district (a synthetic city of the design size), 40 districts, 300 feeders."""
    rng = random.Random(7)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lat", "lon", "district", "site", "feeder", "uplink", "rtsp_url"])
        for i in range(n):
            site = i // 15
            w.writerow(
                [
                    f"c{i:05d}",
                    f"camera {i}",
                    f"{27.60 + rng.random() * 0.16:.6f}",
                    f"{85.24 + rng.random() * 0.16:.6f}",
                    f"D-{site % 40:02d}",
                    f"S-{site:05d}",
                    f"F-{site % 300:03d}",
                    f"U-{site % 500:03d}",
                    f"rtsp://10.{i // 65000}.{(i // 250) % 250}.{i % 250}/s",
                ]
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiles", type=int, default=16)
    ap.add_argument("--map-cameras", type=int, default=62_000)
    ap.add_argument("--live-seconds", type=float, default=20.0)
    ap.add_argument("--seeks", type=int, default=20)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-control-room-"))
    env = dict(
        os.environ,
        CAMGRID_SIM__CACHE_DIR=str(ROOT / "var" / "bench-cache" / "clips"),
        CAMGRID_RECORDER__METRICS_PORT="0",
        CAMGRID_SIM__H265_EVERY="0",
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # A city of `tiles` simulated cameras, recorded and served.
        live_home = work / "live"
        live_home.mkdir()
        rtsp, control = free_port(), free_port()
        e = dict(
            env,
            CAMGRID_HOME=str(live_home),
            CAMGRID_SIM__PORT=str(rtsp),
            CAMGRID_SIM__CONTROL_PORT=str(control),
            CAMGRID_RECORDER__SEGMENT_SECONDS="4",
        )
        sim = subprocess.Popen(
            [*CAMGRID, "sim", "--count", str(args.tiles), "--out", str(live_home / "cams.csv")],
            env=e,
            stdout=(work / "sim.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        procs.append(sim)
        while b"ready" not in (work / "sim.log").read_bytes():
            if sim.poll() is not None:
                raise SystemExit((work / "sim.log").read_text())
            time.sleep(0.5)
        subprocess.run(
            [*CAMGRID, "cameras", "import", str(live_home / "cams.csv")], env=e, check=True, capture_output=True
        )
        live_srv, live_base = server(live_home, e, record=True)
        procs.append(live_srv)
        # The design-size city for the map.
        map_home = work / "map"
        map_home.mkdir()
        city_registry(map_home / "city.csv", args.map_cameras)
        subprocess.run(
            [*CAMGRID, "cameras", "import", str(map_home / "city.csv")],
            env=dict(env, CAMGRID_HOME=str(map_home)),
            check=True,
            capture_output=True,
        )
        map_srv, map_base = server(map_home, env, record=False)
        procs.append(map_srv)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            login(page, live_base)
            ids = [f"cam-{i:04d}" for i in range(1, args.tiles + 1)]
            time.sleep(6)  # let every camera record a little for the seeks
            page.goto(live_base + f"/#/live?n={args.tiles}&cams={','.join(ids)}")
            page.wait_for_function(
                f"() => Object.keys(window.camgrid.stats.live).length >= {args.tiles}", timeout=60_000
            )
            page.wait_for_timeout(5000)  # settle
            page.evaluate(
                "() => { for (const k in window.camgrid.stats.live) window.camgrid.stats.live[k].length = 0 }"
            )
            page.wait_for_timeout(int(args.live_seconds * 1000))
            live = page.evaluate("() => window.camgrid.stats.live")
            values = [v for arr in live.values() for v in arr]
            tiles = len([k for k, arr in live.items() if arr])

            now_ms = int(time.time() * 1000)
            page.goto(live_base + f"/#/playback?cams={ids[0]}&t={now_ms - 20_000}")
            track = page.wait_for_selector('[data-testid="timeline"]', timeout=30_000)
            page.wait_for_timeout(3000)
            box = track.bounding_box()
            spans = page.evaluate(
                """async ([id, t0, t1]) => {
                    const r = await fetch(`/api/cameras/${id}/timeline?from_ms=${t0}&to_ms=${t1}`);
                    return (await r.json()).segments.map(s => [s.start_ms, s.end_ms]);
                }""",
                [ids[0], now_ms - 3_600_000, now_ms + 60_000],
            )
            rng = random.Random(1)
            for _ in range(args.seeks):
                before = len(page.evaluate("() => window.camgrid.stats.seeks"))
                s0, s1 = rng.choice(spans)
                t = rng.uniform(s0 + 500, max(s0 + 600, min(s1, now_ms - 3000) - 500))
                x = page.evaluate("([id, t]) => window.camgrid.timelineX(id, t)", [ids[0], t])
                if x is None or not (box["x"] <= x <= box["x"] + box["width"]):
                    continue
                page.mouse.click(x, box["y"] + box["height"] / 2)
                try:
                    page.wait_for_function(f"() => window.camgrid.stats.seeks.length > {before}", timeout=10_000)
                except Exception:
                    pass
                page.wait_for_timeout(300)
            seeks = page.evaluate("() => window.camgrid.stats.seeks")

            page2 = browser.new_page(viewport={"width": 1600, "height": 1000})
            login(page2, map_base)
            page2.wait_for_function("() => window.camgrid.stats.mapFirstRenderMs !== null", timeout=120_000)
            first_render = page2.evaluate("() => window.camgrid.stats.mapFirstRenderMs")
            map_cameras = page2.evaluate("() => window.camgrid.stats.mapCameras")
            fps = page2.evaluate("() => window.camgrid.panBenchmark(4000)")
            browser.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    print(json.dumps({"live_frames": len(values), "seeks": len(seeks), "work": str(work)}))
    # Issue 16's parts, each with its own city and server (bench/control_room_*.py say how they measure).
    sys.path.insert(0, str(Path(__file__).parent))
    from control_room_h265 import h265_costs
    from control_room_pan import pan_fps
    from control_room_resync import resync

    pan = pan_fps(verbose=True)
    print(json.dumps(pan))
    rs = resync()
    print(json.dumps(rs))
    h265 = h265_costs()
    print(json.dumps(h265))
    print(
        f"bench-control-room: live_p50_ms={pct(values, 0.5):.0f} live_p95_ms={pct(values, 0.95):.0f} tiles={tiles} "
        f"seek_p95_ms={pct(seeks, 0.95):.0f} map_cameras={map_cameras} map_first_render_ms={first_render:.0f} "
        f"map_pan_fps={fps:.1f} pan_fps_cpu={pan['pan_fps_cpu']:.1f} resync_ms={rs['resync_ms']:.0f} "
        f"h265_live_p95_ms={h265['h265_live_p95_ms']:.0f} h265_viewer_cpu={h265['h265_viewer_cpu']:.3f}"
    )


if __name__ == "__main__":
    main()
