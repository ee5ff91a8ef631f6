"""Failed-login rate limiting (pure: times are given). Per username and per client address, sliding window."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass
class LoginLimiter:
    max_failures: int = 5
    window_s: float = 300.0
    _fails: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, keys: list[str], now: float) -> float:
        """Seconds until a login for these keys may be tried again (0 when allowed)."""
        wait = 0.0
        for key in keys:
            q = self._prune(key, now)
            if len(q) >= self.max_failures:
                wait = max(wait, q[0] + self.window_s - now)
        return wait

    def failed(self, keys: list[str], now: float) -> None:
        for key in keys:
            self._prune(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._fails.pop(key, None)
