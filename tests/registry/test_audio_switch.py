"""The per-camera audio switch (docs/design/audio.md): off for every camera unless switched on, by the command line
(``camgrid cameras audio ID on|off``) or the API (admins only: ROUTE_PERMISSIONS in tests/api/test_api_roles.py),
each change audited before it is made; asking for the state the camera already has writes nothing."""

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
from camgrid.registry.models import Camera
from camgrid.vocabulary import AuditAction
from tests.access.world import camera
from tests.backends import backend_env


def _run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def _db(home: Path) -> tuple[bool, list[dict[str, object]]]:
    engine = make_engine(load_settings(home, backend_env(home)).database_url)
    try:
        with unit_of_work(session_factory(engine)) as s:
            cam = s.get(Camera, "cam-a")
            assert cam is not None
            entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
            return bool(cam.audio_enabled), [e for e in entries if e["action"] == AuditAction.CAMERA_AUDIO_SET]
    finally:
        engine.dispose()


def test_audio_is_off_by_default_and_each_switch_is_audited(tmp_path: Path) -> None:
    registry = tmp_path / "cameras.csv"
    with registry.open("w", newline="") as fh:
        write_csv([camera("cam-a", "D-01").model_dump()], fh)
    assert _run(tmp_path, "cameras", "import", str(registry)).exit_code == 0
    assert _db(tmp_path) == (False, [])  # a new camera records no sound

    on = _run(tmp_path, "cameras", "audio", "cam-a", "on")
    assert on.exit_code == 0 and "cam-a: audio on" in on.output, on.output
    assert _run(tmp_path, "cameras", "audio", "cam-a", "on").exit_code == 0  # already on: nothing written
    # A re-import (which does not name audio) keeps the switch as it is.
    assert _run(tmp_path, "cameras", "import", str(registry)).exit_code == 0
    assert _db(tmp_path)[0] is True
    off = _run(tmp_path, "cameras", "audio", "cam-a", "off")
    assert off.exit_code == 0 and "cam-a: audio off" in off.output
    assert _run(tmp_path, "cameras", "audio", "cam-a", "loud").exit_code == 2
    missing = _run(tmp_path, "cameras", "audio", "cam-z", "on")
    assert missing.exit_code == 1 and "no camera 'cam-z'" in missing.output

    enabled, entries = _db(tmp_path)
    who = f"cli:{getpass.getuser()}"
    assert enabled is False
    assert [(e["who"], e["camera"], e["details"]) for e in entries] == [
        (who, "cam-a", {"audio": True}),
        (who, "cam-a", {"audio": False}),
    ]
