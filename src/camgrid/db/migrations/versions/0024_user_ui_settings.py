"""users' control-room language, calendar and digits

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-02 20:30:00

Three nullable columns on users (None: not chosen; the browser's languages and the city's default apply), set by the
user through PUT /api/me/settings (docs/design/languages.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

COLUMNS = ("ui_language", "ui_calendar", "ui_digits")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
