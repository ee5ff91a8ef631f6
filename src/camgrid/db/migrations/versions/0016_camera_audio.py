"""camera audio switch

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-02 14:40:00

Each camera gets ``audio_enabled``, false for every camera (existing and new): recording sound is forbidden by
default in many cities, so it is switched on per camera, audited (docs/design/audio.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_enabled", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("audio_enabled")
