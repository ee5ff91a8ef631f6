"""resync_ms: how long a control room takes, once its connection is back, to show a change made during the cut.

Inputs of ``measure``: a Playwright ``browser`` (Debian's Chromium), ``base`` (a recording ``camgrid serve`` of a small
simulated city, as bench_control_room.py starts one; an operator ``user``/``password``), the simulator's
``control_port``, and ``rounds``. Each round: the map is open through a TCP proxy; the proxy cuts every connection and
refuses new ones; a camera's site loses power (sim fault ``site_cut``) and the server sees it offline; the proxy lets
connections through again; the time from that moment until the map shows the camera offline and the stale banner is
gone is one sample (it includes the browser's reconnect delay, at most ~1.25 s). Returns the worst and the median.

Standalone: ``python bench/control_room_resync.py`` starts a 2-camera city and prints ``{"resync_ms": ...}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_control_room import ARGS, CAMGRID, PASSWORD, ROOT, free_port, server


class Blip:
    """A TCP proxy that can be cut: ``cut()`` drops every connection and refuses new ones until ``restore()``."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        self.down = threading.Event()
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.srv.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(a)
            self._drop(b)

    def _drop(self, s: socket.socket) -> None:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            s.close()
        with self.lock:
            self.conns.discard(s)

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            conns = list(self.conns)
        for s in conns:
            self._drop(s)

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.srv.close()
        self.cut()


def _sim(control_port: int, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{control_port}{path}", data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def _server_state(base: str, cookie: str, camera: str) -> str:
    req = urllib.request.Request(base + "/api/cameras", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as resp:
        cols = json.loads(resp.read())
    return str(cols["state"][cols["id"].index(camera)])


def _login(base: str, user: str, password: str) -> str:
    body = json.dumps({"username": user, "password": password}).encode()
    req = urllib.request.Request(
        base + "/api/auth/login", data=body, method="POST",
        headers={"Content-Type": "application/json", "Origin": base},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=30) as resp:
        jar = SimpleCookie(resp.headers.get("Set-Cookie", ""))
    return "; ".join(f"{k}={v.value}" for k, v in jar.items())


def _until(pred: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(what)
        time.sleep(0.1)


def measure(
    browser: Any, base: str, control_port: int, *, user: str = "bench", password: str = PASSWORD, rounds: int = 3
) -> dict[str, float]:
    cams = _sim(control_port, "GET", "/cameras")
    cookie = _login(base, user, password)
    blip = Blip(int(base.rsplit(":", 1)[1]))
    proxied = f"http://127.0.0.1:{blip.port}"
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    samples: list[float] = []
    try:
        page.goto(proxied + "/#/login")
        page.fill('[data-testid="login-username"]', user)
        page.fill('[data-testid="login-password"]', password)
        page.click('[data-testid="login-submit"]')
        page.wait_for_selector('[data-testid="current-user"]:not(:empty)', timeout=60_000)
        page.goto(proxied + "/#/map")
        for r in range(rounds):
            cam = cams[r % len(cams)]
            _until(lambda c=cam: _server_state(base, cookie, c["id"]) == "recording", 60, "recording")
            page.wait_for_function(f"() => window.camgrid.cameraState?.('{cam['id']}') === 'recording'", timeout=60_000)
            blip.cut()
            page.wait_for_selector('[data-testid="stale-banner"]', state="visible", timeout=30_000)
            _sim(control_port, "POST", "/fault", {"kind": "site_cut", "subject": cam["site"], "seconds": None})
            _until(lambda c=cam: _server_state(base, cookie, c["id"]) == "offline", 60, "offline on the server")
            t0 = time.monotonic()
            blip.restore()
            page.wait_for_function(
                f"() => window.camgrid.cameraState('{cam['id']}') === 'offline' && "
                "document.querySelector('[data-testid=stale-banner]').hidden",
                timeout=30_000,
                polling=20,
            )
            samples.append((time.monotonic() - t0) * 1000)
            _sim(control_port, "POST", "/fault", {"kind": "site_restore", "subject": cam["site"], "seconds": None})
    finally:
        page.close()
        blip.close()
    return {"resync_ms": max(samples), "resync_p50_ms": statistics.median(samples)}


def resync() -> dict[str, float]:
    """A 2-camera city with its own server and Chromium: what measure() gives (for make bench-control-room)."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-resync-"))
    rtsp, control = free_port(), free_port()
    env = dict(
        os.environ,
        CAMGRID_HOME=str(work),
        CAMGRID_SIM__CACHE_DIR=str(ROOT / "var" / "bench-cache" / "clips"),
        CAMGRID_RECORDER__METRICS_PORT="0",
        CAMGRID_SIM__H265_EVERY="0",
        CAMGRID_SIM__PORT=str(rtsp),
        CAMGRID_SIM__CONTROL_PORT=str(control),
        CAMGRID_ONVIF__WATCH="false",
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        sim = subprocess.Popen(
            [*CAMGRID, "sim", "--count", "2", "--out", str(work / "cams.csv")],
            env=env,
            stdout=(work / "sim.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        procs.append(sim)
        while b"ready" not in (work / "sim.log").read_bytes():
            if sim.poll() is not None:
                raise SystemExit((work / "sim.log").read_text())
            time.sleep(0.5)
        subprocess.run(
            [*CAMGRID, "cameras", "import", str(work / "cams.csv")], env=env, check=True, capture_output=True
        )
        srv, base = server(work, env, record=True)
        procs.append(srv)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            try:
                return measure(browser, base, control)
            finally:
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


def main() -> None:
    print(json.dumps(resync()))


if __name__ == "__main__":
    main()
