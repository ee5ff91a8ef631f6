"""``camgrid cameras discover`` → the admin completes the rows → ``camgrid cameras import`` (docs/design/onvif.md,
"Discovery and set-up"), against the simulator's WS-Discovery responder and ONVIF services: the proposed rows are in
the camera-file format with no password, they import once completed, the cameras are then recorded with their
ONVIF address and sealed password, a second discovery skips them, and the discovery is audited without the password.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from camgrid.audit.models import AuditEntry
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.registry.models import Camera
from camgrid.registry.service import reveal
from camgrid.sim.layout import onvif_address
from camgrid.vocabulary import AuditAction
from tests.backends import home_db_url
from tests.registry.test_import import run
from tests.sim.onvif_harness import USER, running_onvif_sim, spec

PASSWORD = "Cli-disc0ver#pw"


def test_discover_complete_import_and_discover_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = tmp_path / "onvif.pw"
    secret.write_text(PASSWORD + "\n")
    proposed = tmp_path / "proposed.csv"
    specs = [spec(i, password=PASSWORD) for i in (1, 2, 3)]
    with running_onvif_sim(specs, discovery=True) as sim:
        args = ["cameras", "discover", "--port", str(sim.discovery_port), "--timeout", "2", "--username", USER]
        args += ["--password-file", str(secret), "--address", onvif_address(1), "--address", onvif_address(2)]
        first = run(home, *args, "--out", str(proposed))
        assert first.returncode == 0, first.stdout + first.stderr
        text = proposed.read_text()
        assert PASSWORD not in text + first.stdout + first.stderr
        rows = list(csv.DictReader(text.splitlines()))
        assert sorted(r["onvif_url"] for r in rows) == sorted(sim.device_url(s.id) for s in specs[:2])
        for r in rows:
            assert r["password"] == "" and r["lat"] == "" and r["site"] == "" and r["username"] == USER
            assert r["rtsp_url"].startswith(f"rtsp://127.0.0.1:{sim.rtsp_port}/") and r["sub_rtsp_url"].endswith("/sub")
            assert r["id"].startswith("camgrid-sim-") and "camgrid-sim" in r["notes"]
        assert "2 new" in first.stdout

        # the admin completes the rows and imports the file as it is (the notes column is read and ignored)
        for r in rows:
            r.update(lat="27.7", lon="85.3", district="D-01", site="S-001", feeder="F-01", uplink="U-01")
            r["password"] = PASSWORD
        with proposed.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        imported = run(home, "cameras", "import", str(proposed))
        assert imported.returncode == 0 and "2 added" in imported.stdout, imported.stdout + imported.stderr

        again = run(home, *args, "--address", onvif_address(3))
        assert again.returncode == 0, again.stdout + again.stderr
        assert again.stderr.count("already in the registry as camgrid-sim-") == 2
        (third,) = list(csv.DictReader(again.stdout.splitlines()))
        assert third["onvif_url"] == sim.device_url(specs[2].id)

    listed = [json.loads(line) for line in run(home, "cameras", "list", "--json").stdout.splitlines()]
    assert sorted(c["onvif_url"] for c in listed) == sorted(r["onvif_url"] for r in rows)
    engine = make_engine(home_db_url(home))
    box = SecretBox(home / "secrets.key")
    with unit_of_work(session_factory(engine)) as s:
        for cam in s.query(Camera):
            assert reveal(box=box, camera=cam).password == PASSWORD
            assert cam.status == "active" and cam.username == USER
        rows_ = [r.data for r in s.query(AuditEntry) if r.action == AuditAction.CAMERA_DISCOVER]
        assert len(rows_) == 2 and all(PASSWORD not in data for data in rows_)
        details = json.loads(rows_[0])["details"]
        assert details["with_password"] is True and details["username"] == USER and details["address_count"] == 2
    engine.dispose()


def test_the_demo_line_counts_the_cameras_found_and_known(tmp_path: Path) -> None:
    from camgrid.cli.discover import demo_discovery
    from camgrid.db.migrate import upgrade
    from camgrid.registry.io import parse_camera_file
    from camgrid.registry.service import import_cameras
    from tests.registry.test_import import GOOD, write_csv
    from tests.seeding import SEED, seed_log

    home = tmp_path / "home"
    home.mkdir()
    engine = make_engine(home_db_url(home))
    upgrade(engine)
    factory = session_factory(engine)
    with running_onvif_sim([spec(i) for i in (1, 2, 3)], discovery=True) as sim:
        row = dict(GOOD, password="", onvif_url=sim.device_url("cam-0002"))
        parsed = parse_camera_file(write_csv(tmp_path / "one.csv", [row], [*GOOD, "onvif_url"]))
        with unit_of_work(factory) as s:
            import_cameras(session=s, audit=seed_log(engine, home), actor=SEED, rows=parsed.rows, now_ns=0)
        line = demo_discovery(port=sim.discovery_port, factory=factory)
    engine.dispose()
    assert "3 ONVIF cameras answered" in line and "1 of them in the registry" in line, line
