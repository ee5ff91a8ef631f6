from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from tests.access.ldap_server import slapd  # noqa: F401  (the real OpenLDAP server, session-scoped)
from tests.backends import db_url


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(db_url(tmp_path / "audit.db"))
    upgrade(eng)
    return eng
