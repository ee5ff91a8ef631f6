"""Witnesses: another machine's promise that the audit log only ever grew (C2SP tlog-witness, tlog-cosignature).

A witness keeps its own Ed25519 key and, per log (by origin, pinned to the log's verifier key), the last checkpoint
it cosigned. To cosign a new checkpoint it wants the log's signature and an RFC 9162 consistency proof from the size
it last cosigned; a rollback, a fork or a bad proof is refused and the refusal is remembered. The answer is a
cosignature: a signed-note signature line over ``cosignature/v1\\ntime <t>\\n`` + the checkpoint body, whose blob is
key id (4) || timestamp (8, big-endian) || Ed25519 signature (64); key id = SHA-256(name || 0x0A || 0x04 || pub)[:4].

This module is the pure part (requests, checks, cosignatures) and a small JSON state store; the HTTP server is
``camgrid.audit.witness_http`` and the central log's side ``camgrid.audit.cosign``. Design note:
docs/design/witnesses.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
import struct
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from camgrid.audit.merkle import HASH_SIZE, verify_consistency
from camgrid.audit.note import SIG_PREFIX, NoteError, SignedCheckpoint, Verifier, parse_checkpoint_note

ALG_COSIGNATURE_V1 = 0x04
MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 64 * 1024
MAX_REFUSALS = 200  # the refusals a witness remembers (newest kept)
COSIGN_HEADER = "cosignature/v1\n"


class WitnessRefusal(Exception):
    """The witness does not cosign; ``status`` is the tlog-witness HTTP status, ``known_size`` set for 409."""

    def __init__(self, status: int, reason: str, known_size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.known_size = known_size


def cosigner_key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"{COSIGN_HEADER}time {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class CosignerKey:
    """A witness's public key: ``<name>+<key id hex>+<base64(0x04 || pub)>`` (a C2SP vkey)."""

    name: str
    public: bytes

    @property
    def id(self) -> bytes:
        return cosigner_key_id(self.name, self.public)

    def text(self) -> str:
        blob = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public).decode()
        return f"{self.name}+{self.id.hex()}+{blob}"

    @classmethod
    def parse(cls, text: str) -> CosignerKey:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("witness key must be <name>+<hash>+<key>")
        try:
            raw = base64.b64decode(parts[2], validate=True)
            kid = bytes.fromhex(parts[1])
        except (binascii.Error, ValueError) as exc:
            raise NoteError(f"witness key: {exc}") from None
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise NoteError("witness key is not an Ed25519 cosignature/v1 key")
        key = cls(parts[0], raw[1:])
        if key.id != kid:
            raise NoteError("witness key hash does not match its name and key")
        return key

    def timestamp_of(self, body: str, line: str) -> int | None:
        """The cosignature's timestamp when ``line`` is this witness's valid cosignature of ``body``, else None."""
        if not line.startswith(SIG_PREFIX):
            return None
        name, _, b64 = line[len(SIG_PREFIX) :].strip().rpartition(" ")
        if name != self.name:
            return None
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            return None
        if len(blob) != 4 + 8 + 64 or blob[:4] != self.id:
            return None
        (ts,) = struct.unpack(">Q", blob[4:12])
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(blob[12:], cosigned_message(body, ts))
        except InvalidSignature:
            return None
        return int(ts)


@dataclass(frozen=True)
class Cosigner:
    name: str
    seed: bytes

    @property
    def key(self) -> CosignerKey:
        pub = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return CosignerKey(self.name, pub)

    def cosign(self, body: str, timestamp: int) -> str:
        """One signature line (with its newline) cosigning the checkpoint ``body`` at ``timestamp`` (POSIX s)."""
        if not 0 <= timestamp < 2**63:
            raise ValueError("timestamp out of range")
        sig = Ed25519PrivateKey.from_private_bytes(self.seed).sign(cosigned_message(body, timestamp))
        blob = self.key.id + struct.pack(">Q", timestamp) + sig
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"

    def text(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key.id.hex()}+{base64.b64encode(bytes([0x04]) + self.seed).decode()}"

    @classmethod
    def parse(cls, text: str) -> Cosigner:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("witness key must be PRIVATE+KEY+<name>+<hash>+<key>")
        try:
            raw = base64.b64decode(parts[4], validate=True)
        except binascii.Error as exc:
            raise NoteError(f"witness key: {exc}") from None
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise NoteError("witness key is not an Ed25519 cosignature/v1 key")
        c = cls(parts[2], raw[1:])
        if c.key.id.hex() != parts[3]:
            raise NoteError("witness key hash does not match")
        return c


