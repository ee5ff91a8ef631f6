"""Offline verification of an audit export (``camgrid audit verify DIR``).

1. every checkpoint must carry a valid signature by the verifier key, share one origin and grow in size;
2. the Merkle root recomputed over the first N entries (each line's bytes are the leaf data) must equal the root of
   each checkpoint of size N, successive checkpoints must be consistent (RFC 9162 proofs), and no entry may lie past
   the last checkpoint;
3. when something differs, name the FIRST entry that was edited, deleted, inserted or moved. The export's
   ``leaf_hashes.bin`` is the exporter's list of leaf hashes: once it reproduces every signed root it is authentic
   (collision resistance), and comparing it with the lines' hashes gives the exact index and the kind of change.
   If it is missing or altered too, the first checkpoint that fails bounds the change to a range of entries.

Design note: docs/design/audit-log.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from camgrid.audit.log import CHECKPOINTS_FILE, ENTRIES_FILE, KEY_FILE, LEAF_HASHES_FILE
from camgrid.audit.merkle import (
    HASH_SIZE,
    MemoryTree,
    consistency_proof,
    leaf_hash,
    verify_consistency,
)
from camgrid.audit.note import NoteError, SignedCheckpoint, Verifier, parse_checkpoint_note, split_checkpoints


@dataclass
class VerifyResult:
    ok: bool
    message: str
    entries: int = 0
    checkpoints: int = 0
    first_bad: int | None = None  # index of the first altered entry, when known exactly
    notes: list[str] = field(default_factory=list)


def _fail(msg: str, **kw: int | None) -> VerifyResult:
    return VerifyResult(ok=False, message=msg, **kw)  # type: ignore[arg-type]


def iter_lines(path: Path) -> Iterator[bytes]:
    """The lines' bytes without their newline, streamed (only the 32-byte hashes are kept)."""
    with open(path, "rb") as f:
        for line in f:
            yield line[:-1] if line.endswith(b"\n") else line


def verify_export(folder: Path, *, key_text: str | None = None) -> VerifyResult:
    """Check an export folder; ``key_text`` overrides DIR/key.pub (pass the key you obtained out of band)."""
    try:
        verifier = Verifier.parse(key_text if key_text is not None else (folder / KEY_FILE).read_text())
    except (OSError, NoteError) as exc:
        return _fail(f"key: {exc}")
    try:
        notes = split_checkpoints((folder / CHECKPOINTS_FILE).read_text())
        cps = [parse_checkpoint_note(n) for n in notes]
    except (OSError, NoteError, UnicodeDecodeError) as exc:
        return _fail(f"checkpoints: {exc}")
    if not cps:
        return _fail("checkpoints: none")
    for i, cp in enumerate(cps):
        if not cp.verified_by(verifier):
            return _fail(
                f"checkpoint {i} (size {cp.checkpoint.size}) has no valid signature by {verifier.name} "
                f"(altered, or signed by another key)"
            )
        if cp.checkpoint.origin != cps[0].checkpoint.origin:
            return _fail(f"checkpoint {i} is for another log ({cp.checkpoint.origin})")
        if i and cp.checkpoint.size <= cps[i - 1].checkpoint.size:
            return _fail(f"checkpoint {i} does not grow the log (size {cp.checkpoint.size})")
    try:
        observed = MemoryTree(leaf_hash(line) for line in iter_lines(folder / ENTRIES_FILE))
    except OSError as exc:
        return _fail(f"entries: {exc}")
    m = observed.size
    last = cps[-1].checkpoint.size
    bad = _first_failing(observed, cps)
    if bad is None:
        if m > last:
            return _fail(
                f"entries {last}..{m - 1} are not covered by any checkpoint (inserted at the end?)",
                entries=m,
                checkpoints=len(cps),
                first_bad=last,
            )
        for i in range(1, len(cps)):
            a, b = cps[i - 1].checkpoint, cps[i].checkpoint
            proof = consistency_proof(observed, a.size, b.size)
            if not verify_consistency(a.size, b.size, a.root, b.root, proof):
                return _fail(f"checkpoints {i - 1} and {i} are not consistent", entries=m, checkpoints=len(cps))
        return VerifyResult(
            ok=True,
            message=f"intact: {m} entries, {len(cps)} checkpoints signed by {verifier.name} ({verifier.id.hex()})",
            entries=m,
            checkpoints=len(cps),
        )
    authentic = _authentic_hashes(folder / LEAF_HASHES_FILE, cps)
    if authentic is not None:
        msg, first = classify([observed.leaf(i) for i in range(m)], authentic)
        return _fail(msg, entries=m, checkpoints=len(cps), first_bad=first)
    lo = cps[bad - 1].checkpoint.size if bad else 0
    hi = cps[bad].checkpoint.size
    if m < hi and all(cp.checkpoint.size <= lo for cp in cps[:bad]) and m >= lo:
        return _fail(
            f"the log is shorter than checkpoint {bad} (size {hi}): entries from {m} (or earlier, from {lo}) were "
            f"deleted; leaf_hashes.bin is missing or altered, so this is as close as it can be told",
            entries=m,
            checkpoints=len(cps),
        )
    return _fail(
        f"an entry among {lo}..{hi - 1} was edited, deleted, inserted or moved (checkpoint {bad}, size {hi}, "
        f"does not match); leaf_hashes.bin is missing or altered, so this is as close as it can be told",
        entries=m,
        checkpoints=len(cps),
    )


