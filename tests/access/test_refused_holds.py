"""Finding 5 of issue 13 (holds part): a refused hold never leaves an entry that reads as done. What the store cannot
keep (a time past 2262, a reason over 500 characters: PostgreSQL refused it after the entry) is refused before the
entry; when the database refuses the row after it, an ``action.failed`` entry names the action and its entry, from
the API and from ``camgrid recordings hold`` alike (docs/design/scopes.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.cli.main import cli
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.storage import holds
from camgrid.vocabulary import AuditAction
from tests.access.test_cli_audited import _entries, _run
from tests.access.world import ADMIN, PASSWORD, SUP, T0, World, build, camera
from tests.backends import POSTGRES, backend_env
from tests.seeding import BROWSER

NS = 1_000_000_000
MS = 1_000_000


def refuse_holds(engine: Engine) -> None:
    """The database itself refuses every new hold (a trigger): the refusal comes after the service's entry."""
    with engine.begin() as conn:
        if POSTGRES:
            conn.execute(text(
                "CREATE FUNCTION refuse_hold() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                "LANGUAGE plpgsql"
            ))  # fmt: skip
            conn.execute(
                text("CREATE TRIGGER refuse BEFORE INSERT ON holds FOR EACH ROW EXECUTE FUNCTION refuse_hold()")
            )
        else:
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON holds BEGIN SELECT RAISE(ABORT, 'refused'); END"))


def _actions(w: World, since: int) -> list[dict[str, object]]:
    """The entries from ``since`` on, with their index, logins left out."""
    out = []
    for i in range(since, w.log.size):
        e = json.loads(w.log.entry_data(i))
        if e["action"] != AuditAction.LOGIN:
            out.append(e | {"index": i})
    return out


@pytest.fixture
def app(tmp_path: Path) -> tuple[World, TestClient]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)
    with unit_of_work(w.factory) as s:
        access.create_user(
            session=s, audit=w.log, actor=ADMIN, username="sup", password=PASSWORD, role="supervisor",
            districts=None, now_ns=T0,
        )  # fmt: skip
    ctx = AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log)
    return w, TestClient(create_app(ctx), raise_server_exceptions=False, headers=BROWSER)


def test_what_the_store_cannot_keep_is_refused_before_the_entry(app: tuple[World, TestClient]) -> None:
    w, client = app
    start = w.log.size
    for kwargs in (
        {"start_ns": T0, "end_ns": 2**63, "reason": "case 1"},
        {"start_ns": T0, "end_ns": T0 + NS, "reason": "x" * 501},
        {"start_ns": T0, "end_ns": T0 + NS, "reason": "case 2", "until_ns": 2**64},
    ):
        with unit_of_work(w.factory) as s, pytest.raises(ValueError):
            holds.create_hold(session=s, audit=w.log, actor=SUP, camera_id="cam-a", now_ns=T0, **kwargs)  # type: ignore[arg-type]
    assert client.post("/api/auth/login", json={"username": "sup", "password": PASSWORD}).status_code == 200
    far = 10**13  # ms: beyond 2262 in nanoseconds (it answered 500 after writing hold.create)
    r = client.post("/api/holds", json={"camera": "cam-a", "from_ms": far, "to_ms": far + 5, "reason": "case 3"})
    assert r.status_code == 422
    r = client.post("/api/holds", json={"camera": "cam-a", "from_ms": 1, "to_ms": 5, "reason": "x" * 501})
    assert r.status_code == 422
    assert _actions(w, start) == []


def test_a_hold_the_database_refuses_is_logged_as_failed(app: tuple[World, TestClient]) -> None:
    w, client = app
    refuse_holds(w.engine)
    start = w.log.size
    assert client.post("/api/auth/login", json={"username": "sup", "password": PASSWORD}).status_code == 200
    body = {"camera": "cam-a", "from_ms": T0 // MS, "to_ms": T0 // MS + 1000, "reason": "case 4"}
    assert client.post("/api/holds", json=body).status_code == 500
    entries = _actions(w, start)
    assert [e["action"] for e in entries] == [AuditAction.HOLD_CREATE, AuditAction.ACTION_FAILED]
    assert entries[1]["who"] == "sup" and entries[1]["camera"] == "cam-a"
    details = entries[1]["details"]
    assert isinstance(details, dict)
    assert details["action"] == AuditAction.HOLD_CREATE and details["entry"] == entries[0]["index"]


def test_the_command_line_too(tmp_path: Path) -> None:
    registry = tmp_path / "cameras.csv"
    from camgrid.registry.io import write_csv

    with registry.open("w", newline="") as fh:
        write_csv([camera("cam-a", "D-01").model_dump()], fh)
    _run(tmp_path, "cameras", "import", str(registry))
    refuse_holds(make_engine(load_settings(tmp_path, backend_env(tmp_path)).database_url))
    result = CliRunner().invoke(
        cli,
        ["--home", str(tmp_path), "recordings", "hold", "--camera", "cam-a", "--from", "2026-11-01T00:00:00Z",
         "--to", "2026-11-01T01:00:00Z", "--reason", "case 5"],
    )  # fmt: skip
    assert result.exit_code != 0
    actions = [(e["action"], e["details"].get("action")) for e in _entries(tmp_path)]  # type: ignore[union-attr]
    assert actions[-2:] == [(AuditAction.HOLD_CREATE, None), (AuditAction.ACTION_FAILED, AuditAction.HOLD_CREATE)]
