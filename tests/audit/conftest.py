from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from tests.backends import db_url


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(db_url(tmp_path / "audit.db"))
    upgrade(eng)
    return eng
