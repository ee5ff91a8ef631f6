"""Backoff and connection rate policy, by tables."""

from __future__ import annotations

import random

import pytest

from camgrid.ingest import supervisor as sv


@pytest.mark.parametrize(
    ("failures", "reason", "low", "high"),
    [
        (1, sv.UNREACHABLE, 0.25, 0.5),
        (2, sv.UNREACHABLE, 0.5, 1.0),
        (3, sv.STALLED, 1.0, 2.0),
        (4, sv.UNREACHABLE, 2.0, 4.0),
        (10, sv.UNREACHABLE, 2.0, 4.0),  # capped: back within seconds after a power cut
        (10, sv.AUTH_REFUSED, 15.0, 30.0),  # a wrong password is not hammered
        (10, sv.UNSUPPORTED, 15.0, 30.0),
    ],
)
def test_backoff_table(failures: int, reason: str, low: float, high: float) -> None:
    policy = sv.BackoffPolicy(0.5, 4.0, 30.0)
    rng = random.Random(1)
    delays = [policy.delay(failures, reason, rng) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert max(delays) - min(delays) > (high - low) / 4, "jittered, not in lock step"


def test_token_bucket_spreads_a_herd() -> None:
    bucket = sv.TokenBucket(rate=100.0, burst=25.0)
    granted = 0
    t = 0.0
    for _ in range(300):  # 300 cameras want to connect at once, checked every 40 ms
        for _ in range(300 - granted):
            if bucket.take(t):
                granted += 1
            else:
                break
        t += 0.04
        if granted >= 300:
            break
    assert granted == 300
    assert 2.5 <= t <= 3.6  # 300 attempts at 100/s


@pytest.mark.parametrize("failures", [1_025, 1_100, 10**6, 10**12])
def test_backoff_never_overflows(failures: int) -> None:
    """``2 ** 1024`` does not fit a float: a camera dark long enough used to end the ingest loop with OverflowError."""
    policy = sv.BackoffPolicy(0.5, 4.0, 30.0)
    rng = random.Random(2)
    assert 2.0 <= policy.delay(failures, sv.UNREACHABLE, rng) <= 4.0
    assert 15.0 <= policy.delay(failures, sv.AUTH_REFUSED, rng) <= 30.0
