"""Recorder nodes and camera leases (docs/design/cluster.md, "Leases")."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class Node(Base):
    """A recorder node: what it takes (capacity, districts it prefers) and when it last proved it was alive."""

    __tablename__ = "cluster_nodes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    capacity_mbps: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # 0: cameras only
    districts: Mapped[str] = mapped_column(String(2000), default="")  # comma-separated district ids (affinity)
    address: Mapped[str] = mapped_column(String(255), default="")  # where its recordings are served from
    status: Mapped[str] = mapped_column(String(16), default="up")  # up | down (clean shutdown)
    started_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    heartbeat_ns: Mapped[int] = mapped_column(BigInteger, default=0)


class Lease(Base):
    """Who records a camera. ``node_id`` NULL: released. Valid while the node heartbeats within the TTL (one write
    per node, not per camera); ``expires_ns`` is the first expiry when taken, for display.

    ``epoch`` grows at every change of holder (a fencing token for whoever needs to tell two holders apart).
    """

    __tablename__ = "camera_leases"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    expires_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    acquired_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    mbps: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # measured by its holder; 0: unknown


class OutboxMark(Base):
    """The last outbox entry of a node applied to the database, written in the same transaction as the entries:
    a replay after a lost commit acknowledgement skips what is already there (no duplicates)."""

    __tablename__ = "cluster_outbox_marks"
    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
