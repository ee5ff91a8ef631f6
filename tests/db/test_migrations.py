"""The Alembic migrations build exactly the schema the models describe, and run twice without change."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from camgrid.db.base import Base
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from camgrid.db.models_all import import_all_models
from tests.backends import db_url


def test_migrations_match_models(tmp_path: Path) -> None:
    import_all_models()
    engine = make_engine(db_url(tmp_path / "m.db"))
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff


def test_every_models_module_is_named_and_every_name_exists() -> None:
    """``models_all`` once listed modules that did not exist (and skipped them silently): a table could be missed."""
    import pathlib

    import camgrid
    from camgrid.db.models_all import MODEL_MODULES

    root = pathlib.Path(camgrid.__file__).parent
    found = {"camgrid." + str(p.relative_to(root).with_suffix("")).replace("/", ".") for p in root.rglob("models.py")}
    assert set(MODEL_MODULES) == found
    import_all_models()
