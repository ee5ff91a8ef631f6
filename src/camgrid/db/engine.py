"""Engines and sessions.

SQLite runs in WAL mode with a busy timeout so that the recorder's writer thread and a reader (CLI, API) can work
at once; PostgreSQL needs nothing special. No SQLite-only SQL anywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DB_FILE_MODE = 0o600  # the database and its -wal/-shm: camgrid's user only (docs/design/secrets-at-rest.md)


def close_sqlite_files(path: Path) -> None:
    """Create the database file 0600 if it does not exist yet, and give it and its -wal/-shm 0600, whatever the
    umask (SQLite makes -wal/-shm with the database file's mode, so a 0600 file keeps them closed too)."""
    # Not our file or folder (a read-only look at another user's database): SQLite says what it can and cannot do.
    with suppress(FileExistsError, PermissionError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DB_FILE_MODE))
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with suppress(FileNotFoundError, PermissionError):
            if f.stat().st_mode & 0o777 != DB_FILE_MODE:
                os.chmod(f, DB_FILE_MODE)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, make sure the folder exists, the files are 0600, and turn on WAL."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        on_disk = str(path) != ":memory:"
        if on_disk:
            path.parent.mkdir(parents=True, exist_ok=True)
            close_sqlite_files(path)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            if on_disk:
                close_sqlite_files(path)  # -wal/-shm left by an older camgrid with the umask's mode

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one place that commits: a command or request owns its unit of work."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