def load_or_create_cosigner(path: Path, *, name: str | None = None) -> Cosigner:
    """The witness's key: created once with mode 600 (``.pub`` next to it); refused if others can read it."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise NoteError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
        return Cosigner.parse(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    c = Cosigner(name or f"camgrid.witness/{secrets.token_hex(4)}", secrets.token_bytes(32))
    if not c.name or "+" in c.name or any(ch.isspace() for ch in c.name):
        raise NoteError(f"bad witness name {c.name!r}: non-empty, no spaces, no '+'")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(c.text() + "\n")
    path.with_suffix(".pub").write_text(c.key.text() + "\n")
    return c


# ------------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class AddCheckpoint:
    """A tlog-witness add-checkpoint request: old size, consistency proof, signed checkpoint note."""

    old_size: int
    proof: list[bytes]
    note: str

    def encode(self) -> bytes:
        lines = [f"old {self.old_size}"] + [base64.b64encode(p).decode() for p in self.proof]
        return ("\n".join(lines) + "\n\n" + self.note).encode()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse the request body; WitnessRefusal(400) on anything malformed."""
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessRefusal(400, "request too large")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise WitnessRefusal(400, "request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefusal(400, "no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    size_s = first[4:]
    if not first.startswith("old ") or not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
        raise WitnessRefusal(400, "the first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, "too many consistency proof lines")
    proof: list[bytes] = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise WitnessRefusal(400, "a proof line is not base64") from None
        if len(h) != HASH_SIZE:
            raise WitnessRefusal(400, "a proof line is not a SHA-256 hash")
        proof.append(h)
    return AddCheckpoint(int(size_s), proof, note)


# ---------------------------------------------------------------------------------------------------- state


@dataclass
class Refusal:
    at: int
    origin: str
    old_size: int
    size: int
    status: int
    reason: str


@dataclass
class LogState:
    """What the witness knows of one log: its pinned verifier key and the newest checkpoint it cosigned."""

    key: str  # the log's verifier key (note format)
    size: int = 0
    root: str = ""  # base64; "" before the first cosignature
    note: str = ""  # the newest cosigned checkpoint with this witness's cosignature line


@dataclass
class WitnessState:
    logs: dict[str, LogState] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)


def check(req: AddCheckpoint, *, state: LogState | None, keys: Sequence[Verifier]) -> SignedCheckpoint:
    """The witness's checks, in the order tlog-witness gives them; returns the checkpoint to cosign or raises.

    ``state`` is what the witness knows of the note's origin (None: never cosigned); ``keys`` are the log keys it
    trusts for that origin (the pinned one when ``state`` is set).
    """
    try:
        cp = parse_checkpoint_note(req.note)
    except NoteError as exc:
        raise WitnessRefusal(400, f"bad checkpoint: {exc}") from None
    origin = cp.checkpoint.origin
    trusted = [k for k in keys if k.name == origin]
    if not trusted:
        raise WitnessRefusal(404, f"unknown log {origin!r}")
    if not any(cp.verified_by(k) for k in trusted):
        raise WitnessRefusal(403, f"no valid signature by the key of {origin!r}")
    size = cp.checkpoint.size
    if req.old_size > size:
        raise WitnessRefusal(400, f"old size {req.old_size} is larger than the checkpoint's size {size}")
    known = state.size if state is not None and state.root else 0
    if req.old_size != known:
        raise WitnessRefusal(409, f"this witness last cosigned size {known}, not {req.old_size}", known_size=known)
    if known == 0:
        if req.proof:
            raise WitnessRefusal(422, "the consistency proof from size 0 must be empty")
        return cp
    assert state is not None
    old_root = base64.b64decode(state.root)
    if size == known:
        if cp.checkpoint.root != old_root:
            raise WitnessRefusal(409, f"a different root for size {size}: the log forked", known_size=known)
        return cp
    if not verify_consistency(known, size, old_root, cp.checkpoint.root, req.proof):
        raise WitnessRefusal(
            422, f"the consistency proof from size {known} to {size} does not verify: the log was rewritten"
        )
    return cp


class WitnessStore:
    """The witness's state in one JSON file (mode 600), rewritten atomically; one lock makes check-and-update atomic
    (tlog-witness: a request must not roll back another's newer state)."""

    def __init__(self, path: Path, *, cosigner: Cosigner, log_keys: Sequence[Verifier] = (), pin_first: bool = False):
        self.path = path
        self.cosigner = cosigner
        self.log_keys = list(log_keys)
        self.pin_first = pin_first
        self._lock = threading.Lock()
        self.state = self._read()

    def _read(self) -> WitnessState:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return WitnessState()
        return WitnessState(
            logs={k: LogState(**v) for k, v in raw.get("logs", {}).items()},
            refusals=[Refusal(**r) for r in raw.get("refusals", [])],
        )

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = {
            "logs": {k: asdict(v) for k, v in self.state.logs.items()},
            "refusals": [asdict(r) for r in self.state.refusals],
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def keys_for(self, origin: str, offered: Verifier | None = None) -> list[Verifier]:
        st = self.state.logs.get(origin)
        if st is not None:
            return [Verifier.parse(st.key)]
        keys = [k for k in self.log_keys if k.name == origin]
        if not keys and self.pin_first and offered is not None and offered.name == origin:
            keys = [offered]
        return keys

    def add_checkpoint(self, req: AddCheckpoint, *, now_s: int, offered_key: Verifier | None = None) -> str:
        """Check, remember and cosign; returns the cosignature line. A refusal is remembered, then raised."""
        with self._lock:
            origin = _origin_of(req.note)
            st = self.state.logs.get(origin) if origin is not None else None
            keys = self.keys_for(origin, offered_key) if origin is not None else []
            try:
                cp = check(req, state=st, keys=keys)
            except WitnessRefusal as exc:
                lost = exc.status == 409 and exc.known_size != req.old_size  # a client behind: not misbehaviour
                if exc.status not in (400, 404) and not lost and origin is not None:  # a known log misbehaving
                    size = _size_of(req.note)
                    self.state.refusals.append(Refusal(now_s, origin, req.old_size, size, exc.status, exc.reason))
                    del self.state.refusals[:-MAX_REFUSALS]
                    self._write()
                raise
            origin = cp.checkpoint.origin
            line = self.cosigner.cosign(cp.body, now_s)
            key = st.key if st is not None else next(k for k in keys if cp.verified_by(k)).text()
            note = cp.body + "\n" + "".join(_sig_lines(req.note)) + line
            self.state.logs[origin] = LogState(
                key=key, size=cp.checkpoint.size, root=base64.b64encode(cp.checkpoint.root).decode(), note=note
            )
            self._write()
            return line

    def snapshot(self) -> dict[str, object]:
        """What ``GET /witness`` shows: the key, per log the newest cosigned checkpoint, the refusals."""
        with self._lock:
            return {
                "key": self.cosigner.key.text(),
                "logs": {k: asdict(v) for k, v in self.state.logs.items()},
                "refusals": [asdict(r) for r in self.state.refusals],
            }

    def refusals(self, origin: str | None = None) -> list[Refusal]:
        with self._lock:
            return [r for r in self.state.refusals if origin is None or r.origin == origin]


def _origin_of(note: str) -> str | None:
    first = note.split("\n", 1)[0]
    return first or None


def _size_of(note: str) -> int:
    lines = note.split("\n")
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() and len(lines[1]) < 20 else -1


def _sig_lines(note: str) -> list[str]:
    _, _, sigs = note.partition("\n\n")
    return [line + "\n" for line in sigs.split("\n") if line]
