"""Shared plumbing for commands: settings, logging, the database."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from camgrid.config import ConfigError, Settings, load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.db.secrets import SecretBox, SecretsKeyError
from camgrid.registry.service import check_secrets

HOME_MODE = 0o700  # docs/design/secrets-at-rest.md


def settings_from(ctx: click.Context) -> Settings:
    home: Path = ctx.find_root().obj["home"]
    try:
        settings = load_settings(home)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(settings.home, HOME_MODE)  # the database, the key and the recordings: camgrid's user only
    except PermissionError:  # another user's home (read-only use): say so, do not hide it
        click.echo(f"warning: cannot make {settings.home} private (mode 0700): not its owner", err=True)
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


def open_db(
    settings: Settings, *, create_key: bool = True, **engine_kwargs: Any
) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory, with the schema migrated to the newest revision and the secrets key checked
    against the sealed camera credentials: a missing or wrong key file is a clear error naming the file, at once,
    not a recorder that quietly records nothing (docs/design/secrets-at-rest.md). ``create_key=False`` (a recorder
    node): a missing key file is never made, so a node cannot seal the registry with a key nobody else has."""
    engine = make_engine(settings.database_url, **engine_kwargs)
    factory = session_factory(engine)
    try:
        upgrade(engine, secrets_key=settings.secrets_key_path, create_key=create_key)
        with unit_of_work(factory) as session:
            check_secrets(session=session, box=box_of(settings))
    except SecretsKeyError as exc:
        raise click.ClickException(str(exc)) from None
    return engine, factory


def box_of(settings: Settings) -> SecretBox:
    """The box that seals and opens camera credentials, with the configured key file."""
    return SecretBox(settings.secrets_key_path)
