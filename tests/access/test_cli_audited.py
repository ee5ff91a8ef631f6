"""The command line goes through the same audited services as the API (docs/design/services-own-invariants.md):
``camgrid users``, ``camgrid cameras import`` and ``camgrid recordings hold`` write their entries as ``cli:<login>``
(before this change they wrote none), and a command whose audit log cannot be opened does nothing."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from camgrid.access.models import User
from camgrid.audit.models import AuditEntry
from camgrid.cli.main import cli
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.registry.io import write_csv
from camgrid.storage.models import Hold
from camgrid.vocabulary import AuditAction
from tests.access.world import camera
from tests.backends import backend_env


def _run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env={"CAMGRID_NEW_PASSWORD": "cli-password-1"})
    assert result.exit_code == 0, result.output
    return result.output


def _entries(home: Path) -> list[dict[str, object]]:
    engine = make_engine(load_settings(home, backend_env(home)).database_url)
    with unit_of_work(session_factory(engine)) as s:
        return [json.loads(r.data) for r in s.scalars(select(AuditEntry).order_by(AuditEntry.idx))]


def test_cli_changes_are_audited_as_the_login(tmp_path: Path) -> None:
    registry = tmp_path / "cameras.csv"
    with registry.open("w", newline="") as fh:
        write_csv([camera("cam-a", "D-01").model_dump(), camera("cam-b", "D-02").model_dump()], fh)
    _run(tmp_path, "cameras", "import", str(registry))
    assert "cam-b: disabled" in _run(tmp_path, "cameras", "status", "cam-b", "disabled")
    _run(tmp_path, "users", "add", "alice", "--role", "operator", "--district", "D-01")
    _run(tmp_path, "users", "set", "alice", "--role", "supervisor")
    assert len(_run(tmp_path, "users", "token", "alice", "--label", "ci").strip()) > 30
    assert "1 token(s)" in _run(tmp_path, "users", "revoke", "alice", "--label", "ci")
    _run(tmp_path, "users", "disable", "alice")
    _run(
        tmp_path, "recordings", "hold", "--camera", "cam-a", "--from", "2026-11-01T00:00:00Z",
        "--to", "2026-11-01T01:00:00Z", "--reason", "case 7",
    )  # fmt: skip
    entries = _entries(tmp_path)
    assert [e["action"] for e in entries] == [
        AuditAction.CAMERAS_IMPORT,
        AuditAction.CAMERA_UPDATE,
        AuditAction.USER_CREATE,
        AuditAction.USER_UPDATE,
        AuditAction.TOKEN_ISSUE,
        AuditAction.TOKEN_REVOKE,
        AuditAction.USER_DISABLE,
        AuditAction.HOLD_CREATE,
    ]
    assert {e["who"] for e in entries} == {f"cli:{getpass.getuser()}"}
    assert entries[0]["details"]["added"] == 2  # type: ignore[index]
    assert entries[-1]["camera"] == "cam-a"


def test_a_command_whose_log_cannot_be_opened_does_nothing(tmp_path: Path) -> None:
    _run(tmp_path, "users", "add", "alice", "--role", "operator")
    (tmp_path / "keys" / "audit.key").chmod(0o644)  # the signing key exposed: the log refuses to open
    result = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "users", "add", "bob", "--role", "operator", "--password", "cli-password-2"]
    )
    assert result.exit_code == 1 and "audit log cannot be opened" in result.output
    result = CliRunner().invoke(
        cli,
        ["--home", str(tmp_path), "recordings", "hold", "--camera", "cam-a", "--from", "2026-11-01T00:00:00Z",
         "--to", "2026-11-01T01:00:00Z", "--reason", "case 8"],
    )  # fmt: skip
    assert result.exit_code == 1 and "audit log cannot be opened" in result.output
    engine = make_engine(load_settings(tmp_path, backend_env(tmp_path)).database_url)
    with unit_of_work(session_factory(engine)) as s:
        assert list(s.scalars(select(User.username))) == ["alice"]
        assert list(s.scalars(select(Hold.id))) == []
