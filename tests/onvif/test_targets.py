"""``cameras.onvif_url`` and ``onvif_target`` (docs/design/onvif.md, "Discovery and set-up").

The address is imported, listed, shown by the camera API and exported like the other columns; a login written into
it moves to ``username``/``password`` (sealed) as for RTSP URLs, so the stored address never holds a secret; the
target carries the camera's own login, opened from the sealed credentials.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.onvif.connect import OnvifError
from camgrid.onvif.targets import onvif_target
from camgrid.registry.io import parse_camera_file
from camgrid.registry.models import Camera
from tests.backends import home_db_url
from tests.registry.test_import import GOOD, run, write_csv

ONVIF = "http://10.1.2.3:8080/onvif/device_service"
SECRET = "Onv#f/s3cret"


@pytest.mark.parametrize(
    "value",
    [
        "rtsp://10.1.2.3/onvif/device_service",
        "http://",
        "http://10.1.2.3:99999/onvif/device_service",
        "http://10.1.2.3/with space",
        "http://10.1.2.3/onvif/device_service?password=x",
        "h" * 2001,
    ],
)
def test_a_bad_onvif_url_is_a_row_error(tmp_path: Path, value: str) -> None:
    path = write_csv(tmp_path / "c.csv", [dict(GOOD, onvif_url=value)], [*GOOD, "onvif_url"])
    result = parse_camera_file(path)
    assert len(result.errors) == 1 and result.errors[0].startswith(f"{path}:2: onvif_url"), result.errors
    assert "Top$ecret-42" not in result.errors[0]


def test_a_login_in_the_onvif_url_moves_to_username_and_password(tmp_path: Path) -> None:
    row = dict(GOOD, username="", password="", onvif_url=f"http://cam:{SECRET}@10.1.2.3:8080/onvif/device_service")
    path = write_csv(tmp_path / "c.csv", [row], [*GOOD, "onvif_url"])
    (cam,) = parse_camera_file(path).rows
    assert (cam.onvif_url, cam.username, cam.password) == (ONVIF, "cam", SECRET)
    empty = write_csv(tmp_path / "e.csv", [dict(GOOD, onvif_url="")], [*GOOD, "onvif_url"])
    assert parse_camera_file(empty).rows[0].onvif_url is None


def test_onvif_url_is_imported_shown_exported_and_targets_carry_the_sealed_login(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rows = [
        dict(GOOD, id="cam-o", password="", onvif_url=f"http://admin:{SECRET}@10.1.2.3:8080/onvif/device_service"),
        dict(GOOD, id="cam-r"),
    ]
    path = write_csv(tmp_path / "o.csv", rows, [*GOOD, "onvif_url"])
    done = run(home, "cameras", "import", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    listed = {c["id"]: c for c in map(json.loads, run(home, "cameras", "list", "--json").stdout.splitlines())}
    assert (listed["cam-o"]["onvif_url"], listed["cam-r"]["onvif_url"]) == (ONVIF, None)
    exported = run(home, "cameras", "export").stdout
    assert SECRET not in exported and "Top$ecret-42" not in exported
    assert {r["id"]: r["onvif_url"] for r in csv.DictReader(exported.splitlines())} == {"cam-o": ONVIF, "cam-r": ""}
    again = run(home, "cameras", "import", str(path))  # the same file again changes nothing
    assert again.returncode == 0 and "2 unchanged" in again.stdout, again.stdout + again.stderr

    engine = make_engine(home_db_url(home))
    box = SecretBox(home / "secrets.key")
    with unit_of_work(session_factory(engine)) as s:
        with_onvif, without = s.get(Camera, "cam-o"), s.get(Camera, "cam-r")
        assert with_onvif is not None and without is not None
        assert with_onvif.onvif_url == ONVIF  # stored without the login
        target = onvif_target(with_onvif, box)
        assert onvif_target(without, box) is None
        with_onvif.onvif_url = "ftp://10.1.2.3/"
        with pytest.raises(OnvifError):
            onvif_target(with_onvif, box)
        s.rollback()
    engine.dispose()
    assert target is not None
    assert (target.url, target.host, target.port, target.username, target.password) == (
        ONVIF,
        "10.1.2.3",
        8080,
        "admin",
        SECRET,
    )
    assert SECRET not in repr(target)
