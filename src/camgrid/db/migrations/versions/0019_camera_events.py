"""camera events and clocks (ONVIF)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 17:20:00

``camera_events``: what each camera reported over ONVIF events (tamper, motion, video loss, storage failure), with
the camera's time and ours; ``camera_clocks``: each camera's last clock offset (docs/design/onvif.md, "Clock and
events").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"  # given "0016"; chained after wt-discover's 0018, merged into this branch
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("camera_ns", sa.BigInteger(), nullable=True),
        sa.Column("received_ns", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_events")),
    )
    op.create_index("ix_camera_events_camera_t", "camera_events", ["camera_id", "received_ns"], unique=False)
    op.create_index("ix_camera_events_received", "camera_events", ["received_ns"], unique=False)
    op.create_table(
        "camera_clocks",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("offset_ns", sa.BigInteger(), nullable=False),
        sa.Column("measured_ns", sa.BigInteger(), nullable=False),
        sa.Column("round_trip_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_clocks")),
    )


def downgrade() -> None:
    op.drop_table("camera_clocks")
    op.drop_index("ix_camera_events_received", table_name="camera_events")
    op.drop_index("ix_camera_events_camera_t", table_name="camera_events")
    op.drop_table("camera_events")
