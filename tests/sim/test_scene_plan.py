"""The bench-motion script and its scoring (camgrid.sim.scene_plan) as tables: what a scripted run would give."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from camgrid.sim import scenes
from camgrid.sim.faults import FAULTS
from camgrid.sim.scene_director import parse_script
from camgrid.sim.scene_plan import (
    MotionEvent,
    TamperEvent,
    plan,
    read_truth,
    score_tamper,
    search_recall,
)

CAMS = [f"cam-{i:04d}" for i in range(1, 65)]


def test_the_plan_touches_a_quarter_for_tamper_a_quarter_for_motion_and_leaves_the_rest() -> None:
    p = plan(CAMS, duration_s=600.0)
    parse_script(p.script, sorted(FAULTS))  # the simulator takes it
    tampers = [e for e in p.script if e["kind"] in scenes.TAMPERS]
    assert len(tampers) == 15 and {e["kind"] for e in tampers} == set(scenes.TAMPERS)
    assert all(sum(e["kind"] == k for e in tampers) == 3 for k in scenes.TAMPERS)  # each kind several times
    assert all(e["at_s"] >= 120.0 and e["at_s"] + 90.0 <= 600.0 for e in tampers)
    restores = {e["camera"]: e["at_s"] for e in p.script if e["kind"] == scenes.RESTORE}
    assert all(restores[e["camera"]] == pytest.approx(e["at_s"] + 90.0) for e in tampers)
    assert len(p.motion_cells) == 16 and 0 not in p.motion_cells.values()  # cell 0 holds the clock
    touched = {e["camera"] for e in p.script}
    assert len(set(CAMS) - touched) == 33 and not set(p.tamper_cameras) & set(p.motion_cells)
    for cam, cell in p.motion_cells.items():
        moves = sorted((e["at_s"], e["cell"]) for e in p.script if e["camera"] == cam)
        assert sum(c == cell for _, c in moves) == 3 and sum(c != cell for _, c in moves) == 1  # one decoy
        assert all(b[0] - a[0] >= 8.0 for a, b in itertools.pairwise(moves))  # never overlapping
    assert plan(CAMS, duration_s=600.0) == p  # deterministic from its seed


def test_a_short_plan_is_refused_or_scaled() -> None:
    with pytest.raises(ValueError):
        plan(CAMS[:8], duration_s=200.0)
    small = plan(CAMS[:8], duration_s=300.0, lead_s=60.0, tamper_s=60.0, motions=2)
    assert len(small.tamper_cameras) == 2 and len(small.motion_cells) == 2


def _line(t: float, kind: str, cam: str, **kw: Any) -> dict[str, Any]:
    return {"t": t, "kind": kind, "subject": cam, "cameras": [cam], **kw}


def test_truth_lines_become_tamper_spans_and_motions() -> None:
    lines = [
        _line(100.0, "cover", "a"),
        _line(50.0, "motion", "b", region=[0.25, 0.25, 0.5, 0.5], until=58.0),
        _line(190.0, "scene_restore", "a"),
        _line(200.0, "freeze", "c"),
        _line(210.0, "turn", "c"),  # a second tamper ends the first
        _line(300.0, "scene_restore", "d"),  # a restore with nothing open
        _line(305.0, "power_cut", "F-01"),
    ]
    tampers, motions = read_truth(lines)
    assert tampers == [
        TamperEvent("a", "cover", 100.0, 190.0),
        TamperEvent("c", "freeze", 200.0, 210.0),
        TamperEvent("c", "turn", 210.0, None),
    ]
    assert motions == [MotionEvent("b", (0.25, 0.25, 0.5, 0.5), 50.0, 58.0)]


EVENTS = [TamperEvent("a", "cover", 100.0, 190.0), TamperEvent("b", "defocus", 100.0, 190.0)]


@pytest.mark.parametrize(
    ("incidents", "precision", "recall", "kinds", "p95"),
    [
        ([("a", 112.0, "covered"), ("b", 130.0, "defocused")], 1.0, 1.0, 1.0, 30.0),
        ([("a", 112.0, "covered")], 1.0, 0.5, 1.0, 12.0),
        ([("a", 112.0, "frozen"), ("b", 130.0, "defocused")], 1.0, 1.0, 0.5, 30.0),  # kind wrong, still found
        ([("a", 112.0, "covered"), ("b", 161.0, "defocused")], 0.5, 0.5, 1.0, 12.0),  # too late: a false alarm
        ([("a", 112.0, "covered"), ("a", 115.0, "covered")], 0.5, 0.5, 1.0, 12.0),  # one incident per event
        ([("a", 112.0, "covered"), ("z", 112.0, "covered"), ("b", 90.0, "turned")], 1 / 3, 0.5, 1.0, 12.0),
        ([], 0.0, 0.0, math.nan, math.nan),
    ],
)
def test_tamper_scores(
    incidents: list[tuple[str, float, str]], precision: float, recall: float, kinds: float, p95: float
) -> None:
    s = score_tamper(EVENTS, incidents)
    assert s.precision == pytest.approx(precision) and s.recall == pytest.approx(recall)
    assert (math.isnan(kinds) and math.isnan(s.kind_accuracy)) or s.kind_accuracy == pytest.approx(kinds)
    assert (math.isnan(p95) and math.isnan(s.latency_p95_s)) or s.latency_p95_s == pytest.approx(p95)


def test_search_recall_counts_only_motions_in_the_region_searched() -> None:
    motions = [
        MotionEvent("a", (0.25, 0.25, 0.5, 0.5), 100.0, 108.0),
        MotionEvent("a", (0.25, 0.25, 0.5, 0.5), 200.0, 208.0),
        MotionEvent("a", (0.75, 0.75, 1.0, 1.0), 300.0, 308.0),  # the decoy: elsewhere in the picture
        MotionEvent("b", (0.0, 0.5, 0.25, 0.75), 100.0, 108.0),  # a camera not searched
    ]
    searched = {"a": [0.25, 0.25, 0.5, 0.5]}
    assert search_recall(motions, searched, {"a": [(101.0, 104.0), (209.5, 212.0)]}) == (1.0, 2, 2)  # 2 s slack
    assert search_recall(motions, searched, {"a": [(101.0, 104.0), (301.0, 304.0)]}) == (0.5, 1, 2)
    assert search_recall(motions, searched, {}) == (0.0, 0, 2)
