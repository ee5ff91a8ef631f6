"""Every route refuses a request with no session or token: the test walks the app's own route list, so a new
route is covered without anyone remembering to add it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from camgrid.access import service as access
from camgrid.api.app import PUBLIC_PATHS, all_routes, create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

PASSWORD = "correct-horse-42"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    with unit_of_work(factory) as s:
        access.create_user(
            session=s,
            audit=log,
            actor=SEED,
            username="op",
            password=PASSWORD,
            role="operator",
            districts=None,
            now_ns=0,
        )
    ctx = AppContext(settings=settings, factory=factory, clock=SystemClock())
    return TestClient(create_app(ctx))


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_needs_a_session(client: TestClient) -> None:
    app = client.app
    checked = 0
    for route in all_routes(app):  # type: ignore[arg-type]
        if isinstance(route, APIRoute):
            if route.path in PUBLIC_PATHS:
                continue
            for method in route.methods:
                r = client.request(method, _fill(route.path), json={})
                assert r.status_code == 401, f"{method} {route.path} answered {r.status_code} without a session"
                r = client.request(method, _fill(route.path), json={}, headers={"Authorization": "Bearer forged"})
                assert r.status_code == 401, f"{method} {route.path} accepted a forged token"
                checked += 1
        elif isinstance(route, APIWebSocketRoute):
            with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect(_fill(route.path)) as ws:
                ws.receive_text()
            assert exc.value.code == 4401, route.path
            checked += 1
    assert checked >= 10


def test_public_paths_are_only_the_login(client: TestClient) -> None:
    assert {"/api/auth/login", "/", "/login"} <= PUBLIC_PATHS
    # The password step, and the second factor's steps (each needs the ticket the password step gave).
    sign_in = {"/api/auth/login", "/api/auth/login/totp", "/api/auth/login/enrol"}
    assert all(not p.startswith("/api/") or p in sign_in for p in PUBLIC_PATHS)
    r = client.get("/api/openapi.json")
    assert r.status_code == 401


def test_login_cookie_token_and_rate_limit(client: TestClient) -> None:
    bad = client.post("/api/auth/login", json={"username": "op", "password": "nope"})
    assert bad.status_code == 401 and "camgrid_session" not in bad.headers.get("set-cookie", "")
    ok = client.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["role"] == "operator"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/api/auth/me").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200
    client.post("/api/auth/logout")
    client.cookies.clear()
    assert client.get("/api/auth/me").status_code == 401
    codes = [client.post("/api/auth/login", json={"username": "op", "password": "wrong"}).status_code for _ in range(5)]
    # The success forgot the earlier failure; three free failures for this user at this address, then it waits
    # (the throttle's own table: tests/access/test_ratelimit.py).
    assert codes == [401, 401, 401, 429, 429]
    limited = client.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
    assert limited.status_code == 429 and limited.json()["retry_after_s"] > 0


def test_sessions_expire(tmp_path: Path) -> None:
    from camgrid.clock import FakeClock

    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    with unit_of_work(factory) as s:
        access.create_user(
            session=s,
            audit=log,
            actor=SEED,
            username="op",
            password=PASSWORD,
            role="operator",
            districts=None,
            now_ns=0,
        )
    clock = FakeClock()
    client = TestClient(create_app(AppContext(settings=settings, factory=factory, clock=clock, session_ttl_s=3600)))
    assert client.post("/api/auth/login", json={"username": "op", "password": PASSWORD}).status_code == 200
    assert client.get("/api/auth/me").status_code == 200
    clock.advance(3599)
    assert client.get("/api/auth/me").status_code == 200
    clock.advance(2)
    assert client.get("/api/auth/me").status_code == 401
