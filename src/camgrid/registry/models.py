"""Registry tables. Topology ids are the operators' own names (``F-12``, ``KTM-03``), so they are the keys."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base
from camgrid.vocabulary import RtspTransport


class District(Base):
    __tablename__ = "districts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    retention_days: Mapped[float | None] = mapped_column(Float, nullable=True)


class Feeder(Base):
    __tablename__ = "feeders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Uplink(Base):
    __tablename__ = "uplinks"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), index=True)
    feeder_id: Mapped[str] = mapped_column(ForeignKey("feeders.id"), index=True)
    uplink_id: Mapped[str] = mapped_column(ForeignKey("uplinks.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class Camera(Base):
    __tablename__ = "cameras"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    feeder_id: Mapped[str] = mapped_column(ForeignKey("feeders.id"), index=True)
    uplink_id: Mapped[str] = mapped_column(ForeignKey("uplinks.id"), index=True)
    # The URLs as shown (redacted: no userinfo, query credentials as ***). The real ones, when they differ, are
    # sealed in ``credentials``; registry.service.reveal is the one way to them (docs/design/secrets-at-rest.md).
    rtsp_url: Mapped[str] = mapped_column(String(2000))
    # The camera's low-resolution substream, for multi-tile walls (opened only while someone watches it).
    sub_rtsp_url: Mapped[str] = mapped_column(String(2000), default="")
    username: Mapped[str] = mapped_column(String(200), default="")
    # How media travels: auto (the recorder's default: TCP interleaved, UDP after a 461) | tcp | udp.
    transport: Mapped[str] = mapped_column(String(8), default=RtspTransport.AUTO)
    # The password and credential-bearing URLs, sealed with the home's secrets key (camgrid.db.secrets): "" when
    # the camera has none. Never printed, logged or returned (see registry.schemas.CameraOut).
    credentials: Mapped[str] = mapped_column(Text, default="")
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    fov_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    range_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | planned | disabled
    retention_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorder_node: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    updated_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Record the camera's audio track too (off by default: many cities forbid it; docs/design/audio.md).
    audio_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Where its ONVIF device service answers (http(s)://host[:port]/onvif/device_service), no userinfo: the login
    # is ``username`` and the sealed password (camgrid.onvif.targets). NULL: not an ONVIF camera, or not known.
    onvif_url: Mapped[str | None] = mapped_column(String(2000), nullable=True, default=None)
    # The street it stands on, for the camera search ("" when the camera file does not say).
    street: Mapped[str] = mapped_column(String(200), default="", server_default="")


class CameraMaintenance(Base):
    """One window during which an operator took a camera out of service (docs/design/camera-maintenance.md).

    A row per window rather than a flag on the camera: availability reports subtract the windows of the period they
    cover, and the history says who had which camera off and why. The open window (``end_ns`` NULL) is the
    camera's current maintenance; the service keeps at most one open per camera."""

    __tablename__ = "camera_maintenance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    started_by: Mapped[str] = mapped_column(String(64))  # not "by": a reserved word in SQL
    note: Mapped[str] = mapped_column(String(500), default="")
    ended_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    end_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
