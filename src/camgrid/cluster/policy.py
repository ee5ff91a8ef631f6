"""How many cameras a node should hold: pure functions, tested by tables (docs/design/cluster.md, "Leases")."""

from __future__ import annotations

import math


def fair_share(*, capacity: int, total_cameras: int, live_capacities: list[int]) -> int:
    """This node's share of the city: cameras in proportion to declared capacity, never above its own capacity.

    ``live_capacities`` holds the capacity of every live node, this one included. Rounded up, so that the shares of
    the live nodes always cover every camera when their capacities allow it.
    """
    if capacity <= 0 or total_cameras <= 0:
        return 0
    pool = sum(c for c in live_capacities if c > 0)
    if pool <= 0:
        return min(capacity, total_cameras)
    return min(capacity, total_cameras, math.ceil(total_cameras * capacity / pool))


def to_take(*, target: int, held: int) -> int:
    """Cameras to take this round: up to the target. A node above its target keeps what it holds (it never gives up
    a camera it is recording just to even out: handing over costs a gap), so a returning node does not fight."""
    return max(0, target - held)


def affinity_rank(district: str, districts: frozenset[str]) -> int:
    """0 for a camera in one of the node's districts, 1 otherwise: preferred cameras are taken first."""
    return 0 if district in districts else 1


def parse_districts(text: str) -> frozenset[str]:
    return frozenset(d.strip() for d in text.split(",") if d.strip())
