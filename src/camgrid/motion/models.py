"""Tamper state kept in the database: each camera's learnt reference picture, and the before/after stills of tamper
incidents (docs/design/tamper.md). Migration 0025."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class TamperReference(Base):
    """A camera's reference picture (learnt, or re-taken by an operator: ``retake_ns`` asks the sampler for a new
    one). ``picture``: the small grey picture (uint8, ``width`` x ``height``), ``jpeg``: the before still."""

    __tablename__ = "tamper_references"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    taken_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # None: asked for, not taken yet
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    picture: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    edge: Mapped[float] = mapped_column(Float, default=0.0)
    tiles: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sharpness per tile (float32 x 16)
    jpeg: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    retake_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # an operator's re-take, pending
    updated_ns: Mapped[int] = mapped_column(BigInteger, default=0)


class TamperStill(Base):
    """An incident's picture: ``before`` (the reference when it opened) or ``after`` (the keyframe that raised it)."""

    __tablename__ = "tamper_stills"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    which: Mapped[str] = mapped_column(String(8), primary_key=True)
    taken_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
