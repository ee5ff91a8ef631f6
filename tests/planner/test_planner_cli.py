"""`camgrid plan` end to end on the shipped Kathmandu extract (small budgets, kept quick)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from camgrid.cli.main import cli
from camgrid.registry import io as regio


def run(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "plan", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_help() -> None:
    result = CliRunner().invoke(cli, ["plan", "--help"])
    assert result.exit_code == 0 and "--budget-per-phase" in result.output and "OpenStreetMap" in result.output


def test_whole_extract_one_phase(tmp_path: Path) -> None:
    out = tmp_path / "plan.geojson"
    reg = tmp_path / "planned.csv"
    text = run(
        tmp_path,
        "--budget",
        "4",
        "--solver",
        "local",
        "--heuristic-time",
        "1",
        "--out",
        str(out),
        "--registry-out",
        str(reg),
        "--no-views",
    )
    assert "54780 poses" in text and "© OpenStreetMap contributors" in text
    doc = json.loads(out.read_text())
    assert doc["attribution"] == "© OpenStreetMap contributors"
    cams = [f for f in doc["features"] if f["properties"]["kind"] == "camera"]
    assert len(cams) == 4
    parsed = regio.parse_camera_file(reg)
    assert parsed.errors == [] and len(parsed.rows) == 4
    # second run reads the visibility cache
    assert "cached" in run(tmp_path, "--budget", "1", "--solver", "greedy", "--out", str(out), "--no-views")


def test_district_in_phases_with_operator_points_and_existing_cameras(tmp_path: Path) -> None:
    points = tmp_path / "points.geojson"
    points.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [85.3192, 27.6897]},
                        "properties": {"id": "gate", "weight": 9, "name": "Main gate"},
                    }
                ],
            }
        )
    )
    existing = tmp_path / "existing.csv"
    existing.write_text(
        "id,name,lat,lon,district,site,feeder,uplink,rtsp_url,heading_deg,fov_deg,range_m\n"
        "cam-1,Old camera,27.6890,85.3185,d1,s1,f1,u1,rtsp://10.0.0.1/live,45,90,50\n"
    )
    out = tmp_path / "plan.geojson"
    reg = tmp_path / "planned.geojson"
    text = run(
        tmp_path,
        "--bbox",
        "27.6885,85.3180,27.6910,85.3205",
        "--phases",
        "3",
        "--budget-per-phase",
        "2,2,1",
        "--points",
        str(points),
        "--existing",
        str(existing),
        "--heuristic-time",
        "0.5",
        "--time-limit",
        "10",
        "--power-aware",
        "--out",
        str(out),
        "--registry-out",
        str(reg),
    )
    assert "phase 3" in text
    doc = json.loads(out.read_text())
    phases = doc["planner"]["phases"]
    assert [p["budget"] for p in phases] == [2.0, 2.0, 1.0]
    assert all(p["adds"] >= 0 for p in phases)
    assert doc["planner"]["instance"]["power_aware"] is True
    cams = [f["properties"] for f in doc["features"] if f["properties"]["kind"] == "camera"]
    assert [c["id"] for c in cams if c["status"] == "existing"] == ["cam-1"]
    assert any(f["properties"].get("id") == "gate" for f in doc["features"] if f["properties"]["kind"] == "point")
    parsed = regio.parse_camera_file(reg)
    assert parsed.errors == [] and len(parsed.rows) == sum(p["cameras"] for p in phases)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--phases", "2", "--budget-per-phase", "1,2,3"], "3 budgets for 2 phases"),
        (["--budget", "1", "--bbox", "1,2,3"], "minlat,minlon,maxlat,maxlon"),
        ([], "--budget"),
    ],
)
def test_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "plan", "--out", str(tmp_path / "p.geojson"), *args])
    assert result.exit_code != 0
    assert message in result.output
