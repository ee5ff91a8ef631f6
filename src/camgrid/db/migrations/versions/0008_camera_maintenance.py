"""camera_maintenance: the windows during which operators took cameras out of service

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:40:00

A table of windows rather than columns on ``cameras``: availability reports subtract the windows of their period,
and the history says who had which camera off and why (docs/design/camera-maintenance.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_maintenance",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=True),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("end_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name=op.f("fk_camera_maintenance_camera_id_cameras")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_maintenance")),
    )
    op.create_index(op.f("ix_camera_maintenance_camera_id"), "camera_maintenance", ["camera_id"], unique=False)
    op.create_index(op.f("ix_camera_maintenance_end_ns"), "camera_maintenance", ["end_ns"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_camera_maintenance_end_ns"), table_name="camera_maintenance")
    op.drop_index(op.f("ix_camera_maintenance_camera_id"), table_name="camera_maintenance")
    op.drop_table("camera_maintenance")
