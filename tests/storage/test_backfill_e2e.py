"""Edge backfill end to end (docs/design/onvif.md, "Edge backfill"): the real simulator (its cameras' SD cards keep
recording through an uplink cut), the real ``camgrid record`` with its backfill hook, the real onvif-python client
and RTSP replay. Cut an uplink, restore it: the gap shrinks to what the cards really lost, the recovered video is
stored as ``edge`` segments, every job is audited, a camera without Profile G says so, and nothing runs twice."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.backends import free_port
from tests.conftest import City, wait_for

NS = 1_000_000_000
ENV = {
    "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
    "CAMGRID_SIM__ONVIF_PORT": "0",
    "CAMGRID_SIM__DISCOVERY_PORT": "0",
    "CAMGRID_BACKFILL__INTERVAL_S": "1",
    "CAMGRID_BACKFILL__MIN_GAP_S": "3",
    "CAMGRID_BACKFILL__PER_NODE": "4",
}


def _jobs(city: City) -> list[Any]:
    return city.db("select camera_id, start_ns, end_ns, state, recovered_ns, attempts, detail from backfill_jobs")


def _lost_ns(city: City, cam: str, lo: int, hi: int) -> int:
    """Nanoseconds of [lo, hi) inside a gap of the camera."""
    total = 0
    for _c, s, e, _r, _d in city.gaps(cam):
        e = hi if e is None else e
        total += max(0, min(e, hi) - max(s, lo))
    return total


def test_uplink_cut_is_backfilled_from_the_cards(city_factory: Any) -> None:
    env = dict(ENV, CAMGRID_SIM__ONVIF_PORT=str(free_port()))
    city: City = city_factory(4, extra_env=env)
    cams = {c["id"]: c for c in city.cameras()}
    ids = sorted(cams)
    rec = city.start_recorder()
    wait_for(lambda: all(city.recording_since(c, 0) for c in ids), 60, what="recording")
    time.sleep(2)
    cut = city.fault("uplink_cut", "U-01")
    t_cut, silent = int(cut["t"] * NS), sorted(cut["cameras"])
    assert silent, cut
    time.sleep(8)
    restore = city.fault("uplink_restore", "U-01")
    t_restore = int(restore["t"] * NS)
    wait_for(lambda: all(city.recording_since(c, t_restore) for c in silent), 60, what="recording after the cut")
    # A job per silent camera, finished: done for those with a card, nothing_held for a model without Profile G.
    wait_for(
        lambda: (
            len(_jobs(city)) >= len(silent) and all(j[3] in ("done", "nothing_held", "failed") for j in _jobs(city))
        ),
        90,
        what="backfill jobs finished",
    )
    jobs = {j[0]: j for j in _jobs(city)}
    assert sorted(jobs) == silent, (jobs, rec.text()[-3000:])
    truth = {c: json.loads(json.dumps(city.control("GET", f"/sdcard/{c}"))) for c in silent if _has_card(city, c)}
    for cam in silent:
        job = jobs[cam]
        if cam not in truth:
            assert job[3] == "nothing_held" and "Profile G" in job[6], job
            continue
        assert job[3] == "done", (job, rec.text()[-3000:])
        held = sum(max(0, min(e, job[2]) - max(s, job[1])) for s, e in truth[cam]["spans"])
        assert job[4] >= held - 2 * NS, f"{cam}: recovered {job[4] / NS:.1f} s of {held / NS:.1f} s held"
        # The gap shrank to (almost) nothing: what remains is under a GOP at each end.
        assert _lost_ns(city, cam, t_cut, t_restore) <= 2 * NS, city.gaps(cam)
        edge = city.db("select count(*) from segments where camera_id = :c and source = 'edge'", c=cam)[0][0]
        assert edge >= 1
    # One audit entry per job, as camgrid itself, naming the camera and the interval.
    entries = [json.loads(r[0]) for r in city.db("select data from audit_entries where action = 'backfill'")]
    assert sorted(e["camera"] for e in entries) == silent
    assert all(e["who"] == "camgrid" and e["t_from_ns"] < e["t_to_ns"] for e in entries)
    # Never twice: more passes make no new job and no new segment.
    before = city.db("select count(*) from segments")[0][0]
    time.sleep(3)
    assert len(_jobs(city)) == len(silent)
    edge_after = city.db("select count(*) from segments where source = 'edge'")[0][0]
    rec.stop()
    assert city.db("select count(*) from segments where source = 'edge'")[0][0] == edge_after
    assert city.db("select count(*) from segments")[0][0] >= before
    for cam in set(ids) - set(silent):
        assert _lost_ns(city, cam, t_cut, t_restore) == 0, f"{cam} (not cut) lost video"


def _has_card(city: City, cam: str) -> bool:
    try:
        city.control("GET", f"/sdcard/{cam}")
    except Exception:
        return False
    return True
