"""mask pending change: a reduction of a privacy mask waits for a second person, like a removal

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-02 12:00:00

``pending_polygons`` holds the smaller mask asked for while ``removal_requested_by`` names who asked (NULL with a
request: a removal of the whole mask, as before). Until a second person approves, ``polygons`` stays in force
(docs/design/privacy-masks.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_masks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_polygons", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_masks", schema=None) as batch_op:
        batch_op.drop_column("pending_polygons")
