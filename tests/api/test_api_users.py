"""The admin's users API (issue 13, "Users' whole life"; docs/design/users-life.md): create, role, districts,
disable, enable, reset password, delete (a tombstone), tokens; never a password hash; a district-scoped admin
manages only their districts' users; logging out with a bearer token revokes that token (finding 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from camgrid.access import service as access
from camgrid.access.models import User
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.audit.models import AuditEntry
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.vocabulary import AuditAction
from tests.api.served import PASSWORD, seed
from tests.backends import backend_env
from tests.seeding import BROWSER, SEED, seed_log

NEW_PW = "brand-new-password-9"


@pytest.fixture
def app(tmp_path: Path) -> tuple[TestClient, AppContext]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    users: dict[str, tuple[str, list[str] | None]] = {
        "admin": ("admin", None),
        "admin-d1": ("admin", ["D-01"]),
        "op": ("operator", ["D-01"]),
        "far": ("operator", ["D-02"]),
    }
    seed(log, factory, users, [])
    ctx = AppContext(settings=settings, factory=factory, clock=SystemClock(), audit=log)
    return TestClient(create_app(ctx), headers=BROWSER), ctx


def _login(c: TestClient, user: str, password: str = PASSWORD) -> int:
    c.cookies.clear()
    return c.post("/api/auth/login", json={"username": user, "password": password}).status_code


def _entries(ctx: AppContext) -> list[dict[str, object]]:
    with unit_of_work(ctx.factory) as s:
        return [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]


def test_a_users_whole_life_through_the_api(app: tuple[TestClient, AppContext]) -> None:
    c, ctx = app
    assert _login(c, "admin") == 200
    listed = c.get("/api/users")
    assert listed.status_code == 200
    assert [u["username"] for u in listed.json()] == ["admin", "admin-d1", "far", "op"]
    assert "argon2" not in listed.text and "password" not in listed.text
    r = c.post("/api/users", json={"username": "kim", "password": PASSWORD, "role": "viewer", "districts": ["D-01"]})
    assert r.status_code == 201 and r.json()["districts"] == ["D-01"], r.text
    assert "argon2" not in r.text
    assert c.put("/api/users/kim/role", json={"role": "operator"}).json()["role"] == "operator"
    assert c.put("/api/users/kim/districts", json={"districts": ["D-01", "D-02"]}).json()["districts"] == [
        "D-01",
        "D-02",
    ]
    assert c.put("/api/users/kim/districts", json={"all": True}).json()["districts"] == []
    assert c.post("/api/users/kim/disable").json()["disabled"] is True
    assert _login(c, "kim") == 401
    assert _login(c, "admin") == 200
    assert c.post("/api/users/kim/enable").json()["disabled"] is False
    assert c.post("/api/users/kim/password", json={"password": NEW_PW}).status_code == 200
    assert _login(c, "kim") == 401, "the old password still works"
    assert _login(c, "kim", NEW_PW) == 200
    assert _login(c, "admin") == 200
    r = c.delete("/api/users/kim")
    assert r.status_code == 200 and r.json() == {"username": "kim", "ended": 1}, r.text
    assert "kim" not in [u["username"] for u in c.get("/api/users").json()]
    assert c.post("/api/users/kim/enable").status_code == 404
    assert _login(c, "kim", NEW_PW) == 401
    assert _login(c, "admin") == 200
    again = c.post("/api/users", json={"username": "kim", "password": PASSWORD, "role": "viewer", "districts": []})
    assert again.status_code == 422 and "never given again" in again.json()["detail"]
    # The tombstone: the row stays, without a password, and the audit entries naming kim keep one meaning.
    with unit_of_work(ctx.factory) as s:
        row = s.scalar(select(User).where(User.username == "kim"))
        assert row is not None and row.deleted_ns is not None and "argon2" not in row.password_hash
    entries = _entries(ctx)
    assert [e["action"] for e in entries if e["who"] == "kim"] == [
        AuditAction.LOGIN_FAILED,  # disabled
        AuditAction.LOGIN_FAILED,  # the old password
        AuditAction.LOGIN,
        AuditAction.LOGIN_FAILED,  # deleted
    ]
    about_kim = [e["action"] for e in entries if e["details"].get("user") == "kim"]  # type: ignore[union-attr]
    assert about_kim == [
        AuditAction.USER_CREATE,
        AuditAction.USER_UPDATE,
        AuditAction.USER_UPDATE,
        AuditAction.USER_UPDATE,
        AuditAction.USER_DISABLE,
        AuditAction.USER_ENABLE,
        AuditAction.USER_PASSWORD,
        AuditAction.USER_DELETE,
    ]
    assert all(NEW_PW not in json.dumps(e) and PASSWORD not in json.dumps(e) for e in entries)


def test_an_admin_does_not_lock_themselves_out(app: tuple[TestClient, AppContext]) -> None:
    c, _ = app
    assert _login(c, "admin") == 200
    for r in (c.post("/api/users/admin/disable"), c.delete("/api/users/admin")):
        assert r.status_code == 422 and "your own account" in r.json()["detail"]
    assert c.get("/api/auth/me").status_code == 200


def test_a_district_admin_manages_only_their_districts(app: tuple[TestClient, AppContext]) -> None:
    c, _ = app
    assert _login(c, "admin-d1") == 200
    assert [u["username"] for u in c.get("/api/users").json()] == ["admin-d1", "op"]
    for r in (
        c.post("/api/users/far/disable"),
        c.post("/api/users/far/revoke"),
        c.put("/api/users/far/role", json={"role": "viewer"}),
        c.post("/api/users/far/password", json={"password": NEW_PW}),
        c.get("/api/users/far/tokens"),
        c.delete("/api/users/admin"),
    ):
        assert r.status_code == 404, r.text
    r = c.put("/api/users/op/districts", json={"districts": ["D-02"]})
    assert r.status_code == 422 and "not among yours" in r.json()["detail"]
    r = c.post("/api/users", json={"username": "x2", "password": PASSWORD, "role": "viewer", "districts": []})
    assert r.status_code == 422
    assert c.post("/api/users/op/disable").status_code == 200


def test_tokens_are_listed_without_secrets_and_revoked(app: tuple[TestClient, AppContext]) -> None:
    c, ctx = app
    with unit_of_work(ctx.factory) as s:
        secret = access.issue_token(
            session=s, audit=ctx.audit, actor=SEED, username="op", ttl_s=600, now_ns=ctx.clock.wall_ns(), name="ci"
        )
    bearer = {"Authorization": f"Bearer {secret}"}
    assert c.get("/api/auth/me", headers=bearer).status_code == 200
    assert _login(c, "admin") == 200
    listed = c.get("/api/users/op/tokens")
    assert [t["name"] for t in listed.json()] == ["ci"] and secret not in listed.text
    assert c.get("/api/users").json()[3]["tokens"] == 1
    assert c.delete("/api/users/op/tokens", params={"name": "ci"}).json()["ended"] == 1
    c.cookies.clear()
    assert c.get("/api/auth/me", headers=bearer).status_code == 401


def test_logout_with_a_bearer_token_revokes_it(app: tuple[TestClient, AppContext]) -> None:
    """Finding 2: /api/auth/logout deleted only the cookie's session; a script's token kept working."""
    c, ctx = app
    with unit_of_work(ctx.factory) as s:
        secret = access.issue_token(
            session=s, audit=ctx.audit, actor=SEED, username="op", ttl_s=600, now_ns=ctx.clock.wall_ns()
        )
    bearer = {"Authorization": f"Bearer {secret}"}
    c.cookies.clear()
    assert c.get("/api/auth/me", headers=bearer).status_code == 200
    assert c.post("/api/auth/logout", headers=bearer).status_code == 204
    assert c.get("/api/auth/me", headers=bearer).status_code == 401
    logout = [e for e in _entries(ctx) if e["action"] == AuditAction.LOGOUT][-1]
    assert logout["who"] == "op" and logout["details"] == {"ended": ["token"]}
