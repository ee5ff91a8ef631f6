"""The recorder against the real simulator over RTSP, checked with the real ffmpeg/ffprobe.

Each test runs its own simulated city and recorder processes on free loopback ports.
"""

from __future__ import annotations

import itertools
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from camgrid.sim import layout
from camgrid.sim.service import prepare
from tests.conftest import CLIP_CACHE, City, wait_for
from tests.storage.media_check import decode_errors, probe, stored_access_units

NS = 1_000_000_000
FAST = {"CAMGRID_RECORDER__SEGMENT_SECONDS": "4"}


def all_recording(city: City, cams: list[str], since_ns: int = 0) -> bool:
    return all(city.recording_since(c, since_ns) for c in cams)


def camera_ids(city: City) -> list[str]:
    return [c["id"] for c in city.cameras()]


def clip_frames(city: City, camera: str) -> list[list[bytes]]:
    """The access units the simulator loops for ``camera`` (rebuilt from the same cached clip)."""
    spec = next(s for s in layout.read_registry(city.registry) if s.id == camera)
    state = prepare(
        [spec],
        cache_dir=CLIP_CACHE,
        width=1280,
        height=720,
        fps=25,
        bitrate_kbps=2000,
        gop_seconds=2.0,
        clip_seconds=4.0,
    )
    return [[bytes(n) for n in au] for au in state[camera].clip.frames]


def test_bit_exact_h264_and_h265(city_factory: Any) -> None:
    """The access units stored equal those the simulator sent, for H.264 and H.265, and ffmpeg decodes them cleanly."""
    city: City = city_factory(2, h265_every=2, extra_env=FAST)
    cams = camera_ids(city)
    rec = city.start_recorder()
    wait_for(
        lambda: all(len([s for s in city.segments(c) if s[7] == "complete"]) >= 2 for c in cams),
        40,
        what="two complete segments per camera",
    )
    rec.stop()
    codecs = set()
    for cam in cams:
        frames = clip_frames(city, cam)
        n = len(frames)
        segs = [s for s in city.segments(cam) if s[7] == "complete"]
        for prev, seg in itertools.pairwise(segs):
            assert seg[1] >= prev[2], "segments of a camera never overlap"
        for seg in segs:
            path, codec = Path(seg[3]), seg[6]
            codecs.add(codec)
            assert decode_errors(path) == ""
            info = probe(path)
            assert (info["width"], info["height"]) == (1280, 720)
            assert info["codec"] == ("h264" if codec == "h264" else "hevc")
            stored = stored_access_units(path, codec)
            assert len(stored) == seg[5] == info["frames"]
            # The stored sequence is a contiguous run of the clip the simulator loops, starting on a keyframe.
            offsets = [k for k in range(n) if frames[k] == stored[0]]
            assert offsets, "the first stored picture is one the simulator sent"
            k = offsets[0]
            mismatches = sum(1 for i, au in enumerate(stored) if au != frames[(k + i) % n])
            assert mismatches == 0
            assert abs(info["duration"] - (seg[2] - seg[1]) / NS) < 0.05
    assert codecs == {"h264", "h265"}


