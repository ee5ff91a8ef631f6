"""Two-factor sign-in over the real API with the injected clock (docs/design/sign-in.md): a password then a TOTP
code; a code accepted once; recovery codes spent on use; failures throttled like passwords; enrolment at the first
login of a role that requires it; secrets sealed at rest and shown once; every step audited."""

from __future__ import annotations

import functools
import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from camgrid.access import totp
from camgrid.access.models import User, UserTotp
from camgrid.access.passwords import hash_password
from camgrid.access.ratelimit import LoginLimiter
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.audit.log import AuditLog
from camgrid.clock import FakeClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.vocabulary import AuditAction
from tests.backends import backend_env
from tests.seeding import SEED

PASSWORD = "two-factor-password"
NS = 1_000_000_000
T0 = 1_796_000_010 * NS  # 10 s into a 30 s step


@functools.cache
def HASH() -> str:  # noqa: N802
    return hash_password(PASSWORD)


@dataclass
class Site:
    client: TestClient
    clock: FakeClock
    log: AuditLog
    ctx: AppContext
    box: totp.SecretBox
    secrets: dict[str, totp.Enrolment]
    names: dict[str, str]  # this test's own users: sup (enrolled), admin (must enrol), op (needs no code)

    def code(self, user: str, offset_s: float = 0.0) -> str:
        return pyotp.TOTP(self.secrets[user].secret).at(self.clock.wall_ns() // NS + offset_s)

    def actions(self) -> list[dict[str, object]]:
        return [json.loads(self.log.entry_data(i)) for i in range(self.log.size)]

    def mine(self, action: str) -> list[dict[str, object]]:
        """This test's entries of ``action`` (by its users, or about them)."""
        ours = set(self.names.values())
        out = []
        for e in self.actions():
            details = e["details"]
            about = details.get("user") if isinstance(details, dict) else None
            if e["action"] == action and (e["who"] in ours or about in ours):
                out.append(e)
        return out

    def password(self, user: str) -> dict[str, object]:
        self.client.cookies.clear()
        r = self.client.post("/api/auth/login", json={"username": self.names[user], "password": PASSWORD})
        assert r.status_code == 200, r.text
        body: dict[str, object] = r.json()
        return body


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One installation for the module (migrations once); each test makes users of its own."""
    home = tmp_path_factory.mktemp("two-factor")
    env = backend_env(home) | {"CAMGRID_ACCESS__TWO_FACTOR": "true"}
    settings = load_settings(home, env)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = FakeClock(start_ns=T0)
    log = AuditLog.open(engine, home=settings.home, clock=clock)
    ctx = AppContext(settings=settings, factory=session_factory(engine), clock=clock, audit=log)
    client = TestClient(create_app(ctx), headers={"Origin": "http://testserver"})  # a browser sends Origin
    yield Site(client, clock, log, ctx, totp.SecretBox.open(settings.home), {}, {})
    log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    engine.dispose()


@pytest.fixture
def site(base: Site, request: pytest.FixtureRequest) -> Site:
    base.ctx.limiter = LoginLimiter()
    base.ctx.settings.access.two_factor = True
    base.clock.advance(60)  # every test in a fresh 30 s step (codes of an earlier test are not this one's)
    n = request.node.name.replace("test_", "")[:40]
    names = {"sup": f"sup-{n}", "admin": f"admin-{n}", "op": f"op-{n}"}
    enrolled: dict[str, totp.Enrolment] = {}
    factory = base.ctx.factory
    for key, role in (("sup", "supervisor"), ("admin", "admin"), ("op", "operator")):
        # Seeded rows (the password hash computed once per module): these tests are about the second factor.
        with unit_of_work(factory) as s:
            user = User(username=names[key], password_hash=HASH(), role=role, districts="*", created_ns=0)
            s.add(user)
    with unit_of_work(factory) as s:  # one audited action per unit of work (SQLite: the log waits for the lock)
        sup = s.scalar(select(User).where(User.username == names["sup"]))
        assert sup is not None
        enrolled["sup"] = totp.enrol(
            session=s, audit=base.log, actor=SEED, user=sup, box=base.box, now_ns=T0, confirmed=True
        )
    base.client.cookies.clear()
    return Site(base.client, base.clock, base.log, base.ctx, base.box, enrolled, names)


def test_password_then_code(site: Site) -> None:
    asked = site.password("sup")
    assert asked["second_factor"] == "totp" and isinstance(asked["ticket"], str)
    assert "camgrid_session" not in site.client.cookies  # no session on the password alone
    assert site.client.get("/api/auth/me").status_code == 401
    r = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": site.code("sup")})
    assert r.status_code == 200, r.text
    assert r.json()["username"] == site.names["sup"]
    assert site.client.get("/api/auth/me").status_code == 200
    # A ticket is spent by its login.
    again = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": site.code("sup")})
    assert again.status_code == 401
    assert site.mine(AuditAction.TOTP_VERIFY)


def test_replayed_code_is_refused(site: Site) -> None:
    code = site.code("sup")
    first = site.password("sup")
    assert site.client.post("/api/auth/login/totp", json={"ticket": first["ticket"], "code": code}).status_code == 200
    site.clock.advance(5)  # same 30 s window: the code is still "current", but it was used
    second = site.password("sup")
    r = site.client.post("/api/auth/login/totp", json={"ticket": second["ticket"], "code": code})
    assert r.status_code == 401, r.text
    # The previous step's code is refused too once a later one was used (drift window, but no going back).
    site.clock.advance(30)
    third = site.password("sup")
    ok = site.client.post("/api/auth/login/totp", json={"ticket": third["ticket"], "code": site.code("sup")})
    assert ok.status_code == 200, ok.text


def test_recovery_codes_are_single_use_and_audited(site: Site) -> None:
    code = site.secrets["sup"].recovery_codes[3]
    assert len(site.secrets["sup"].recovery_codes) == 10
    first = site.password("sup")
    r = site.client.post("/api/auth/login/totp", json={"ticket": first["ticket"], "code": code.upper()})
    assert r.status_code == 200, r.text
    recovery = site.mine(AuditAction.TOTP_RECOVERY)
    assert len(recovery) == 1 and recovery[0]["details"] == {"user": site.names["sup"], "left": 9}
    second = site.password("sup")
    r = site.client.post("/api/auth/login/totp", json={"ticket": second["ticket"], "code": code})
    assert r.status_code == 401


def test_wrong_codes_are_throttled_like_passwords(site: Site) -> None:
    free = site.client.app.state.ctx.limiter.policy.free_failures
    for _ in range(free):
        asked = site.password("sup")
        r = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": "000000"})
        assert r.status_code == 401
    # The free tries spent on wrong codes: the next try, of the password or of a code, waits.
    r = site.client.post("/api/auth/login", json={"username": site.names["sup"], "password": PASSWORD})
    assert r.status_code == 429
    failed = site.mine(AuditAction.LOGIN_FAILED)
    assert len(failed) == free and all(e["details"] == {"second_factor": "totp"} for e in failed)
    site.clock.advance(301)
    asked = site.password("sup")
    r = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": site.code("sup")})
    assert r.status_code == 200, r.text


def test_ticket_expires(site: Site) -> None:
    asked = site.password("sup")
    site.clock.advance(301)
    r = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": site.code("sup")})
    assert r.status_code == 401


def test_required_role_enrols_at_first_login(site: Site) -> None:
    asked = site.password("admin")
    assert asked["second_factor"] == "enrol"
    # Without enrolling, no code can be given.
    bad = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": "123456"})
    assert bad.status_code == 401
    r = site.client.post("/api/auth/login/enrol", json={"ticket": asked["ticket"]})
    assert r.status_code == 200, r.text
    made = r.json()
    assert made["otpauth_uri"].startswith(f"otpauth://totp/camgrid:{site.names['admin']}?")
    assert made["secret"] in made["otpauth_uri"]
    assert len(made["recovery_codes"]) == 10 and len(set(made["recovery_codes"])) == 10
    # Shown once: the same ticket cannot enrol again.
    assert site.client.post("/api/auth/login/enrol", json={"ticket": asked["ticket"]}).status_code == 401
    code = pyotp.TOTP(made["secret"]).at(site.clock.wall_ns() // NS)
    done = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": code})
    assert done.status_code == 200, done.text
    assert site.client.get("/api/auth/me").json()["role"] == "admin"
    assert site.mine(AuditAction.TOTP_ENROL)
    assert made["secret"] not in json.dumps(site.actions())
    # From now on the admin is asked for a code, never to enrol again.
    assert site.password("admin")["second_factor"] == "totp"


def test_roles_not_required_sign_in_with_the_password(site: Site) -> None:
    r = site.client.post("/api/auth/login", json={"username": site.names["op"], "password": PASSWORD})
    assert r.status_code == 200 and r.json()["username"] == site.names["op"]


def test_two_factor_off_still_asks_an_enrolled_user(site: Site) -> None:
    site.ctx.settings.access.two_factor = False
    r = site.client.post("/api/auth/login", json={"username": site.names["admin"], "password": PASSWORD})
    assert r.status_code == 200 and r.json()["username"] == site.names["admin"]
    assert site.password("sup")["second_factor"] == "totp"


def test_secret_is_sealed_at_rest(site: Site) -> None:
    key = site.ctx.settings.home / "keys" / "totp.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with unit_of_work(site.ctx.factory) as s:
        rows = list(s.scalars(select(UserTotp)))
        assert rows and all(site.secrets["sup"].secret not in r.secret_sealed for r in rows)
    key.chmod(0o644)
    site.ctx.totp_box = None  # as at a server's start
    try:
        with pytest.raises(totp.TotpError, match="readable by others"):
            totp.SecretBox.open(site.ctx.settings.home)
        asked = site.password("sup")
        r = site.client.post("/api/auth/login/totp", json={"ticket": asked["ticket"], "code": site.code("sup")})
        assert r.status_code == 503 and "keys" not in r.text  # refused, not a 500, and no path in the answer
    finally:
        key.chmod(0o600)


def test_reset_then_enrol_again(site: Site) -> None:
    with unit_of_work(site.ctx.factory) as s:
        assert totp.reset(session=s, audit=site.log, actor=SEED, username=site.names["sup"]) is True
    assert site.password("sup")["second_factor"] == "enrol"
    assert site.mine(AuditAction.TOTP_RESET)


def test_an_admin_resets_a_lost_second_factor(site: Site) -> None:
    with unit_of_work(site.ctx.factory) as s:  # an admin who signs in without a code (their factor was reset)
        s.add(User(username=f"root-{site.names['op']}", password_hash=HASH(), role="admin", districts="*"))
    site.ctx.settings.access.two_factor = False
    site.client.cookies.clear()
    r = site.client.post("/api/auth/login", json={"username": f"root-{site.names['op']}", "password": PASSWORD})
    assert r.status_code == 200, r.text
    sup = site.names["sup"]
    r = site.client.post(f"/api/users/{sup}/2fa/reset")
    assert r.status_code == 200 and r.json() == {"username": sup, "reset": True}
    assert site.client.post(f"/api/users/{sup}/2fa/reset").json()["reset"] is False
    assert [e["who"] for e in site.mine(AuditAction.TOTP_RESET)] == [f"root-{site.names['op']}"]
    site.ctx.settings.access.two_factor = True
    assert site.password("sup")["second_factor"] == "enrol"
