"""Nodes and camera leases in the shared database. Never commits: the caller owns the unit of work.

A lease is a row per camera: the node holding it. It is valid while that node heartbeats (one row per node, every
``cluster.heartbeat_s``); a lease whose node has not heartbeated within the TTL is free, and another node takes it
(with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two nodes never take the same camera and never wait on each
other). Taking a camera from a node that died writes the gap that says what was lost: from that node's last
heartbeat to the first segment of the new holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, func, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from camgrid.cluster import policy
from camgrid.cluster.models import Lease, Node
from camgrid.cluster.policy import parse_districts
from camgrid.registry.models import Camera
from camgrid.storage.models import Gap
from camgrid.vocabulary import GapReason

NOT_RUNNING = GapReason.NOT_RUNNING
STARTING = GapReason.STARTING


@dataclass(frozen=True)
class LoadTarget:
    """Taking by bitrate: what the node holds, the share it aims at and its budget, all in Mbit/s."""

    held_mbps: float
    target_mbps: float
    budget_mbps: float
    camera_mbps: float  # counted for a camera whose bitrate is not measured yet


@dataclass(frozen=True)
class Taken:
    """A camera a node just took, and the gap its recorder must open for it (from ``start_ns``, with ``reason``)."""

    camera_id: str
    start_ns: int
    reason: str
    detail: str
    previous_node: str | None


def register(
    session: Session,
    *,
    node_id: str,
    capacity: int,
    districts: str,
    address: str,
    now_ns: int,
    capacity_mbps: float = 0.0,
) -> None:
    """Insert or refresh this node's row (a restarted node keeps its id)."""
    node = session.get(Node, node_id)
    if node is None:
        node = Node(id=node_id)
        session.add(node)
    node.capacity = capacity
    node.capacity_mbps = capacity_mbps
    node.districts = districts
    node.address = address
    node.status = "up"
    node.started_ns = now_ns
    node.heartbeat_ns = now_ns
    session.flush()


def heartbeat(session: Session, *, node_id: str, now_ns: int) -> None:
    session.execute(update(Node).where(Node.id == node_id).values(heartbeat_ns=now_ns, status="up"))


def live_capacities(session: Session, *, now_ns: int, ttl_ns: int) -> dict[str, int]:
    """Capacity of every node that is up and heartbeated within the TTL."""
    rows = session.execute(
        select(Node.id, Node.capacity).where(and_(Node.status == "up", Node.heartbeat_ns >= now_ns - ttl_ns))
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def live_budgets(session: Session, *, now_ns: int, ttl_ns: int, camera_mbps: float) -> dict[str, float]:
    """Every live node's budget in Mbit/s (``policy.budget_mbps``)."""
    rows = session.execute(
        select(Node.id, Node.capacity, Node.capacity_mbps).where(
            and_(Node.status == "up", Node.heartbeat_ns >= now_ns - ttl_ns)
        )
    ).all()
    return {
        str(n): policy.budget_mbps(capacity=int(c), capacity_mbps=float(m or 0.0), camera_mbps=camera_mbps)
        for n, c, m in rows
    }


def _load(camera_mbps: float) -> Any:
    """A camera's bitrate to count: measured by its holder, or the assumed one while unknown."""
    return func.coalesce(func.nullif(Lease.mbps, 0.0), literal(camera_mbps))


def city_load_mbps(session: Session, *, camera_mbps: float) -> float:
    """The bitrate of every active camera (cameras never leased yet count at ``camera_mbps``)."""
    total = session.scalar(
        select(func.sum(_load(camera_mbps)))
        .select_from(Camera)
        .outerjoin(Lease, Lease.camera_id == Camera.id)
        .where(Camera.status == "active")
    )
    return float(total or 0.0)


def held_load_mbps(session: Session, *, node_id: str, camera_mbps: float) -> float:
    total = session.scalar(select(func.sum(_load(camera_mbps))).where(Lease.node_id == node_id))
    return float(total or 0.0)


def set_bitrates(session: Session, *, node_id: str, mbps: dict[str, float]) -> None:
    """Store what this node measured for the cameras it holds (cameras it lost meanwhile are left alone)."""
    if not mbps:
        return
    table = Lease.__table__
    assert isinstance(table, Table)
    stmt = (
        update(table)
        .where(and_(table.c.camera_id == bindparam("cam"), table.c.node_id == node_id))
        .values(mbps=bindparam("value"))
    )
    session.execute(stmt, [{"cam": c, "value": round(v, 3)} for c, v in mbps.items()])  # one executemany


def active_cameras(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Camera).where(Camera.status == "active")) or 0)


def renew(session: Session, *, node_id: str, now_ns: int, ttl_ns: int) -> set[str]:
    """The leases this node still holds (one that another node took is no longer ours).

    A lease is valid while its node's heartbeat is fresh: renewing is the node's one-row heartbeat, not one write per
    camera (10 nodes x 6,000 cameras would otherwise be 60,000 row updates a second).
    """
    held = session.scalars(
        select(Lease.camera_id)
        .join(Camera, Camera.id == Lease.camera_id)
        .where(and_(Lease.node_id == node_id, Camera.status == "active"))
    ).all()
    gone = session.scalars(
        select(Lease.camera_id)
        .outerjoin(Camera, Camera.id == Lease.camera_id)
        .where(and_(Lease.node_id == node_id, or_(Camera.id.is_(None), Camera.status != "active")))
    ).all()
    if gone:  # removed or disabled cameras: give the lease back
        session.execute(update(Lease).where(Lease.camera_id.in_(gone)).values(node_id=None, expires_ns=0))
    return set(held)


