"""Benchmark of the tamper-evident audit log (``make bench-audit``).

In one run, into real SQLite files on this machine:

* naive baseline: one ORM transaction per entry and the whole root recomputed from every stored leaf hash each
  1,000 entries (what a log without a kept frontier has to do to sign);
* camgrid ``AuditLog.append`` one entry per call (one commit each), and from 8 threads (group commit);
* camgrid ``AuditLog.append_many`` in batches (what ``appends_per_s`` reports) up to ``--n`` entries (1e6 default);
* the inclusion proof size in that 1e6-entry tree, and ``camgrid audit verify`` timed on its export (measured on the
  full 1e6 entries, not scaled).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from camgrid.audit.log import AuditLog, Entry
from camgrid.audit.merkle import MemoryTree, leaf_hash, verify_inclusion
from camgrid.audit.models import AuditEntry
from camgrid.audit.note import Signer
from camgrid.audit.verify import verify_export
from camgrid.clock import FakeClock
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade

SIGNER = Signer.generate("bench.camgrid/audit")


def entry(i: int) -> Entry:
    return Entry(
        who=f"operator{i % 40}",
        action=("live.start", "live.stop", "playback", "export.request")[i % 4],
        camera=f"CAM-{i % 62_000:05d}",
        t_from_ns=1_700_000_000_000_000_000 + i,
        t_to_ns=1_700_000_060_000_000_000 + i,
        address=f"10.1.{i % 250}.{i % 200}",
        details={"district": f"D{i % 40:02d}"},
    )


def fresh(folder: Path, name: str) -> Engine:
    engine = make_engine(f"sqlite:///{folder / name}")
    upgrade(engine)
    return engine


def naive(engine: Engine, n: int, clock: FakeClock) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        e = entry(i)
        e = Entry(**{**e.__dict__, "at_ns": clock.wall_ns()})
        data = e.canonical()
        with Session(engine) as s:
            s.add(
                AuditEntry(
                    idx=i,
                    at_ns=e.at_ns or 0,
                    who=e.who,
                    action=e.action,
                    camera=e.camera,
                    data=data.decode(),
                    leaf_hash=leaf_hash(data),
                )
            )
            s.commit()
        if (i + 1) % 1000 == 0:
            with Session(engine) as s:
                hashes = [bytes(h) for h in s.scalars(select(AuditEntry.leaf_hash).order_by(AuditEntry.idx))]
            SIGNER.sign_note(f"x\n{i + 1}\n{MemoryTree(hashes).root().hex()}\n")
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000, help="entries in the big log")
    ap.add_argument("--batch", type=int, default=1000, help="entries per append_many call")
    ap.add_argument("--naive-n", type=int, default=5000)
    args = ap.parse_args()
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        rate = naive(fresh(folder, "naive.db"), args.naive_n, clock)
        print(f"baseline (one transaction per entry, root recomputed every 1000): appends_per_s={rate:.0f}")

        log = AuditLog(fresh(folder, "single.db"), clock=clock, signer=SIGNER)
        t0 = time.perf_counter()
        for i in range(5000):
            log.append(entry(i))
        print(f"camgrid append, one commit per call, 1 thread: appends_per_s={5000 / (time.perf_counter() - t0):.0f}")

        log = AuditLog(fresh(folder, "threads.db"), clock=clock, signer=SIGNER)
        per = 2500

        def work(k: int) -> None:
            for i in range(per):
                log.append(entry(k * per + i))

        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"camgrid append, 8 threads (group commit): appends_per_s={8 * per / (time.perf_counter() - t0):.0f}")

        engine = fresh(folder, "big.db")
        log = AuditLog(engine, clock=clock, signer=SIGNER)
        t_append = 0.0
        for lo in range(0, args.n, args.batch):
            batch = [entry(i) for i in range(lo, min(args.n, lo + args.batch))]
            t0 = time.perf_counter()
            log.append_many(batch)
            t_append += time.perf_counter() - t0
            clock.advance(args.batch / 1000)  # 1,000 entries per (fake) second: a checkpoint each minute
        appends_per_s = args.n / t_append
        print(f"camgrid append_many, batches of {args.batch}, {args.n} entries: appends_per_s={appends_per_s:.0f}")

        t0 = time.perf_counter()
        reopened = AuditLog(engine, clock=clock, signer=SIGNER)
        assert reopened.root() == log.root()
        print(f"reopen a log of {args.n} entries (tiles + last partial tile): {time.perf_counter() - t0:.2f} s")

        idx = random.Random(1).randrange(args.n)
        t0 = time.perf_counter()
        proof = log.inclusion_proof(idx, args.n)
        t_proof = time.perf_counter() - t0
        assert verify_inclusion(leaf_hash(log.entry_data(idx)), idx, args.n, proof, log.root())
        proof_bytes = 32 * len(proof)
        print(f"inclusion proof of entry {idx} in {args.n}: {len(proof)} hashes, {proof_bytes} bytes, {t_proof:.4f} s")

        out = folder / "export"
        t0 = time.perf_counter()
        summary = log.export(out)
        print(f"export: {summary.size} entries, {summary.checkpoints} checkpoints, {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        result = verify_export(out)
        t_verify = time.perf_counter() - t0
        assert result.ok, result.message
        verify_per_1e6 = t_verify * 1_000_000 / args.n
        how = "measured on 1e6 entries" if args.n == 1_000_000 else f"measured on {args.n} entries, scaled to 1e6"
        print(f"verify: {result.message} in {t_verify:.1f} s ({how})")
        print(
            f"bench-audit: appends_per_s={appends_per_s:.0f} proof_bytes_at_1e6={proof_bytes} "
            f"verify_s_per_1e6={verify_per_1e6:.1f}"
        )


if __name__ == "__main__":
    main()
