"""``camgrid cameras probe`` (docs/design/camera-probe.md): the command logs in with the registry's sealed
credentials, shows what the simulated camera sends as a table (or JSON), never the password, writes a
``camera.probe`` entry as ``cli:<login>`` first, exits 1 on a camera that refuses and 2 on a window out of bounds."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from camgrid.audit.models import AuditEntry
from camgrid.cli.main import cli
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.registry.io import write_csv
from camgrid.vocabulary import AuditAction, GapReason, RtspTransport
from tests.access.world import camera
from tests.backends import backend_env
from tests.ingest import test_transports as transports
from tests.ingest.simthread import FPS, GOP, HEIGHT, PASSWORD, USER, WIDTH, Sim, running_sim, spec


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with running_sim([spec("cam-p", 0)]) as s:
        yield s


def _run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def _probes(home: Path) -> list[dict[str, object]]:
    engine = make_engine(load_settings(home, backend_env(home)).database_url)
    try:
        with unit_of_work(session_factory(engine)) as s:
            entries = [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]
    finally:
        engine.dispose()
    return [e for e in entries if e["action"] == AuditAction.CAMERA_PROBE]


def test_cli_probe_table_json_audit_and_refusals(tmp_path: Path, sim: Sim) -> None:
    rows = []
    for cid, password in (("cam-p", PASSWORD), ("cam-wrong", "wrong-password-3")):
        row = camera(cid, "D-01").model_dump()
        row.update(rtsp_url=sim.url("cam-p"), username=USER, password=password)
        rows.append(row)
    udp_only = transports.Camera(udp_only=True)  # set to tcp in the registry: the probe uses the camera's transport
    row = camera("cam-tcp", "D-01").model_dump()
    row.update(rtsp_url=f"rtsp://127.0.0.1:{udp_only.port}/", transport=RtspTransport.TCP)
    rows.append(row)
    registry = tmp_path / "cameras.csv"
    with registry.open("w", newline="") as fh:
        write_csv(rows, fh, with_secrets=True)
    assert _run(tmp_path, "cameras", "import", str(registry)).exit_code == 0

    table = _run(tmp_path, "cameras", "probe", "cam-p", "--seconds", "2.5")
    assert table.exit_code == 0, table.output
    lines = dict(line.split(None, 1) for line in table.output.splitlines() if line.strip() and "  " in line)
    assert lines["resolution"].strip() == f"{WIDTH}x{HEIGHT}"
    assert lines["keyframes"].startswith(f"every {GOP} pictures")
    assert "camgrid-sim" in table.output and PASSWORD not in table.output

    as_json = _run(tmp_path, "cameras", "probe", "cam-p", "--seconds", "1.5", "--json")
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["ok"] and abs(body["fps"] - FPS) <= 0.1 * FPS and PASSWORD not in as_json.output

    refused = _run(tmp_path, "cameras", "probe", "cam-wrong", "--seconds", "1")
    assert refused.exit_code == 1
    assert f"FAILED: {GapReason.AUTH_REFUSED}: the camera refused the registered credentials" in refused.output
    assert "wrong-password-3" not in refused.output

    try:
        as_tcp = _run(tmp_path, "cameras", "probe", "cam-tcp", "--seconds", "1")
    finally:
        udp_only.close()
    assert as_tcp.exit_code == 1 and "461 to TCP interleaved (the camera is set to tcp" in as_tcp.output

    for bad in ("0.5", "31"):
        out = _run(tmp_path, "cameras", "probe", "cam-p", "--seconds", bad)
        assert out.exit_code == 2 and "--seconds" in out.output
    missing = _run(tmp_path, "cameras", "probe", "cam-z")
    assert missing.exit_code == 1 and "no camera 'cam-z'" in missing.output

    entries = _probes(tmp_path)
    assert [(e["camera"], e["details"], e["who"]) for e in entries] == [
        ("cam-p", {"seconds": 2.5}, f"cli:{getpass.getuser()}"),
        ("cam-p", {"seconds": 1.5}, f"cli:{getpass.getuser()}"),
        ("cam-wrong", {"seconds": 1.0}, f"cli:{getpass.getuser()}"),
        ("cam-tcp", {"seconds": 1.0}, f"cli:{getpass.getuser()}"),
    ]
