"""Exported clips are evidence: their files are 0640 and their folders 0750 whatever the umask
(docs/design/secrets-at-rest.md; issue 13, finding 8)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.exports import service as exports
from camgrid.vocabulary import ExportStatus
from tests.access.world import OP, SUP, T0, World, build
from tests.backends import db_url

NS = 1_000_000_000


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)  # the worst case: every file the process makes would be 0666/0777
    try:
        yield
    finally:
        os.umask(old)


def test_an_approved_export_is_0640_in_a_0750_folder(tmp_path: Path, open_umask: None) -> None:
    engine = make_engine(db_url(tmp_path / "exports.db"))
    upgrade(engine)
    w: World = build(engine, tmp_path)
    with unit_of_work(w.factory) as s:
        export_id = exports.request_export(
            session=s,
            audit=w.log,
            actor=OP,
            camera_id="cam-a",
            from_ns=T0,
            to_ns=T0 + 4 * NS,
            reason="case 9",
            now_ns=T0,
        ).id
    with unit_of_work(w.factory) as s:
        row = exports.approve_export(
            session=s, audit=w.log, actor=SUP, root=w.root, export_id=export_id, reason="ok", now_ns=T0
        )
        assert row.status == ExportStatus.READY
    folder = w.root / export_id
    assert stat.S_IMODE(w.root.stat().st_mode) == 0o750
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    files = list(folder.iterdir())
    assert {f.name for f in files} >= {"clip.mp4", "manifest.json"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o640, f"{f.name} is {oct(stat.S_IMODE(f.stat().st_mode))}"
    engine.dispose()
