"""saved wall layouts and a camera's street

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 20:30:00

``wall_layouts``: a user's saved live walls (name, size, the camera of each tile), kept on the server so that a layout
follows its user to any desk (docs/design/finding-cameras.md). ``cameras.street``: the street a camera stands on, for
the camera search (the registry had no address); optional, "" when the camera file does not say.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE ... ADD COLUMN (as 0016): batch mode would copy cameras, which other tables refer to.
    op.add_column("cameras", sa.Column("street", sa.String(200), nullable=False, server_default=""))
    op.create_table(
        "wall_layouts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("cameras", sa.Text(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_wall_layouts_user_name"),
    )
    op.create_index("ix_wall_layouts_user_id", "wall_layouts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_wall_layouts_user_id", table_name="wall_layouts")
    op.drop_table("wall_layouts")
    op.drop_column("cameras", "street")
