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
    _admin: Any = None  # one AUTOCOMMIT engine for the session's CREATE/DROP DATABASE (three a test)

    def admin(self, sql: str, **params: object) -> object:
        """As ``LocalPostgres.admin``, on one pooled connection instead of a new engine a statement."""
        from sqlalchemy import create_engine, text

        if self._admin is None:
            self._admin = create_engine(self.url(), isolation_level="AUTOCOMMIT", pool_size=1, pool_pre_ping=True)
        with self._admin.connect() as conn:
            result = conn.execute(text(sql), params)
            return result.scalar() if result.returns_rows else None

    def close_admin(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None

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
    server.close_admin()
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


# A fresh database at head, cloned ---------------------------------------------------------------------------------
# Most tests start from an empty database that they migrate to head, in process (``camgrid.db.migrate.upgrade``):
# about a second of Alembic each time, for the same schema. The suite migrates one database per session for real and
# clones it: ``alembic.command.upgrade`` to head on a database that does not exist yet (SQLite: no file) or has no
# table (PostgreSQL, on the session's server) first copies the session's migrated template into it, and then runs
# for real (it finds the head and does nothing). An empty database has no credentials to seal, so the secrets key
# is never needed, made or read either way. Upgrades from an older revision, and every camgrid process a test starts,
# migrate as before. Design note: docs/design/tests-on-a-busy-machine.md ("A migrated template").
_templates: dict[str, str] = {}


def _sqlite_template(real_upgrade: Any) -> Path:
    if "sqlite" not in _templates:
        from camgrid.db.engine import make_engine
        from camgrid.db.migrate import alembic_config

        path = Path(tempfile.mkdtemp(prefix="camgrid-head-")) / "head.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            real_upgrade(alembic_config(engine), "head")
        finally:
            engine.dispose()  # the last connection checkpoints the WAL into the file
        _templates["sqlite"] = str(path)
    return Path(_templates["sqlite"])


def _pg_template(server: PgServer, real_upgrade: Any) -> str:
    if "pg" not in _templates:
        from camgrid.db.engine import make_engine
        from camgrid.db.migrate import alembic_config

        name = f"head_{uuid.uuid4().hex[:12]}"
        engine = make_engine(LocalPostgres.create_database(server, name))  # not in ``databases``: lives with the server
        try:
            real_upgrade(alembic_config(engine), "head")
        finally:
            engine.dispose()  # a template may have no connection when it is copied
        _templates["pg"] = name
    return _templates["pg"]


def _clone_head(engine: Any, real_upgrade: Any) -> None:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if url.database in (None, "", ":memory:") or path.exists() or not path.parent.is_dir():
            return
        template = _sqlite_template(real_upgrade)
        engine.dispose()
        shutil.copyfile(template, path)
        return
    dbs = _current or _session
    if url.get_backend_name() != "postgresql" or dbs is None or url.port != dbs.server.port or not url.database:
        return
    from sqlalchemy import text

    with engine.connect() as conn:
        if conn.execute(text("select count(*) from pg_tables where schemaname = 'public'")).scalar():
            return
    template = _pg_template(dbs.server, real_upgrade)
    engine.dispose()
    LocalPostgres.drop_database(dbs.server, url.database)
    dbs.server.admin(f'CREATE DATABASE "{url.database}" TEMPLATE "{template}"')


def clone_fresh_databases() -> None:
    """Install the cloning ``alembic.command.upgrade`` for this process (tests/conftest.py, at import)."""
    from alembic import command

    real = command.upgrade
    if getattr(real, "clones_head", False):
        return

    def upgrade(config: Any, revision: str, *args: Any, **kwargs: Any) -> None:
        engine = config.attributes.get("engine")
        if revision == "head" and engine is not None and not args and not kwargs.get("sql"):
            _clone_head(engine, real)
        real(config, revision, *args, **kwargs)

    upgrade.clones_head = True  # type: ignore[attr-defined]
    command.upgrade = upgrade  # type: ignore[assignment]


def copy_database(source: str, target: str) -> None:
    """Make database ``target`` (a ``db_url``, empty or not yet made) a copy of ``source``, which no one is connected
    to: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL."""
    if source.startswith("sqlite:"):
        src, dst = Path(source.split("///", 1)[1]), Path(target.split("///", 1)[1])
        shutil.copyfile(src, dst)
        return
    dbs = _current or _session
    assert dbs is not None, "copy_database on postgres needs the session's servers"
    name = target.rsplit("/", 1)[-1]
    LocalPostgres.drop_database(dbs.server, name)
    dbs.server.admin(f'CREATE DATABASE "{name}" TEMPLATE "{source.rsplit("/", 1)[-1]}"')


# Test passwords, hashed once -------------------------------------------------------------------------------------
class _RememberingHasher:
    """argon2id at camgrid's real cost (RFC 9106 defaults: ~1 s a hash or a check on a loaded machine), but the suite
    hashes the same few test passwords thousands of times: in the test process a password hashed once is given the
    same hash again (a real argon2id hash at the real cost, its salt reused), and a (hash, password) pair checked once
    keeps its answer (a wrong password still fails, with the same error). camgrid processes a test starts hash as
    ever. Design note: docs/design/tests-on-a-busy-machine.md."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.hashes: dict[str, str] = {}
        self.checks: dict[tuple[str, str], tuple[bool, Any]] = {}

    def hash(self, password: str) -> str:
        if password not in self.hashes:
            self.hashes[password] = self.real.hash(password)
        return self.hashes[password]

    def verify(self, password_hash: str, password: str) -> bool:
        key = (password_hash, password)
        if key not in self.checks:
            try:
                self.checks[key] = (True, self.real.verify(password_hash, password))
            except Exception as exc:
                self.checks[key] = (False, (type(exc), exc.args))
        ok, answer = self.checks[key]
        if ok:
            return bool(answer)
        kind, args = answer
        raise kind(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def remember_password_hashes() -> None:
    """Install the remembering hasher for this process (tests/conftest.py, at import)."""
    from camgrid.access import passwords

    if not isinstance(passwords._hasher, _RememberingHasher):
        passwords._hasher = _RememberingHasher(passwords._hasher)  # type: ignore[assignment]


# Pooled connections left checked out --------------------------------------------------------------------------------
# A connection a test leaves checked out (an AuditLog not closed, a Session or Connection never closed, held by a
# fixture until the interpreter exits) is finalised at exit, when psycopg's module state is gone: SQLAlchemy then
# prints "Exception during reset or similar ... TypeError: 'NoneType' object is not callable" at the end of the
# PostgreSQL pass. Every checkout notes the test that made it; ``leaked_connections`` names those still out.
_checked_out: dict[int, str] = {}
_running = ["(outside any test)"]


def track_pooled_connections() -> None:
    """Install the checkout/checkin listeners on every pool of this process (tests/conftest.py, at import)."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    if event.contains(Pool, "checkout", _on_checkout):
        return
    event.listen(Pool, "checkout", _on_checkout)
    event.listen(Pool, "checkin", _on_checkin)


def _on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
    _checked_out[id(record)] = _running[0]


def _on_checkin(_dbapi: Any, record: Any) -> None:
    _checked_out.pop(id(record), None)


def running_test(nodeid: str) -> None:
    _running[0] = nodeid


def leaked_connections() -> list[str]:
    """The tests whose pooled connections are still checked out, after garbage that holds some is collected."""
    import gc

    gc.collect()
    return sorted(set(_checked_out.values()))
