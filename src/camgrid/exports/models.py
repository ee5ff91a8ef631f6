"""Four-eyes export requests (the clip files stay on disk under ``<home>/exports/<id>/``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class ExportRequest(Base):
    """One export: asked for by one person, decided by another. Times in UTC nanoseconds (the API speaks ms)."""

    __tablename__ = "exports"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # also the folder's name
    status: Mapped[str] = mapped_column(String(16), index=True)  # vocabulary.ExportStatus
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    camera_name: Mapped[str] = mapped_column(String(200), default="")
    district_id: Mapped[str] = mapped_column(String(64), index=True)
    from_ns: Mapped[int] = mapped_column(BigInteger)
    to_ns: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_ns: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    actual_from_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actual_to_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    audit_entries: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the audit log's indices
    note: Mapped[str] = mapped_column(String(500), default="")  # why the last approval did not finish
