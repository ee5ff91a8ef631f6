"""The login throttle and the client's address through the app (docs/design/limits-before-work.md; issue 13,
finding 4), on the injected clock: five wrong passwords from one address do not lock out the other users behind it,
wrong passwords from anywhere do not lock a user out of the address they log in from, delays grow and run down,
throttled logins are audited without flooding the log, and X-Forwarded-For is believed only from a configured
proxy. Also: an unexpected error answers a JSON 500 with nothing of the traceback in it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.audit.log import AuditLog
from camgrid.clock import FakeClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.vocabulary import AuditAction
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

PASSWORD = "correct-horse-42"
PROXY = "10.0.0.1"

Client = Callable[[str], TestClient]


class App:
    def __init__(self, tmp_path: Path, users: tuple[str, ...] = ("op",), **env: str) -> None:
        settings = load_settings(tmp_path, {**backend_env(tmp_path), **env})
        engine = make_engine(settings.database_url)
        upgrade(engine)
        factory = session_factory(engine)
        self.log: AuditLog = seed_log(engine, settings.home)
        for user in users:  # (argon2 is slow on a busy machine: as few users as each test needs)
            with unit_of_work(factory) as s:
                access.create_user(
                    session=s,
                    audit=self.log,
                    actor=SEED,
                    username=user,
                    password=PASSWORD,
                    role="operator",
                    districts=None,
                    now_ns=0,
                )
        self.clock = FakeClock()
        self.ctx = AppContext(settings=settings, factory=factory, clock=self.clock, audit=self.log)
        self.app = create_app(self.ctx)

    def client(self, address: str) -> TestClient:
        return TestClient(self.app, client=(address, 50000), raise_server_exceptions=False)

    def login(self, address: str, user: str, password: str, headers: dict[str, str] | None = None) -> int:
        body = {"username": user, "password": password}
        return self.client(address).post("/api/auth/login", json=body, headers=headers or {}).status_code

    def entries(self, action: str) -> list[dict[str, object]]:
        out = [json.loads(self.log.entry_data(i)) for i in range(self.log.size)]
        return [e for e in out if e["action"] == action]


@pytest.fixture
def app(tmp_path: Path) -> App:
    return App(tmp_path)


def test_five_wrong_passwords_from_one_address_do_not_lock_out_its_other_users(tmp_path: Path) -> None:
    app = App(tmp_path, ("op", "op2", "sup"))
    assert [app.login(PROXY, "op", "wrong") for _ in range(5)] == [401, 401, 401, 429, 429]
    assert app.login(PROXY, "op2", PASSWORD) == 200
    assert app.login(PROXY, "sup", PASSWORD) == 200


def test_wrong_passwords_from_anywhere_do_not_lock_a_user_out_of_their_usual_address(tmp_path: Path) -> None:
    app = App(tmp_path, ("sup",), CAMGRID_API__LOGIN_USER_FAILURES="5")  # (default 20: fewer argon2 checks here)
    assert app.login(PROXY, "sup", PASSWORD) == 200  # where the supervisor logs in
    codes = [app.login(f"198.51.100.{i}", "sup", "wrong") for i in range(8)]
    assert codes == [401] * 5 + [429] * 3  # a botnet is slowed down...
    assert app.login(PROXY, "sup", PASSWORD) == 200  # ...the supervisor is not
    assert app.login("203.0.113.9", "sup", PASSWORD) == 429  # (from a new address they wait too)


def test_delays_grow_run_down_and_are_audited_once_a_minute(app: App) -> None:
    address = "203.0.113.5"
    assert [app.login(address, "op", "wrong") for _ in range(3)] == [401] * 3
    r = app.client(address).post("/api/auth/login", json={"username": "op", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["retry_after_s"] == 5 and r.headers["Retry-After"] == "5"
    for _ in range(20):
        assert app.login(address, "op", PASSWORD) == 429  # even the right password waits
    app.clock.advance(5)
    assert app.login(address, "op", "wrong") == 401  # tried once more: now 10 s
    r = app.client(address).post("/api/auth/login", json={"username": "op", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["retry_after_s"] == 10
    throttled = app.entries(AuditAction.LOGIN_THROTTLED)
    assert len(throttled) == 1 and throttled[0]["address"] == address and throttled[0]["who"] == "op"
    app.clock.advance(60)
    assert app.login(address, "op", PASSWORD) == 200
    app.clock.advance(1)
    assert [app.login(address, "op", "wrong") for _ in range(4)] == [401, 401, 401, 429]
    throttled = app.entries(AuditAction.LOGIN_THROTTLED)
    assert len(throttled) == 2
    details = throttled[1]["details"]
    assert isinstance(details, dict) and details["attempts"] == 21 + 1 and details["held_by"] == "pair"


def test_forwarded_for_is_ignored_unless_the_peer_is_a_configured_proxy(app: App, tmp_path: Path) -> None:
    forged = {"X-Forwarded-For": "192.0.2.99"}
    assert [app.login("127.0.0.1", "op", "wrong", forged) for _ in range(4)] == [401, 401, 401, 429]
    assert {e["address"] for e in app.entries(AuditAction.LOGIN_FAILED)} == {"127.0.0.1"}

    proxied = App(tmp_path / "proxied", ("op",), CAMGRID_API__TRUSTED_PROXIES=f"{PROXY},127.0.0.0/8")
    chain = {"X-Forwarded-For": "192.0.2.99, 198.51.100.7, 127.0.0.1"}  # client-written, the client, a 2nd proxy
    assert [proxied.login(PROXY, "op", "wrong", chain) for _ in range(4)] == [401, 401, 401, 429]
    assert proxied.login(PROXY, "op", PASSWORD, {"X-Forwarded-For": "198.51.100.8"}) == 200  # another client
    assert proxied.login(PROXY, "op", PASSWORD) == 200  # the proxy itself (no header)
    failed = proxied.entries(AuditAction.LOGIN_FAILED)
    assert {e["address"] for e in failed} == {"198.51.100.7"}
    assert [e["address"] for e in proxied.entries(AuditAction.LOGIN)] == ["198.51.100.8", PROXY]
    # a peer that is not a configured proxy is not believed even when proxies are configured
    assert proxied.login("203.0.113.1", "op", "wrong", forged) == 401
    assert proxied.entries(AuditAction.LOGIN_FAILED)[-1]["address"] == "203.0.113.1"


def test_an_unexpected_error_answers_json_without_the_traceback(app: App, caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("secret detail at /srv/camgrid/internal.py")

    app.app.add_api_route("/api/boom", boom, methods=["GET"])
    client = app.client("127.0.0.1")
    assert client.post("/api/auth/login", json={"username": "op", "password": PASSWORD}).status_code == 200
    with caplog.at_level(logging.ERROR, logger="camgrid.api"):
        r = client.get("/api/boom")
    assert r.status_code == 500 and r.json() == {"detail": "internal error (logged)"}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert any("secret detail" in (rec.exc_text or "") or rec.exc_info for rec in caplog.records)
