"""segment source and clock offset

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-02 17:30:00

Each segment says where its pictures came from: ``live`` (every existing row) or ``edge`` (replayed from the
camera's card to fill a gap, ONVIF Profile G), and for edge segments the camera clock's offset used to place them
(docs/design/onvif.md, "Replay and storing what the card held").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"  # re-chained at the merge: 0018, 0019, 0021
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of a table that may hold millions of rows).
    op.add_column("segments", sa.Column("source", sa.String(8), nullable=False, server_default="live"))
    op.add_column("segments", sa.Column("clock_offset_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("segments", "clock_offset_ns")
    op.drop_column("segments", "source")
