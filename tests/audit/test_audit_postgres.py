"""The audit log on a real PostgreSQL server (docs/design/audit-log.md): the driver-level insert, restart, proofs,
checkpoints, the primary-key guard against a second writer, and an export that verifies."""

from __future__ import annotations

from pathlib import Path

from camgrid.audit.log import AuditLog, Entry
from camgrid.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from camgrid.audit.note import Signer
from camgrid.audit.verify import verify_export
from camgrid.clock import FakeClock
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade


def test_audit_log_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    clock = FakeClock()
    signer = Signer.generate("pg.camgrid/audit")
    log = AuditLog(engine, clock=clock, signer=signer, tile_level=2)
    for i in range(10):
        assert log.append(Entry(who="ana", action="live.start", camera=f"C-{i}", details={"é": i})) == i
        clock.advance(30)
    assert log.append_many(Entry(who="bo", action="playback") for _ in range(91)) == 10
    other = AuditLog(engine, clock=clock, signer=signer, tile_level=2)
    assert other.root() == log.root() and other.size == 101
    assert other.append(Entry(who="cy", action="login")) == 101
    assert log.append(Entry(who="dee", action="login")) == 102  # stale writer: caught by the primary key
    root = log.root()
    proof = log.inclusion_proof(7, 103)
    assert verify_inclusion(leaf_hash(log.entry_data(7)), 7, 103, proof, root)
    assert verify_consistency(50, 103, log.root(50), root, log.consistency_proof(50, 103))
    log.verify_store()
    out = tmp_path / "export"
    assert log.export(out).size == 103
    result = verify_export(out)
    assert result.ok, result.message
    engine.dispose()
