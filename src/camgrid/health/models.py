"""Health and incident tables. Times are UTC nanoseconds (BIGINT). Camera ids are plain strings (no foreign key):
incidents are history and must outlive a camera removed from the registry."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class HealthTransition(Base):
    """One change of a camera's health state (online, degraded, offline, unknown, maintenance) and why."""

    __tablename__ = "health_transitions"
    __table_args__ = (Index("ix_health_transitions_camera_t", "camera_id", "t_ns"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    t_ns: Mapped[int] = mapped_column(BigInteger)
    old_state: Mapped[str] = mapped_column(String(16))
    new_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class IncidentRow(Base):
    """An incident as the engine last reported it. ``engine_key`` identifies it within one engine run."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_kind_subject", "kind", "subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    engine_key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # power | uplink | site | camera
    subject: Mapped[str] = mapped_column(String(64))
    opened_ns: Mapped[int] = mapped_column(BigInteger, index=True)
    resolved_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    n_members: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    flaps: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[str] = mapped_column(String(200), default="")  # comma-separated sources
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), nullable=True)
    acknowledged_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class IncidentCamera(Base):
    """A camera's part in an incident: ``member`` (darkened by it), ``unexplained`` (dark in the same window for
    another reason) or ``survivor`` (in the group but stayed up, e.g. on UPS)."""

    __tablename__ = "incident_cameras"
    __table_args__ = (
        Index("ix_incident_cameras_incident_role", "incident_id", "role"),
        Index("ix_incident_cameras_camera", "camera_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    camera_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    down_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    joined_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class IncidentSuggestion(Base):
    """A registry correction the engine suggests (a camera behaving as if on another feeder or uplink)."""

    __tablename__ = "incident_suggestions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    field: Mapped[str] = mapped_column(String(16))  # feeder | uplink
    registry_value: Mapped[str] = mapped_column(String(64))
    suggested_value: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | accepted | rejected


class IncidentAction(Base):
    """Every operator action on an incident, kept: acknowledge, comment, accept or reject a suggestion."""

    __tablename__ = "incident_actions"
    __table_args__ = (Index("ix_incident_actions_incident_t", "incident_id", "t_ns"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    t_ns: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))  # ack | comment | accept_suggestion | reject_suggestion
    text: Mapped[str] = mapped_column(String(2000), default="")


# What cameras say of themselves over ONVIF (docs/design/onvif.md, "Clock and events").
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
