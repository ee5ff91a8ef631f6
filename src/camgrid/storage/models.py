"""Recording index. Times are UTC nanoseconds (BIGINT) so they sort and compare exactly on every database."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base
from camgrid.vocabulary import SegmentSource


class Segment(Base):
    """One fMP4 file. ``status`` is ``writing`` while open, ``complete`` once closed or repaired."""

    __tablename__ = "segments"
    __table_args__ = (
        Index("ix_segments_camera_start", "camera_id", "start_ns"),
        # Retention's pages, oldest first (migration 0009): per node, and across the index on a single machine.
        Index("ix_segments_end", "end_ns", "id"),
        Index("ix_segments_node_end", "node_id", "end_ns", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    codec: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="writing")
    node_id: Mapped[str] = mapped_column(String(64), default="local")
    # ``edge``: replayed from the camera's card (docs/design/onvif.md, "Replay and storing what the card held"),
    # with the camera clock's offset used to place it (camera time = our time + clock_offset_ns).
    source: Mapped[str] = mapped_column(String(8), default=SegmentSource.LIVE, server_default=SegmentSource.LIVE)
    clock_offset_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Gap(Base):
    """Time a camera was not recorded, and why. ``end_ns`` is NULL while the gap is still open."""

    __tablename__ = "gaps"
    __table_args__ = (Index("ix_gaps_camera_start", "camera_id", "start_ns"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500), default="")
    node_id: Mapped[str] = mapped_column(String(64), default="local")


class Hold(Base):
    """Evidence hold: segments of a camera overlapping [start, end] are never deleted by retention."""

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    until_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_ns: Mapped[int] = mapped_column(BigInteger, default=0)


class Deletion(Base):
    """What retention deleted: kept so that deletions can be reported and audited."""

    __tablename__ = "deletions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    deleted_ns: Mapped[int] = mapped_column(BigInteger)
