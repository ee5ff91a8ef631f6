"""Tables of the audit log: entries (leaves), level-8 tile hashes (so a restart need not re-read every leaf) and
signed checkpoints. Rows are only ever inserted; nothing in camgrid updates or deletes them.
Design note: docs/design/audit-log.md.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at_ns: Mapped[int] = mapped_column(BigInteger)
    who: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[str] = mapped_column(Text)  # the canonical JSON: exactly the leaf data
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditTile(Base):
    """Hash of the perfect subtree over leaves [idx * 256, (idx + 1) * 256)."""

    __tablename__ = "audit_tiles"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at_ns: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)


class AuditCosignature(Base):
    """What a witness answered for the checkpoint of ``size``: its cosignature line, or why it did not cosign
    (docs/design/witnesses.md). The newest answer per (size, witness) is kept."""

    __tablename__ = "audit_cosignatures"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)  # the witness's key name
    status: Mapped[str] = mapped_column(String(16))  # WitnessStatus
    line: Mapped[str] = mapped_column(Text)  # the cosignature line ("" unless cosigned)
    detail: Mapped[str] = mapped_column(Text)
    at_ns: Mapped[int] = mapped_column(BigInteger)
