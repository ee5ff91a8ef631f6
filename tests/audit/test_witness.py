"""The witness's checks, by table (docs/design/witnesses.md): what it cosigns, what it refuses and with which status
(C2SP tlog-witness), that it remembers refusals, and the cosignature format (C2SP tlog-cosignature)."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest

from camgrid.audit.merkle import MemoryTree, consistency_proof, leaf_hash
from camgrid.audit.note import Checkpoint, Signer, parse_checkpoint_note
from camgrid.audit.witness import (
    AddCheckpoint,
    Cosigner,
    CosignerKey,
    LogState,
    WitnessRefusal,
    WitnessStore,
    check,
    cosigned_message,
    load_or_create_cosigner,
    parse_add_checkpoint,
)

LOG = Signer.generate("city.example/audit")
OTHER = Signer.generate("city.example/audit")  # same name, another key: an impostor
STRANGER = Signer.generate("elsewhere/log")
TREE = MemoryTree(leaf_hash(f"entry {i}".encode()) for i in range(20))
FORK = MemoryTree(leaf_hash(f"entry {i}".encode() if i != 3 else b"rewritten") for i in range(20))


def note(size: int, *, tree: MemoryTree = TREE, signer: Signer = LOG) -> str:
    return signer.sign_note(Checkpoint(signer.name, size, tree.root(size)).body())


def state(size: int, tree: MemoryTree = TREE) -> LogState:
    return LogState(key=LOG.verifier.text(), size=size, root=base64.b64encode(tree.root(size)).decode())


def req(old: int, size: int, *, tree: MemoryTree = TREE, signer: Signer = LOG, proof: list[bytes] | None = None):
    p = consistency_proof(tree, old, size) if proof is None and 0 < old < size else (proof or [])
    return AddCheckpoint(old, p, note(size, tree=tree, signer=signer))


KEYS = [LOG.verifier]
CASES = [
    # (what, state the witness holds, request, expected status or None = cosigned)
    ("first checkpoint", None, req(0, 8), None),
    ("grows with a valid proof", state(8), req(8, 13), None),
    ("same size, same root", state(8), req(8, 8), None),
    ("stale old size: 409 with the known size", state(8), req(5, 13), 409),
    ("client thinks it is new: 409", state(8), req(0, 13), 409),
    ("rollback (old > new): 400", state(13), req(13, 8), 400),
    ("rewritten log: proof from the fork does not verify", state(8), req(8, 13, tree=FORK), 422),
    ("rewritten log at the same size: 409", state(8), req(8, 8, tree=FORK), 409),
    ("a proof that is not the proof", state(8), req(8, 13, proof=[b"\0" * 32] * 3), 422),
    ("no proof at all", state(8), AddCheckpoint(8, [], note(13)), 422),
    ("proof from 0 must be empty", None, AddCheckpoint(0, [b"\0" * 32], note(8)), 422),
    ("signed by another key of the same name: 403", state(8), req(8, 13, signer=OTHER), 403),
    ("an unknown log: 404", None, req(0, 8, signer=STRANGER), 404),
    ("not a checkpoint: 400", None, AddCheckpoint(0, [], "hello\n"), 400),
]


@pytest.mark.parametrize(("what", "st", "request_", "status"), CASES, ids=[c[0] for c in CASES])
def test_check_table(what: str, st: LogState | None, request_: AddCheckpoint, status: int | None) -> None:
    if status is None:
        cp = check(request_, state=st, keys=KEYS)
        assert cp.checkpoint.origin == LOG.name
        return
    with pytest.raises(WitnessRefusal) as exc:
        check(request_, state=st, keys=KEYS)
    assert exc.value.status == status, exc.value.reason
    if status == 409 and st is not None:
        assert exc.value.known_size == st.size


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 1\n",
        b"old 01\n\nx",
        b"old -1\n\nx",
        b"new 1\n\nx",
        b"old 1\nnot-base64!\n\nx",
        b"old 1\nAAAA\n\nx",
        b"old 1\n" + b"".join([base64.b64encode(b"\0" * 32) + b"\n"] * 64) + b"\nx",
    ],
)
def test_malformed_requests_are_400(body: bytes) -> None:
    with pytest.raises(WitnessRefusal) as exc:
        parse_add_checkpoint(body)
    assert exc.value.status == 400


def test_request_round_trip() -> None:
    r = req(8, 13)
    back = parse_add_checkpoint(r.encode())
    assert back == r


def test_cosignature_format_is_tlog_cosignature_v1(tmp_path: Path) -> None:
    c = load_or_create_cosigner(tmp_path / "w.key", name="witness.example/w1")
    assert (tmp_path / "w.key").stat().st_mode & 0o077 == 0
    assert CosignerKey.parse((tmp_path / "w.pub").read_text()) == c.key
    body = Checkpoint(LOG.name, 8, TREE.root(8)).body()
    line = c.cosign(body, 1_700_000_000)
    assert line.startswith("\u2014 witness.example/w1 ") and line.endswith("\n")
    blob = base64.b64decode(line.split()[-1])
    assert len(blob) == 76 and blob[:4] == c.key.id
    assert struct.unpack(">Q", blob[4:12])[0] == 1_700_000_000
    assert cosigned_message(body, 1_700_000_000) == f"cosignature/v1\ntime 1700000000\n{body}".encode()
    assert c.key.timestamp_of(body, line.strip()) == 1_700_000_000
    assert c.key.timestamp_of(body.replace("8", "9", 1), line.strip()) is None  # another checkpoint
    other = Cosigner("witness.example/w1", b"\1" * 32)
    assert other.key.timestamp_of(body, line.strip()) is None  # another key of the same name
    # the note with the cosignature still parses and keeps the log's signature
    cp = parse_checkpoint_note(LOG.sign_note(body) + line)
    assert cp.verified_by(LOG.verifier) and len(cp.signatures) == 2


def test_store_cosigns_growth_refuses_a_rewrite_and_remembers_it(tmp_path: Path) -> None:
    c = Cosigner("w/1", b"\2" * 32)
    store = WitnessStore(tmp_path / "state.json", cosigner=c, log_keys=KEYS)
    line = store.add_checkpoint(req(0, 8), now_s=100)
    assert c.key.timestamp_of(Checkpoint(LOG.name, 8, TREE.root(8)).body(), line.strip()) == 100
    line = store.add_checkpoint(req(8, 13), now_s=101)
    with pytest.raises(WitnessRefusal) as exc:
        store.add_checkpoint(req(13, 20, tree=FORK), now_s=102)
    assert exc.value.status == 422
    # state survives a restart: the size stays 13, and the refusal is remembered
    again = WitnessStore(tmp_path / "state.json", cosigner=c, log_keys=KEYS)
    assert again.state.logs[LOG.name].size == 13
    (refusal,) = again.refusals(LOG.name)
    assert (refusal.old_size, refusal.size, refusal.status) == (13, 20, 422)
    assert "rewritten" in refusal.reason
    assert (tmp_path / "state.json").stat().st_mode & 0o077 == 0
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["logs"][LOG.name]["note"].endswith(line)


def test_pin_on_first_use_holds_the_first_key(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path / "s.json", cosigner=Cosigner("w/2", b"\3" * 32), pin_first=True)
    with pytest.raises(WitnessRefusal) as exc:
        store.add_checkpoint(req(0, 8), now_s=1)  # no key offered, none configured
    assert exc.value.status == 404
    store.add_checkpoint(req(0, 8), now_s=1, offered_key=LOG.verifier)
    with pytest.raises(WitnessRefusal) as exc:  # an impostor offering its own key for the same origin
        store.add_checkpoint(req(8, 13, signer=OTHER), now_s=2, offered_key=OTHER.verifier)
    assert exc.value.status == 403
