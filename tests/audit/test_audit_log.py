"""The database-backed audit log (docs/design/audit-log.md): appends, restart, proofs, checkpoints, fail closed."""

from __future__ import annotations

import base64
import hashlib
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session

from camgrid.audit.log import AuditError, AuditIntegrityError, AuditLog, AuditWriteError, Entry, log_for, record
from camgrid.audit.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from camgrid.audit.models import AuditEntry
from camgrid.audit.note import Signer, Verifier, load_or_create_signer, parse_checkpoint_note
from camgrid.clock import FakeClock
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from tests.backends import db_url

SIGNER = Signer.generate("test.camgrid/audit")


def _entry(i: int) -> Entry:
    return Entry(
        who=f"user{i % 7}", action="live.start", camera=f"C-{i % 13:03d}", address="10.0.0.1", details={"i": i}
    )


def _log(engine: Engine, clock: FakeClock | None = None, tile: int = 2, **kw: object) -> AuditLog:
    return AuditLog(engine, clock=clock or FakeClock(), signer=SIGNER, tile_level=tile, **kw)  # type: ignore[arg-type]


def _stored(engine: Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [str(d).encode() for d in conn.execute(text("SELECT data FROM audit_entries ORDER BY idx")).scalars()]


def test_entry_canonical_form() -> None:
    e = Entry(who="ana", action="playback", camera="C-1", t_from_ns=1, t_to_ns=2, details={"b": 1, "a": "é"}, at_ns=5)
    assert (
        e.canonical()
        == (
            '{"action":"playback","address":"","at_ns":5,"camera":"C-1","details":{"a":"é","b":1},'
            '"t_from_ns":1,"t_to_ns":2,"v":1,"who":"ana"}'
        ).encode()
    )
    with pytest.raises(AuditError):
        Entry(who="ana", action="x", details={"f": float("nan")}, at_ns=1).canonical()
    with pytest.raises(AuditError):
        Entry(who="", action="x", at_ns=1).canonical()


@pytest.mark.parametrize("tile", [1, 2, 8])
def test_appends_roots_and_restart(engine: Engine, tile: int) -> None:
    clock = FakeClock()
    log = _log(engine, clock, tile=tile)
    assert [log.append(_entry(i)) for i in range(37)] == list(range(37))
    assert log.append_many(_entry(i) for i in range(37, 300)) == 37
    data = _stored(engine)
    assert len(data) == 300 and b'"at_ns":' + str(clock.wall_ns()).encode() in data[0]
    ref = MemoryTree(leaf_hash(d) for d in data)
    assert log.root() == ref.root()
    for size in (1, 2, 3, 4, 5, 255, 256, 257, 299):
        assert log.root(size) == ref.root(size)
    again = _log(engine, clock, tile=tile)
    assert again.size == 300 and again.root() == ref.root()
    again.append(_entry(300))
    ref.append(leaf_hash(_stored(engine)[300]))
    assert again.root() == ref.root()


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_proofs_verify_against_roots(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    eng = make_engine(db_url(tmp_path_factory.mktemp("p") / "a.db"))
    upgrade(eng)
    log = _log(eng, tile=data.draw(st.integers(1, 4)))
    n = data.draw(st.integers(1, 80))
    log.append_many(_entry(i) for i in range(n))
    leaves = [leaf_hash(d) for d in _stored(eng)]
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    assert verify_inclusion(leaves[index], index, size, log.inclusion_proof(index, size), log.root(size))
    old = data.draw(st.integers(0, size))
    assert verify_consistency(old, size, log.root(old), log.root(size), log.consistency_proof(old, size))


def test_checkpoints_are_signed_notes_issued_every_minute(engine: Engine) -> None:
    clock = FakeClock()
    log = _log(engine, clock)
    log.append(_entry(0))  # first entry: first checkpoint
    assert len(log.checkpoints()) == 1
    for i in range(1, 10):
        clock.advance(5)
        log.append(_entry(i))
    assert len(log.checkpoints()) == 1
    assert log.maybe_checkpoint(clock.wall_ns()) is None
    clock.advance(20)  # 65 s after the first
    log.append(_entry(10))
    notes = log.checkpoints()
    assert len(notes) == 2
    assert log.maybe_checkpoint(clock.wall_ns() + 120 * 10**9) is None  # nothing new: no checkpoint
    cp = parse_checkpoint_note(notes[1])
    assert cp.checkpoint.size == 11 and cp.checkpoint.root == log.root(11)
    assert notes[1].startswith(f"test.camgrid/audit\n11\n{base64.b64encode(log.root(11)).decode()}\n\n\u2014 ")
    assert cp.verified_by(SIGNER.verifier)
    assert not cp.verified_by(Signer.generate("test.camgrid/audit").verifier)
    forged = parse_checkpoint_note(notes[1].replace("\n11\n", "\n12\n"))
    assert not forged.verified_by(SIGNER.verifier)


def test_key_file_and_verifier_format(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    signer = load_or_create_signer(path, name="city.example/audit")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_signer(path) == signer
    v = signer.verifier
    want_id = hashlib.sha256(b"city.example/audit\n\x01" + v.public).digest()[:4]
    blob = base64.b64encode(b"\x01" + v.public).decode()
    assert v.text() == f"city.example/audit+{want_id.hex()}+{blob}"
    assert Verifier.parse(v.text()) == v
    assert (tmp_path / "keys" / "audit.pub").read_text().strip() == v.text()
    path.chmod(0o644)
    with pytest.raises(ValueError, match="readable by others"):
        load_or_create_signer(path)


def test_fail_closed_when_the_store_cannot_be_written(engine: Engine) -> None:
    log = _log(engine)
    log.append(_entry(0))
    with pytest.raises(AuditError):
        log.append(Entry(who="a", action="b", details={"x": object()}))
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_entries RENAME TO gone"))
    with pytest.raises(AuditWriteError):
        log.append(_entry(1))
    with pytest.raises(AuditWriteError):
        log.append_many([_entry(1), _entry(2)])
    assert log.size == 1
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE gone RENAME TO audit_entries"))
    assert log.append(_entry(1)) == 1


def test_concurrent_appends_share_commits(engine: Engine) -> None:
    log = _log(engine)
    got: list[int] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        for i in range(150):
            idx = log.append(_entry(k * 1000 + i))
            with lock:
                got.append(idx)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(900))
    assert log.root() == MemoryTree(leaf_hash(d) for d in _stored(engine)).root()


def test_second_writer_is_detected_and_followed(engine: Engine) -> None:
    a, b = _log(engine), _log(engine)
    assert a.append(_entry(0)) == 0
    assert b.append(_entry(1)) == 1  # b's frontier was stale: the primary key caught it, b reloaded
    assert a.append(_entry(2)) == 2
    assert a.root() == MemoryTree(leaf_hash(d) for d in _stored(engine)).root()


def test_two_busy_writers_both_land_every_entry(engine: Engine) -> None:
    """Two logs on one store (the server and a CLI command, or two nodes) appending at once: a writer that loses the
    race several times in a row still lands its entry, and the store stays one consistent tree (a CI run lost a
    CLI's token.issue entry when the server won twice)."""
    logs = [_log(engine), _log(engine)]
    got: list[int] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        for i in range(80):
            idx = logs[k % 2].append(_entry(k * 1000 + i))
            with lock:
                got.append(idx)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(320))
    reopened = _log(engine)
    assert reopened.root() == MemoryTree(leaf_hash(d) for d in _stored(engine)).root()
    reopened.verify_store()


def test_record_helper_finds_the_log_of_a_session(engine: Engine, tmp_path: Path) -> None:
    log = AuditLog.open(engine, home=tmp_path, clock=FakeClock(), tile_level=2)
    with Session(engine) as session:
        idx = record(session, who="ana", action="login", address="192.0.2.1", details={"ok": True})
        assert log_for(session) is log
    assert idx == 0 and b'"action":"login"' in log.entry_data(0)
    other = make_engine(db_url(tmp_path / "other.db"))
    with pytest.raises(AuditWriteError), Session(other) as s2:
        record(s2, who="ana", action="login")


def test_store_edited_behind_the_log_is_caught(engine: Engine) -> None:
    log = _log(engine)
    log.append_many(_entry(i) for i in range(22))
    log.checkpoint()
    log.verify_store()
    with engine.begin() as conn:  # in the last, partial tile: seen when the log opens
        conn.execute(update(AuditEntry).where(AuditEntry.idx == 21).values(leaf_hash=b"\x00" * 32))
    with pytest.raises(AuditIntegrityError):
        _log(engine)
    with pytest.raises(AuditIntegrityError, match="entry 21 was edited"):
        log.verify_store()
    with engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.idx == 21).values(leaf_hash=leaf_hash(_stored(engine)[21])))
        conn.execute(update(AuditEntry).where(AuditEntry.idx == 3).values(data='{"who":"nobody"}'))
    with pytest.raises(AuditIntegrityError, match="entry 3 was edited"):
        log.verify_store()


