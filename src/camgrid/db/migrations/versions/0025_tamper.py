"""tamper references and incident stills

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 04:30:00

Each camera's learnt tamper reference picture (small grey, its sharpness overall and per tile, a JPEG still) and
the before/after stills of tamper incidents (docs/design/tamper.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tamper_references",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("taken_ns", sa.BigInteger(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("picture", sa.LargeBinary(), nullable=True),
        sa.Column("edge", sa.Float(), nullable=False),
        sa.Column("tiles", sa.LargeBinary(), nullable=True),
        sa.Column("jpeg", sa.LargeBinary(), nullable=True),
        sa.Column("retake_ns", sa.BigInteger(), nullable=True),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "tamper_stills",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("which", sa.String(8), primary_key=True),
        sa.Column("taken_ns", sa.BigInteger(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tamper_stills")
    op.drop_table("tamper_references")