def ensure_lease_rows(session: Session) -> None:
    """One lease row per active camera (new cameras get a free one); safe when nodes do it at once."""
    missing = select(Camera.id, null(), literal(0), literal(0), literal(0)).where(
        and_(Camera.status == "active", ~select(Lease.camera_id).where(Lease.camera_id == Camera.id).exists())
    )
    cols = ["camera_id", "node_id", "expires_ns", "acquired_ns", "epoch"]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(Lease).from_select(cols, missing).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(Lease).from_select(cols, missing).on_conflict_do_nothing())
    else:  # pragma: no cover - other databases are not supported
        raise RuntimeError(f"unsupported database {dialect}")


def take(
    session: Session,
    *,
    node_id: str,
    districts: str,
    count: int,
    now_ns: int,
    ttl_ns: int,
    load: LoadTarget | None = None,
) -> list[Taken]:
    """Take up to ``count`` free cameras, those of the node's districts first; with ``load``, only as many as bring
    the node's bitrate to its target (``policy.pick_by_load``).

    Gaps left open for a taken camera (by the node that released it or by the recorder that died) are closed where
    the new one starts; the new holder's recorder opens that one (``Taken``) and closes it at its first segment.
    """
    if count <= 0:
        return []
    ensure_lease_rows(session)
    prefer = sorted(parse_districts(districts))
    rank = case((Camera.district_id.in_(prefer), 0), else_=1) if prefer else literal(1)
    # Free: never held, released, or held by a node that stopped heartbeating (or left, or was never registered).
    stale = or_(Node.id.is_(None), Node.status != "up", Node.heartbeat_ns < now_ns - ttl_ns)
    free = and_(Camera.status == "active", or_(Lease.node_id.is_(None), and_(Lease.node_id != node_id, stale)))
    if load is not None:
        # Two steps: read the candidates and their bitrates without locks, then lock only the ones picked (another
        # node may have taken some meanwhile: SKIP LOCKED and the re-checked condition leave them out).
        cands = session.execute(
            select(Lease.camera_id, _load(load.camera_mbps))
            .join(Camera, Camera.id == Lease.camera_id)
            .outerjoin(Node, Node.id == Lease.node_id)
            .where(free)
            .order_by(rank, Lease.camera_id)
            .limit(count)
        ).all()
        picked = policy.pick_by_load(
            [(str(c), float(m)) for c, m in cands],
            held_mbps=load.held_mbps,
            target_mbps=load.target_mbps,
            budget=load.budget_mbps,
            max_count=count,
        )
        if not picked:
            return []
        free = and_(free, Lease.camera_id.in_(picked))
    rows = session.execute(
        select(Lease.camera_id, Lease.node_id, Node.heartbeat_ns)
        .join(Camera, Camera.id == Lease.camera_id)
        .outerjoin(Node, Node.id == Lease.node_id)
        .where(free)
        .order_by(rank, Lease.camera_id)
        .limit(count)
        .with_for_update(skip_locked=True, of=Lease)
    ).all()
    if not rows:
        return []
    beats = {str(prev): int(hb) for _cam, prev, hb in rows if prev is not None and hb is not None}
    taken: list[Taken] = []
    for cam, prev, _hb in rows:
        session.execute(
            update(Lease)
            .where(Lease.camera_id == cam)
            .values(node_id=node_id, expires_ns=now_ns + ttl_ns, acquired_ns=now_ns, epoch=Lease.epoch + 1)
        )
        if prev is not None and prev != node_id:
            # The holder stopped renewing: it died or lost the database. What it recorded up to its last heartbeat
            # is on its disk (indexed when it returns); from there on, nobody recorded this camera.
            start = min(now_ns, beats.get(prev, now_ns))
            reason, detail = NOT_RUNNING, f"node {prev} stopped renewing its lease"
        else:
            start, reason, detail = now_ns, STARTING, ""
        open_gaps = session.execute(
            select(Gap.id, Gap.start_ns).where(and_(Gap.camera_id == cam, Gap.end_ns.is_(None)))
        ).all()
        for gid, gstart in open_gaps:
            session.execute(update(Gap).where(Gap.id == gid).values(end_ns=max(int(gstart), start)))
        taken.append(Taken(cam, start, reason, detail, prev))
    return taken


def release(session: Session, *, node_id: str, camera_ids: list[str] | None = None) -> int:
    """Give leases back at once (clean shutdown): other nodes take them at their next heartbeat."""
    stmt = update(Lease).where(Lease.node_id == node_id)
    if camera_ids is not None:
        stmt = stmt.where(Lease.camera_id.in_(camera_ids))
    result = session.execute(stmt.values(node_id=None, expires_ns=0))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_down(session: Session, *, node_id: str, now_ns: int) -> None:
    session.execute(update(Node).where(Node.id == node_id).values(status="down", heartbeat_ns=now_ns))


def holders(session: Session) -> dict[str, str]:
    """camera -> node for every held lease (expired or not): for tools, tests and the control plane."""
    rows = session.execute(select(Lease.camera_id, Lease.node_id).where(Lease.node_id.is_not(None))).all()
    return {str(c): str(n) for c, n in rows}
