from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    upgrade(eng)
    return eng
