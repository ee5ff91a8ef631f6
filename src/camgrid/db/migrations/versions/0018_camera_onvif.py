"""camera ONVIF device-service address

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02 17:10:00

Each camera gets ``onvif_url`` (nullable): where its ONVIF device service answers (``http://host/onvif/device_service``),
for discovery, its clock, events, masks and SD-card backfill (docs/design/onvif.md). It holds no secret (the login is
the camera's own username and sealed password); NULL for cameras that do not speak ONVIF or were never told.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN (nullable, no default): batch mode would copy the table, and DROP TABLE
    # cameras fails while other tables' rows refer to it (SQLite enforces the foreign keys).
    op.add_column("cameras", sa.Column("onvif_url", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    op.drop_column("cameras", "onvif_url")  # SQLite 3.35+: no copy either
