"""Transport security in the app (issue 13, finding 9; docs/design/transport-security.md): the Origin rule on every
``/api/`` request and WebSocket, the security headers on every response, the Secure cookie under TLS.

Each test fails on the code before api/security.py: a foreign Origin was served, no header was set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.api.deps import COOKIE
from camgrid.api.security import content_security_policy, normal_origin, origin_of
from camgrid.clock import SystemClock
from camgrid.config import ConfigError, load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

PASSWORD = "correct-horse-42"
OWN = "http://testserver"
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home: Path = tmp_path_factory.mktemp("transport")
    env = dict(backend_env(home), CAMGRID_SERVER__ALLOWED_ORIGINS="https://proxy.example, http://127.0.0.1:5173")
    settings = load_settings(home, env)
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
    yield create_app(AppContext(settings=settings, factory=factory, clock=SystemClock()))
    log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    engine.dispose()


def _client(app: Any, base: str = OWN) -> tuple[TestClient, str]:
    """A client logged in as op (login has no cookie yet: it needs no Origin), and the session secret."""
    client = TestClient(app, base_url=base)
    r = client.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client, r.cookies[COOKIE]


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def test_security_headers_on_every_response(app: Any) -> None:
    client, _ = _client(app)
    anonymous = TestClient(app)
    responses = [
        anonymous.get("/"),  # the page (or the "not built" page)
        anonymous.get("/api/auth/me"),  # a 401 from the session gate
        client.get("/api/auth/me"),
        client.post("/api/auth/logout", headers={"Origin": EVIL}),  # a 403 from the Origin rule itself
    ]
    for r in responses:
        for name, value in SECURITY_HEADERS.items():
            assert r.headers.get(name) == value, (r.request.url, r.status_code, name, r.headers)
        csp = r.headers["content-security-policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "connect-src 'self' ws://testserver",
        ):
            assert directive in csp, csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "camera=()" in r.headers["permissions-policy"]
        assert "strict-transport-security" not in r.headers  # plain HTTP: HSTS would be ignored (and wrong)


def test_tls_adds_hsts_and_the_cookie_is_secure(app: Any) -> None:
    client = TestClient(app, base_url="https://testserver")
    r = client.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert r.headers["strict-transport-security"].startswith("max-age=")
    assert "wss://testserver" in r.headers["content-security-policy"]
    plain = TestClient(app).post("/api/auth/login", json={"username": "op", "password": PASSWORD})
    assert "secure" not in plain.headers["set-cookie"].lower()  # loopback HTTP (make demo): a Secure cookie is lost


def test_cross_origin_state_change_is_refused(app: Any) -> None:
    """A page elsewhere (another port of this host is another origin) posts with the victim's cookie: refused,
    body-less or not, whatever the Origin, a foreign Referer alone, or no Origin at all."""
    client, _ = _client(app)
    for headers in (
        {"Origin": EVIL},
        {"Origin": "http://testserver:8081"},  # same host, another port
        {"Origin": "https://testserver"},  # another scheme
        {"Origin": "null"},  # a cross-origin form under Referrer-Policy: same-origin / a sandboxed frame
        {"Referer": EVIL + "/attack.html"},
        {},  # neither Origin nor Referer with a cookie
    ):
        r = client.post("/api/auth/logout", headers=headers)
        assert r.status_code == 403, (headers, r.status_code, r.text)
        assert client.get("/api/auth/me", headers={"Origin": OWN}).status_code == 200, "the session survived"
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, "/api/cameras/x/mask", headers={"Origin": EVIL}).status_code == 403
    assert client.post("/api/auth/logout", headers={"Referer": OWN + "/#/map"}).status_code == 204
    client, _ = _client(app)
    assert client.post("/api/auth/logout", headers={"Origin": OWN}).status_code == 204


def test_login_from_a_foreign_page_is_refused(app: Any) -> None:
    """Login CSRF (signing the victim in as the attacker): the login route is public, but not to other origins."""
    r = TestClient(app).post("/api/auth/login", json={"username": "op", "password": PASSWORD}, headers={"Origin": EVIL})
    assert r.status_code == 403 and COOKIE not in r.cookies


def test_configured_origins_and_bearer_tokens(app: Any) -> None:
    client, secret = _client(app)
    for origin in ("https://proxy.example", "https://proxy.example:443", "http://127.0.0.1:5173"):
        r = client.get("/api/auth/me", headers={"Origin": origin, "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 200, (origin, r.text)
    # A script with a token: no cookie, no Origin, no Referer; state-changing is fine (no browser sends our token).
    bare = TestClient(app)
    r = bare.post("/api/auth/logout", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 204, r.text
    # ...but a bearer request from a foreign page is still refused.
    assert bare.get("/api/auth/me", headers={"Authorization": "Bearer x", "Origin": EVIL}).status_code == 403


def test_sec_fetch_site_from_another_site_is_refused_with_a_cookie(app: Any) -> None:
    client, _ = _client(app)
    for site in ("cross-site", "same-site"):  # same-site: another port of this host still gets SameSite cookies
        assert client.get("/api/auth/me", headers={"Sec-Fetch-Site": site}).status_code == 403, site
    for site in ("same-origin", "none"):
        assert client.get("/api/auth/me", headers={"Sec-Fetch-Site": site}).status_code == 200, site
    assert client.get("/", headers={"Sec-Fetch-Site": "cross-site"}).status_code != 403  # a link to the page


def test_websockets_check_the_origin(app: Any) -> None:
    client, _ = _client(app)
    for origin in (EVIL, "http://testserver:9999", "null"):
        with (
            pytest.raises(WebSocketDisconnect) as exc,
            client.websocket_connect("/api/events", headers={"Origin": origin}),
        ):
            pass
        assert exc.value.code == 4403, origin
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        client.websocket_connect("/api/live/cam-1", headers={"Origin": EVIL}),
    ):
        pass
    assert exc.value.code == 4403
    with client.websocket_connect("/api/events", headers={"Origin": OWN}) as ws:
        assert ws.receive_json()["type"] == "hello"
    with client.websocket_connect("/api/events") as ws:  # no Origin: not a browser (browsers always send one)
        assert ws.receive_json()["type"] == "hello"


def test_origin_parsing() -> None:
    assert normal_origin("https", "Example.org:443") == "https://example.org"
    assert normal_origin("http", "example.org:8080") == "http://example.org:8080"
    assert normal_origin("http", "[::1]:80") == "http://[::1]"
    assert normal_origin("http", "[::1]:8080") == "http://[::1]:8080"
    assert origin_of("http://127.0.0.1:8080/a/b?c#d") == "http://127.0.0.1:8080"
    assert origin_of("http://user@127.0.0.1:8080/") == "null"
    assert origin_of("javascript:alert(1)") == "null"
    assert origin_of("null") == "null"
    assert "ws://" not in content_security_policy("http", "evil; script-src *")  # a hostile Host adds nothing


def test_allowed_origins_config(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {"CAMGRID_SERVER__ALLOWED_ORIGINS": "https://A.example:8443,http://b.example"})
    assert s.server.allowed_origins == ["https://a.example:8443", "http://b.example"]
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, {"CAMGRID_SERVER__ALLOWED_ORIGINS": "https://a.example/path"})
    assert "server.allowed_origins" in str(exc.value)
