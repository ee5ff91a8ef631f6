"""What a mutating command hands a service: the installation's audit log and the operator (``cli:<login>``).

Commands call the same services as the API, so the entry and the checks are the same; the operator at the server's
shell is unscoped (they can read the database anyway) but audited (docs/design/services-own-invariants.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine

from camgrid.audit.log import AuditLog
from camgrid.audit.note import NoteError
from camgrid.auditing import AuditError, NotVisible
from camgrid.clock import Clock, SystemClock
from camgrid.config import Settings


def audit_log(settings: Settings, engine: Engine, clock: Clock | None = None) -> AuditLog:
    """The installation's log on this database (a running server's log and this one take turns safely). A log that
    cannot be opened (its key unreadable or exposed, the store inconsistent) ends the command: nothing is done."""
    try:
        return AuditLog.open(engine, home=settings.home, clock=clock or SystemClock())
    except (AuditError, NoteError, OSError) as exc:
        raise click.ClickException(f"the audit log cannot be opened ({exc}): nothing done") from None


@contextmanager
def refusals() -> Iterator[None]:
    """A refused audit write or a thing that does not exist ends the command with a message, nothing done."""
    try:
        yield
    except AuditError as exc:
        raise click.ClickException(f"the audit log cannot be written ({exc}): nothing done") from None
    except NotVisible as exc:
        raise click.ClickException(str(exc.args[0]) if exc.args else str(exc)) from None
