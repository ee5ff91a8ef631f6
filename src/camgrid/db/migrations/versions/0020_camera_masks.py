"""camera-side privacy masks

Revision ID: 0020
Revises: 0021
Create Date: 2026-12-02 17:20:00

``camera_side_masks``: per masked camera, who burns the masks in (``recorder``, ``camera``, ``camera_failed``), the
tokens of the Media2 masks camgrid created on the camera, the mask revision set there, and when a check of the
camera's pictures last passed or failed (docs/design/camera-side-masks.md). No row: the recorder masks, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0021"  # brief: "0016"; chained after main's head (0018, 0019, 0021) at the merge of main
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_side_masks",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("verified_ns", sa.BigInteger(), nullable=True),
        sa.Column("failed_ns", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id"),
    )


def downgrade() -> None:
    op.drop_table("camera_side_masks")
