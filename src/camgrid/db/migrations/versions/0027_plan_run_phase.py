"""plan runs: the step that runs

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 11:50:00

``plan_runs.phase`` names the step a run is in (``prepare``, ``sweep:1``, ``kelley:2``, ``consensus:1``, ...; the
district planner's ``greedy:1``), so the planner screen says what its progress bar counts: the city planner's
done/total count the tile tasks of that step (docs/design/planner-city.md, "Time limit and progress").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_runs") as batch:
        batch.add_column(sa.Column("phase", sa.String(40), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("plan_runs") as batch:
        batch.drop_column("phase")
