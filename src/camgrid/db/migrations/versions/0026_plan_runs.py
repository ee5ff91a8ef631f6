"""plan runs from the planner screen

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 04:30:00

One row per plan run started from the control room's planner screen: who, when, the area, budgets per year, camera
models and weights, its state and the solver's latest objective, bound, gap and progress, and the plan it wrote
(docs/design/planner-screen.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.Column("started_ns", sa.BigInteger(), nullable=True),
        sa.Column("finished_ns", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("area_kind", sa.String(16), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("districts", sa.Text(), nullable=False),
        sa.Column("budgets", sa.String(400), nullable=False),
        sa.Column("models", sa.String(1000), nullable=False),
        sa.Column("weights", sa.Text(), nullable=False),
        sa.Column("solver", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("result_path", sa.String(1000), nullable=False),
        sa.Column("cameras", sa.Integer(), nullable=False),
        sa.Column("imported_ns", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_plan_runs_state", "plan_runs", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_plan_runs_state", table_name="plan_runs")
    op.drop_table("plan_runs")
