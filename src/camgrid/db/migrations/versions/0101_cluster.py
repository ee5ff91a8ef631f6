"""cluster: recorder nodes, camera leases, outbox marks

Revision ID: 0101
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("districts", sa.String(length=2000), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_ns", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_nodes")),
    )
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("expires_ns", sa.BigInteger(), nullable=False),
        sa.Column("acquired_ns", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_leases")),
    )
    op.create_index(op.f("ix_camera_leases_node_id"), "camera_leases", ["node_id"], unique=False)
    op.create_table(
        "cluster_outbox_marks",
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_cluster_outbox_marks")),
    )


def downgrade() -> None:
    op.drop_table("cluster_outbox_marks")
    op.drop_index(op.f("ix_camera_leases_node_id"), table_name="camera_leases")
    op.drop_table("camera_leases")
    op.drop_table("cluster_nodes")
