"""Per-camera supervision policy (pure): backoff with jitter, and who may connect now.

Kept apart from the loop that applies it so that it can be tested by tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from camgrid.vocabulary import SLOW_RETRY_REASONS, GapReason

# Aliases kept for callers that spelt the reasons through this module; new code uses ``GapReason``.
UNREACHABLE = GapReason.UNREACHABLE
STALLED = GapReason.STALLED
AUTH_REFUSED = GapReason.AUTH_REFUSED
BAD_STREAM = GapReason.BAD_STREAM
REFUSED = GapReason.REFUSED
UNSUPPORTED = GapReason.UNSUPPORTED

SLOW_REASONS = SLOW_RETRY_REASONS
# Failures beyond this many in a row change nothing (the delay is at its cap long before): the count stays bounded
# and ``2 ** n`` never overflows a float, however long a camera stays dark.
MAX_COUNTED_FAILURES = 64


@dataclass(frozen=True)
class BackoffPolicy:
    initial_s: float = 0.5
    max_s: float = 4.0
    slow_max_s: float = 30.0

    def delay(self, failures: int, reason: str, rng: random.Random) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, so a whole feeder never retries in step.

        Unreachable and stalled cameras are capped at ``max_s`` (a camera back from a power cut must record again
        within seconds); a camera that refuses the password or the stream waits up to ``slow_max_s`` so that it is
        not hammered (and its account not locked) by a wrong registry entry. The exponent is clamped, so a camera
        dark for months (millions of failures) gets the capped delay, not an ``OverflowError``.
        """
        cap = self.slow_max_s if reason in SLOW_REASONS else self.max_s
        exponent = min(max(0, failures - 1), MAX_COUNTED_FAILURES)
        base = min(cap, self.initial_s * (2.0**exponent))
        return float(base / 2 + rng.uniform(0, base / 2))


@dataclass
class TokenBucket:
    """Connection attempts per second across all cameras: the herd after a power return is spread out."""

    rate: float
    burst: float
    tokens: float = 0.0
    last: float = 0.0

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
