"""Shared fixtures: real processes (the simulator, the recorder) on loopback ports, each test in its own home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.backends import (
    POSTGRES,
    NatsServer,
    PgServer,
    Servers,
    begin_session,
    begin_test,
    clone_fresh_databases,
    end_session,
    end_test,
    home_db_url,
    leaked_connections,
    new_pg_server,
    remember_password_hashes,
    remove_pg_server,
    running_test,
    track_pooled_connections,
)
from tests.backends import free_port as free_port
from tests.backends import wait_for as wait_for

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
clone_fresh_databases()  # a fresh database at head is a copy of one migrated per session (tests/backends.py)
remember_password_hashes()  # a test password is hashed (argon2id, real cost) once per process
track_pooled_connections()  # connections still checked out at the end are named (tests/backends.py)

CLIP_CACHE = ROOT / "var" / "test-cache" / "clips"  # encoded once for the whole suite (and across runs)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the postgres back end, skip the few tests marked ``sqlite_only`` (they test the SQLite file itself)."""
    if not POSTGRES:
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "SQLite only")
            item.add_marker(pytest.mark.skip(reason=f"sqlite_only: {reason}"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    running_test(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Connections still checked out are finalised at interpreter exit (a traceback on PostgreSQL): name the tests
    that took them (a report, not yet a failure: apps that open their own audit log still leave theirs, see
    docs/design/tests-on-a-busy-machine.md)."""
    leaked = leaked_connections()
    if leaked:
        print(f"\npooled connections left checked out by {len(leaked)} test(s): " + ", ".join(leaked), file=sys.stderr)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server of its own for the session, on a free loopback port, trust auth on loopback only."""
    server = new_pg_server()
    try:
        yield server
    finally:
        remove_pg_server(server)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.create_database()


@pytest.fixture(scope="session")
def backend_servers(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The postgres back end: the session's PostgreSQL server and one NATS JetStream server."""
    folder = tmp_path_factory.mktemp("nats")
    nats = NatsServer(folder / "nats", free_port())
    nats.start()
    try:
        yield Servers(pg_server, nats)
    finally:
        nats.stop()


@pytest.fixture(scope="session", autouse=True)
def backend_session(request: pytest.FixtureRequest) -> Iterator[str]:
    """On postgres, the servers start before any fixture, and what runs outside a test has databases too.

    CAMGRID_TEST_BACKEND (read by tests/backends.py at import) is no camgrid setting: camgrid would refuse it as an
    unknown ``test_backend`` key, so the processes the tests start never see it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CAMGRID_TEST_BACKEND", raising=False)
        if not POSTGRES:
            yield "sqlite"
            return
        servers: Servers = request.getfixturevalue("backend_servers")
        dbs = begin_session(servers)
        mp.setenv("CAMGRID_DATABASE__URL", dbs.default)
        mp.setenv("CAMGRID_BUS__URL", servers.nats.url)
        try:
            yield "postgres"
        finally:
            end_session()


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test on the back end CAMGRID_TEST_BACKEND selects (tests/backends.py): on postgres, its own database and
    the session's NATS, through the environment every camgrid process and in-process ``load_settings`` reads."""
    if not POSTGRES:
        yield "sqlite"
        return
    servers: Servers = request.getfixturevalue("backend_servers")
    dbs = begin_test(servers)
    monkeypatch.setenv("CAMGRID_DATABASE__URL", dbs.default)
    monkeypatch.setenv("CAMGRID_BUS__URL", servers.nats.url)
    try:
        yield "postgres"
    finally:
        end_test(servers)


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
        engine = create_engine(home_db_url(self.home))
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
            # each city its own ONVIF and WS-Discovery ports (several cities share the machine)
            "CAMGRID_SIM__ONVIF_PORT": str(free_port()),
            "CAMGRID_SIM__DISCOVERY_PORT": str(free_port()),
            # The recorder's timing tests run without the ONVIF watcher: its SOAP parsing shares the recorder's
            # interpreter (docs/design/onvif.md, "Clock and events", caveats); tests of the watcher turn it on.
            "CAMGRID_ONVIF__WATCH": "false",
            "CAMGRID_SIM__H265_EVERY": str(h265_every),
            "CAMGRID_SIM__CACHE_DIR": str(CLIP_CACHE),
            "CAMGRID_SIM__CLIP_SECONDS": "4",
            "CAMGRID_RECORDER__METRICS_PORT": str(metrics),
            # Every process of the city (a cluster's nodes have homes of their own) opens the camera passwords with
            # the key the import made (docs/design/secrets-at-rest.md).
            "CAMGRID_SECRETS__KEY_FILE": str(home / "secrets.key"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if POSTGRES:
        env["CAMGRID_DATABASE__URL"] = home_db_url(home)  # the test's own database for its first city
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
