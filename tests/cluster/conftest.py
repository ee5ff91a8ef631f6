"""Real PostgreSQL and NATS JetStream servers from Debian's packages, on free loopback ports, for the cluster tests.

One PostgreSQL server per test session (each test gets its own fresh database), one NATS server per test (tests stop
and restart it). PostgreSQL refuses to run as root: when the suite runs as root, the server runs as the ``postgres``
OS user the Debian package creates, in a temporary folder that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import City, free_port, wait_for


def _pg_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail("PostgreSQL is not installed: `apt-get install -y postgresql` (make test installs it)")
    return Path(found[-1]).parent


def _as_db_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PgServer:
    bindir: Path
    folder: Path
    port: int
    user: str = "camgrid"
    databases: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_db_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), *args]),
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def start(self) -> None:
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._ctl("-l", str(self.folder / "server.log"), "-o", opts, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop", check=False)

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        self.databases.append(name)
        return self.url(name)


def _new_server() -> PgServer:
    bindir = _pg_bindir()
    folder = Path(tempfile.mkdtemp(prefix="camgrid-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PgServer(bindir, folder, free_port())
    subprocess.run(
        _as_db_user([str(bindir / "initdb"), "-D", str(server.data), "-U", server.user, "--auth=trust", "--no-sync"]),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    server.start()
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server of its own for the session, on a free loopback port, trust auth on loopback only."""
    server = _new_server()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.create_database()


@dataclass
class NatsServer:
    port: int
    store: Path
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(exe).exists():
            pytest.fail("nats-server is not installed: `apt-get install -y nats-server` (make test installs it)")
        fh = self.log.open("ab")
        self.popen = subprocess.Popen(
            [exe, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: "Server is ready" in self.log.read_text(errors="replace"), 20, 0.05, what="nats-server")

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.popen = None
        # The next start must find the port free; the log says "ready" again only for a new start.
        self.log.write_text("")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(free_port(), tmp_path / "jetstream", tmp_path / "nats.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pg_city(city: City, url: str) -> PgCity:
    """The same city, with its database helpers pointed at PostgreSQL."""
    return PgCity(**vars(city), url=url)


@dataclass
class PgCity(City):
    url: str = ""

    def db(self, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params).all())
        finally:
            engine.dispose()


@pytest.fixture
def pg_own() -> Iterator[PgServer]:
    """A PostgreSQL server for one test that stops and starts it (an outage), leaving the session's server alone."""
    server = _new_server()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(server.folder, ignore_errors=True)
