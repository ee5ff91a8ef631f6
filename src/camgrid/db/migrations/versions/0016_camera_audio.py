"""camera audio switch

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-02 14:40:00

Each camera gets ``audio_enabled``, false for every camera (existing and new): recording sound is forbidden by
default in many cities, so it is switched on per camera, audited (docs/design/audio.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN: batch mode would copy the table, and DROP TABLE cameras fails while other
    # tables' rows refer to it (SQLite enforces the foreign keys).
    op.add_column("cameras", sa.Column("audio_enabled", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("cameras", "audio_enabled")  # SQLite 3.35+: no copy either
