"""The issue's "done when" for witnesses (docs/design/witnesses.md): two `camgrid audit witness` processes cosign
the central log's checkpoints; someone with the database and the central key rewrites an entry and re-signs; the
witnesses refuse (the consistency proof fails) and `camgrid audit verify` names them and fails."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from camgrid.audit.log import AuditLog, Entry
from camgrid.audit.merkle import leaf_hash
from camgrid.cli.main import cli
from camgrid.clock import FakeClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from tests.conftest import CAMGRID


def _start_witness(home: Path) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [*CAMGRID, "--home", str(home), "audit", "witness", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(20)
    if not got or not got[0].startswith("witness "):
        proc.kill()
        raise AssertionError(f"the witness did not start: {got}")
    _, key, _, url = got[0].split()
    return proc, key, url


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[list[tuple[str, str]]]:
    procs = [_start_witness(tmp_path / f"witness{i}") for i in range(2)]
    yield [(key, url) for _, key, url in procs]
    for proc, _, _ in procs:
        proc.terminate()
        proc.wait(10)


def _fill(log: AuditLog, clock: FakeClock, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.append(Entry(who=f"op{i % 5}", action="playback", camera=f"C-{i % 9}", t_from_ns=i, t_to_ns=i + 10))
        clock.advance(1)


def test_a_rewritten_log_re_signed_by_the_central_key_is_refused_by_the_witnesses(
    tmp_path: Path, witnesses: list[tuple[str, str]]
) -> None:
    home = tmp_path / "central"
    home.mkdir()
    peers = "; ".join(f"{url} {key}" for key, url in witnesses)
    (home / "camgrid.toml").write_text(f'[witness]\npeers = "{peers}"\nquorum = 2\n')
    engine = make_engine(load_settings(home).database_url)
    upgrade(engine)
    clock = FakeClock()
    _fill(AuditLog.open(engine, home=home, clock=clock, auto_checkpoint=False), clock, 40)
    runner = CliRunner()
    base = ["--home", str(home), "audit"]

    r = runner.invoke(cli, [*base, "checkpoint"])
    assert r.exit_code == 0, r.output
    assert r.stdout.count("\u2014 camgrid.witness/") == 2  # both cosignatures printed
    out = tmp_path / "good"
    assert runner.invoke(cli, [*base, "export", str(out)]).exit_code == 0
    r = runner.invoke(cli, [*base, "verify", str(out), "--key", str(home / "keys" / "audit.pub")])
    assert r.exit_code == 0, r.output
    names = [key.split("+")[0] for key, _ in witnesses]
    for name in names:
        assert f"cosigned the newest checkpoint (size 40): {name}" in r.output
        assert f"{name} says: last cosigned size 40, consistent with this log" in r.output

    # The log grows: witnesses cosign from their last size with a consistency proof.
    _fill(AuditLog.open(engine, home=home, clock=clock, auto_checkpoint=False), clock, 10, start=40)
    r = runner.invoke(cli, [*base, "checkpoint"])
    assert r.exit_code == 0 and r.stdout.count("\u2014 camgrid.witness/") == 2, r.output

    # The attack: edit entry 5 with a consistent leaf hash, drop the old checkpoints, tiles and cosignatures, append,
    # and sign a new checkpoint with the central key.
    with engine.begin() as conn:
        data = conn.scalar(text("SELECT data FROM audit_entries WHERE idx = 5"))
        forged = str(data).replace("op0", "nobody")
        conn.execute(
            text("UPDATE audit_entries SET data = :d, leaf_hash = :h WHERE idx = 5"),
            {"d": forged, "h": leaf_hash(forged.encode())},
        )
        for table in ("audit_checkpoints", "audit_tiles", "audit_cosignatures"):
            conn.execute(text(f"DELETE FROM {table}"))
    _fill(AuditLog.open(engine, home=home, clock=clock, auto_checkpoint=False), clock, 3, start=50)
    r = runner.invoke(cli, [*base, "checkpoint"])
    assert r.exit_code == 0, r.output
    assert "\u2014 camgrid.witness/" not in r.stdout
    for name in names:
        assert f"witness {name} did not cosign: refused: HTTP 422" in r.output

    out = tmp_path / "rewritten"
    assert runner.invoke(cli, [*base, "export", str(out)]).exit_code == 0
    r = runner.invoke(cli, [*base, "verify", str(out), "--key", str(home / "keys" / "audit.pub")])
    assert r.exit_code == 1, r.output
    for name in names:
        assert f"did NOT cosign the newest checkpoint (size 53): {name}" in r.output
        assert f"{name} REFUSES this log: it cosigned size 50" in r.output
        assert f"{name} refused size 53 (HTTP 422)" in r.output
    assert "0 of the 2 cosignatures needed" in r.output
    engine.dispose()
