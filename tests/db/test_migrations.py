"""The Alembic migrations build exactly the schema the models describe, and run twice without change."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from camgrid.db.base import Base
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from camgrid.db.models_all import import_all_models


def test_migrations_match_models(tmp_path: Path) -> None:
    import_all_models()
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
