"""Schemathesis against the app's own OpenAPI document, with a logged-in user of every role, a district-scoped one
and none: no 5xx anywhere (out-of-range numbers and long strings are 422, never 500: issue 13, finding 10), and no
route answers without a session (except the login). Run on PostgreSQL too (``CAMGRID_TEST_BACKEND=postgres``),
where an integer beyond a column's type is an error SQLite would not raise. docs/design/limits-before-work.md."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from camgrid.access import service as access
from camgrid.api.app import PUBLIC_PATHS, create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import ALL_ROLES
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

PASSWORD = "fuzz-password-123"
ROLES = tuple(str(r) for r in ALL_ROLES)
SCOPED = "operator-d1"  # an operator of district D-1 only
USERS = (*ROLES, SCOPED)
EXAMPLES = int(os.environ.get("CAMGRID_FUZZ_EXAMPLES", "4"))  # more to hunt; the suite's run stays short


def schema_document() -> dict[str, Any]:
    """The document is generated from the routes alone (no database is needed to describe them)."""
    settings_ = load_settings(Path("/nonexistent"), {})
    return create_app(AppContext(settings=settings_, factory=None, clock=SystemClock())).openapi()  # type: ignore[arg-type]


schema = schemathesis.openapi.from_dict(schema_document())


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TestClient]:
    return make_clients(tmp_path_factory.mktemp("fuzz"))


def make_clients(home: Path) -> dict[str, TestClient]:
    """A client per user (anonymous, every role, an operator of district D-1) of one app with two cameras."""
    settings_ = load_settings(home, backend_env(home))
    engine = make_engine(settings_.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, home)
    with unit_of_work(factory) as s:
        cameras = [
            CameraIn(
                id=f"cam-{d}",
                name="c",
                lat=27.69,
                lon=85.31,
                district=f"D-{d}",
                site=f"S-{d}",
                feeder=f"F-{d}",
                uplink=f"U-{d}",
                rtsp_url="rtsp://10.0.0.1/s",
            )
            for d in (1, 2)
        ]
        registry.import_cameras(session=s, audit=log, actor=SEED, rows=cameras, now_ns=0)
    for user in USERS:
        role, districts = ("operator", ["D-1"]) if user == SCOPED else (user, None)
        with unit_of_work(factory) as s:  # one audited action per unit of work (SQLite: see services-own-invariants)
            access.create_user(
                session=s,
                audit=log,
                actor=SEED,
                username=user,
                password=PASSWORD,
                role=role,
                districts=districts,
                now_ns=0,
            )
    app = create_app(AppContext(settings=settings_, factory=factory, clock=SystemClock()))
    out = {"anonymous": TestClient(app, raise_server_exceptions=False)}
    for user in USERS:
        c = TestClient(app, raise_server_exceptions=False, headers={"Origin": "http://testserver"})  # as a browser
        assert c.post("/api/auth/login", json={"username": user, "password": PASSWORD}).status_code == 200
        out[user] = c
    return out


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_no_open_route(case: Any, clients: dict[str, TestClient]) -> None:
    """Each generated request is sent as every user (one test per operation: on PostgreSQL each test costs a
    database of its own)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    allowed = ("method", "url", "params", "headers", "json", "content", "data")
    request = {k: v for k, v in kwargs.items() if k in allowed}
    for who in ("anonymous", *USERS):
        if case.path in PUBLIC_PATHS and who != "anonymous":
            continue  # the login is the same for everyone: fuzzed once (each try costs an argon2 check)
        response = clients[who].request(**request)
        assert response.status_code < 500, (who, case.method, case.formatted_path, response.text[:300])
        if who == "anonymous" and case.path not in PUBLIC_PATHS:
            # 405 for a method the route does not have (schemathesis tries TRACE and friends); never anything else.
            assert response.status_code in (401, 405), (case.method, case.formatted_path, response.status_code)
