"""Users, roles, districts and tokens through ``access.service``: a district-scoped admin grants only their
districts and sees only users within them; a change of rights or a disabled account ends their credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from camgrid.access import service as access
from camgrid.audit.log import AuditLog
from camgrid.auditing import Actor
from camgrid.clock import FakeClock
from camgrid.db.engine import session_factory, unit_of_work
from camgrid.vocabulary import Role

PW = "users-password-1"
ADMIN = Actor("admin", Role.ADMIN)
ADMIN_D1 = Actor("admin-d1", Role.ADMIN, ("D-01",))


def test_a_scoped_admin_grants_and_sees_only_their_districts(engine: Engine, tmp_path: Path) -> None:
    log = AuditLog.open(engine, home=tmp_path, clock=FakeClock())
    factory = session_factory(engine)
    for districts in (None, ["D-02"], ["D-01", "D-02"]):
        with unit_of_work(factory) as s, pytest.raises(access.AccessError):
            access.create_user(
                session=s,
                audit=log,
                actor=ADMIN_D1,
                username="u1",
                password=PW,
                role="viewer",
                districts=districts,
                now_ns=0,
            )
    assert log.size == 0, "refused before any entry"
    with unit_of_work(factory) as s:
        access.create_user(
            session=s,
            audit=log,
            actor=ADMIN_D1,
            username="u1",
            password=PW,
            role="viewer",
            districts=["D-01"],
            now_ns=0,
        )
    with unit_of_work(factory) as s:
        access.create_user(
            session=s, audit=log, actor=ADMIN, username="all", password=PW, role="viewer", districts=None, now_ns=0
        )
    with unit_of_work(factory) as s, pytest.raises(access.UserNotFound):
        access.update_user(session=s, audit=log, actor=ADMIN_D1, username="all", role="admin")
    with unit_of_work(factory) as s, pytest.raises(access.AccessError, match="not among yours"):
        access.update_user(session=s, audit=log, actor=ADMIN_D1, username="u1", districts=["D-02"])
    with unit_of_work(factory) as s:
        assert (
            access.update_user(session=s, audit=log, actor=ADMIN_D1, username="u1", role="operator").role == "operator"
        )
    assert log.size == 3


def test_changed_rights_and_disabling_end_sessions_and_tokens(engine: Engine, tmp_path: Path) -> None:
    log = AuditLog.open(engine, home=tmp_path, clock=FakeClock())
    factory = session_factory(engine)
    with unit_of_work(factory) as s:
        access.create_user(
            session=s, audit=log, actor=ADMIN, username="u2", password=PW, role="operator", districts=None, now_ns=0
        )
    with unit_of_work(factory) as s:
        user = access.authenticate(session=s, username="u2", password=PW)
        assert user is not None
        browser = access.start_session(session=s, audit=log, actor=Actor("u2"), user=user, ttl_s=60, now_ns=0)
    with unit_of_work(factory) as s:
        script = access.issue_token(session=s, audit=log, actor=ADMIN, username="u2", ttl_s=60, now_ns=0)
    with unit_of_work(factory) as s:
        assert access.resolve(session=s, secret=browser, now_ns=1) is not None
        assert access.resolve(session=s, secret=script, now_ns=1) is not None
    with unit_of_work(factory) as s:
        access.update_user(session=s, audit=log, actor=ADMIN, username="u2", role="viewer")
    with unit_of_work(factory) as s:
        assert access.resolve(session=s, secret=browser, now_ns=1) is None, "a demoted user logs in again"
        assert access.resolve(session=s, secret=script, now_ns=1) is None
    with unit_of_work(factory) as s:
        script = access.issue_token(session=s, audit=log, actor=ADMIN, username="u2", ttl_s=60, now_ns=0)
    with unit_of_work(factory) as s:
        access.disable_user(session=s, audit=log, actor=ADMIN, username="u2")
    with unit_of_work(factory) as s:
        assert access.resolve(session=s, secret=script, now_ns=1) is None
        assert access.authenticate(session=s, username="u2", password=PW) is None
        with pytest.raises(access.AccessError, match="disabled"):
            access.issue_token(session=s, audit=log, actor=ADMIN, username="u2", ttl_s=60, now_ns=0)
