"""A scripted day for scene cameras, and its scoring against what camgrid reported (``make bench-motion``).

:func:`plan` writes a scene script (:mod:`camgrid.sim.scene_director`): a quarter of the cameras get one tamper each
(the kinds in turn, each several times, held ``tamper_s`` then restored), a quarter get motion several times in one
cell of the 4x4 grid (plus one decoy in another cell, outside the region searched), the rest are left alone so that
false alarms can show. The scoring functions are pure: truth lines as the simulator writes them, incidents and
search hits as plain tuples, so tests score tables without a recorder.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from camgrid.sim.scenes import CELLS, MOTION, RESTORE, TAMPERS

# what the tamper detectors should call each fault (camgrid.vocabulary.TamperKind values)
EXPECTED_KIND = {"cover": "covered", "defocus": "defocused", "turn": "turned", "blind": "blinded", "freeze": "frozen"}
MATCH_S = 60.0  # an incident counts for a tamper opened within this long of its start
SLACK_S = 2.0  # a search hit counts for a motion within this long of it (a keyframe interval)


@dataclass(frozen=True)
class Plan:
    script: list[dict[str, Any]]
    tamper_cameras: list[str]
    motion_cells: dict[str, int]  # camera -> the cell its motion (and its search) is in


def plan(
    cameras: Sequence[str],
    *,
    duration_s: float,
    lead_s: float = 120.0,
    tamper_s: float = 90.0,
    repeats: int = 3,
    motions: int = 3,
    motion_s: float = 8.0,
    seed: int = 1,
) -> Plan:
    """The script for ``cameras`` over ``duration_s`` (``at_s`` from the simulator's start; nothing before
    ``lead_s``: the recorder connects and the detectors learn each camera's reference first)."""
    n = len(cameras)
    last = duration_s - tamper_s - 30.0
    if n < 2 or last <= lead_s:
        raise ValueError(f"need 2+ cameras and duration_s > lead_s + tamper_s + 30 ({lead_s + tamper_s + 30:.0f})")
    rng = random.Random(seed)
    order = list(cameras)
    rng.shuffle(order)
    n_tamper = max(1, min(len(TAMPERS) * repeats, n // 4))
    n_motion = max(1, min(CELLS, n // 4))
    tampered, moving = order[:n_tamper], order[n_tamper : n_tamper + n_motion]
    script: list[dict[str, Any]] = []
    for i, cam in enumerate(tampered):
        kind = TAMPERS[i % len(TAMPERS)]
        at = lead_s + (last - lead_s) * (i + 0.5) / n_tamper
        script.append({"at_s": round(at, 1), "kind": kind, "camera": cam})
        script.append({"at_s": round(at + tamper_s, 1), "kind": RESTORE, "camera": cam})
    cells: dict[str, int] = {}
    span_end = duration_s - motion_s - 15.0
    start = lead_s / 2
    for cam in moving:
        cell = rng.randrange(1, CELLS)  # not cell 0: the clock ticks there
        cells[cam] = cell
        decoy = (cell + CELLS // 2 + 1) % CELLS or 1  # far from the searched cell (the other half of the grid)
        slots = motions + 1
        step = (span_end - start) / slots
        if step < motion_s + 10.0:
            raise ValueError("too short for the motions asked: more duration_s or fewer motions")
        for k in range(slots):
            at = start + step * k + rng.uniform(0.0, step - motion_s - 10.0)
            c = decoy if k == slots // 2 else cell
            script.append({"at_s": round(at, 1), "kind": MOTION, "camera": cam, "cell": c, "seconds": motion_s})
    script.sort(key=lambda e: (e["at_s"], e["camera"]))
    return Plan(script, tampered, cells)


@dataclass(frozen=True)
class TamperEvent:
    camera: str
    kind: str  # the fault: cover, defocus, ...
    start: float  # unix seconds, when the picture changed on the wire
    end: float | None


@dataclass(frozen=True)
class MotionEvent:
    camera: str
    region: tuple[float, float, float, float]
    start: float
    end: float


def read_truth(lines: Iterable[dict[str, Any]]) -> tuple[list[TamperEvent], list[MotionEvent]]:
    """Tamper spans (each from its fault to the camera's next restore) and motions, from the truth file's lines."""
    tampers: list[TamperEvent] = []
    motions: list[MotionEvent] = []
    open_: dict[str, dict[str, Any]] = {}
    for line in sorted(lines, key=lambda x: float(x["t"])):
        kind, cam = line.get("kind"), str(line.get("subject", ""))
        if kind in TAMPERS:
            if cam in open_:
                prev = open_.pop(cam)
                tampers.append(TamperEvent(cam, prev["kind"], float(prev["t"]), float(line["t"])))
            open_[cam] = line
        elif kind == RESTORE and cam in open_:
            prev = open_.pop(cam)
            tampers.append(TamperEvent(cam, prev["kind"], float(prev["t"]), float(line["t"])))
        elif kind == MOTION:
            x0, y0, x1, y1 = (float(v) for v in line["region"])
            motions.append(MotionEvent(cam, (x0, y0, x1, y1), float(line["t"]), float(line["until"])))
    tampers += [TamperEvent(c, e["kind"], float(e["t"]), None) for c, e in open_.items()]
    return sorted(tampers, key=lambda e: e.start), motions


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank (``nan`` for none)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class TamperScore:
    precision: float
    recall: float
    kind_accuracy: float
    latency_p95_s: float
    incidents: int
    events: int


def score_tamper(events: Sequence[TamperEvent], incidents: Sequence[tuple[str, float, str]]) -> TamperScore:
    """``incidents``: (camera, opened unix s, tamper kind) of every tamper incident. An incident is right when it
    opened on the event's camera within :data:`MATCH_S` of its start (one incident per event; the kind need not
    match for recall, its accuracy is reported beside)."""
    used: set[int] = set()
    latencies: list[float] = []
    kinds_right = 0
    for ev in events:
        best = None
        for i, (cam, opened, _kind) in enumerate(incidents):
            if i in used or cam != ev.camera or not ev.start - 1.0 <= opened <= ev.start + MATCH_S:
                continue
            if best is None or opened < incidents[best][1]:
                best = i
        if best is not None:
            used.add(best)
            latencies.append(max(0.0, incidents[best][1] - ev.start))
            kinds_right += incidents[best][2] == EXPECTED_KIND.get(ev.kind)
    found = len(latencies)
    return TamperScore(
        precision=len(used) / len(incidents) if incidents else (1.0 if not events else 0.0),
        recall=found / len(events) if events else math.nan,
        kind_accuracy=kinds_right / found if found else math.nan,
        latency_p95_s=percentile(latencies, 95),
        incidents=len(incidents),
        events=len(events),
    )


def inside(region: Sequence[float], searched: Sequence[float]) -> bool:
    """A motion's region overlaps the searched one (positive area)."""
    return region[0] < searched[2] and searched[0] < region[2] and region[1] < searched[3] and searched[1] < region[3]


def search_recall(
    motions: Sequence[MotionEvent],
    searched: Mapping[str, Sequence[float]],
    hits: Mapping[str, Sequence[tuple[float, float]]],
) -> tuple[float, int, int]:
    """(share found, found, events): the motions in each camera's searched region that some hit (unix s spans)
    overlaps, with :data:`SLACK_S` either side."""
    wanted = [m for m in motions if m.camera in searched and inside(m.region, searched[m.camera])]
    found = sum(
        1 for m in wanted if any(a <= m.end + SLACK_S and b >= m.start - SLACK_S for a, b in hits.get(m.camera, ()))
    )
    return (found / len(wanted) if wanted else math.nan), found, len(wanted)
