"""Camera import: atomic, every bad row reported as FILE:ROW: reason, idempotent, passwords never shown."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.cli.main import cli
from camgrid.registry.io import REQUIRED, parse_camera_file
from tests.backends import home_db_url

GOOD = {
    "id": "cam-1",
    "name": "Gate",
    "lat": "27.69",
    "lon": "85.31",
    "district": "D-01",
    "site": "S-001",
    "feeder": "F-01",
    "uplink": "U-01",
    "rtsp_url": "rtsp://10.1.2.3:554/stream1",
    "username": "admin",
    "password": "Top$ecret-42",
}
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]


def write_csv(path: Path, rows: list[dict[str, str]], fields: list[str] | None = None) -> Path:
    fields = fields or list(GOOD)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CAMGRID, "--home", str(home), *args], capture_output=True, text=True, timeout=120)


def run_here(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command in this process (click's runner): for tests of what a command does, not of the process
    (a Python start and its imports cost seconds a command on a loaded machine)."""
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


BAD_FIELDS = [
    ("id", ""),
    ("id", "has space"),
    ("id", "x" * 65),
    ("name", ""),
    ("lat", "north"),
    ("lat", "91"),
    ("lat", "nan"),
    ("lon", "-180.5"),
    ("lon", "inf"),
    ("district", "D/01"),
    ("site", ""),
    ("feeder", "F 1"),
    ("uplink", "-bad"),
    ("rtsp_url", "http://10.1.2.3/stream"),
    ("rtsp_url", "rtsp://"),
    ("rtsp_url", "rtsp://10.1.2.3:99999/x"),
    ("rtsp_url", "rtsp://10.1.2.3/with space"),
    ("rtsp_url", "not a url"),
    ("username", "u" * 201),
    ("password", "p" * 201),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_every_field_wrong_in_turn(tmp_path: Path, field: str, value: str) -> None:
    rows = [dict(GOOD, id="cam-0"), dict(GOOD, **{field: value}) if field != "id" else dict(GOOD, id=value)]
    path = write_csv(tmp_path / "c.csv", rows)
    result = parse_camera_file(path)
    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"{path}:3: ")
    assert field in result.errors[0]
    assert "Top$ecret-42" not in result.errors[0]


@pytest.mark.parametrize(
    ("field", "value"), [("heading_deg", "360"), ("fov_deg", "0"), ("range_m", "-1"), ("transport", "quic")]
)
def test_optional_fields_are_checked(tmp_path: Path, field: str, value: str) -> None:
    path = write_csv(tmp_path / "c.csv", [dict(GOOD, **{field: value})], [*GOOD, field])
    assert parse_camera_file(path).errors[0].startswith(f"{path}:2: {field}")


def test_structural_problems(tmp_path: Path) -> None:
    cases = {
        "empty.csv": b"",
        "blank.csv": b"\n\n  \n",
        "header_only.csv": (",".join(GOOD) + "\n").encode(),
        "missing_col.csv": b"id,name\ncam,x\n",
        "unknown_col.csv": (",".join([*GOOD, "pasword"]) + "\n").encode(),
        "latin1.csv": (",".join(GOOD) + "\n").encode()
        + "cam-1,Caf\xe9,27,85,D,S,F,U,rtsp://h/x,a,b\n".encode("latin-1"),
        "short_row.csv": (",".join(GOOD) + "\ncam-1,x\n").encode(),
        "bad_json.geojson": b'{"type": "FeatureCollection", "features": [',
        "not_points.geojson": json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString"}}]}
        ).encode(),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = parse_camera_file(path)
        assert result.errors, name
        assert all(e.startswith(f"{path}:") for e in result.errors), result.errors
    latin = parse_camera_file(tmp_path / "latin1.csv").errors[0]
    assert ":2:" in latin and "UTF-8" in latin


def test_duplicate_ids_name_both_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [GOOD, dict(GOOD, name="other"), dict(GOOD, id="cam-2")])
    errors = parse_camera_file(path).errors
    assert errors == [f"{path}:3: duplicate id 'cam-1' (first on row 2)"]


def test_credentials_in_the_url_are_moved_out(tmp_path: Path) -> None:
    row = dict(GOOD, rtsp_url="rtsp://root:hunter2@10.0.0.9/live", username="", password="")
    result = parse_camera_file(write_csv(tmp_path / "c.csv", [row]))
    cam = result.rows[0]
    assert (cam.username, cam.password, cam.rtsp_url) == ("root", "hunter2", "rtsp://10.0.0.9/live")


def test_geojson_import(tmp_path: Path) -> None:
    props = {k: v for k, v in GOOD.items() if k not in ("lat", "lon")}
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [85.31, 27.69]}, "properties": props}
        ],
    }
    path = tmp_path / "c.geojson"
    path.write_text(json.dumps(doc))
    result = parse_camera_file(path)
    assert not result.errors and result.rows[0].lat == 27.69 and result.rows[0].lon == 85.31


@given(st.lists(st.sampled_from(BAD_FIELDS), min_size=1, max_size=6), st.integers(1, 8))
@settings(max_examples=40, deadline=None)
def test_every_bad_row_is_reported(
    tmp_path_factory: pytest.TempPathFactory, bad: list[tuple[str, str]], good: int
) -> None:
    rows = [dict(GOOD, id=f"ok-{i}") for i in range(good)]
    bad_rows = [dict(GOOD, id=f"bad-{i}", **{f: v}) if f != "id" else dict(GOOD, id=v) for i, (f, v) in enumerate(bad)]
    path = write_csv(tmp_path_factory.mktemp("h") / "c.csv", rows + bad_rows)
    result = parse_camera_file(path)
    reported_rows = [int(e.split(":")[1]) for e in result.errors]
    assert reported_rows == list(range(good + 2, good + 2 + len(bad_rows))), "each bad row once, in order"
    assert len(result.rows) == good


