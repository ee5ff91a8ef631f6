"""user tombstones: a deleted user keeps their row (and name) so that audit entries naming them keep one meaning

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:00:00

``users.deleted_ns`` is set when an admin deletes a user (docs/design/users-life.md); the row stays, its password is
cleared and every credential of theirs is gone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deleted_ns")