def _first_failing(tree: MemoryTree, cps: list[SignedCheckpoint]) -> int | None:
    """Index of the first checkpoint whose root the tree does not reproduce (prefix roots are monotone)."""
    for i, cp in enumerate(cps):
        if cp.checkpoint.size > tree.size or tree.root(cp.checkpoint.size) != cp.checkpoint.root:
            return i
    return None


def _authentic_hashes(path: Path, cps: list[SignedCheckpoint]) -> list[bytes] | None:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if len(raw) % HASH_SIZE:
        return None
    hashes = [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)]
    if len(hashes) != cps[-1].checkpoint.size:
        return None
    if _first_failing(MemoryTree(hashes), cps) is not None:
        return None
    return hashes


def classify(seen: list[bytes], orig: list[bytes]) -> tuple[str, int]:
    """Name the first difference between the observed leaf hashes and the authentic ones."""
    n, m = len(orig), len(seen)
    i = 0
    while i < n and i < m and seen[i] == orig[i]:
        i += 1
    if i == m and i == n:
        return "intact", -1
    if i == m:
        if n - i == 1:
            return f"entry {i} was deleted (the last entry; log truncated to {i} entries)", i
        return f"entries {i}..{n - 1} were deleted (log truncated to {i} entries)", i
    if i == n:
        return f"entries {i}..{m - 1} were inserted after the last checkpointed entry", i
    where: dict[bytes, int] = {}
    for k, h in enumerate(orig):
        where.setdefault(h, k)
    j = where.get(seen[i])
    if j is None:
        if i + 1 < m and seen[i + 1] == orig[i]:
            return f"an entry was inserted at {i} (before entry {i})", i
        return f"entry {i} was edited", i
    if j < i:
        return f"an entry was inserted at {i} (a copy of entry {j})", i
    # j > i: orig[i] is missing at position i
    if j < m and seen[j] == orig[i] and seen[i + 1 : j] == orig[i + 1 : j]:
        if j == i + 1:
            return f"entries {i} and {i + 1} were swapped", i
        return f"entries {i} and {j} were swapped", i
    later = [p for p in range(i + 1, m) if seen[p] == orig[i]]
    if later:
        return f"entry {i} was moved to position {later[0]}", i
    if seen[i : i + 8] == orig[j : j + 8]:
        if j == i + 1:
            return f"entry {i} was deleted", i
        return f"entries {i}..{j - 1} were deleted", i
    return f"entry {j} was moved to position {i}", i
