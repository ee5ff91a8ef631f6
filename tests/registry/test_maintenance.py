"""``camgrid cameras maintenance`` (docs/design/camera-maintenance.md): the command line takes a camera out of
service and back through the audited service, as ``cli:<login>``; each window is kept with its note; asking for
the state the camera is already in, or a note too long, changes nothing and exits 1."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from camgrid.audit.models import AuditEntry
from camgrid.cli.main import cli
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.registry.io import write_csv
from camgrid.registry.models import CameraMaintenance
from camgrid.vocabulary import AuditAction
from tests.access.world import camera
from tests.backends import backend_env


def _run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def _db(home: Path) -> tuple[list[CameraMaintenance], list[dict[str, object]]]:
    engine = make_engine(load_settings(home, backend_env(home)).database_url)
    try:
        with unit_of_work(session_factory(engine)) as s:
            windows = list(s.scalars(select(CameraMaintenance).order_by(CameraMaintenance.id)))
            entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    finally:
        engine.dispose()
    return windows, [e for e in entries if e["action"] == AuditAction.CAMERA_MAINTENANCE]


def test_cli_maintenance_on_off_audited_and_kept_as_windows(tmp_path: Path) -> None:
    registry = tmp_path / "cameras.csv"
    with registry.open("w", newline="") as fh:
        write_csv([camera("cam-a", "D-01").model_dump()], fh)
    assert _run(tmp_path, "cameras", "import", str(registry)).exit_code == 0

    on = _run(tmp_path, "cameras", "maintenance", "cam-a", "--on", "--note", "pole knocked over")
    assert on.exit_code == 0 and "cam-a: in maintenance" in on.output, on.output
    again = _run(tmp_path, "cameras", "maintenance", "cam-a", "--on")
    assert again.exit_code == 1 and "already in maintenance" in again.output
    long = _run(tmp_path, "cameras", "maintenance", "cam-a", "--off", "--note", "x" * 501)
    assert long.exit_code == 1 and "at most 500" in long.output
    off = _run(tmp_path, "cameras", "maintenance", "cam-a", "--off", "--note", "pole replaced")
    assert off.exit_code == 0 and "cam-a: back in service" in off.output
    missing = _run(tmp_path, "cameras", "maintenance", "cam-z", "--on")
    assert missing.exit_code == 1 and "no camera 'cam-z'" in missing.output
    assert _run(tmp_path, "cameras", "maintenance", "cam-a").exit_code == 2  # --on or --off is required

    windows, entries = _db(tmp_path)
    [w] = windows
    who = f"cli:{getpass.getuser()}"
    assert (w.camera_id, w.started_by, w.note) == ("cam-a", who, "pole knocked over")
    assert (w.ended_by, w.end_note) == (who, "pole replaced")
    assert w.end_ns is not None and w.end_ns >= w.start_ns
    assert [(e["who"], e["camera"], e["details"]) for e in entries] == [
        (who, "cam-a", {"on": True, "note": "pole knocked over"}),
        (who, "cam-a", {"on": False, "note": "pole replaced", "since_ns": w.start_ns}),
    ]
