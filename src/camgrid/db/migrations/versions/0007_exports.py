"""exports: four-eyes export requests move from request.json files into the database

Revision ID: 0007
Revises: 0102
Create Date: 2026-12-02 06:00:00

Numbered after 0006 (the main line) but chained after the cluster's 0102 so that the history keeps one head.
Export folders made before this revision (``<home>/exports/<id>/request.json``) are not imported: their files stay
readable on disk, but they no longer appear in the API.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("camera_name", sa.String(length=200), nullable=False),
        sa.Column("district_id", sa.String(length=64), nullable=False),
        sa.Column("from_ns", sa.BigInteger(), nullable=False),
        sa.Column("to_ns", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_ns", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_ns", sa.BigInteger(), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("actual_from_ns", sa.BigInteger(), nullable=True),
        sa.Column("actual_to_ns", sa.BigInteger(), nullable=True),
        sa.Column("audit_entries", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    op.create_index(op.f("ix_exports_status"), "exports", ["status"], unique=False)
    op.create_index(op.f("ix_exports_camera_id"), "exports", ["camera_id"], unique=False)
    op.create_index(op.f("ix_exports_district_id"), "exports", ["district_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_exports_district_id"), table_name="exports")
    op.drop_index(op.f("ix_exports_camera_id"), table_name="exports")
    op.drop_index(op.f("ix_exports_status"), table_name="exports")
    op.drop_table("exports")
