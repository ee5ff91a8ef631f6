"""The local outbox: index rows survive a PostgreSQL outage, and a crash during one; replayed in order, once
(docs/design/cluster.md, "Outbox")."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from camgrid.clock import FakeClock
from camgrid.cluster.outbox import OutboxIndexWriter, decode, encode, read_journal
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from camgrid.storage import index as ix
from camgrid.storage.models import Gap, Segment
from camgrid.vocabulary import SegmentStatus
from tests.cluster.conftest import PgServer, pg_city
from tests.cluster.test_cluster_failover import start_node
from tests.conftest import wait_for

NS = 1_000_000_000
T = 1_800_000_000 * NS


def ops(n: int) -> list[ix.Op]:
    out: list[ix.Op] = []
    for i in range(n):
        path = f"/r/C{i % 3}/{i}.mp4"
        out += [
            ix.SegOpen(f"C{i % 3}", T + i * NS, path, "h264", "n1"),
            ix.SegClose(path, T + (i + 1) * NS, 100 + i, 25),
        ]
    out += [ix.GapOpen("C0", T + n * NS, "unreachable", "", "n1"), ix.GapClose("C0", T + (n + 2) * NS)]
    return out


def test_journal_lines_round_trip() -> None:
    for i, op in enumerate(ops(3)):
        assert decode(encode(i, op)) == (i, op)


def test_outage_crash_and_lost_ack_replay_once_in_order(pg_own: PgServer, tmp_path: Path) -> None:
    url = pg_own.create_database()
    engine = make_engine(url, connect_args={"connect_timeout": 2})
    upgrade(engine)
    clock = FakeClock(T)
    folder = tmp_path / "outbox"
    first = OutboxIndexWriter(engine, folder=folder, node_id="n1", clock=clock)
    want = ops(20)
    for op in want[:10]:
        first.put(op)
    assert first.flush()
    pg_own.stop()
    for op in want[10:]:
        first.put(op)
    assert not first.flush(), "the database is down"
    journal = read_journal(folder / "index.jsonl")
    assert [o for _s, o in journal] == want[10:], "rows not applied are on disk, in order"
    # The node crashes here; a new one starts from the journal once the database is back.
    del first
    engine.dispose()
    pg_own.start()
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    second = OutboxIndexWriter(engine, folder=folder, node_id="n1", clock=clock)
    assert second.pending() == len(want) - 10
    assert second.flush()
    assert not (folder / "index.jsonl").exists(), "journal removed once applied"
    # The commit acknowledgement was lost (the journal survived): replaying it again adds nothing.
    third = OutboxIndexWriter(engine, folder=copy, node_id="n1", clock=clock)
    assert third.flush()
    assert third.skipped == len(want) - 10
    with engine.connect() as conn:
        segs = conn.execute(select(Segment.path, Segment.status).order_by(Segment.start_ns)).all()
        gaps = conn.execute(select(Gap.start_ns, Gap.end_ns)).all()
    assert [s[0] for s in segs] == [o.path for o in want if isinstance(o, ix.SegOpen)], "each row once"
    assert {s[1] for s in segs} == {"complete"}, "closes applied after their opens"
    assert gaps == [(T + 20 * NS, T + 22 * NS)]
    engine.dispose()


def holes(spans: list[tuple[int, int]], t0: int, t1: int) -> list[tuple[float, float]]:
    """Unrecorded stretches longer than 0.2 s within [t0, t1] of sorted (start, end) spans, in seconds from t0."""
    out: list[tuple[float, float]] = []
    at = t0
    for start, end in spans:
        if end <= at:
            continue
        if start > at + NS // 5 and start < t1:
            out.append(((at - t0) / NS, (start - t0) / NS))
        at = max(at, end)
        if at >= t1:
            break
    if at < t1 - NS // 5:
        out.append(((at - t0) / NS, (t1 - t0) / NS))
    return out


def test_node_keeps_recording_through_a_60_s_database_outage(city_factory: Any, pg_own: PgServer) -> None:
    """PostgreSQL stops for 60 s under a recording node while a feeder loses power: the node records on, and when the
    database returns its outbox fills in the index (every segment once, the outage's gaps with their real times)
    without a restart. Then the worst case: the database stops again and the node is killed before it returns; the
    restarted node replays what it journaled. No video lost, every file indexed once, no gap over recorded video."""
    url = pg_own.create_database()
    city = pg_city(
        city_factory(4, extra_env={"CAMGRID_RECORDER__SEGMENT_SECONDS": "4", "CAMGRID_DATABASE__URL": url}), url
    )
    cams = sorted(c["id"] for c in city.cameras())
    feeders: dict[str, list[str]] = {}
    for c in city.cameras():
        feeders.setdefault(c["feeder"], []).append(c["id"])
    feeder, cut_cams = min(feeders.items(), key=lambda kv: len(kv[1]))
    node = start_node(city, "n1")
    wait_for(lambda: all(city.recording_since(c, 0) for c in cams), 40, what="recording")
    time.sleep(2.0)
    down_ns = time.time_ns()
    pg_own.stop()
    time.sleep(20.0)
    cut = city.fault("power_cut", feeder)
    time.sleep(8.0)
    restore = city.fault("power_restore", feeder)
    time.sleep(32.0)
    outbox = city.home / "node-n1" / "outbox" / "index.jsonl"
    assert outbox.exists() and outbox.stat().st_size > 0, "rows journaled during the outage"
    pg_own.start()
    up_ns = time.time_ns()
    wait_for(lambda: not outbox.exists(), 30, what="the outbox replayed while the node runs")
    assert node.popen.poll() is None, "the node kept running"
    t_cut, t_restore = int(cut["t"] * NS), int(restore["t"] * NS)

    def settled() -> list[Any] | None:
        """The index once every camera has a closed segment past ``up_ns``: the one still being written when the
        database returned is judged only when it is closed, not counted as a hole while it is open."""
        rows = city.db("select path, start_ns, end_ns, status, camera_id from segments")
        done = {r[4] for r in rows if r[3] == SegmentStatus.COMPLETE and int(r[2]) >= up_ns}
        return rows if done >= set(cams) else None

    rows = wait_for(settled, 60, what="a closed segment past the outage on every camera")
    for cam in cams:
        spans = sorted((int(r[1]), int(r[2])) for r in rows if r[4] == cam and r[3] == "complete")
        missing = holes(spans, down_ns, up_ns)
        if cam in cut_cams:
            assert len(missing) == 1, f"{cam}: only the power cut is missing: {missing}"
            a, b = missing[0]
            assert abs(down_ns + a * NS - t_cut) <= 1.5 * NS and (t_restore - down_ns) / NS <= b <= a + 20
            gaps = [g for g in city.gaps(cam) if g[1] >= down_ns and g[3] == "unreachable"]
            assert len(gaps) == 1 and gaps[0][2] is not None, f"{cam}: the outage's gap, opened and closed: {gaps}"
            assert abs(gaps[0][1] - t_cut) <= 1.5 * NS
        else:
            assert missing == [], f"{cam}: video lost during the database outage: {missing}"
            during = [g for g in city.gaps(cam) if g[1] < up_ns and (g[2] is None or g[2] > down_ns)]
            assert during == [], f"{cam}: a gap during the outage although video was recorded: {during}"

    # The worst case: the database goes again and the node dies before it returns.
    time.sleep(2.0)
    down2 = time.time_ns()
    pg_own.stop()
    time.sleep(8.0)
    assert outbox.exists() and outbox.stat().st_size > 0
    node.popen.send_signal(signal.SIGKILL)
    node.popen.wait(10)
    pg_own.start()
    up2 = time.time_ns()
    again = start_node(city, "n1")
    wait_for(lambda: all(city.recording_since(c, up2) for c in cams), 40, what="recording after the restart")
    assert not outbox.exists(), again.text()[-2000:]
    assert again.stop() == 0
    files = {str(p) for p in (city.home / "node-n1" / "recordings").rglob("*.mp4")}
    rows = city.db("select path, start_ns, end_ns, status, camera_id from segments")
    paths = [r[0] for r in rows]
    assert len(paths) == len(set(paths)), "no row applied twice"
    assert files == set(paths), "every file on disk indexed, no row without a file"
    assert {r[3] for r in rows} == {"complete"}
    for cam in cams:
        spans = sorted((int(r[1]), int(r[2])) for r in rows if r[4] == cam)
        assert holes(spans, down2, down2 + 7 * NS) == [], f"{cam}: recorded until the kill"
