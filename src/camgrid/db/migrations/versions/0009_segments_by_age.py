"""segments by age: the indexes retention pages by (oldest first, per node and across the index)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00

Retention selects complete segments in ``(end_ns, id)`` order, a page at a time, resuming after the last key
(docs/design/retention.md). Without an index each page sorted the whole table: at a node's scale (a thousand
cameras, 90 days of 10 s segments: hundreds of millions of rows) a page would take minutes. A cluster node pages
its own rows (``node_id`` first); a single machine pages the whole index.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.create_index("ix_segments_end", ["end_ns", "id"], unique=False)
        batch_op.create_index("ix_segments_node_end", ["node_id", "end_ns", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_index("ix_segments_node_end")
        batch_op.drop_index("ix_segments_end")