def test_periodic_call_covers_the_last_entries_within_a_minute(engine: Engine) -> None:
    clock = FakeClock()
    log = _log(engine, clock)
    for i in range(30):  # one entry a second for 30 s, then quiet
        log.append(_entry(i))
        clock.advance(1)
    assert parse_checkpoint_note(log.checkpoints()[-1]).checkpoint.size == 1
    issued = None
    for _ in range(6):  # the server's 10 s loop
        clock.advance(10)
        issued = issued or log.maybe_checkpoint(clock.wall_ns())
    assert issued is not None and parse_checkpoint_note(issued).checkpoint.size == 30


def test_rows_deleted_behind_the_log_are_caught(engine: Engine) -> None:
    log = _log(engine)
    log.append_many(_entry(i) for i in range(22))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE idx = 21 - 1"))
    with pytest.raises(AuditIntegrityError, match="missing"):
        _log(engine)  # 20 is in the last, partial tile
    with pytest.raises(AuditIntegrityError, match="entry 20 is missing"):
        log.verify_store()


def test_key_id_matches_the_go_note_package_example() -> None:
    # The verifier key from golang.org/x/mod/sumdb/note's documentation: its key hash c74f20a3 must be ours too.
    v = Verifier.parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    assert v.id.hex() == "c74f20a3"
    with pytest.raises(ValueError, match="hash does not match"):
        Verifier.parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
