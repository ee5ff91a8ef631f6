"""What cameras say of themselves over ONVIF: their events (tamper, motion, video loss, storage failure) and the
last reading of their clock. Camera ids are plain strings, as in the other health tables (history outlives a camera).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base

TOPIC_CHARS = 200
DETAIL_CHARS = 500


class CameraEventRow(Base):
    """One ONVIF event of a camera: a property's state (``active``) at the camera's time and at ours."""

    __tablename__ = "camera_events"
    __table_args__ = (
        Index("ix_camera_events_camera_t", "camera_id", "received_ns"),
        Index("ix_camera_events_received", "received_ns"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))  # vocabulary.CameraEventKind
    active: Mapped[bool] = mapped_column(Boolean)
    camera_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the camera's own clock
    received_ns: Mapped[int] = mapped_column(BigInteger)  # ours
    topic: Mapped[str] = mapped_column(String(TOPIC_CHARS))
    detail: Mapped[str] = mapped_column(String(DETAIL_CHARS), default="")


class CameraClockRow(Base):
    """A camera's last clock reading: ``offset_ns`` = camera time - our time (midpoint of the round trip)."""

    __tablename__ = "camera_clocks"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offset_ns: Mapped[int] = mapped_column(BigInteger)
    measured_ns: Mapped[int] = mapped_column(BigInteger)
    round_trip_ns: Mapped[int] = mapped_column(BigInteger)