def test_kill_9_loses_at_most_a_second_and_records_the_downtime(city_factory: Any) -> None:
    city: City = city_factory(3, extra_env=FAST)
    cams = camera_ids(city)
    rec = city.start_recorder()
    wait_for(lambda: all_recording(city, cams), 30, what="recording")
    time.sleep(random.uniform(2.0, 7.0))  # a random moment inside a segment
    killed_ns = time.time_ns()
    rec.popen.send_signal(signal.SIGKILL)
    rec.popen.wait(10)
    torn = [s for s in city.segments() if s[7] == "writing"]
    assert torn, "the kill left segments open"
    time.sleep(2.0)
    restarted_ns = time.time_ns()
    rec2 = city.start_recorder()
    wait_for(lambda: all_recording(city, cams, restarted_ns), 30, what="recording after the restart")
    rec2.stop()
    assert "recovery:" in rec2.text()
    for cam in cams:
        segs = city.segments(cam)
        assert all(s[7] == "complete" for s in segs)
        before = [s for s in segs if s[1] < killed_ns]
        for s in before:
            assert decode_errors(Path(s[3])) == "", s[3]
        last_end = max(s[2] for s in before)
        assert killed_ns - last_end <= 1.5 * NS, f"{cam} lost {(killed_ns - last_end) / NS:.2f} s before the kill"
        downtime = [g for g in city.gaps(cam) if g[3] == "recorder_not_running" and g[2] is not None]
        assert any(g[1] <= last_end + NS // 100 and g[2] >= restarted_ns for g in downtime), city.gaps(cam)


def gaps_overlapping(city: City, cam: str, start_ns: int, end_ns: int) -> list[Any]:
    return [g for g in city.gaps(cam) if g[1] < end_ns and (g[2] is None or g[2] > start_ns)]


def test_feeder_power_cut_gaps_match_ground_truth(city_factory: Any) -> None:
    city: City = city_factory(12, extra_env=FAST)
    cams = camera_ids(city)
    rec = city.start_recorder()
    wait_for(lambda: all_recording(city, cams), 30, what="recording")
    time.sleep(1.0)
    cut = city.fault("power_cut", "F-01")
    affected = cut["cameras"]
    assert 0 < len(affected) < len(cams)
    time.sleep(6.0)
    restore = city.fault("power_restore", "F-01")
    t_cut, t_restore = int(cut["t"] * NS), int(restore["t"] * NS)
    # Every camera of the feeder records again (how soon, the reconnect median, is a service-level timing that a
    # test on a busy machine cannot judge: the wait is only a safety net).
    wait_for(lambda: all(city.recording_since(c, t_restore) for c in affected), 60, what="the feeder's cameras back")
    t_stop = time.time_ns()
    rec.stop()
    for cam in affected:
        gaps = gaps_overlapping(city, cam, t_cut, t_restore)
        assert len(gaps) == 1, gaps
        start, end, reason = gaps[0][1], gaps[0][2], gaps[0][3]
        assert abs(start - t_cut) <= NS, f"{cam}: gap starts {(start - t_cut) / NS:+.2f} s from the cut"
        assert end is not None and t_restore <= end <= t_stop
        assert reason == "unreachable"
    for cam in set(cams) - set(affected):
        assert gaps_overlapping(city, cam, t_cut - NS, t_stop) == [], f"{cam} was disturbed"


def test_uplink_cut_is_a_stalled_gap_from_the_last_sample(city_factory: Any) -> None:
    """A silent uplink cut (no reset) becomes a ``stalled`` gap starting at the last sample. How soon it is noticed
    (``stall_timeout_s``) is a service-level timing, not judged here: the wait below is only a safety net."""
    city: City = city_factory(6, extra_env=FAST)
    cams = camera_ids(city)
    rec = city.start_recorder()
    wait_for(lambda: all_recording(city, cams), 30, what="recording")
    time.sleep(1.5)
    cut = city.fault("uplink_cut", "U-01")
    t_cut = int(cut["t"] * NS)
    silent = cut["cameras"]
    wait_for(lambda: all(gaps_overlapping(city, c, t_cut, t_cut + 60 * NS) for c in silent), 60, what="stall gaps")
    for cam in silent:
        gap = gaps_overlapping(city, cam, t_cut, t_cut + 60 * NS)[0]
        assert gap[3] == "stalled"
        assert abs(gap[1] - t_cut) <= NS
    restore = city.fault("uplink_restore", "U-01")
    t_restore = int(restore["t"] * NS)
    wait_for(lambda: all_recording(city, silent, t_restore), 60, what="recording after the uplink returns")
    rec.stop()
    for cam in set(cams) - set(silent):
        assert gaps_overlapping(city, cam, t_cut - NS, t_restore) == []


def test_garbage_camera_and_refused_password_leave_the_others_unharmed(city_factory: Any) -> None:
    city: City = city_factory(5, extra_env=FAST)
    cams = camera_ids(city)
    rec = city.start_recorder()
    wait_for(lambda: all_recording(city, cams), 30, what="recording")
    bad, locked = cams[0], cams[1]
    t0 = int(city.fault("garbage", bad)["t"] * NS)
    city.fault("auth_refuse", locked)
    wait_for(lambda: any(g[3] == "bad_stream" for g in city.gaps(bad)), 15, what="a bad_stream gap")
    wait_for(lambda: any(g[3] == "auth_refused" for g in city.gaps(locked)), 15, what="an auth_refused gap")
    time.sleep(3)
    t1 = time.time_ns()
    assert rec.popen.poll() is None, "the recorder survives"
    for cam in cams[2:]:
        assert gaps_overlapping(city, cam, t0, t1) == [], f"{cam} was disturbed"
        assert city.recording_since(cam, t0 - 5 * NS)
    city.fault("garbage_stop", bad)
    t2 = time.time_ns()
    wait_for(lambda: city.recording_since(bad, t2), 20, what="the garbage camera to record again")
    rec.stop()
    passwords = [row["password"] for row in _registry_rows(city)]
    logs = rec.text() + city.sim.text()  # type: ignore[union-attr]
    assert passwords and not any(p in logs for p in passwords), "a camera password reached a log"


def _registry_rows(city: City) -> list[dict[str, str]]:
    import csv

    with city.registry.open() as fh:
        return list(csv.DictReader(fh))


def test_camera_clock_jump_keeps_time_continuous(city_factory: Any) -> None:
    city: City = city_factory(2, extra_env=FAST)
    cams = camera_ids(city)
    rec = city.start_recorder()
    wait_for(lambda: all_recording(city, cams), 30, what="recording")
    cam = cams[0]
    t_jump = int(city.fault("clock_jump", cam, 3600.0)["t"] * NS)
    city.fault("clock_jump", cams[1], -1800.0)
    wait_for(lambda: len([s for s in city.segments(cam) if s[1] > t_jump]) >= 2, 30, what="segments after the jump")
    rec.stop()
    now = time.time_ns()
    for c in cams:
        segs = [s for s in city.segments(c) if s[7] == "complete"]
        for prev, seg in itertools.pairwise(segs):
            assert seg[1] >= prev[2], "no overlap"
            assert seg[1] - prev[2] < NS // 2, "no hole"
        for seg in segs:
            assert seg[2] <= now + NS, "no time in the future"
            assert decode_errors(Path(seg[3])) == ""


@pytest.mark.parametrize("token_ok", [True, False])
def test_metrics_need_a_token_and_report_each_camera(city_factory: Any, token_ok: bool) -> None:
    import urllib.error
    import urllib.request

    city: City = city_factory(2, extra_env=FAST)
    cams = camera_ids(city)
    rec = city.start_recorder()
    wait_for(lambda: all_recording(city, cams), 30, what="recording")
    token = (city.home / "run" / "metrics.token").read_text().strip() if token_ok else "wrong"
    req = urllib.request.Request(
        f"http://127.0.0.1:{city.metrics_port}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            body = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = "", exc.code
    rec.stop()
    if not token_ok:
        assert status == 401
        return
    assert status == 200
    for cam in cams:
        assert f'camgrid_camera_received_bytes_total{{camera="{cam}"}}' in body
        assert f'camgrid_camera_state{{camera="{cam}",state="recording"}} 1' in body
    assert "camgrid_camera_gap_seconds_total" in body and "camgrid_camera_reconnects_total" in body
