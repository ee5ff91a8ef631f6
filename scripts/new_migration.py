"""Autogenerate an Alembic migration from the models: ``.venv/bin/python scripts/new_migration.py "message"``.

Review the file it writes: autogenerate is a draft, not a decision.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from camgrid.db.engine import make_engine
from camgrid.db.migrate import alembic_config, upgrade
from camgrid.db.models_all import import_all_models

import_all_models()
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{Path(tmp) / 'draft.db'}")
    upgrade(engine)
    command.revision(alembic_config(engine), message=sys.argv[1], autogenerate=True)
