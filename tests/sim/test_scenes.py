"""Scene cameras on the wire (docs/design/simulator.md, "Scene cameras"): what a client receives is decoded with
PyAV and each variant checked for what it claims to be (dark, blurred, another view, white, frozen, motion only in
its cell); the switch happens at a keyframe without a break in sequence numbers, and the truth line is written at
that keyframe. Plus the grid's geometry and the scene script's checks as tables.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from numpy.typing import NDArray

from camgrid.cli.main import cli
from camgrid.media.rtp import AccessUnit, Depacketizer, rtp_header
from camgrid.privacy.masker import avcc_to_annexb
from camgrid.sim import scenes
from camgrid.sim.faults import FaultError, FaultInjector
from camgrid.sim.layout import SimCameraSpec
from camgrid.sim.scene_director import ScriptRunner, parse_script
from tests.sim.wire import Client, Harness

Picture = NDArray[np.float64]


# geometry and scripts: pure tables ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("region", "cells"),
    [
        ([0.0, 0.0, 1.0, 1.0], tuple(range(16))),
        ([0.0, 0.0, 0.25, 0.25], (0,)),
        ([0.3, 0.3, 0.45, 0.45], (5,)),
        ([0.2, 0.6, 0.3, 0.7], (8, 9)),  # straddles two columns
        ([0.74, 0.74, 0.76, 0.76], (10, 11, 14, 15)),  # a corner shared by four cells
        ([0.5, 0.75, 1.0, 1.0], (14, 15)),  # edges on the grid take no neighbour
    ],
)
def test_a_region_snaps_to_the_cells_it_covers(region: list[float], cells: tuple[int, ...]) -> None:
    assert scenes.cells_of_region(region) == cells
    box = scenes.region_of_cells(cells)
    assert box[0] <= region[0] and box[1] <= region[1] and box[2] >= region[2] and box[3] >= region[3]
    assert scenes.variant_cells(scenes.motion_variant(cells)) == sorted(cells)


@pytest.mark.parametrize("region", [[0.5, 0.5, 0.5, 0.9], [0.0, 0.0, 1.1, 1.0], [-0.1, 0.0, 0.5, 0.5], [0.1, 0.2]])
def test_bad_regions_are_refused(region: list[float]) -> None:
    with pytest.raises(ValueError):
        scenes.cells_of_region(region)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ([{"at_s": 5, "kind": "cover", "camera": "c"}], None),
        ([{"at_s": 5, "kind": "motion", "camera": "c", "region": [0, 0, 0.5, 0.5], "seconds": 3}], None),
        ([{"at_s": 1, "kind": "motion", "camera": "c", "cell": 7}], None),
        ({"at_s": 1}, "a list"),
        ([{"at_s": -1, "kind": "cover", "camera": "c"}], "entry 0"),
        ([{"at_s": 1, "kind": "explode", "camera": "c"}], "entry 0"),
        ([{"at_s": 1, "kind": "cover"}], "entry 0"),
        ([{"at_s": 1, "kind": "motion", "camera": "c", "cell": 16}], "entry 0"),
        ([{"at_s": 1, "kind": "motion", "camera": "c", "region": [0.6, 0, 0.5, 1]}], "entry 0"),
        ([{"at_s": 1, "kind": "cover", "camera": "c", "colour": "red"}], "entry 0"),
    ],
)
def test_scene_scripts_are_checked(raw: Any, error: str | None) -> None:
    kinds = ["cover", "motion", "scene_restore"]
    if error is None:
        assert len(parse_script(raw, kinds)) == 1
    else:
        with pytest.raises(ValueError, match=error):
            parse_script(raw, kinds)


def test_a_script_runs_its_entries_in_time_order_from_its_start() -> None:
    raw = [
        {"at_s": 10, "kind": "scene_restore", "camera": "a"},
        {"at_s": 2, "kind": "cover", "camera": "a"},
        {"at_s": 2.5, "kind": "bad", "camera": "b"},
    ]
    applied: list[tuple[float, str]] = []

    def apply(e: Any) -> None:
        if e.kind == "bad":
            raise ValueError("refused")  # logged, the script goes on
        applied.append((e.at_s, e.kind))

    runner = ScriptRunner(parse_script(raw, ["cover", "scene_restore", "bad"]), apply)
    runner.poll(100.0)
    runner.poll(101.9)
    assert applied == []
    runner.poll(102.6)
    assert applied == [(2.0, "cover")]
    runner.poll(110.0)
    assert applied == [(2.0, "cover"), (10.0, "scene_restore")]


# on the wire -------------------------------------------------------------------------------------------------------
def _spec(camera_id: str, index: int, scene: bool = True) -> SimCameraSpec:
    return SimCameraSpec(camera_id, index, camera_id, 27.7, 85.3, "d", "s", "f", "u", "h264", "", "", 0.0, (), scene)


class Scene:
    def __init__(self, truth: Path) -> None:
        self.h = Harness([_spec("cam-0001", 1), _spec("cam-0002", 2), _spec("cam-0003", 3, scene=False)])
        self.faults = FaultInjector(self.h.sim, truth)
        self.truth = truth
        self.client: Client = self.h.connect("cam-0001")
        assert self.client.play().status == 200
        self.seen = 0  # packets of the client already looked at

    def fault(self, kind: str, **kw: Any) -> dict[str, Any]:
        cam = self.h.cameras["cam-0001"]
        gen = cam.loop_gen
        entry = self.faults.apply(kind, "cam-0001", **kw)
        for _ in range(1200):  # variants are encoded on the simulator's worker thread, never on its event loop
            if cam.loop_gen != gen:
                break
            self.h.spin()
            threading.Event().wait(0.01)
        assert cam.loop_gen != gen
        return entry

    def pictures(self, seconds: float) -> list[AccessUnit]:
        """The pictures that arrive in the next ``seconds`` of camera time."""
        self.h.advance(seconds)
        packets = self.client.packets()[self.seen :]
        self.seen += len(packets)
        dep = Depacketizer("h264")
        out = []
        for p in packets:
            dep.push(rtp_header(p.seq, p.ts, p.ssrc, p.marker, p.pt) + p.payload)
            out += dep.ready
            dep.ready.clear()
        return out

    def truth_lines(self) -> list[dict[str, Any]]:
        if not self.truth.exists():
            return []
        return [json.loads(line) for line in self.truth.read_text().splitlines()]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    s = Scene(tmp_path_factory.mktemp("scenes") / "truth.jsonl")
    try:
        yield s
    finally:
        s.h.sim.scenes.close()
        s.h.close()


def _decode(aus: list[AccessUnit]) -> list[Picture]:
    """Luma of each picture, decoding from the first keyframe on (PyAV)."""
    import av

    dec: Any = av.CodecContext.create("h264", "r")
    first = next(i for i, au in enumerate(aus) if au.key)
    out = []
    for au in aus[first:]:
        data = b"".join(b"\x00\x00\x00\x01" + p for p in au.params) + avcc_to_annexb(au.data)
        for frame in dec.decode(av.Packet(data)):
            out.append(frame.to_ndarray(format="gray").astype(np.float64))
    return out


def _after_switch(aus: list[AccessUnit]) -> list[AccessUnit]:
    """The pictures from the first keyframe on: a variant asked for just before is shown from there."""
    return aus[next(i for i, au in enumerate(aus) if au.key) :]


def _from_last_key(aus: list[AccessUnit]) -> list[AccessUnit]:
    return aus[[i for i, au in enumerate(aus) if au.key][-1] :]


def _body(y: Picture) -> Picture:
    """The picture without its top row of cells (the clock lives in the top-left one)."""
    return y[y.shape[0] // 4 :, :]


def _edges(y: Picture) -> float:
    """The share of sharp steps between neighbours (blur spreads an edge: its steps become small)."""
    return float((np.abs(np.diff(y, axis=1)) > 16).mean() + (np.abs(np.diff(y, axis=0)) > 16).mean())


def _cell_motion(frames: list[Picture]) -> NDArray[np.float64]:
    """Per cell of the 4x4 grid, the largest mean absolute change between pictures three apart."""
    h, w = frames[0].shape
    out = np.zeros(16)
    for a, b in itertools.pairwise(frames[::3]):
        d = np.abs(a - b)
        for c in range(16):
            r, col = divmod(c, 4)
            out[c] = max(out[c], d[r * h // 4 : (r + 1) * h // 4, col * w // 4 : (col + 1) * w // 4].mean())
    return out


def test_each_variant_shows_what_it_claims_on_the_wire(scene: Scene) -> None:
    still = _decode(scene.pictures(2.2))
    ref = _body(still[-1])
    assert _cell_motion(still)[1:].max() < 1.0  # a still picture: nothing moves (the clock is in cell 0)
    seqs = [p.seq for p in scene.client.packets()]

    lines_before = len(scene.truth_lines())
    scene.fault("cover")
    aus = scene.pictures(2.2)
    line = scene.truth_lines()[lines_before]
    assert line["kind"] == "cover" and line["cameras"] == ["cam-0001"] and "region" not in line
    cover = _decode(_after_switch(aus))
    assert _body(cover[-1]).mean() < 40 and _body(cover[-1]).std() < 4  # dark and flat

    scene.fault("defocus")
    blur = _body(_decode(_after_switch(scene.pictures(2.2)))[-1])
    assert _edges(blur) < 0.2 * _edges(ref) and abs(blur.mean() - ref.mean()) < 15  # the same scene, blurred

    scene.fault("turn")
    turned = _body(_decode(_after_switch(scene.pictures(2.2)))[-1])
    assert np.abs(turned - ref).mean() > 30 and _edges(turned) > 0.6 * _edges(ref)  # sharp, but somewhere else

    scene.fault("blind")
    white = _body(_decode(_after_switch(scene.pictures(2.2)))[-1])
    assert white.mean() > 200 and white.std() < 0.3 * ref.std()

    scene.fault("scene_restore")
    back = _body(_decode(_after_switch(scene.pictures(2.2)))[-1])
    assert np.abs(back - ref).mean() < 3

    seqs = [p.seq for p in scene.client.packets()]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))  # one unbroken stream throughout
    kinds = [line["kind"] for line in scene.truth_lines()[lines_before:]]
    assert kinds == ["cover", "defocus", "turn", "blind", "scene_restore"]


def test_a_frozen_camera_repeats_one_picture(scene: Scene) -> None:
    scene.fault("freeze")
    aus = scene.pictures(3.2)
    keys = [i for i, au in enumerate(aus) if au.key]
    frozen = aus[keys[0] :]  # from the first keyframe after the fault
    key_bytes = {bytes(au.data) for au in frozen if au.key}
    assert len([au for au in frozen if au.key]) >= 2 and len(key_bytes) == 1  # identical keyframes
    assert max(len(au.data) for au in frozen if not au.key) < 60  # "nothing changed"
    frames = _decode(frozen)
    gop = keys[1] - keys[0]
    assert all(np.array_equal(a, b) for a, b in zip(frames, frames[gop:], strict=False))  # the same, again and again
    assert max(float(np.abs(frames[0] - f).mean()) for f in frames) < 0.5  # the clock and the noise stopped too
    scene.fault("scene_restore")
    scene.pictures(1.2)


def test_motion_moves_only_in_its_cell_and_ends_by_itself(scene: Scene) -> None:
    lines_before = len(scene.truth_lines())
    entry = scene.fault("motion", region=[0.55, 0.3, 0.7, 0.45], seconds=2.0)  # inside cell 6
    assert entry["region"] == [0.5, 0.25, 0.75, 0.5]
    aus = scene.pictures(1.6)
    line = scene.truth_lines()[lines_before]
    assert line["kind"] == "motion" and line["region"] == [0.5, 0.25, 0.75, 0.5]
    assert line["until"] == pytest.approx(line["t"] + 2.0)
    moving = _cell_motion(_decode(_after_switch(aus)))
    assert moving[6] > 5.0
    assert np.delete(moving, [0, 6]).max() < 1.0  # nothing else moves (cell 0: the clock)
    sizes = [len(au.data) for au in _after_switch(aus) if not au.key]
    assert np.median(sizes) > 60  # motion makes big pictures (a still one's are a few dozen bytes)

    after = _from_last_key(scene.pictures(2.2))  # past `until`: the still picture from the next keyframe
    assert _cell_motion(_decode(after))[1:].max() < 1.0
    assert scene.h.cameras["cam-0001"].variant == scenes.STILL
    assert [line["kind"] for line in scene.truth_lines()[lines_before:]] == ["motion"]  # `until` said when


def test_the_truth_is_written_at_the_keyframe_that_changes_the_picture(scene: Scene) -> None:
    scene.pictures(0.5)  # mid-GOP (keyframes every second)
    cam = scene.h.cameras["cam-0001"]
    before = len(scene.truth_lines())
    scene.fault("cover")  # already encoded: installed at once, shown at the next keyframe
    assert cam.scene_pending is not None and len(scene.truth_lines()) == before  # not on the wire yet
    scene.pictures(1.2)
    assert cam.scene_pending is None and len(scene.truth_lines()) == before + 1
    scene.fault("scene_restore")
    scene.pictures(1.2)


def test_a_camera_nobody_watches_changes_at_once_and_others_are_refused(scene: Scene) -> None:
    before = len(scene.truth_lines())
    scene.faults.apply("cover", "cam-0002")
    cam = scene.h.cameras["cam-0002"]
    for _ in range(1200):
        if cam.variant == "cover":
            break
        scene.h.spin()
        threading.Event().wait(0.01)
    assert [line["subject"] for line in scene.truth_lines()[before:]] == ["cam-0002"]
    with pytest.raises(FaultError, match="not a scene camera"):
        scene.faults.apply("cover", "cam-0003")
    with pytest.raises(FaultError):
        scene.faults.apply("motion", "cam-0001", cell=16)


def test_the_control_api_and_a_script_drive_the_same_faults(scene: Scene) -> None:
    from camgrid.sim.service import ControlApi

    api = ControlApi(scene.h.sim, scene.faults)
    body = json.dumps({"kind": "motion", "subject": "cam-0002", "cell": 9, "seconds": 1.0}).encode()
    status, entry = api.route("POST", "/fault", body)
    assert status == "200 OK" and entry["region"] == [0.25, 0.5, 0.5, 0.75]
    for bad in (
        {"kind": "motion", "subject": "cam-0002", "region": [0.5, 0.5, 0.2, 0.9]},
        {"kind": "motion", "subject": "cam-0002", "cell": "x"},
        {"kind": "cover", "subject": "cam-0003"},
    ):
        status, answer = api.route("POST", "/fault", json.dumps(bad).encode())
        assert status.startswith("400") and answer["error"]
    cams = {c["id"]: c for c in api.route("GET", "/cameras", b"")[1]}
    assert cams["cam-0002"]["scene"] is True and cams["cam-0003"]["scene"] is False

    before = len(scene.truth_lines())
    script = [
        {"at_s": 1.0, "kind": "blind", "camera": "cam-0001"},
        {"at_s": 3.0, "kind": "scene_restore", "camera": "cam-0001"},
    ]
    scene.faults.run_script(parse_script(script, ["blind", "scene_restore"]))
    scene.faults.poll(scene.h.now)  # the script starts now
    scene.pictures(0.9)
    scene.faults.poll(scene.h.now)
    assert scene.h.cameras["cam-0001"].variant == scenes.STILL
    for _ in range(40):
        scene.pictures(0.1)
        scene.faults.poll(scene.h.now)
        if scene.h.cameras["cam-0001"].variant == "blind":
            break
    assert scene.h.cameras["cam-0001"].variant == "blind"
    for _ in range(40):
        scene.pictures(0.1)
        scene.faults.poll(scene.h.now)
    kinds = [(line["kind"], line["subject"]) for line in scene.truth_lines()[before:]]
    assert ("blind", "cam-0001") in kinds and ("scene_restore", "cam-0001") in kinds
    t = {line["kind"]: line["t"] for line in scene.truth_lines()[before:] if line["subject"] == "cam-0001"}
    assert t["scene_restore"] > t["blind"]


@pytest.mark.parametrize(
    ("scenes_arg", "script", "error"),
    [
        ("2", [{"at_s": 5, "kind": "cover", "camera": "cam-0002"}], None),
        ("all", [{"at_s": 5, "kind": "motion", "camera": "cam-0004", "cell": 3}], None),
        ("2", [{"at_s": 5, "kind": "cover", "camera": "cam-0003"}], "not a scene camera"),
        ("2", [{"at_s": 5, "kind": "stall", "camera": "cam-0099"}], "no camera"),
        ("2", [{"at_s": 5, "kind": "melt", "camera": "cam-0001"}], "entry 0"),
        ("cam-0002,cam-0004", [{"at_s": 5, "kind": "freeze", "camera": "cam-0004"}], None),
        ("cam-0002,cam-0004", [{"at_s": 5, "kind": "freeze", "camera": "cam-0003"}], "not a scene camera"),
        ("many", [], "unknown: ['many']"),
    ],
)
def test_the_command_checks_its_scene_script_against_the_city(
    tmp_path: Path, scenes_arg: str, script: list[dict[str, Any]], error: str | None
) -> None:
    path = tmp_path / "scenes.json"
    path.write_text(json.dumps(script))
    args = ["--home", str(tmp_path / "home"), "sim", "--count", "4", "--scenes", scenes_arg]
    args += ["--scene-script", str(path), "--layout-only", "--out", str(tmp_path / "cams.csv")]
    result = CliRunner().invoke(cli, args)
    if error is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0 and error in result.output


def test_a_switch_mid_loop_keeps_both_tracks_numbers_running() -> None:
    """Audio interleaved with video: at the keyframe where the variant starts, each track's sequence numbers go on
    by one and its timestamps keep their pace."""
    h = Harness([dataclasses.replace(_spec("cam-0001", 1), quirks=("audio-pcma",))])
    try:
        faults = FaultInjector(h.sim, None)
        client = h.connect("cam-0001")
        assert client.play(audio=True).status == 200
        h.advance(0.5)
        cam = h.cameras["cam-0001"]
        faults.apply("turn", "cam-0001")
        for _ in range(1200):
            if cam.variant == "turn":
                break
            h.spin()
            threading.Event().wait(0.01)
        h.advance(2.0)
        assert h.sim.scenes.written and h.sim.scenes.written[-1]["kind"] == "turn"  # switched on the wire
        for channel in (0, 2):
            packets = client.packets(channel)
            assert len(packets) > 20
            assert all((b.seq - a.seq) & 0xFFFF == 1 for a, b in itertools.pairwise(packets))
            assert all(0 <= (b.ts - a.ts) & 0xFFFFFFFF <= 90_000 // 10 for a, b in itertools.pairwise(packets))
    finally:
        h.sim.scenes.close()
        h.close()


def test_a_variant_waiting_for_a_session_that_left_is_told_by_the_next_one(scene: Scene) -> None:
    cam = scene.h.cameras["cam-0002"]
    other = scene.h.connect("cam-0002")
    assert other.play().status == 200
    scene.h.advance(0.3)
    before = len(scene.truth_lines())
    scene.faults.apply("defocus", "cam-0002")
    for _ in range(1200):  # installed (encoded first if need be), then it waits for the session's next keyframe
        if cam.variant == "defocus":
            break
        scene.h.spin()
        threading.Event().wait(0.01)
    assert cam.scene_pending is not None
    other.close()  # the recorder's session drops before that keyframe
    scene.h.spin()
    assert len(scene.truth_lines()) == before
    again = scene.h.connect("cam-0002")
    assert again.play().status == 200  # it starts with the defocused picture: that is when the truth changes
    assert cam.scene_pending is None and scene.truth_lines()[before]["kind"] == "defocus"
    again.close()
