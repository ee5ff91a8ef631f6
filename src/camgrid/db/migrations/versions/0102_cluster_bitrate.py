"""cluster: capacity in Mbit/s per node, measured bitrate per camera lease

Revision ID: 0102
Revises: 0101
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cluster_nodes") as batch:
        batch.add_column(sa.Column("capacity_mbps", sa.Float(), nullable=False, server_default="0"))
    with op.batch_alter_table("camera_leases") as batch:
        batch.add_column(sa.Column("mbps", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("camera_leases") as batch:
        batch.drop_column("mbps")
    with op.batch_alter_table("cluster_nodes") as batch:
        batch.drop_column("capacity_mbps")
