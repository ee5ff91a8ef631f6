"""The login throttle's policy (camgrid.access.ratelimit; docs/design/limits-before-work.md): a table of stories
and hypothesis properties, all on given times (no waiting)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.access.ratelimit import LoginLimiter, ThrottlePolicy
from camgrid.config import ApiConfig

POLICY = ThrottlePolicy(
    free_failures=3,
    delay_s=5.0,
    max_delay_s=300.0,
    forget_s=3600.0,
    user_failures=20,
    address_failures=100,
    address_window_s=600.0,
    known_s=30 * 86400.0,
)
PROXY = "10.0.0.1"  # a control room behind one proxy
T0 = 1000.0


def fail(lim: LoginLimiter, user: str, address: str, n: int, now: float = T0) -> None:
    for _ in range(n):
        lim.failed(user, address, now)


@pytest.mark.parametrize(
    ("story", "failures", "then", "wait"),
    [
        # (user, address, count) wrong passwords at T0; then (user, address, seconds later) must wait ``wait`` s
        ("free failures cost nothing", [("op", PROXY, 2)], ("op", PROXY, 0.0), 0.0),
        ("the third starts the wait", [("op", PROXY, 3)], ("op", PROXY, 0.0), 5.0),
        ("each further one doubles it", [("op", PROXY, 5)], ("op", PROXY, 0.0), 20.0),
        ("capped", [("op", PROXY, 40)], ("op", PROXY, 0.0), 300.0),
        ("the wait runs down", [("op", PROXY, 4)], ("op", PROXY, 4.0), 6.0),
        ("forgotten after an hour", [("op", PROXY, 40)], ("op", PROXY, 3600.0), 0.0),
        ("another user behind the same address is not held", [("op", PROXY, 5)], ("sup", PROXY, 0.0), 0.0),
        ("the same user elsewhere is not held by a few", [("op", PROXY, 5)], ("op", "10.0.0.2", 0.0), 0.0),
        (
            "user names differ only by case: one user",
            [("Op", PROXY, 3)],
            ("op", PROXY, 0.0),
            5.0,
        ),
        (
            "twenty failures from anywhere hold unknown addresses",
            [("sup", f"198.51.100.{i}", 1) for i in range(20)],
            ("sup", "203.0.113.9", 0.0),
            5.0,
        ),
        (
            "a hundred failures from one address hold it for unknown users",
            [(f"user{i}", "198.51.100.1", 1) for i in range(100)],
            ("nobody", "198.51.100.1", 0.0),
            600.0,
        ),
        (
            "the ceiling's window slides",
            [(f"user{i}", "198.51.100.1", 1) for i in range(100)],
            ("nobody", "198.51.100.1", 600.0),
            0.0,
        ),
    ],
)
def test_stories(story: str, failures: list[tuple[str, str, int]], then: tuple[str, str, float], wait: float) -> None:
    lim = LoginLimiter(POLICY)
    for user, address, n in failures:
        fail(lim, user, address, n)
    user, address, later = then
    assert lim.retry_after(user, address, T0 + later) == pytest.approx(wait), story


def test_wrong_passwords_from_anywhere_never_hold_a_user_at_the_address_it_logs_in_from() -> None:
    lim = LoginLimiter(POLICY)
    lim.succeeded("sup", PROXY, T0)  # the supervisor's usual address
    for i in range(500):
        lim.failed("sup", f"198.51.100.{i % 250}", T0 + 1)
    assert lim.retry_after("sup", "203.0.113.9", T0 + 2) > 0  # a new address waits
    assert lim.retry_after("sup", PROXY, T0 + 2) == 0  # the usual one does not
    # ... until the address is no longer known (30 days without a login from it)
    assert lim.retry_after("sup", PROXY, T0 + 31 * 86400.0) == 0  # (the failures are forgotten by then too)


def test_spraying_from_a_control_rooms_proxy_does_not_lock_out_its_users() -> None:
    lim = LoginLimiter(POLICY)
    for user in ("op1", "op2", "sup"):
        lim.succeeded(user, PROXY, T0)
    for i in range(1000):  # someone behind the proxy tries every name
        lim.failed(f"guess{i}", PROXY, T0 + 1)
    assert lim.check("guess1001", PROXY, T0 + 2).reason == "address"
    assert all(lim.retry_after(u, PROXY, T0 + 2) == 0 for u in ("op1", "op2", "sup"))


def test_success_forgets_the_pairs_failures_but_not_the_users_count_from_elsewhere() -> None:
    lim = LoginLimiter(POLICY)
    fail(lim, "op", PROXY, 3)
    fail(lim, "op", "198.51.100.1", 25)
    lim.succeeded("op", PROXY, T0 + 10)
    assert lim.retry_after("op", PROXY, T0 + 10) == 0
    assert lim.retry_after("op", "203.0.113.9", T0 + 10) > 0


def test_throttled_logins_are_audited_once_per_address_a_minute() -> None:
    lim = LoginLimiter(POLICY)
    assert lim.should_audit("198.51.100.1", T0) == 1
    assert [lim.should_audit("198.51.100.1", T0 + i) for i in range(1, 50)] == [None] * 49
    assert lim.should_audit("198.51.100.2", T0 + 1) == 1  # another address is its own
    assert lim.should_audit("198.51.100.1", T0 + 61) == 50  # the entry counts the silent ones


def test_the_tables_stay_bounded() -> None:
    lim = LoginLimiter(ThrottlePolicy(max_keys=50))
    for i in range(1000):
        lim.failed(f"user{i}", f"198.51.{i // 250}.{i % 250}", T0)
        lim.succeeded(f"user{i}", "10.0.0.1", T0)
        lim.should_audit(f"198.51.{i // 250}.{i % 250}", T0)
    assert max(len(t) for t in (lim._pairs, lim._users, lim._addresses, lim._known, lim._audited)) <= 50


def test_the_policy_comes_from_the_config() -> None:
    cfg = ApiConfig(login_free_failures=7, login_max_delay_s=60.0)
    policy = ThrottlePolicy.from_config(cfg)
    assert (policy.free_failures, policy.max_delay_s, policy.delay_s) == (7, 60.0, cfg.login_delay_s)


USERS = st.sampled_from(["op", "sup", "admin", "x"])
ADDRESSES = st.sampled_from(["10.0.0.1", "10.0.0.2", "198.51.100.1", "::1"])
EVENTS = st.lists(
    st.tuples(st.sampled_from(["fail", "ok"]), USERS, ADDRESSES, st.floats(0, 400, allow_nan=False)),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(EVENTS, USERS, ADDRESSES)
def test_properties(events: list[tuple[str, str, str, float]], user: str, address: str) -> None:
    """Whatever happened: a wait is never negative nor longer than the cap or the address window; a user is never
    held at an address where they logged in and then made no mistake; failures of others at other addresses never
    hold a known pair; and a wait only runs down as time passes."""
    lim = LoginLimiter(POLICY)
    now = T0
    for kind, u, a, dt in events:
        now += dt
        if kind == "fail":
            lim.failed(u, a, now)
        else:
            lim.succeeded(u, a, now)
    wait = lim.retry_after(user, address, now)
    assert 0 <= wait <= max(POLICY.max_delay_s, POLICY.address_window_s)
    later = [lim.retry_after(user, address, now + s) for s in (0.0, 1.0, 10.0, 100.0, 1000.0)]
    assert later == sorted(later, reverse=True)
    lim.succeeded(user, address, now)
    for i in range(300):  # anyone else, anywhere else, any number of times
        lim.failed(user if i % 2 else f"other{i}", f"203.0.113.{i % 200}", now)
    assert lim.retry_after(user, address, now) == 0
