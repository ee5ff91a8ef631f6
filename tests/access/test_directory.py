"""Sign-in against the city's directory, tested on a real OpenLDAP server (tests/access/ldap_server.py;
docs/design/sign-in.md): the password is the directory's, role and districts come from groups at each login, a user
taken out of a group or out of the directory loses their session at the next re-check, values are escaped in
filters and DNs, and local administrators sign in while the directory is down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ldap3 import MODIFY_ADD, MODIFY_DELETE
from sqlalchemy import select

from camgrid.access.directory import Directory, DirectoryDown, DirectoryUser
from camgrid.access.models import User
from camgrid.access.passwords import hash_password
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.audit.log import AuditLog
from camgrid.clock import FakeClock
from camgrid.config import ConfigError, LdapConfig, load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.vocabulary import AuditAction, UserSource
from tests.access.ldap_server import (
    GROUPS,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PW,
    USERS,
    Slapd,
    group_dn,
    user_dn,
)
from tests.backends import backend_env

LOCAL_PW = "local-admin-password"


def config(url: str, **over: object) -> LdapConfig:
    base: dict[str, object] = {
        "enabled": True,
        "url": url,
        "timeout_s": 2.0,
        "search_base": PEOPLE,
        "bind_dn": SERVICE_DN,
        "bind_password": SERVICE_PW,
        "group_base": GROUPS,
        "role_groups": {
            group_dn("camgrid-admins"): "admin",
            group_dn("camgrid-supervisors"): "supervisor",
            group_dn("camgrid-operators"): "operator",
        },
        "district_groups": {
            group_dn("district-d01"): "D-01",
            group_dn("district-d02"): "D-02",
            group_dn("district-all"): "*",
        },
        "recheck_s": 30.0,
    }
    return LdapConfig.model_validate(base | over)


def pw(uid: str) -> str:
    return USERS[uid][0]


def test_groups_give_role_and_districts(slapd: Slapd) -> None:
    d = Directory(config(slapd.url))
    assert d.authenticate("asha", pw("asha")) == DirectoryUser("asha", user_dn("asha"), "operator", ("D-01",))
    assert d.authenticate("bikash", pw("bikash")) == DirectoryUser(
        "bikash", user_dn("bikash"), "supervisor", ("D-01", "D-02")
    )
    assert d.authenticate("chandra", pw("chandra")) == DirectoryUser("chandra", user_dn("chandra"), "admin", ())
    assert d.authenticate("asha", "wrong password") is None
    assert d.authenticate("asha", "") is None  # never an anonymous bind
    assert d.authenticate("dipa", pw("dipa")) is None  # no role group: no rights
    assert d.authenticate("nobody", pw("asha")) is None


def test_bind_dn_template_without_service_account(slapd: Slapd) -> None:
    d = Directory(config(slapd.url, user_dn_template=f"uid={{username}},{PEOPLE}", bind_dn="", bind_password=""))
    assert d.authenticate("asha", pw("asha")) == DirectoryUser("asha", user_dn("asha"), "operator", ("D-01",))
    assert d.authenticate("asha", "wrong password") is None


def test_start_tls(slapd: Slapd) -> None:
    d = Directory(config(slapd.url, start_tls=True, ca_file=slapd.ca_file))
    assert d.authenticate("asha", pw("asha")) == DirectoryUser("asha", user_dn("asha"), "operator", ("D-01",))
    # A certificate the configured CAs do not vouch for: no bind at all (the password never leaves in clear).
    with pytest.raises(DirectoryDown):
        Directory(config(slapd.url, start_tls=True)).authenticate("asha", pw("asha"))


def test_filter_and_dn_values_are_escaped(slapd: Slapd) -> None:
    d = Directory(config(slapd.url))
    # Unescaped, "ash*" would find asha's entry and "*)(uid=*" every entry.
    for attempt in ("ash*", "*)(uid=*", "*", "asha)(|(uid=*"):
        assert d.lookup(attempt) is None, attempt
        assert d.authenticate(attempt, pw("asha")) is None, attempt
    t = Directory(config(slapd.url, user_dn_template=f"uid={{username}},{PEOPLE}"))
    assert t.lookup("asha,ou=people") is None  # a DN value cannot add a component
    assert t.lookup("asha") is not None


@dataclass
class Site:
    client: TestClient
    clock: FakeClock
    ctx: AppContext
    log: AuditLog

    def login(self, user: str, password: str) -> int:
        self.client.cookies.clear()
        return self.client.post("/api/auth/login", json={"username": user, "password": password}).status_code


def _site(home: Path, ldap: LdapConfig) -> Site:
    settings = load_settings(home, backend_env(home))
    settings.access.ldap = ldap
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = FakeClock()
    log = AuditLog.open(engine, home=settings.home, clock=clock)
    ctx = AppContext(settings=settings, factory=session_factory(engine), clock=clock, audit=log)
    with unit_of_work(ctx.factory) as s:
        s.add(User(username="root", password_hash=hash_password(LOCAL_PW), role="admin", districts="*", created_ns=0))
    return Site(TestClient(create_app(ctx), headers={"Origin": "http://testserver"}), clock, ctx, log)


@pytest.fixture(scope="module")
def site(slapd: Slapd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = _site(tmp_path_factory.mktemp("directory"), config(slapd.url))
    yield site
    site.log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    site.ctx.factory.kw["bind"].dispose()


def test_directory_user_signs_in_with_their_groups(site: Site) -> None:
    assert site.login("asha", pw("asha")) == 200
    me = site.client.get("/api/auth/me").json()
    assert (me["role"], me["districts"]) == ("operator", ["D-01"])
    with unit_of_work(site.ctx.factory) as s:
        row = s.scalar(select(User).where(User.username == "asha"))
        assert row is not None and row.source == UserSource.DIRECTORY and pw("asha") not in row.password_hash
    entries = [json.loads(site.log.entry_data(i)) for i in range(site.log.size)]
    assert any(e["action"] == AuditAction.DIRECTORY_SYNC and e["who"] == "asha" for e in entries)
    assert pw("asha") not in json.dumps(entries)
    assert site.login("asha", "wrong password") == 401
    assert site.login("*)(uid=*", pw("asha")) == 401


def test_directory_supervisor_needs_a_second_factor(site: Site) -> None:
    site.ctx.settings.access.two_factor = True
    try:
        site.client.cookies.clear()
        r = site.client.post("/api/auth/login", json={"username": "bikash", "password": pw("bikash")})
        assert r.status_code == 200 and r.json()["second_factor"] == "enrol"
        assert site.client.get("/api/auth/me").status_code == 401
    finally:
        site.ctx.settings.access.two_factor = False


def test_a_local_user_is_never_the_directorys(site: Site) -> None:
    assert site.login("root", LOCAL_PW) == 200
    assert site.login("root", "root-in-the-directory?") == 401


@pytest.fixture
def restore(slapd: Slapd) -> Iterator[None]:
    yield
    admin = slapd.admin()
    for uid, (password, groups) in USERS.items():
        if uid not in ("leaver", "mover"):
            continue
        if not admin.search(user_dn(uid), "(objectClass=*)", search_scope="BASE"):
            admin.add(user_dn(uid), ["inetOrgPerson"], {"uid": uid, "cn": uid, "sn": uid, "userPassword": password})
        for g in ("camgrid-operators", "camgrid-supervisors", "district-d01", "district-d02"):
            admin.modify(group_dn(g), {"member": [(MODIFY_DELETE, [user_dn(uid)])]})
            if g in groups:
                admin.modify(group_dn(g), {"member": [(MODIFY_ADD, [user_dn(uid)])]})


def test_group_change_ends_the_session_and_applies_at_next_login(site: Site, slapd: Slapd, restore: None) -> None:
    assert site.login("mover", pw("mover")) == 200
    assert site.client.get("/api/auth/me").json()["role"] == "supervisor"
    admin = slapd.admin()
    assert admin.modify(group_dn("camgrid-supervisors"), {"member": [(MODIFY_DELETE, [user_dn("mover")])]})
    assert admin.modify(group_dn("camgrid-operators"), {"member": [(MODIFY_ADD, [user_dn("mover")])]})
    assert site.client.get("/api/auth/me").status_code == 200  # until the next re-check
    site.clock.advance(31)
    assert site.client.get("/api/auth/me").status_code == 401
    assert site.login("mover", pw("mover")) == 200
    me = site.client.get("/api/auth/me").json()
    assert (me["role"], me["districts"]) == ("operator", ["D-02"])


def test_removed_directory_account_loses_its_session(site: Site, slapd: Slapd, restore: None) -> None:
    assert site.login("leaver", pw("leaver")) == 200
    assert site.client.get("/api/auth/me").status_code == 200
    assert slapd.admin().delete(user_dn("leaver"))
    site.clock.advance(31)
    assert site.client.get("/api/auth/me").status_code == 401
    assert site.login("leaver", pw("leaver")) == 401


def test_local_admin_signs_in_while_the_directory_is_down(tmp_path: Path) -> None:
    down = _site(tmp_path, config("ldap://127.0.0.1:9"))  # nothing listens on the discard port
    assert down.login("root", LOCAL_PW) == 200
    assert down.client.get("/api/auth/me").json()["role"] == "admin"
    assert down.login("asha", pw("asha")) == 503


def test_config_refuses_a_group_mapped_to_no_role(tmp_path: Path) -> None:
    (tmp_path / "camgrid.toml").write_text('[access.ldap.role_groups]\n"cn=bosses,ou=groups,dc=city" = "boss"\n')
    with pytest.raises(ConfigError, match=r"access\.ldap\.role_groups"):
        load_settings(tmp_path, {})
