"""Seeding data through the services: they audit (docs/design/services-own-invariants.md), so tests that create
users, cameras or masks do so through the installation's real audit log, as an operator at the server's shell."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from camgrid.audit.log import AuditLog
from camgrid.auditing import Actor
from camgrid.clock import SystemClock

SEED = Actor("cli:test-seed")
# What a browser sends with every request: the API refuses state changes by cookie without it
# (docs/design/transport-security.md).
BROWSER = {"Origin": "http://testserver"}


def seed_log(engine: Engine, home: Path) -> AuditLog:
    """The log a server on ``home`` opens too (same key), so both write one verifiable history."""
    return AuditLog.open(engine, home=home, clock=SystemClock())
