"""Run the Alembic migrations shipped in this package, programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, secrets_key: Path | None = None, *, create_key: bool = True) -> Config:
    from alembic.config import Config  # imported when needed: a recorder's memory is counted per process

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    if secrets_key is not None:
        cfg.attributes["secrets_key"] = secrets_key  # 0012 seals the cameras' credentials with it
        cfg.attributes["secrets_key_create"] = create_key
    return cfg


def upgrade(
    engine: Engine, revision: str = "head", *, secrets_key: Path | None = None, create_key: bool = True
) -> None:
    """Bring the database to ``revision``; idempotent. ``secrets_key``: the key file (docs/design/secrets-at-rest.md),
    needed only when cameras with credentials are to be sealed; made if missing unless ``create_key`` is False."""
    from alembic import command

    command.upgrade(alembic_config(engine, secrets_key, create_key=create_key), revision)


def downgrade(engine: Engine, revision: str, *, secrets_key: Path | None = None) -> None:
    """Take the database back to ``revision`` (0012's downgrade opens the sealed credentials with the key)."""
    from alembic import command

    command.downgrade(alembic_config(engine, secrets_key), revision)
