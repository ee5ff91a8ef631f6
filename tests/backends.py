"""The two back ends the suite runs on, and real PostgreSQL and NATS JetStream servers for them.

``CAMGRID_TEST_BACKEND`` selects the back end of the whole suite: ``sqlite`` (the default: SQLite in each home and the
in-process bus) or ``postgres`` (PostgreSQL and NATS JetStream, from Debian's packages, on free loopback ports). On
``postgres`` one server of each runs for the session, every test gets a fresh database of its own and the session's
NATS URL through ``CAMGRID_DATABASE__URL`` and ``CAMGRID_BUS__URL`` (so every camgrid process and every in-process
``load_settings`` of the test uses them), and the database and the JetStream streams are dropped after the test.

Tests never build a database URL themselves: ``db_url(path)`` gives the URL of the database that stands for the SQLite
file ``path`` on the active back end (the same path gives the same database within a test; the first path a test asks
for is the test's own database, the one in ``CAMGRID_DATABASE__URL``). Module- and session-scoped fixtures, which run
outside any test, get databases (and a ``CAMGRID_DATABASE__URL``) that live until the session ends.

PostgreSQL refuses to run as root: when the suite runs as root, the server runs as the ``postgres`` OS user the Debian
package creates, in a temporary folder that user owns.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from camgrid.demo.servers import LocalNats, LocalPostgres, free_port, pg_bindir

BACKEND = os.environ.get("CAMGRID_TEST_BACKEND", "sqlite") or "sqlite"
if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"CAMGRID_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
POSTGRES = BACKEND == "postgres"


# A wait's timeout is a safety net, never a claim about speed (benchmarks measure speed): on a busy machine every one
# stretches by this factor, so that a slow machine makes a broken test slower to fail, never a correct one fail.
TIMEOUT_SCALE = float(os.environ.get("CAMGRID_TEST_TIMEOUT_SCALE", "3"))


def wait_for(predicate: Any, timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    """The predicate's first true value, polled every ``interval``; fails after ``timeout * TIMEOUT_SCALE``."""
    limit = timeout * TIMEOUT_SCALE
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")


# PostgreSQL and NATS: camgrid.demo.servers, the same starters the demo and the benchmarks use -------------------
@dataclass
class PgServer(LocalPostgres):
    """The suite's PostgreSQL: not durable (fsync off), one database per test."""

    databases: list[str] = field(default_factory=list)

    def create_database(self, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        url = super().create_database(name)
        self.databases.append(name)
        return url

    def drop_database(self, name_or_url: str) -> None:
        """Drop a database made by ``create_database`` (by name or URL), closing connections a test left open."""
        name = name_or_url.rsplit("/", 1)[-1]
        super().drop_database(name)
        if name in self.databases:
            self.databases.remove(name)


def new_pg_server() -> PgServer:
    try:
        pg_bindir()
    except RuntimeError as exc:
        pytest.fail(f"{exc} (make test installs it)")
    server = PgServer(Path(tempfile.mkdtemp(prefix="camgrid-pg-")), free_port(), durable=False)
    server.start()
    return server


def remove_pg_server(server: PgServer) -> None:
    server.stop("immediate")
    shutil.rmtree(server.folder, ignore_errors=True)


@dataclass
class NatsServer(LocalNats):
    """The suite's NATS JetStream; between tests its streams are deleted (``delete_streams``)."""

    def delete_streams(self) -> None:
        """Delete every JetStream stream (and so its consumers): the next test starts from an empty bus."""

        async def run() -> None:
            import nats

            nc = await nats.connect(self.url, connect_timeout=5, allow_reconnect=False)
            try:
                js = nc.jetstream()
                for info in await js.streams_info():
                    if info.config.name:
                        await js.delete_stream(info.config.name)
            finally:
                await nc.close()

        asyncio.run(run())


# The back end of one test ----------------------------------------------------------------------------------------
@dataclass
class Servers:
    """The session's PostgreSQL and NATS servers of the ``postgres`` back end."""

    pg: PgServer
    nats: NatsServer


@dataclass
class TestDatabases:
    """The PostgreSQL databases of one test, one per SQLite path it stands for; all dropped when the test ends."""

    __test__ = False  # not a test class, whatever its name

    server: PgServer
    default: str
    by_path: dict[Path, str] = field(default_factory=dict)
    made: list[str] = field(default_factory=list)

    def url_for(self, path: Path) -> str:
        key = Path(path).resolve()
        if key not in self.by_path:
            if self.default in self.by_path.values():
                url = self.server.create_database()
                self.made.append(url)
            else:
                url = self.default
            self.by_path[key] = url
        return self.by_path[key]

    def drop(self) -> None:
        for url in self.made:
            self.server.drop_database(url)
        self.made.clear()
        self.by_path.clear()


_session: TestDatabases | None = None  # for fixtures wider than a test (module, session)
_current: TestDatabases | None = None  # for the test running now


def begin_session(servers: Servers) -> TestDatabases:
    """Databases for what runs outside a test (module- and session-scoped fixtures), until the session ends."""
    global _session
    url = servers.pg.create_database()
    _session = TestDatabases(servers.pg, url, made=[url])
    return _session


def end_session() -> None:
    global _session
    dbs, _session = _session, None
    if dbs is not None:
        dbs.drop()


def begin_test(servers: Servers) -> TestDatabases:
    """Give the test starting now a fresh database of its own (its default, the one in ``CAMGRID_DATABASE__URL``)."""
    global _current
    url = servers.pg.create_database()
    _current = TestDatabases(servers.pg, url, made=[url])
    return _current


def end_test(servers: Servers) -> None:
    global _current
    dbs, _current = _current, None
    if dbs is not None:
        dbs.drop()
    servers.nats.delete_streams()


def db_url(path: Path | str) -> str:
    """The database URL that stands for the SQLite file ``path`` on the active back end."""
    if not POSTGRES:
        return f"sqlite:///{path}"
    dbs = _current or _session
    if dbs is None:
        raise RuntimeError("db_url() on the postgres back end needs the session's servers (tests/conftest.py)")
    return dbs.url_for(Path(path))


def home_db_url(home: Path | str) -> str:
    """The database URL of a camgrid home (``<home>/camgrid.db`` on SQLite)."""
    return db_url(Path(home) / "camgrid.db")


def backend_env(home: Path | str) -> dict[str, str]:
    """The environment overrides that put a camgrid home on the active back end (none on SQLite): for tests that pass
    ``load_settings`` an environment of their own instead of the process's."""
    if not POSTGRES:
        return {}
    return {"CAMGRID_DATABASE__URL": home_db_url(home), "CAMGRID_BUS__URL": os.environ.get("CAMGRID_BUS__URL", "")}
