"""Shared plumbing for commands: settings, logging, the database."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from camgrid.config import ConfigError, Settings, load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade


def settings_from(ctx: click.Context) -> Settings:
    home: Path = ctx.find_root().obj["home"]
    try:
        settings = load_settings(home)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


def setup_logging(settings: Settings, name: str) -> None:
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format=f"%(asctime)s {name} %(levelname)s %(name)s: %(message)s",
    )
    # A line per proxied segment request (httpx, httpcore) says nothing the audit log does not.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def open_db(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory, with the schema migrated to the newest revision."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, session_factory(engine)
