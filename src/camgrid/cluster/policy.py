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


def budget_mbps(*, capacity: int, capacity_mbps: float, camera_mbps: float) -> float:
    """What a node takes, in Mbit/s: its declared ``capacity_mbps``, or (declared in cameras) its camera count at
    the assumed bitrate, so that nodes declared either way share one scale."""
    return capacity_mbps if capacity_mbps > 0 else capacity * camera_mbps


def fair_share_mbps(*, budget: float, total_mbps: float, live_budgets: list[float]) -> float:
    """This node's share of the city's bitrate, in proportion to its budget, never above it (``live_budgets``
    includes this node)."""
    if budget <= 0 or total_mbps <= 0:
        return 0.0
    pool = sum(b for b in live_budgets if b > 0)
    if pool <= 0:
        return min(budget, total_mbps)
    return min(budget, total_mbps, total_mbps * budget / pool)


def pick_by_load(
    candidates: list[tuple[str, float]], *, held_mbps: float, target_mbps: float, budget: float, max_count: int
) -> list[str]:
    """Cameras to take, in the order given (preferred first), until the held load reaches ``target_mbps``.

    The last camera may overshoot the target (shares must cover the city) but never the node's ``budget``; a camera
    too heavy for the room left is skipped for a lighter one. ``candidates`` carry the bitrate to count (measured, or
    assumed when unknown). At most ``max_count`` cameras (the node's camera capacity left).
    """
    out: list[str] = []
    load = held_mbps
    for cam, mbps in candidates:
        if load >= target_mbps or len(out) >= max_count:
            break
        if load + mbps > budget + 1e-9:
            continue
        out.append(cam)
        load += mbps
    return out


def affinity_rank(district: str, districts: frozenset[str]) -> int:
    """0 for a camera in one of the node's districts, 1 otherwise: preferred cameras are taken first."""
    return 0 if district in districts else 1


def parse_districts(text: str) -> frozenset[str]:
    return frozenset(d.strip() for d in text.split(",") if d.strip())
