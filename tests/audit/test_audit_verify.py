"""``camgrid audit export`` / ``verify`` and tamper tests on a copy of the export (docs/design/audit-log.md)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from camgrid.audit.log import AuditLog, Entry
from camgrid.audit.note import Signer
from camgrid.audit.verify import classify, verify_export
from camgrid.cli.main import cli
from camgrid.clock import FakeClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from tests.backends import db_url, home_db_url

N = 600


def _fill(log: AuditLog, clock: FakeClock, n: int = N) -> None:
    for i in range(n):
        log.append(Entry(who=f"op{i % 5}", action="playback", camera=f"C-{i % 9}", t_from_ns=i, t_to_ns=i + 10))
        clock.advance(7)  # a checkpoint about every 9 entries


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    engine = make_engine(home_db_url(home))
    upgrade(engine)
    clock = FakeClock()
    log = AuditLog.open(engine, home=home, clock=clock)
    _fill(log, clock)
    out = home / "export"
    summary = log.export(out)
    assert summary.size == N and summary.checkpoints > 50
    yield out
    log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    engine.dispose()


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def _lines(d: Path) -> list[bytes]:
    return (d / "entries.jsonl").read_bytes().splitlines()


def _write(d: Path, lines: list[bytes]) -> None:
    (d / "entries.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def test_intact_export_verifies(export_dir: Path) -> None:
    r = verify_export(export_dir)
    assert r.ok, r.message
    assert r.entries == N


def _edit(lines: list[bytes]) -> list[bytes]:
    lines[123] = lines[123].replace(b'"who":"op3"', b'"who":"op4"')
    return lines


def _delete(lines: list[bytes]) -> list[bytes]:
    del lines[57]
    return lines


def _insert(lines: list[bytes]) -> list[bytes]:
    lines.insert(300, lines[10].replace(b"playback", b"live.start"))
    return lines


def _replay(lines: list[bytes]) -> list[bytes]:
    lines.insert(300, lines[10])
    return lines


def _swap(lines: list[bytes]) -> list[bytes]:
    lines[10], lines[11] = lines[11], lines[10]
    return lines


def _swap_far(lines: list[bytes]) -> list[bytes]:
    lines[20], lines[400] = lines[400], lines[20]
    return lines


def _move(lines: list[bytes]) -> list[bytes]:
    lines.insert(500, lines.pop(42))
    return lines


def _truncate(lines: list[bytes]) -> list[bytes]:
    return lines[:590]


def _append(lines: list[bytes]) -> list[bytes]:
    return [*lines, lines[0]]


@pytest.mark.parametrize(
    ("tamper", "first", "words"),
    [
        (_edit, 123, "entry 123 was edited"),
        (_delete, 57, "entry 57 was deleted"),
        (_insert, 300, "inserted at 300"),
        (_replay, 300, "inserted at 300 (a copy of entry 10)"),
        (_swap, 10, "entries 10 and 11 were swapped"),
        (_swap_far, 20, "entries 20 and 400 were swapped"),
        (_move, 42, "entry 42 was moved to position 500"),
        (_truncate, 590, "entries 590..599 were deleted"),
        (_append, 600, "600..600"),
    ],
)
def test_tampered_entries_are_named(export_dir: Path, tmp_path: Path, tamper: object, first: int, words: str) -> None:
    d = _copy(export_dir, tmp_path)
    _write(d, tamper(_lines(d)))  # type: ignore[operator]
    r = verify_export(d)
    assert not r.ok
    assert r.first_bad == first, r.message
    assert words in r.message


def test_without_leaf_hashes_the_change_is_bounded_by_checkpoints(export_dir: Path, tmp_path: Path) -> None:
    d = _copy(export_dir, tmp_path)
    _write(d, _edit(_lines(d)))
    (d / "leaf_hashes.bin").write_bytes((d / "leaf_hashes.bin").read_bytes()[:-32] + b"\x00" * 32)
    r = verify_export(d)
    assert not r.ok and r.first_bad is None
    lo, hi = (int(x) for x in r.message.split("among ")[1].split(" ")[0].split(".."))
    assert lo <= 123 <= hi and hi - lo < 20


def test_altered_checkpoint_and_wrong_key(export_dir: Path, tmp_path: Path) -> None:
    d = _copy(export_dir, tmp_path)
    text = (d / "checkpoints.txt").read_text()
    blocks = text.split("\n\n")
    body = blocks[6].split("\n")
    body[1] = str(int(body[1]) + 1)
    blocks[6] = "\n".join(body)
    (d / "checkpoints.txt").write_text("\n\n".join(blocks))
    r = verify_export(d)
    assert not r.ok and "checkpoint 3 " in r.message and "signature" in r.message

    d2 = tmp_path / "wrongkey"
    shutil.copytree(export_dir, d2)
    (d2 / "key.pub").write_text(Signer.generate("attacker/audit").verifier.text())
    r = verify_export(d2)
    assert not r.ok and "checkpoint 0 " in r.message
    assert not verify_export(export_dir, key_text=Signer.generate("x/y").verifier.text()).ok


def test_classify_table() -> None:
    a, b, c, d, x = (bytes([i]) * 32 for i in range(5))
    orig = [a, b, c, d]
    assert classify([a, b, c, d], orig) == ("intact", -1)
    assert classify([a, x, c, d], orig)[1] == 1 and "edited" in classify([a, x, c, d], orig)[0]
    assert classify([a, c, d], orig)[0] == "entry 1 was deleted"
    assert classify([a, x, b, c, d], orig)[0] == "an entry was inserted at 1 (before entry 1)"
    assert classify([b, a, c, d], orig)[0] == "entries 0 and 1 were swapped"
    assert classify([a, b, c], orig)[0].startswith("entry 3 was deleted (the last entry")


def test_cli_export_and_verify(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = load_settings(home)
    home.mkdir()
    engine: Engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = FakeClock()
    _fill(AuditLog.open(engine, home=home, clock=clock), clock, n=40)
    engine.dispose()
    runner = CliRunner()
    out = tmp_path / "out"
    r = runner.invoke(cli, ["--home", str(home), "audit", "export", str(out)])
    assert r.exit_code == 0, r.output
    assert "40 entries" in r.output and (home / "keys" / "audit.key").exists()
    r = runner.invoke(
        cli, ["--home", str(home), "audit", "verify", str(out), "--key", str(home / "keys" / "audit.pub")]
    )
    assert r.exit_code == 0 and "intact: 40 entries" in r.output
    lines = _lines(out)
    lines[7] = lines[7].replace(b"playback", b"nothing")
    _write(out, lines)
    r = runner.invoke(cli, ["--home", str(home), "audit", "verify", str(out)])
    assert r.exit_code == 1 and "entry 7 was edited" in r.output
    r = runner.invoke(cli, ["--home", str(home), "audit", "checkpoint"])
    assert r.exit_code == 0 and r.output.split("\n")[1] == "40" and "\u2014 camgrid.audit/" in r.output
    for args in (
        ["audit", "--help"],
        ["audit", "export", "--help"],
        ["audit", "verify", "--help"],
        ["audit", "checkpoint", "--help"],
    ):
        assert runner.invoke(cli, args).exit_code == 0


@given(st.integers(2, 40), st.data())
def test_classify_finds_the_first_change(n: int, data: st.DataObject) -> None:
    orig = [bytes([i]) * 32 for i in range(n)]
    op = data.draw(st.sampled_from(["edit", "delete", "insert", "swap"]))
    p = data.draw(st.integers(0, n - 2))
    seen = list(orig)
    if op == "edit":
        seen[p] = b"\xff" * 32
    elif op == "delete":
        del seen[p]
    elif op == "insert":
        seen.insert(p, b"\xfe" * 32)
    else:
        q = data.draw(st.integers(p + 1, n - 1))
        seen[p], seen[q] = seen[q], seen[p]
    msg, first = classify(seen, orig)
    assert first == p, msg
    assert {"edit": "edited", "delete": "deleted", "insert": "inserted", "swap": "swapped"}[op] in msg


def test_truncation_without_leaf_hashes_and_empty_log(export_dir: Path, tmp_path: Path) -> None:
    d = _copy(export_dir, tmp_path)
    _write(d, _lines(d)[:595])
    (d / "leaf_hashes.bin").unlink()
    r = verify_export(d)
    assert not r.ok and "shorter than checkpoint" in r.message

    engine = make_engine(db_url(tmp_path / "empty.db"))
    upgrade(engine)
    empty = tmp_path / "empty"
    AuditLog(engine, clock=FakeClock(), signer=Signer.generate("e/x")).export(empty)
    r = verify_export(empty)
    assert r.ok and r.entries == 0, r.message


def test_database_edit_is_caught_by_export_and_verify(tmp_path: Path) -> None:
    """The issue's "done when": `camgrid audit verify` catches an edit of the log (here, made in the database)."""
    home = tmp_path / "home"
    home.mkdir()
    engine = make_engine(load_settings(home).database_url)
    upgrade(engine)
    clock = FakeClock()
    _fill(AuditLog.open(engine, home=home, clock=clock), clock, n=30)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET data = replace(data, 'op0', 'nobody') WHERE idx = 5"))
    engine.dispose()
    runner = CliRunner()
    out = tmp_path / "out"
    assert runner.invoke(cli, ["--home", str(home), "audit", "export", str(out)]).exit_code == 0
    r = runner.invoke(cli, ["--home", str(home), "audit", "verify", str(out)])
    assert r.exit_code == 1 and "entry 5 was edited" in r.output
