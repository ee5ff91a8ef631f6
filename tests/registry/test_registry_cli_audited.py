"""Every command-line path into the registry writes its entry as ``cli:<login>`` (issue 13, finding 5): camera
imports (naming the cameras whose credentials changed, never the credentials), status and maintenance edits,
registry suggestions accepted or refused, and ``cameras export --with-secrets`` (docs/design/secrets-at-rest.md)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from camgrid.audit.models import AuditEntry
from camgrid.cli.main import cli
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry.io import write_csv
from camgrid.vocabulary import AuditAction
from tests.access.world import build, camera
from tests.backends import backend_env, home_db_url

SECRET = "n3w#secret/pw"


def _run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env=backend_env(home))
    assert result.exit_code == 0, result.output
    return result.output


def test_registry_commands_are_audited_as_the_login(tmp_path: Path) -> None:
    home = tmp_path / "home"
    engine = make_engine(home_db_url(home))
    upgrade(engine)
    world = build(engine, home)
    with unit_of_work(session_factory(engine)) as s:
        start = len(list(s.scalars(select(AuditEntry.idx))))

    registry = tmp_path / "cameras.csv"
    with registry.open("w", newline="") as fh:
        rows = [dict(camera("cam-a", "D-01").model_dump(), password=SECRET), camera("cam-b", "D-02").model_dump()]
        write_csv(rows, fh, with_secrets=True)
    assert "1 updated, 1 unchanged" in _run(home, "cameras", "import", str(registry))
    _run(home, "cameras", "status", "cam-b", "disabled")
    _run(home, "cameras", "maintenance", "cam-a", "--on", "--note", "lens")
    _run(home, "health", "suggestion", str(world.ids["suggestion"]), "reject")
    _run(home, "cameras", "export", "--with-secrets", "--out", str(tmp_path / "all.csv"))
    assert SECRET in (tmp_path / "all.csv").read_text()

    with unit_of_work(session_factory(engine)) as s:
        entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))][start:]
    assert [e["action"] for e in entries] == [
        AuditAction.CAMERAS_IMPORT,
        AuditAction.CAMERA_UPDATE,
        AuditAction.CAMERA_MAINTENANCE,
        AuditAction.SUGGESTION_DECIDE,
        AuditAction.CAMERAS_EXPORT_SECRETS,
    ]
    assert {e["who"] for e in entries} == {f"cli:{getpass.getuser()}"}
    assert entries[0]["details"]["credentials_changed"] == ["cam-a"]
    assert entries[3]["details"]["accept"] is False
    assert entries[4]["details"]["cameras"] == 2
    assert SECRET not in json.dumps(entries) and "secret" not in json.dumps(entries[0])
    engine.dispose()
