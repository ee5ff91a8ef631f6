"""The keyframe sampler (camgrid/motion/keyframes.py): the tap keeps only each camera's latest keyframe and its
parameter sets; each camera is decoded at most once per interval, never twice the same keyframe, with at most
``2 x workers`` decodes in flight; a camera that went away has nothing to decode; the workers' CPU time is counted."""

from __future__ import annotations

import time
from dataclasses import replace

from camgrid.clock import FakeClock
from camgrid.media.nal import H264
from camgrid.motion.keyframes import KeyframeSampler, Sample
from tests.backends import wait_for
from tests.motion.pictures import keyframe_units


def test_one_decode_per_camera_and_interval_of_its_latest_keyframe() -> None:
    clock = FakeClock()
    got: list[Sample] = []
    sampler = KeyframeSampler(clock=clock, codec_of=lambda _: H264, interval_s=5, workers=1, on_sample=got.append)
    params, units = keyframe_units("normal")
    first = replace(units[0], params=list(params))  # the parameter sets travel with the first keyframe
    sampler.start(schedule=False)  # this test steps it
    try:
        for i in range(8):  # eight cameras: at most two decodes in flight at a time
            sampler.tap(f"cam-{i}", first, 0, False)
        assert sampler.step() == 2
        wait_for(lambda: (sampler.step() == 0 and len(got) == 8) or (sampler.step() and False), 30, what="all decoded")
        assert sorted(s.camera_id for s in got) == [f"cam-{i}" for i in range(8)]
        assert all(s.look.small.shape == (54, 96) and 100 < s.look.mean < 150 for s in got)
        got.clear()
        sampler.tap("cam-0", units[1], 0, False)  # a newer keyframe, but the interval has not passed
        assert sampler.step() == 0
        clock.advance(5)
        assert sampler.step() == 1
        wait_for(lambda: (sampler.step(), got)[1], 30, interval=0.01, what="the next sample")
        clock.advance(5)
        assert sampler.step() == 0  # no newer keyframe: the same one is never decoded twice
        sampler.tap("cam-1", units[1], 0, False)
        sampler.session("cam-1", False, "offline", clock.wall_ns())  # gone: nothing to judge
        assert sampler.step() == 0
        assert sampler.cpu_s > 0 and sampler.gauges()["camgrid_tamper_cpu_seconds_total"] == sampler.cpu_s
        assert got[0].still()[:2] == b"\xff\xd8"
    finally:
        sampler.stop()


def test_the_tap_is_cheap() -> None:
    sampler = KeyframeSampler(clock=FakeClock(), codec_of=lambda _: H264, interval_s=5, workers=1, on_sample=print)
    _, units = keyframe_units("normal")
    other = replace(units[1], key=False)
    t0 = time.perf_counter()
    for i in range(100_000):
        sampler.tap(f"cam-{i % 64}", other if i % 25 else units[0], 0, False)
    per_picture = (time.perf_counter() - t0) / 100_000
    assert per_picture < 5e-6, per_picture  # a dict lookup and two attribute reads


def test_only_the_cameras_recorded_here_are_decoded() -> None:
    sampler = KeyframeSampler(
        clock=FakeClock(),
        codec_of=lambda _: H264,
        interval_s=5,
        workers=1,
        on_sample=print,
        wanted=lambda cid: not cid.endswith("~sub"),  # the recorder's taps also see live-only substreams
    )
    params, units = keyframe_units("normal")
    first = replace(units[0], params=list(params))
    sampler.start(schedule=False)
    try:
        sampler.tap("cam-1~sub", first, 0, False)
        assert sampler.step() == 0 and sampler.gauges()["camgrid_tamper_cameras"] == 0
        sampler.tap("cam-1", first, 0, False)
        assert sampler.step() == 1 and sampler.gauges()["camgrid_tamper_cameras"] == 1
    finally:
        sampler.stop()
