"""Privacy masks per camera. A removal or a reduction needs a second person: it is requested, then approved by
someone else; until then ``polygons`` stays in force (docs/design/privacy-masks.md)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class PrivacyMask(Base):
    __tablename__ = "privacy_masks"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    polygons: Mapped[str] = mapped_column(Text)  # JSON: [[[x, y], ...], ...] in fractions of the picture
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    # Who asked for the pending change (removal, or reduction to ``pending_polygons``), and when; None: none pending.
    removal_requested_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    removal_requested_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    pending_polygons: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON; None with a request: removal


class CameraSideMask(Base):
    """Who masks a camera's pictures, and what camgrid set on the camera (docs/design/camera-side-masks.md)."""

    __tablename__ = "camera_side_masks"
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))  # MaskMode
    tokens: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the camera's tokens of the masks camgrid created
    revision: Mapped[int] = mapped_column(Integer, default=0)  # the privacy_masks revision set on the camera
    verified_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # first check passed (this arming)
    failed_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)  # why it failed, or why recorder-side
    updated_ns: Mapped[int] = mapped_column(BigInteger, default=0)
