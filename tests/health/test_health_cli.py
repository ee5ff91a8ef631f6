"""``camgrid health`` commands: replay output shape and order, bad input, scenario files, scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from health_city import cut, make_rows, site_cams

from camgrid.cli.main import cli
from camgrid.registry.io import write_csv


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "cameras.csv"
    with path.open("w", encoding="utf-8") as fh:
        write_csv([r.model_dump() for r in make_rows()], fh)
    return path


def write_events(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def invoke(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "health", *args])
    return result.exit_code, result.stdout, result.stderr


def test_replay_prints_one_sorted_line_per_incident(tmp_path: Path, registry: Path) -> None:
    rows: list[dict[str, object]] = []
    for e in cut(site_cams(0, 1, 2, 3), 100.0, 900.0) + cut(site_cams(5), 40.0, 300.0):
        rows.append({"t": e.t, "camera": e.camera, "state": "down" if e.down else "up", "extra": 1})
    rows.append({"t": 50.0, "camera": "C110", "state": "down", "reason": "auth refused"})
    events = write_events(tmp_path / "events.jsonl", rows)
    code, out, _ = invoke(tmp_path, "replay", "--registry", str(registry), "--events", str(events))
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    assert [(x["kind"], x["subject"]) for x in lines] == [("site", "S05"), ("camera", "C110"), ("power", "F0")]
    assert [list(x)[:5] for x in lines] == [["kind", "subject", "opened", "resolved", "cameras"]] * 3
    assert lines[1]["resolved"] is None and lines[1]["reason"] == "auth refused"
    assert lines[2]["cameras"] == sorted(site_cams(0, 1, 2, 3))
    again = invoke(tmp_path, "replay", "--registry", str(registry), "--events", str(events))[1]
    assert again == out  # deterministic


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"t": "soon", "camera": "C000", "state": "down"}', "'t' must be a finite number"),
        ('{"t": 1, "camera": "NOPE", "state": "down"}', "unknown camera 'NOPE'"),
        ('{"t": 1, "camera": "C000", "state": "sideways"}', "'state' must be"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_event_line_exits_2_with_its_line_number(tmp_path: Path, registry: Path, line: str, message: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"t": 0, "camera": "C000", "state": "down"}\n' + line + "\n", encoding="utf-8")
    code, out, err = invoke(tmp_path, "replay", "--registry", str(registry), "--events", str(path))
    assert code == 2
    assert out == ""
    assert f"{path}:2: {message}" in err


def test_bad_registry_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "cameras.csv"
    bad.write_text("id,name\nC1,x\n", encoding="utf-8")
    events = write_events(tmp_path / "e.jsonl", [])
    code, _, err = invoke(tmp_path, "replay", "--registry", str(bad), "--events", str(events))
    assert code == 2 and "missing column" in err


def test_scenario_then_replay_then_score(tmp_path: Path) -> None:
    out = tmp_path / "sc"
    code, text, _ = invoke(tmp_path, "scenario", "--out", str(out), "--cameras", "800", "--seed", "3")
    assert code == 0 and "800 cameras" in text
    assert {p.name for p in out.iterdir()} == {
        "cameras.csv",
        "events.jsonl",
        "truth.jsonl",
        "evidence.jsonl",
        "meta.json",
    }
    code, incidents, _ = invoke(
        tmp_path, "replay", "--registry", str(out / "cameras.csv"), "--events", str(out / "events.jsonl")
    )
    assert code == 0
    code, with_evidence, _ = invoke(
        tmp_path,
        "replay",
        "--registry",
        str(out / "cameras.csv"),
        "--events",
        str(out / "events.jsonl"),
        "--evidence",
        str(out / "evidence.jsonl"),
    )
    assert code == 0 and '"evidence": ["ups"' in with_evidence
    assert code == 0
    (out / "incidents.jsonl").write_text(incidents, encoding="utf-8")
    code, report, _ = invoke(
        tmp_path, "score", "--truth", str(out / "truth.jsonl"), "--incidents", str(out / "incidents.jsonl")
    )
    assert code == 0
    last = dict(kv.split("=") for kv in report.splitlines()[-1].split())
    assert float(last["precision"]) >= 0.9 and float(last["recall"]) >= 0.9


@pytest.mark.parametrize("sub", ["replay", "scenario", "score", "incidents", "ack", "comment", "suggestion"])
def test_every_subcommand_has_help(tmp_path: Path, sub: str) -> None:
    code, out, _ = invoke(tmp_path, sub, "--help")
    assert code == 0 and "Usage" in out


def test_stored_replay_then_operator_actions(tmp_path: Path) -> None:
    rows = make_rows({"C011": {"feeder": "F2"}})
    registry_csv = tmp_path / "cameras.csv"
    with registry_csv.open("w", encoding="utf-8") as fh:
        write_csv([r.model_dump() for r in rows], fh)
    home = str(tmp_path / "home")
    runner = CliRunner()
    assert runner.invoke(cli, ["--home", home, "cameras", "import", str(registry_csv)]).exit_code == 0
    events = write_events(
        tmp_path / "e.jsonl",
        [{"t": e.t, "camera": e.camera, "state": "down"} for e in cut(site_cams(0, 1, 2, 3), 100.0, None)],
    )
    code, _, _ = invoke(tmp_path, "replay", "--registry", str(registry_csv), "--events", str(events), "--store")
    assert code == 0
    code, out, _ = invoke(tmp_path, "incidents", "--open")
    [stored] = [json.loads(x) for x in out.splitlines()]
    assert (stored["kind"], stored["subject"], stored["n_members"]) == ("power", "F0", 16)
    assert invoke(tmp_path, "ack", str(stored["id"]), "--by", "op1")[0] == 0
    assert invoke(tmp_path, "comment", str(stored["id"]), "utility says 2 h", "--by", "op1")[0] == 0
    sug = stored["suggestions"][0]["id"]
    assert invoke(tmp_path, "suggestion", str(sug), "accept", "--by", "op1")[0] == 0
    code, _, err = invoke(tmp_path, "suggestion", str(sug), "reject", "--by", "op2")
    assert code == 1 and "already accepted" in err
    code, _, err = invoke(tmp_path, "ack", "999", "--by", "op1")
    assert code == 1 and "no incident 999" in err
    [after] = [json.loads(x) for x in invoke(tmp_path, "incidents")[1].splitlines()]
    assert [a["action"] for a in after["actions"]] == ["ack", "comment", "accept_suggestion"]
    assert after["acknowledged_by"] == "op1"


def test_bad_evidence_line_exits_2(tmp_path: Path, registry: Path) -> None:
    events = write_events(tmp_path / "e.jsonl", [{"t": 1, "camera": "C000", "state": "down"}])
    evidence = write_events(tmp_path / "x.jsonl", [{"t": 1, "feeder": "F0"}, {"t": 2, "feeder": "F9"}])
    code, _, err = invoke(
        tmp_path, "replay", "--registry", str(registry), "--events", str(events), "--evidence", str(evidence)
    )
    assert code == 2 and f"{evidence}:2: unknown feeder 'F9'" in err
