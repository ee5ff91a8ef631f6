"""The central log's side of witnessing: ask each configured witness to cosign the newest checkpoint, keep what
each answered (``audit_cosignatures``), and check an export's newest checkpoint against the expected witnesses.

Asking: old size = the size this witness last cosigned as far as the database knows (0 if none); on 409 the witness
says its size and the request is made once more from there. A cosignature is stored only once it verifies with the
witness's configured key. Refusals and unreachable witnesses are stored too, with the reason. Design note:
docs/design/witnesses.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, Table, delete, func, insert, select

from camgrid.audit.log import AuditLog
from camgrid.audit.models import AuditCheckpoint, AuditCosignature
from camgrid.audit.note import NoteError, parse_checkpoint_note
from camgrid.audit.witness import AddCheckpoint, CosignerKey, WitnessRefusal
from camgrid.audit.witness_http import submit
from camgrid.clock import Clock
from camgrid.vocabulary import WitnessStatus

log = logging.getLogger("camgrid.audit.cosign")
_W: Table = AuditCosignature.__table__  # type: ignore[assignment]
_C: Table = AuditCheckpoint.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Peer:
    url: str
    key: CosignerKey

    @property
    def name(self) -> str:
        return self.key.name


def parse_peers(text: str) -> list[Peer]:
    """``"<url> <key>; <url> <key>"`` (witness.peers) → peers; NoteError naming the bad one."""
    peers: list[Peer] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        bits = part.split()
        if len(bits) != 2 or not bits[0].startswith(("http://", "https://")):
            raise NoteError(f"witness.peers: {part.strip()[:60]!r} is not '<http(s) url> <witness key>'")
        peers.append(Peer(bits[0], CosignerKey.parse(bits[1])))
    names = [p.name for p in peers]
    if len(set(names)) != len(names):
        raise NoteError("witness.peers: two witnesses with one name")
    return peers


@dataclass(frozen=True)
class Outcome:
    witness: str
    status: WitnessStatus
    detail: str
    line: str = ""


def newest_checkpoint(engine: Engine) -> tuple[int, str] | None:
    with engine.connect() as conn:
        row = conn.execute(select(_C.c.size, _C.c.note).order_by(_C.c.size.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def cosign_newest(
    audit: AuditLog, peers: Sequence[Peer], *, engine: Engine, clock: Clock, ca: str = ""
) -> list[Outcome]:
    """Ask every witness that has not cosigned the newest checkpoint yet; store and return their answers.

    ``ca``: the PEM CA of https witnesses (the cluster CA, for recorder nodes)."""
    newest = newest_checkpoint(engine)
    if newest is None or not peers:
        return []
    size, note = newest
    body = parse_checkpoint_note(note).body
    out: list[Outcome] = []
    for peer in peers:
        with engine.connect() as conn:
            done = (
                conn.scalar(select(_W.c.status).where(_W.c.size == size, _W.c.witness == peer.name))
                == WitnessStatus.COSIGNED
            )
            last = conn.scalar(
                select(func.max(_W.c.size)).where(
                    _W.c.witness == peer.name, _W.c.status == WitnessStatus.COSIGNED, _W.c.size <= size
                )
            )
        if done:
            continue
        outcome = _ask(audit, peer, note, body, size, int(last or 0), ca)
        _store(engine, size, outcome, clock.wall_ns())
        if outcome.status is not WitnessStatus.COSIGNED:
            log.warning("witness %s did not cosign checkpoint %d: %s", peer.name, size, outcome.detail)
        out.append(outcome)
    return out


def _ask(audit: AuditLog, peer: Peer, note: str, body: str, size: int, old: int, ca: str) -> Outcome:
    key = audit.signer.verifier.text()
    for _ in range(2):
        try:
            proof = audit.consistency_proof(old, size) if 0 < old < size else []
            line = submit(peer.url, AddCheckpoint(old, proof, note), log_key=key, ca=ca)
        except WitnessRefusal as exc:
            if exc.status == 409 and exc.known_size is not None and exc.known_size != old:
                if exc.known_size > size:
                    return Outcome(
                        peer.name,
                        WitnessStatus.REFUSED,
                        f"the witness has cosigned size {exc.known_size}, larger than {size}: the log was rolled back",
                    )
                old = exc.known_size
                continue
            status = WitnessStatus.UNREACHABLE if exc.status == 0 else WitnessStatus.REFUSED
            return Outcome(peer.name, status, f"HTTP {exc.status}: {exc.reason}" if exc.status else exc.reason)
        line = line.strip("\n")
        if peer.key.timestamp_of(body, line) is None:
            return Outcome(peer.name, WitnessStatus.REFUSED, "its answer is not a valid cosignature by its key")
        return Outcome(peer.name, WitnessStatus.COSIGNED, "", line)
    return Outcome(peer.name, WitnessStatus.REFUSED, "the witness keeps changing its size")


def _store(engine: Engine, size: int, o: Outcome, at_ns: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(_W).where(_W.c.size == size, _W.c.witness == o.witness))
        conn.execute(
            insert(_W),
            {
                "size": size,
                "witness": o.witness,
                "status": o.status,
                "line": o.line,
                "detail": o.detail,
                "at_ns": at_ns,
            },
        )


def answers(engine: Engine, size: int) -> list[Outcome]:
    """What each witness answered for the checkpoint of ``size`` (as stored)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(_W.c.witness, _W.c.status, _W.c.detail, _W.c.line).where(_W.c.size == size).order_by(_W.c.witness)
        ).all()
    return [Outcome(str(r[0]), WitnessStatus(r[1]), str(r[2]), str(r[3])) for r in rows]
