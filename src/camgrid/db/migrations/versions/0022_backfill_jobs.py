"""edge backfill jobs

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-02 17:15:00

One row per gap replayed (or tried) from a camera's SD card (ONVIF Profile G), unique per (camera, gap start): a job
is never run twice, survives a restart (``running`` becomes ``pending`` again) and is shown to operators
(docs/design/onvif.md, "Edge backfill").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"  # briefed "0016"; after main's chain 0016 > 0018 > 0019 > 0021 > 0020
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("recovered_ns", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("camera_id", "start_ns", name="uq_backfill_jobs_camera_start"),
    )
    op.create_index("ix_backfill_jobs_state", "backfill_jobs", ["state", "updated_ns"])


def downgrade() -> None:
    op.drop_index("ix_backfill_jobs_state", table_name="backfill_jobs")
    op.drop_table("backfill_jobs")
