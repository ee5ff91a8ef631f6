"""Retention selects per camera in SQL and pages by key: it cannot starve, and it deletes exactly what the pure
policy (``expired``, ``over_budget``, ``is_held``) says, on SQLite and PostgreSQL (``CAMGRID_TEST_BACKEND``)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from camgrid.auditing import SYSTEM, Actor, AuditWriter
from camgrid.config import RetentionConfig
from camgrid.db.engine import unit_of_work
from camgrid.storage.models import Deletion, Segment
from camgrid.storage.retention import (
    DAY,
    HoldInfo,
    RetentionRunner,
    SegInfo,
    expired,
    over_budget,
)
from camgrid.vocabulary import AuditAction, DeletionReason, SegmentStatus
from tests.storage.retention_city import (
    NOW,
    Db,
    H,
    RefusingAudit,
    add_camera,
    add_hold,
    add_segment,
    add_topology,
    clear,
    open_db,
    segment_ids,
)

BATCH = 7  # many times smaller than the data: every pass spans many pages


def runner(db: Db, cfg: RetentionConfig, *, audit: AuditWriter | None = None) -> RetentionRunner:
    return RetentionRunner(
        factory=db.factory, cfg=cfg, audit=audit or db.audit, actor=SYSTEM, clock=db.clock, node_id="local",
        batch=BATCH,
    )  # fmt: skip


def to_fixed_point(r: RetentionRunner) -> int:
    """Run until a run deletes nothing; returns how many runs deleted something."""
    for n in range(100):
        report = r.run()
        assert report.refused is None
        if report.age + report.budget == 0:
            return n
    raise AssertionError("retention did not reach a fixed point in 100 runs")


def audit_entries(db: Db) -> list[dict[str, object]]:
    return [json.loads(db.audit.entry_data(i)) for i in range(db.audit.size)]


# ---- regressions: a front page of kept segments must not stop the deletion behind it -----------------------------
def test_long_retention_segments_at_the_front_do_not_starve_a_short_retention_camera(tmp_path: Path) -> None:
    """The old pass took the BATCH oldest segments older than the shortest retention and filtered them in Python:
    all of them were the 30-day camera's, so the 1-day camera kept its 2-day-old video forever."""
    db = open_db(tmp_path)
    with unit_of_work(db.factory) as s:
        add_topology(s, {"D": None})
        add_camera(s, "long", "D", 30.0)
        add_camera(s, "short", "D", 1.0)
        for i in range(3 * BATCH):
            add_segment(s, tmp_path, "long", NOW - 20 * 24 * H - i * H)  # 20 days old: kept (30-day retention)
        short = [add_segment(s, tmp_path, "short", NOW - 48 * H + i * 60 * 10**9) for i in range(BATCH)]
    report = runner(db, RetentionConfig(default_days=14)).run()
    assert report.age == BATCH
    assert segment_ids(db.factory).isdisjoint({x.id for x in short})
    assert not any((tmp_path / "local" / "short").glob("*.mp4"))


def test_held_segments_at_the_front_do_not_starve_the_budget_pass(tmp_path: Path) -> None:
    """The budget pass read the BATCH oldest segments and skipped the held ones: a hold over the oldest footage
    stopped it for good and the disk filled."""
    db = open_db(tmp_path)
    with unit_of_work(db.factory) as s:
        add_topology(s, {"D": None})
        add_camera(s, "c", "D")
        held = [add_segment(s, tmp_path, "c", NOW - 100 * H + i * H, size=1000) for i in range(2 * BATCH)]
        add_hold(s, "c", held[0].start_ns, held[-1].end_ns)
        free = [add_segment(s, tmp_path, "c", NOW - 50 * H + i * H, size=1000) for i in range(BATCH)]
    # Budget: the held segments plus 2 of the free ones; the 5 oldest free ones must go.
    cfg = RetentionConfig(default_days=14, disk_budget_gb=(2 * BATCH + 2) * 1000 / 1024**3)
    report = runner(db, cfg).run()
    assert report.budget == BATCH - 2
    assert segment_ids(db.factory) == {x.id for x in held} | {x.id for x in free[-2:]}