def test_cli_import_is_atomic_idempotent_and_secret(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rows = [dict(GOOD, id=f"cam-{i}", password=f"pw-{i}-Zq") for i in range(5)]
    good = write_csv(tmp_path / "good.csv", rows)
    bad = write_csv(tmp_path / "bad.csv", [*rows[:2], dict(GOOD, id="cam-9", lat="x"), dict(GOOD, id="cam-8", lon="y")])
    r = run(home, "cameras", "import", str(bad))
    assert r.returncode == 2
    assert f"{bad}:4: lat" in r.stderr and f"{bad}:5: lon" in r.stderr
    assert run(home, "cameras", "list").stdout.strip() == "", "a bad file imports nothing"
    r1 = run(home, "cameras", "import", str(good))
    assert r1.returncode == 0 and "5 added" in r1.stdout
    r2 = run(home, "cameras", "import", str(good))
    assert "0 added, 0 updated, 5 unchanged" in r2.stdout
    rows[1]["name"] = "Renamed"
    write_csv(good, rows)
    assert "1 updated, 4 unchanged" in run(home, "cameras", "import", str(good)).stdout
    outputs = [
        run(home, "cameras", "list").stdout,
        run(home, "cameras", "list", "--json").stdout,
        run(home, "cameras", "export").stdout,
        run(home, "cameras", "export", "--format", "geojson").stdout,
    ]
    assert "Renamed" in outputs[0]
    for out in [*outputs, r1.stdout, r1.stderr, r2.stdout]:
        assert not any(row["password"] in out for row in rows)
    assert '"has_password":true' in outputs[1].replace(" ", "")


def test_a_cameras_transport_is_imported_shown_and_exported(tmp_path: Path) -> None:
    """``transport`` (auto | tcp | udp, default auto): a UDP-only camera is set to udp in the camera file
    (docs/design/packet-path.md, "Transports")."""
    home = tmp_path / "home"
    rows = [dict(GOOD, id="cam-u", transport="udp"), dict(GOOD, id="cam-a", transport="")]
    path = write_csv(tmp_path / "t.csv", rows, [*GOOD, "transport"])
    assert [r.transport for r in parse_camera_file(path).rows] == ["udp", "auto"]
    assert run_here(home, "cameras", "import", str(path)).returncode == 0
    listed = run_here(home, "cameras", "list", "--json").stdout.splitlines()
    shown = {c["id"]: c["transport"] for c in map(json.loads, listed)}
    assert shown == {"cam-u": "udp", "cam-a": "auto"}
    exported = list(csv.DictReader(run_here(home, "cameras", "export").stdout.splitlines()))
    assert {r["id"]: r["transport"] for r in exported} == {"cam-u": "udp", "cam-a": "auto"}


def test_huge_file_imports_quickly_and_atomically(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rows = [
        dict(GOOD, id=f"cam-{i:06d}", site=f"S-{i // 4:05d}", feeder=f"F-{i // 200:03d}", district=f"D-{i // 2000:02d}")
        for i in range(62_000)
    ]
    path = write_csv(tmp_path / "city.csv", rows)
    r = run(home, "cameras", "import", str(path))
    assert r.returncode == 0, r.stderr
    assert "62000 added" in r.stdout
    rows[61_999]["lat"] = "999"
    write_csv(path, rows)
    r = run_here(home, "cameras", "import", str(path))  # the process's exit code: test_cli_import_is_atomic...
    assert r.returncode == 2 and f"{path}:62001: lat" in r.stderr


def test_required_columns_are_the_documented_ones() -> None:
    assert REQUIRED == ("id", "name", "lat", "lon", "district", "site", "feeder", "uplink", "rtsp_url")


def test_planned_cameras_import_as_planned_and_are_not_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = write_csv(tmp_path / "plan.csv", [dict(GOOD, id="plan-1", rtsp_url="rtsp://planned.invalid/plan-1")])
    r = run(home, "cameras", "import", str(path), "--status", "planned")
    assert r.returncode == 0, r.stderr
    listed = run(home, "cameras", "list").stdout
    assert "plan-1" in listed and "planned" in listed
    from camgrid.db.engine import make_engine, session_factory, unit_of_work
    from camgrid.db.secrets import SecretBox
    from camgrid.storage.recorder import load_sources

    engine = make_engine(home_db_url(home))
    with unit_of_work(session_factory(engine)) as s:
        assert load_sources(s, "local", SecretBox(home / "secrets.key")) == [], "a planned camera is never recorded"


def test_street_is_optional_and_read(tmp_path: Path) -> None:
    """The camera search finds cameras by street (docs/design/finding-cameras.md): an optional column, "" if absent."""
    with_street = parse_camera_file(
        write_csv(tmp_path / "s.csv", [{**GOOD, "street": " Tripureshwar Marg "}], [*GOOD, "street"])
    )
    assert not with_street.errors and with_street.rows[0].street == "Tripureshwar Marg"
    without = parse_camera_file(write_csv(tmp_path / "n.csv", [GOOD]))
    assert not without.errors and not without.rows[0].street
    too_long = parse_camera_file(write_csv(tmp_path / "l.csv", [{**GOOD, "street": "x" * 201}], [*GOOD, "street"]))
    assert too_long.errors and "street" in too_long.errors[0]
