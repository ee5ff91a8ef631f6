"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed-note envelopes, Ed25519 keys.

Checkpoint body: ``<origin>\\n<tree size>\\n<base64 root>\\n``; the note adds a blank line and one line per
signature, ``— <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>``. Key id = the first 4 bytes of
SHA-256(key name || 0x0A || 0x01 || public key). Verifier keys are ``<name>+<key id hex>+<base64(0x01 || pub)>``.
Design note: docs/design/audit-log.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash + space


class NoteError(ValueError):
    """A key or note that cannot be parsed, or a key file that is unsafe."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"bad key name {name!r}: non-empty, no spaces, no '+'")


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes  # 32 bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    def text(self) -> str:
        """The verifier key in note format (what ``key.pub`` holds)."""
        blob = base64.b64encode(bytes([ALG_ED25519]) + self.public).decode()
        return f"{self.name}+{self.id.hex()}+{blob}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)  # the base64 key may contain "+"
        if len(parts) != 3:
            raise NoteError("verifier key must be <name>+<hash>+<key>")
        name, hexid, blob = parts
        try:
            raw = base64.b64decode(blob, validate=True)
            kid = bytes.fromhex(hexid)
        except (binascii.Error, ValueError) as exc:
            raise NoteError(f"verifier key: {exc}") from None
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("verifier key is not an Ed25519 key")
        v = cls(name, raw[1:])
        if kid != v.id:
            raise NoteError("verifier key hash does not match its name and key")
        return v

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes  # 32-byte Ed25519 private key

    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        pub = self._key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, pub)

    def text(self) -> str:
        v = self.verifier
        blob = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{v.id.hex()}+{blob}"

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key must be PRIVATE+KEY+<name>+<hash>+<key>")
        try:
            raw = base64.b64decode(parts[4], validate=True)
        except binascii.Error as exc:
            raise NoteError(f"signer key: {exc}") from None
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("signer key is not an Ed25519 key")
        s = cls(parts[2], raw[1:])
        if s.verifier.id.hex() != parts[3]:
            raise NoteError("signer key hash does not match")
        return s

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        return cls(name, secrets.token_bytes(32))

    def sign_note(self, body: str) -> str:
        """The signed note: body, blank line, one signature line."""
        if not body.endswith("\n"):
            raise NoteError("note body must end with a newline")
        sig = self._key().sign(body.encode())
        return f"{body}\n{SIG_PREFIX}{self.name} {base64.b64encode(self.verifier.id + sig).decode()}\n"


def load_or_create_signer(path: Path, *, name: str | None = None) -> Signer:
    """The installation's audit key: created once with mode 600; refused if others can read it."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise NoteError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
        return Signer.parse(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    signer = Signer.generate(name or f"camgrid.audit/{secrets.token_hex(4)}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer.text() + "\n")
    path.with_suffix(".pub").write_text(signer.verifier.text() + "\n")
    return signer


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    body: str
    signatures: list[tuple[str, bytes]]  # (key name, 4-byte id || signature)

    def raw_signature_lines(self) -> list[str]:
        """The signature lines as they appear in the note (without newlines): cosignatures are checked on these."""
        return [f"{SIG_PREFIX}{name} {base64.b64encode(blob).decode()}" for name, blob in self.signatures]

    def verified_by(self, verifier: Verifier) -> bool:
        """True when some signature line is by this key (name and id match) and verifies."""
        for name, blob in self.signatures:
            if name == verifier.name and blob[:4] == verifier.id and verifier.verify(self.body.encode(), blob[4:]):
                return True
        return False


def parse_checkpoint_note(text: str) -> SignedCheckpoint:
    """Parse one signed checkpoint note (body, blank line, signature lines)."""
    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise NoteError("note has no blank line between body and signatures")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 4:
        raise NoteError("checkpoint body needs origin, size and root")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
        raise NoteError(f"bad tree size {size_s!r}")
    try:
        root = base64.b64decode(root_s, validate=True)
    except binascii.Error:
        raise NoteError("root hash is not base64") from None
    if len(root) != 32 or not origin:
        raise NoteError("bad origin or root hash")
    signatures: list[tuple[str, bytes]] = []
    for line in sigs.split("\n"):
        if not line:
            continue
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"bad signature line {line[:40]!r}")
        name, _, b64 = line[len(SIG_PREFIX) :].rpartition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise NoteError("signature is not base64") from None
        if len(blob) < 5:
            raise NoteError("signature too short")
        signatures.append((name, blob))
    if not signatures:
        raise NoteError("note has no signatures")
    return SignedCheckpoint(Checkpoint(origin, int(size_s), root), body, signatures)


def split_checkpoints(text: str) -> list[str]:
    """checkpoints.txt holds notes one after another, each followed by one blank line.

    A note has exactly one blank line inside (body / signatures), so notes are the pairs of blank-line-separated
    blocks: block 2k is a body, block 2k+1 its signature lines.
    """
    blocks = [b for b in text.split("\n\n")]
    if blocks and blocks[-1].strip() == "":
        blocks.pop()
    if len(blocks) % 2:
        raise NoteError("checkpoints.txt: a checkpoint body has no signature block")
    return [f"{blocks[i]}\n\n{blocks[i + 1].strip(chr(10))}\n" for i in range(0, len(blocks), 2)]