def test_every_deletion_is_audited_first_and_a_refusal_keeps_the_segment(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    with unit_of_work(db.factory) as s:
        add_topology(s, {"D": 1.0})
        add_camera(s, "c", "D")
        segs = [add_segment(s, tmp_path, "c", NOW - 30 * H - i * H, size=64) for i in range(2 * BATCH)]
    refusing = RefusingAudit(db.audit, accept=BATCH + 2)  # refuses in the middle of the second page
    report = runner(db, RetentionConfig(), audit=refusing).run()
    assert report.refused is not None and report.age == BATCH + 2
    left = segment_ids(db.factory)
    assert len(left) == BATCH - 2
    for x in segs:  # a kept row has its file; a deleted one has neither file nor row
        path = tmp_path / "local" / "c" / f"{x.id}.mp4"
        assert path.exists() == (x.id in left)
    entries = audit_entries(db)
    assert [e["action"] for e in entries] == [AuditAction.RETENTION_DELETE] * (BATCH + 2)
    assert {e["who"] for e in entries} == {SYSTEM.name}
    first = entries[0]["details"]
    assert isinstance(first, dict) and first["reason"] == DeletionReason.AGE and len(first["sha256"]) == 64
    with unit_of_work(db.factory) as s:
        assert s.scalar(select(func.count()).select_from(Deletion)) == BATCH + 2
    # The log is back: the next run finishes the job, audited.
    assert runner(db, RetentionConfig()).run().age == BATCH - 2
    assert segment_ids(db.factory) == set() and db.audit.size == 2 * BATCH


@pytest.fixture
def db(tmp_path: Path) -> Db:
    """One database for all the examples of a hypothesis test (each example empties it first)."""
    return open_db(tmp_path)


# ---- the oracle: after retention reaches a fixed point, exactly the policy's set is gone -------------------------
DAYS = st.sampled_from([None, 0.0, 0.5, 1.0, 3.0, 30.0])
segment_st = st.tuples(
    st.integers(0, 6),  # camera index; 6 is a camera the registry does not know (default retention)
    st.integers(0, 24 * 40),  # age in hours: many equal end times, so the key's tie-break (id) matters
    st.integers(1, 5000),  # bytes
    st.sampled_from(["local"] * 5 + ["other"]),  # recorder node
    st.sampled_from([SegmentStatus.COMPLETE] * 9 + [SegmentStatus.WRITING]),
)
hold_st = st.tuples(
    st.integers(0, 6),
    st.integers(0, 24 * 40),  # start age in hours
    st.integers(1, 24 * 10),  # length in hours
    st.sampled_from([None, -H, H]),  # until: for ever, expired an hour ago, ends in an hour
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    district_days=st.tuples(DAYS, DAYS, DAYS),
    config_days=st.dictionaries(st.sampled_from(["D0", "D1", "D2"]), st.sampled_from([0.0, 2.0, 7.0]), max_size=3),
    camera_days=st.lists(DAYS, min_size=6, max_size=6),
    default_days=st.sampled_from([5.0, 14.0]),
    segments=st.lists(segment_st, min_size=150, max_size=300),
    holds=st.lists(hold_st, max_size=12),
    budget_fraction=st.sampled_from([None, 0.3, 0.7, 2.0]),
)
def test_retention_deletes_exactly_what_the_policy_says(
    tmp_path: Path,
    db: Db,
    district_days: tuple[float | None, ...],
    config_days: dict[str, float],
    camera_days: list[float | None],
    default_days: float,
    segments: list[tuple[int, int, int, str, str]],
    holds: list[tuple[int, int, int, int | None]],
    budget_fraction: float | None,
) -> None:
    clear(db.factory)
    folder = tmp_path / uuid.uuid4().hex
    districts = {f"D{i}": d for i, d in enumerate(district_days)}
    cams = [f"c{i}" for i in range(7)]
    seg_infos: list[tuple[SegInfo, str, str]] = []
    hold_infos: list[HoldInfo] = []
    with unit_of_work(db.factory) as s:
        add_topology(s, districts)
        for i, days in enumerate(camera_days):
            add_camera(s, cams[i], f"D{i % 3}", days)
        for cam, age_h, size, node, status in segments:
            info = add_segment(s, folder, cams[cam], NOW - age_h * H, size=size, node=node, status=status)
            seg_infos.append((info, node, status))
        for cam, start_h, length_h, until in holds:
            h = HoldInfo(
                cams[cam], NOW - start_h * H, NOW - start_h * H + length_h * H, None if until is None else NOW + until
            )
            add_hold(s, h.camera_id, h.start_ns, h.end_ns, h.until_ns)
            hold_infos.append(h)

    # The oracle, from the rule as the operators read it (not from the code under test).
    keep: dict[str, int] = {}
    for i, days in enumerate(camera_days):
        d = f"D{i % 3}"
        keep[cams[i]] = int((days or districts[d] or config_days.get(d) or default_days) * DAY)
    mine = [x for x, node, _ in seg_infos if node == "local"]
    complete = [x for x, node, status in seg_infos if node == "local" and status == SegmentStatus.COMPLETE]
    by_age = {x.id for x in expired(complete, hold_infos, NOW, keep, int(default_days * DAY))}
    used = sum(x.bytes for x in mine if x.id not in by_age)
    budget = None if budget_fraction is None else max(1, int(used * budget_fraction))
    by_budget: set[int] = set()
    if budget is not None:
        left = sorted((x for x in complete if x.id not in by_age), key=lambda x: (x.end_ns, x.id))
        by_budget = {x.id for x in over_budget(left, hold_infos, NOW, used, budget)}
    expected_gone = by_age | by_budget

    before = db.audit.size
    cfg = RetentionConfig(
        default_days=default_days,
        district_days=config_days,
        disk_budget_gb=0.0 if budget is None else budget / 1024**3,
    )
    to_fixed_point(runner(db, cfg))
    gone = {x.id for x, _, _ in seg_infos} - segment_ids(db.factory)
    assert gone == expected_gone
    assert db.audit.size - before == len(expected_gone)
    for x, node, _ in seg_infos:
        assert (folder / node / x.camera_id / f"{x.id}.mp4").exists() == (x.id not in gone)
    with unit_of_work(db.factory) as s:
        reasons = dict(s.execute(select(Deletion.reason, func.count()).group_by(Deletion.reason)).all())
        assert reasons.get(DeletionReason.AGE, 0) == len(by_age)
        assert reasons.get(DeletionReason.BUDGET, 0) == len(by_budget)
        assert s.scalar(select(func.count()).select_from(Segment).where(Segment.node_id == "other")) == sum(
            1 for _, node, _ in seg_infos if node == "other"
        )


def test_an_actor_other_than_camgrid_is_named_in_the_entries(tmp_path: Path, db: Db) -> None:
    with unit_of_work(db.factory) as s:
        add_topology(s, {"D": None})
        add_camera(s, "c", "D", 1.0)
        add_segment(s, tmp_path, "c", NOW - 48 * H)
    operator = Actor("cli:alice", address="")
    r = RetentionRunner(
        factory=db.factory, cfg=RetentionConfig(), audit=db.audit, actor=operator, clock=db.clock, node_id="local"
    )
    assert r.run().age == 1
    assert [e["who"] for e in audit_entries(db)] == ["cli:alice"]
