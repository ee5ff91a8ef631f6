"""Real PostgreSQL and NATS JetStream servers for the cluster tests (the servers themselves are in tests/backends.py).

The session's PostgreSQL server and ``pg_url`` (a fresh database per test) are fixtures of tests/conftest.py, shared
with the postgres back end of the whole suite; here: one NATS server per test (tests stop and restart it), a
PostgreSQL server of a test's own (an outage), and a city whose database helpers read PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.backends import NatsServer, PgServer, new_pg_server, remove_pg_server
from tests.conftest import City, free_port

__all__ = ["NatsServer", "PgCity", "PgServer", "pg_city"]


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats", free_port())
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
    server = new_pg_server()
    try:
        yield server
    finally:
        remove_pg_server(server)
