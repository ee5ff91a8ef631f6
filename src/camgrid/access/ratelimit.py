"""Failed-login throttling (pure: every call is given the time). docs/design/limits-before-work.md.

Three counters, none of which can lock out people who are not being guessed at:

* per (user, address): after ``free_failures`` wrong passwords, each further one makes that pair wait, doubling from
  ``delay_s`` up to ``max_delay_s``. Only that user from that address waits: five wrong passwords from a control
  room's proxy do not lock out its other users.
* per user, from addresses it never logged in from (or not for ``known_s``): ``user_failures`` wrong passwords from
  anywhere make unknown addresses wait (doubling, capped), so a botnet cannot guess one account fast; the address
  the user normally logs in from is never held by them.
* per address, a ceiling: ``address_failures`` wrong passwords within ``address_window_s`` (any user names) and the
  address may try only users that logged in from it before, until the window passes (spraying). It is high enough
  for a whole control room behind one proxy, whose known users it never holds anyway.

Every table is bounded (``max_keys``, oldest first out) so that invented names and addresses cannot grow memory.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TypeVar

from camgrid.config import ApiConfig


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3
    delay_s: float = 5.0
    max_delay_s: float = 300.0
    forget_s: float = 3600.0
    user_failures: int = 20
    address_failures: int = 100
    address_window_s: float = 600.0
    known_s: float = 30 * 86_400.0
    audit_every_s: float = 60.0
    max_keys: int = 100_000

    @classmethod
    def from_config(cls, cfg: ApiConfig) -> ThrottlePolicy:
        return cls(
            free_failures=cfg.login_free_failures,
            delay_s=cfg.login_delay_s,
            max_delay_s=cfg.login_max_delay_s,
            forget_s=cfg.login_forget_s,
            user_failures=cfg.login_user_failures,
            address_failures=cfg.login_address_failures,
            address_window_s=cfg.login_address_window_s,
            known_s=cfg.login_known_s,
        )

    def delay(self, failures: int, free: int) -> float:
        """The wait after ``failures`` wrong passwords when ``free`` of them cost nothing."""
        if failures < free:
            return 0.0
        return float(min(self.delay_s * 2.0 ** min(failures - free, 60), self.max_delay_s))


@dataclass
class Strikes:
    failures: int
    last_s: float
    until_s: float


V = TypeVar("V")


def _put(table: OrderedDict[str, V], key: str, value: V, max_keys: int) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > max_keys:
        table.popitem(last=False)


@dataclass(frozen=True)
class Verdict:
    wait_s: float
    reason: str  # "pair", "user" or "address": which counter holds the attempt ("" when allowed)


@dataclass
class LoginLimiter:
    policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    _pairs: OrderedDict[str, Strikes] = field(default_factory=OrderedDict)
    _users: OrderedDict[str, Strikes] = field(default_factory=OrderedDict)
    _addresses: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _known: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _audited: OrderedDict[str, list[float]] = field(default_factory=OrderedDict)

    @staticmethod
    def _pair(user: str, address: str) -> str:
        return f"{user.lower()}\n{address}"

    def known(self, user: str, address: str, now: float) -> bool:
        """Whether ``user`` logged in from ``address`` within ``known_s``."""
        at = self._known.get(self._pair(user, address))
        return at is not None and now - at < self.policy.known_s

    def _strikes(self, table: OrderedDict[str, Strikes], key: str, now: float) -> Strikes | None:
        s = table.get(key)
        if s is None:
            return None
        if now - s.last_s >= self.policy.forget_s:
            del table[key]
            return None
        return s

    def _window(self, address: str, now: float) -> deque[float]:
        q = self._addresses.get(address)
        if q is None:
            return deque()
        while q and q[0] <= now - self.policy.address_window_s:
            q.popleft()
        return q

    def check(self, user: str, address: str, now: float) -> Verdict:
        """How long a login of ``user`` from ``address`` must wait (0: try it now)."""
        waits: list[tuple[float, str]] = []
        pair = self._strikes(self._pairs, self._pair(user, address), now)
        if pair is not None:
            waits.append((pair.until_s - now, "pair"))
        if not self.known(user, address, now):
            strikes = self._strikes(self._users, user.lower(), now)
            if strikes is not None:
                waits.append((strikes.until_s - now, "user"))
            q = self._window(address, now)
            if len(q) >= self.policy.address_failures:
                waits.append((q[0] + self.policy.address_window_s - now, "address"))
        wait, reason = max(waits, default=(0.0, ""))
        return Verdict(wait, reason) if wait > 0 else Verdict(0.0, "")

    def retry_after(self, user: str, address: str, now: float) -> float:
        return self.check(user, address, now).wait_s

    def _strike(self, table: OrderedDict[str, Strikes], key: str, free: int, now: float) -> None:
        s = self._strikes(table, key, now)
        failures = (s.failures if s else 0) + 1
        _put(table, key, Strikes(failures, now, now + self.policy.delay(failures, free)), self.policy.max_keys)

    def failed(self, user: str, address: str, now: float) -> None:
        p = self.policy
        self._strike(self._pairs, self._pair(user, address), p.free_failures, now)
        if not self.known(user, address, now):
            self._strike(self._users, user.lower(), p.user_failures, now)
        q = self._window(address, now)
        q = q if q.maxlen == p.address_failures else deque(q, maxlen=p.address_failures)
        q.append(now)
        _put(self._addresses, address, q, p.max_keys)

    def succeeded(self, user: str, address: str, now: float) -> None:
        """The right password: the pair's failures are forgotten and the address becomes one the user is known at.
        The user's count from unknown addresses stays (someone else may still be guessing)."""
        key = self._pair(user, address)
        self._pairs.pop(key, None)
        _put(self._known, key, now, self.policy.max_keys)

    def should_audit(self, address: str, now: float) -> int | None:
        """Throttled logins are audited, but at most once per address per ``audit_every_s`` (an attacker must not
        flood the log): the number of throttled attempts the entry stands for, or None to stay silent."""
        entry = self._audited.get(address)
        if entry is not None and now - entry[0] < self.policy.audit_every_s:
            entry[1] += 1
            return None
        count = int(entry[1]) + 1 if entry is not None else 1
        _put(self._audited, address, [now, 0.0], self.policy.max_keys)
        return count
