"""Shared fixtures: real processes (the simulator, the recorder) on loopback ports, each test in its own home."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
CLIP_CACHE = ROOT / "var" / "test-cache" / "clips"  # encoded once for the whole suite (and across runs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return int(self.popen.returncode)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class City:
    """A simulated city and a recorder home that records it."""

    home: Path
    registry: Path
    rtsp_port: int
    control_port: int
    metrics_port: int
    env: dict[str, str]
    sim: Proc | None = None
    recorders: list[Proc] = field(default_factory=list)

    # simulator -------------------------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def fault(self, kind: str, subject: str, seconds: float | None = None) -> dict[str, Any]:
        return dict(self.control("POST", "/fault", {"kind": kind, "subject": subject, "seconds": seconds}))

    def cameras(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "/cameras"))

    # recorder --------------------------------------------------------------------------------------------------
    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CAMGRID, *args], env=self.env, capture_output=True, text=True, check=check, timeout=timeout
        )

    def start_recorder(self, name: str = "record") -> Proc:
        log = self.home / f"{name}-{len(self.recorders)}.log"
        fh = log.open("wb")
        popen = subprocess.Popen([*CAMGRID, "record"], env=self.env, stdout=fh, stderr=subprocess.STDOUT)
        proc = Proc(popen, log)
        self.recorders.append(proc)
        return proc

    def db(self, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(f"sqlite:///{self.home / 'camgrid.db'}")
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def segments(self, camera: str | None = None) -> list[Any]:
        q = "select camera_id, start_ns, end_ns, path, bytes, frames, codec, status from segments"
        if camera:
            return self.db(q + " where camera_id = :c order by start_ns", c=camera)
        return self.db(q + " order by camera_id, start_ns")

    def gaps(self, camera: str | None = None) -> list[Any]:
        q = "select camera_id, start_ns, end_ns, reason, detail from gaps"
        if camera:
            return self.db(q + " where camera_id = :c order by start_ns", c=camera)
        return self.db(q + " order by camera_id, start_ns")

    def recording_since(self, camera: str, since_ns: int) -> bool:
        rows = self.db("select count(*) from segments where camera_id = :c and start_ns >= :t", c=camera, t=since_ns)
        return bool(rows[0][0])


def make_city(tmp_path: Path, count: int, *, h265_every: int = 4, extra_env: dict[str, str] | None = None) -> City:
    home = tmp_path / "home"
    home.mkdir(parents=True)
    rtsp, control, metrics = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "CAMGRID_HOME": str(home),
            "CAMGRID_SIM__PORT": str(rtsp),
            "CAMGRID_SIM__CONTROL_PORT": str(control),
            "CAMGRID_SIM__H265_EVERY": str(h265_every),
            "CAMGRID_SIM__CACHE_DIR": str(CLIP_CACHE),
            "CAMGRID_SIM__CLIP_SECONDS": "4",
            "CAMGRID_RECORDER__METRICS_PORT": str(metrics),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    registry = home / "cameras.csv"
    return City(home, registry, rtsp, control, metrics, env)


@pytest.fixture
def city_factory(tmp_path: Path) -> Iterator[Any]:
    """Start a simulated city of N cameras and import it; recorders are started by the test."""
    cities: list[City] = []

    def start(count: int = 6, sim_args: tuple[str, ...] = (), **kwargs: Any) -> City:
        city = (
            make_city(tmp_path / f"c{len(cities)}", count, **kwargs) if cities else make_city(tmp_path, count, **kwargs)
        )
        cities.append(city)
        log = city.home / "sim.log"
        fh = log.open("wb")
        popen = subprocess.Popen(
            [
                *CAMGRID,
                "sim",
                "--count",
                str(count),
                "--out",
                str(city.registry),
                "--truth",
                str(city.home / "truth.jsonl"),
            ],
            env=city.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
        city.sim = Proc(popen, log)
        wait_for(lambda: "ready" in city.sim.text() or popen.poll() is not None, 300, what="the simulator")  # type: ignore[union-attr]
        assert popen.poll() is None, city.sim.text()
        city.run("cameras", "import", str(city.registry))
        return city

    yield start
    for city in cities:
        for rec in city.recorders:
            rec.stop()
        if city.sim is not None:
            city.sim.stop()
