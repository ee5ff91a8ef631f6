"""Map panning with 62,000 cameras on Chromium's CPU renderer (SwiftShader), and the base map alone for comparison.

``pan_fps(n)`` registers ``n`` cameras (sites of four cameras at one point, each with a view: heading, field of view,
range) spread over the same area as ``bench_control_room.city_registry``, serves them without a recorder, signs in
with Debian's Chromium started with the flags of the browser tests (``--use-angle=swiftshader``: no GPU), and runs
``window.camgrid.panBenchmark`` (the map panned by 8 px every animation frame in a circle; frames counted only when
MapLibre rendered one) at the city view the map opens on, with the whole registry in view (zoom 13), at street zoom
(17, labels and cones); at each view, ``rounds`` times with the cameras and then with every camera hidden by the state
filters (the base map alone), in turn, so that the machine's load weighs on both alike. Returns
``{"pan_fps_cpu": ...}`` (median, 62,000 cameras, city view); prints each view's medians, their ratio and the load
average (on a shared 2-core machine the absolute figures only compare within one run).

Standalone: ``python bench/control_room_pan.py [--cameras 62000] [--seconds 4]`` prints the key and the comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_control_room import ARGS, CAMGRID, login, server


def map_registry(path: Path, n: int) -> None:
    """``n`` cameras, four per site at one point looking four ways, over bench_control_room's map area."""
    rng = random.Random(7)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "id",
                "name",
                "lat",
                "lon",
                "district",
                "site",
                "feeder",
                "uplink",
                "rtsp_url",
                "heading_deg",
                "fov_deg",
                "range_m",
            ]
        )
        lat = lon = heading = 0.0
        for i in range(n):
            site = i // 4
            if i % 4 == 0:
                lat, lon, heading = 27.60 + rng.random() * 0.16, 85.24 + rng.random() * 0.16, rng.random() * 90
            w.writerow(
                [
                    f"c{i:05d}",
                    f"camera {i}",
                    f"{lat:.6f}",
                    f"{lon:.6f}",
                    f"D-{site % 40:02d}",
                    f"S-{site:05d}",
                    f"F-{site % 300:03d}",
                    f"U-{site % 500:03d}",
                    f"rtsp://10.{i // 65000}.{(i // 250) % 250}.{i % 250}/s",
                    str(int(heading + 90 * (i % 4)) % 360),
                    "60",
                    "40",
                ]
            )


def chromium_cpu(tag: str) -> dict[str, float]:
    """CPU seconds used so far by the Chromium started with ``tag`` on its command line, by process type ("gpu":
    SwiftShader's rendering, "renderer": the page's JavaScript and MapLibre, "other"), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    info: dict[int, tuple[int, float, str]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        f = stat[stat.rindex(")") + 2 :].split()
        info[int(d)] = (int(f[1]), (int(f[11]) + int(f[12])) / tick, cmd)
    mine = {pid for pid, (_, _, cmd) in info.items() if tag in cmd}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _, _) in info.items() if ppid in mine} - mine
        grew = bool(more)
        mine |= more
    out = {"gpu": 0.0, "renderer": 0.0, "other": 0.0}
    for pid in mine:
        _, cpu, cmd = info[pid]
        kind = "gpu" if "--type=gpu-process" in cmd else "renderer" if "--type=renderer" in cmd else "other"
        out[kind] += cpu
    return out


SHOW = """() => document.querySelectorAll('[data-testid^="filter-state-"]').forEach((b) => {
  b.checked = %s; b.dispatchEvent(new Event("change")); })"""


def pan_fps(n: int = 62_000, seconds: float = 3.0, rounds: int = 3, verbose: bool = True) -> dict[str, float]:
    """Frames per second while panning the map with ``n`` cameras (key ``pan_fps_cpu``); prints the comparison."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-pan-"))
    env = dict(os.environ, CAMGRID_HOME=str(work), CAMGRID_RECORDER__METRICS_PORT="0")
    map_registry(work / "city.csv", n)
    subprocess.run([*CAMGRID, "cameras", "import", str(work / "city.csv")], env=env, check=True, capture_output=True)
    proc, base = server(work, env, record=False)
    ms = int(seconds * 1000)
    try:
        with sync_playwright() as pw:
            tag = f"--camgrid-bench-pan={os.getpid()}-{time.time_ns()}"  # finds this browser's processes in /proc
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[*ARGS, tag])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            login(page, base)
            page.wait_for_function(f"() => window.camgrid.stats.mapCameras === {n}", timeout=120_000)
            page.wait_for_timeout(1000)
            zoom = page.evaluate("() => window.camgrid.map.getZoom()")
            centre = page.evaluate("() => window.camgrid.map.getCenter().toArray()")
            views = {
                "city": (zoom, centre),
                "whole_registry_zoom13": (13, [85.32, 27.68]),
                "street_zoom17": (17, [85.32, 27.68]),
            }
            fps: dict[str, list[float]] = {}
            cpu_ms: dict[tuple[str, str], list[float]] = {}
            for name, (z, c) in views.items():
                page.evaluate(f"() => window.camgrid.map.jumpTo({{zoom: {z!r}, center: {c!r}}})")
                for _ in range(rounds):  # with and without cameras in turn: the machine's load hits both alike
                    for shown in (True, False):
                        page.evaluate(SHOW % ("true" if shown else "false"))
                        want = str(n) if shown else "0"
                        page.wait_for_function(
                            f"() => document.querySelector('[data-testid=camera-count]').textContent === '{want}'"
                        )
                        page.wait_for_timeout(500)
                        key = name if shown else f"{name}_base_map_alone"
                        before = chromium_cpu(tag)
                        got = page.evaluate(f"() => window.camgrid.panBenchmark({ms})")
                        after = chromium_cpu(tag)
                        fps.setdefault(key, []).append(got)
                        frames = max(1.0, got * ms / 1000)
                        for kind in ("gpu", "renderer"):
                            cpu_ms.setdefault((key, kind), []).append((after[kind] - before[kind]) * 1000 / frames)
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    med = {k: statistics.median(v) for k, v in fps.items()}
    if verbose:
        print(
            json.dumps({"cameras": n, "city_zoom": round(zoom, 2), "load_average_1min": round(os.getloadavg()[0], 1)})
        )
        for name in views:
            cams, alone = med[name], med[f"{name}_base_map_alone"]
            ratio = cams / alone if alone else float("nan")
            each = f"{[round(x, 1) for x in fps[name]]} / {[round(x, 1) for x in fps[name + '_base_map_alone']]}"
            print(f"{name}: cameras {cams:.1f} fps, base map alone {alone:.1f} fps (ratio {ratio:.2f}; rounds {each})")
            # CPU per rendered frame hardly depends on the other load: what a quiet machine would reach is about
            # 1000 / the busier of the two processes (they work in parallel, one frame behind the other).
            for key in (name, f"{name}_base_map_alone"):
                gpu = statistics.median(cpu_ms[(key, "gpu")])
                ren = statistics.median(cpu_ms[(key, "renderer")])
                idle = 1000 / max(gpu, ren, 1e-3)
                print(f"  {key}: CPU per frame: gpu process {gpu:.1f} ms, renderer {ren:.1f} ms (~{idle:.0f} fps idle)")
    return {"pan_fps_cpu": med["city"]}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=62_000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print(f"control-room-pan: pan_fps_cpu={pan_fps(a.cameras, a.seconds, a.rounds)['pan_fps_cpu']:.1f}")
