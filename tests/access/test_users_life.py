"""``camgrid users`` covers a user's whole life (issue 13, finding 2; docs/design/users-life.md): set-role,
set-districts, reset-password, disable, enable, revoke (every session and token), delete (a tombstone), each audited
as ``cli:<login>``; token lifetimes are bounded (default 30 days, at most ``access.token_max_days``)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from camgrid.access import service as access
from camgrid.access.models import User, UserSession
from camgrid.audit.log import AuditLog
from camgrid.audit.models import AuditEntry
from camgrid.auditing import Actor
from camgrid.cli.main import cli
from camgrid.clock import FakeClock
from camgrid.config import ConfigError, load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.vocabulary import AuditAction, Role
from tests.backends import backend_env

NS = 1_000_000_000
DAY_NS = 86400 * NS
PW = "cli-password-1"


def _run(home: Path, *args: str, ok: bool = True, **env: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env={"CAMGRID_NEW_PASSWORD": PW, **env})
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def _db(home: Path) -> Engine:
    return make_engine(load_settings(home, backend_env(home)).database_url)


def _credentials(home: Path, username: str) -> list[UserSession]:
    with unit_of_work(session_factory(_db(home))) as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        rows = list(s.scalars(select(UserSession).where(UserSession.user_id == user.id)))
        s.expunge_all()
        return rows


def _login(home: Path, username: str, password: str = PW) -> str | None:
    """A browser session, as the login route makes it (None: refused)."""
    engine = _db(home)
    log = AuditLog.open(engine, home=home, clock=FakeClock())
    with unit_of_work(session_factory(engine)) as s:
        user = access.authenticate(session=s, username=username, password=password)
        if user is None:
            return None
        return access.start_session(session=s, audit=log, actor=Actor(username), user=user, ttl_s=600, now_ns=0)


def test_the_whole_life_from_the_command_line(tmp_path: Path) -> None:
    _run(tmp_path, "users", "add", "alice", "--role", "operator", "--district", "D-01")
    _run(tmp_path, "users", "add", "bob", "--role", "viewer")
    assert "supervisor" in _run(tmp_path, "users", "set-role", "alice", "supervisor")
    assert "D-01,D-02" in _run(tmp_path, "users", "set-districts", "alice", "D-01", "D-02")
    assert "districts *" in _run(tmp_path, "users", "set-districts", "alice", "--all")
    assert _login(tmp_path, "alice") is not None
    _run(tmp_path, "users", "token", "alice", "--ttl", "12h", "--label", "ci")
    assert len(_credentials(tmp_path, "alice")) == 2
    assert "2 session(s) and token(s) of alice revoked" in _run(tmp_path, "users", "revoke", "alice")
    assert _credentials(tmp_path, "alice") == []
    _run(tmp_path, "users", "reset-password", "alice", "--password", "cli-password-2")
    assert _login(tmp_path, "alice") is None and _login(tmp_path, "alice", "cli-password-2") is not None
    _run(tmp_path, "users", "disable", "alice")
    assert _login(tmp_path, "alice", "cli-password-2") is None
    assert _credentials(tmp_path, "alice") == []
    assert "(disabled)" in _run(tmp_path, "users", "list")
    _run(tmp_path, "users", "enable", "alice")
    assert _login(tmp_path, "alice", "cli-password-2") is not None
    _run(tmp_path, "users", "delete", "alice", "--yes")
    assert "alice" not in _run(tmp_path, "users", "list")
    assert _login(tmp_path, "alice", "cli-password-2") is None
    assert "no user 'alice'" in _run(tmp_path, "users", "enable", "alice", ok=False)
    assert "never given again" in _run(tmp_path, "users", "add", "alice", "--role", "viewer", ok=False)
    with unit_of_work(session_factory(_db(tmp_path))) as s:
        entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    mine = [e for e in entries if e["who"] == f"cli:{getpass.getuser()}"]
    assert [e["action"] for e in mine] == [
        AuditAction.USER_CREATE,
        AuditAction.USER_CREATE,
        AuditAction.USER_UPDATE,
        AuditAction.USER_UPDATE,
        AuditAction.USER_UPDATE,
        AuditAction.TOKEN_ISSUE,
        AuditAction.USER_REVOKE,
        AuditAction.USER_PASSWORD,
        AuditAction.USER_DISABLE,
        AuditAction.USER_ENABLE,
        AuditAction.USER_DELETE,
    ]
    assert not any("cli-password" in json.dumps(e) for e in entries)


def test_token_lifetimes_are_bounded(tmp_path: Path) -> None:
    _run(tmp_path, "users", "add", "carol", "--role", "operator")
    _run(tmp_path, "users", "token", "carol")
    (default,) = _credentials(tmp_path, "carol")
    assert default.expires_ns - default.created_ns == 30 * DAY_NS, "default: 30 days"
    out = _run(tmp_path, "users", "token", "carol", "--ttl", "365d", ok=False)
    assert "at most 90 days" in out
    out = _run(tmp_path, "users", "token", "carol", "--ttl", "20d", ok=False, CAMGRID_ACCESS__TOKEN_MAX_DAYS="14",
               CAMGRID_ACCESS__TOKEN_DAYS="7")  # fmt: skip
    assert "at most 14 days" in out
    assert "give days" in _run(tmp_path, "users", "token", "carol", "--ttl", "forever", ok=False)
    assert len(_credentials(tmp_path, "carol")) == 1, "a refused token was issued"


def test_the_service_refuses_a_token_beyond_the_ceiling(tmp_path: Path) -> None:
    engine = _db(tmp_path)
    from camgrid.db.migrate import upgrade

    upgrade(engine)
    log = AuditLog.open(engine, home=tmp_path, clock=FakeClock())
    factory = session_factory(engine)
    admin = Actor("admin", Role.ADMIN)
    with unit_of_work(factory) as s:
        access.create_user(
            session=s, audit=log, actor=admin, username="dan", password=PW, role="viewer", districts=None, now_ns=0
        )
    size = log.size
    for ttl_days, max_days in ((366, 1000), (31, 30), (0, 30)):
        with unit_of_work(factory) as s, pytest.raises(access.AccessError):
            access.issue_token(
                session=s,
                audit=log,
                actor=admin,
                username="dan",
                ttl_s=ttl_days * 86400,
                now_ns=0,
                max_ttl_s=max_days * 86400,
            )
    assert log.size == size, "refused before the entry"


@pytest.mark.parametrize(
    "env",
    [
        {"CAMGRID_ACCESS__TOKEN_MAX_DAYS": "400"},
        {"CAMGRID_ACCESS__TOKEN_DAYS": "60", "CAMGRID_ACCESS__TOKEN_MAX_DAYS": "30"},
        {"CAMGRID_ACCESS__SESSION_TTL_S": str(30 * 86400)},
        {"CAMGRID_ACCESS__REVALIDATE_S": "5"},
    ],
)
def test_the_access_limits_are_bounded_in_the_configuration(tmp_path: Path, env: dict[str, str]) -> None:
    defaults = load_settings(tmp_path, {}).access
    assert (defaults.token_days, defaults.token_max_days, defaults.session_ttl_s) == (30, 90, 12 * 3600)
    assert load_settings(tmp_path, {"CAMGRID_ACCESS__TOKEN_MAX_DAYS": "60"}).access.token_max_days == 60
    with pytest.raises(ConfigError, match=r": access(\.[a-z_]+)?: "):
        load_settings(tmp_path, env)
