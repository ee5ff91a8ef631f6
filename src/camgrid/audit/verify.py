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

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from camgrid.audit.log import CHECKPOINTS_FILE, ENTRIES_FILE, KEY_FILE, LEAF_HASHES_FILE, WITNESS_ANSWERS_FILE
from camgrid.audit.merkle import (
    HASH_SIZE,
    MemoryTree,
    consistency_proof,
    leaf_hash,
    verify_consistency,
)
from camgrid.audit.note import NoteError, SignedCheckpoint, Verifier, parse_checkpoint_note, split_checkpoints
from camgrid.audit.witness import CosignerKey


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


# ------------------------------------------------------------------------------------------------------ witnesses


@dataclass
class WitnessReport:
    ok: bool
    lines: list[str] = field(default_factory=list)
    cosigned: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # expected witnesses without a valid cosignature
    contradicted: list[str] = field(default_factory=list)  # witnesses whose own record the log does not reproduce


def verify_witnesses(
    folder: Path,
    keys: Sequence[CosignerKey],
    *,
    quorum: int,
    info: Mapping[str, Mapping[str, Any] | str] | None = None,
) -> WitnessReport:
    """Which of the expected witnesses cosigned the export's newest checkpoint; fails under ``quorum``.

    ``info``: per witness name, its own ``GET /witness`` answer (or why it could not be had). A witness's newest
    cosigned checkpoint of this log that the export's entries do not reproduce names it as contradicting the log.
    """
    rep = WitnessReport(ok=True)
    try:
        cps = [parse_checkpoint_note(n) for n in split_checkpoints((folder / CHECKPOINTS_FILE).read_text())]
    except (OSError, NoteError, UnicodeDecodeError) as exc:
        return WitnessReport(ok=False, lines=[f"witnesses: no checkpoints ({exc})"])
    if not cps:
        return WitnessReport(ok=False, lines=["witnesses: no checkpoints"])
    newest = cps[-1]
    size = newest.checkpoint.size
    raw_lines = newest.raw_signature_lines()
    expected = ", ".join(f"{k.name} ({k.id.hex()})" for k in keys) or "none configured"
    rep.lines.append(f"witnesses expected: {expected}; quorum {quorum}")
    answers: dict[str, str] = {}
    try:
        data = json.loads((folder / WITNESS_ANSWERS_FILE).read_text())
        if data.get("size") == size:
            answers = {a["witness"]: f"{a['status']}: {a['detail']}" for a in data.get("answers", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    for k in keys:
        ts = next((t for line in raw_lines if (t := k.timestamp_of(newest.body, line)) is not None), None)
        if ts is not None:
            rep.cosigned.append(k.name)
            when = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            rep.lines.append(f"  cosigned the newest checkpoint (size {size}): {k.name} at {when}")
        else:
            rep.missing.append(k.name)
            said = answers.get(k.name, "no answer recorded")
            rep.lines.append(
                f"  did NOT cosign the newest checkpoint (size {size}): {k.name} (central recorded: {said})"
            )
    if info is not None:
        tree = MemoryTree(leaf_hash(line) for line in iter_lines(folder / ENTRIES_FILE))
        origin = newest.checkpoint.origin
        for k in keys:
            got = info.get(k.name)
            if not isinstance(got, Mapping):
                rep.lines.append(f"  {k.name}: could not be asked ({got or 'no url'})")
                continue
            seen = (got.get("logs") or {}).get(origin)
            if not isinstance(seen, Mapping) or not seen.get("note"):
                rep.lines.append(f"  {k.name} says: it has cosigned nothing of {origin}")
                continue
            try:
                wcp = parse_checkpoint_note(str(seen["note"]))
            except NoteError:
                rep.lines.append(f"  {k.name}: its answer is not a checkpoint")
                continue
            if not any(k.timestamp_of(wcp.body, line) is not None for line in wcp.raw_signature_lines()):
                rep.lines.append(f"  {k.name}: its answer carries no valid cosignature by its key")
                continue
            ws = wcp.checkpoint.size
            if ws > tree.size or tree.root(ws) != wcp.checkpoint.root:
                rep.contradicted.append(k.name)
                rep.lines.append(
                    f"  {k.name} REFUSES this log: it cosigned size {ws} with a root that this log's first {ws} "
                    f"entries do not reproduce (the log was rewritten after it cosigned)"
                )
            else:
                rep.lines.append(f"  {k.name} says: last cosigned size {ws}, consistent with this log")
            for r in got.get("refusals") or []:
                if isinstance(r, Mapping) and r.get("origin") == origin:
                    rep.lines.append(
                        f"  {k.name} refused size {r.get('size')} (HTTP {r.get('status')}): {r.get('reason')}"
                    )
    if len(rep.cosigned) < quorum:
        rep.ok = False
        who = ", ".join(rep.missing) or "none"
        rep.lines.append(
            f"the newest checkpoint has {len(rep.cosigned)} of the {quorum} cosignatures needed; missing: {who}"
        )
    if rep.contradicted:
        rep.ok = False
    return rep
