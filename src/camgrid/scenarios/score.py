"""Score incidents against ground truth (design: docs/design/health-incidents.md, "Scoring").

A predicted incident matches a true one when the kind and subject are equal, the opening times are within
``tolerance_s`` and the member sets have a Jaccard index of at least ``min_jaccard``. Matching is one-to-one,
true incidents in opening order, each taking its best unmatched candidate (highest Jaccard, then nearest opening).
Every predicted incident counts, merged ones included: an alarm the control room saw and then withdrew is still a
false alarm. Precision = matched / predicted, recall = matched / true.

Latency of a matched incident is the time from its last member being seen down to that member being in the
incident: the incident's own ``lag_s`` if it reports one, else ``opened`` minus the last member's down time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camgrid.health.topology import CAMERA


@dataclass
class Score:
    predicted: int
    truth: int
    matched: int
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # kind -> (matched, predicted, truth)
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_alarms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0

    def latency_p(self, q: float) -> float:
        """The ``q`` quantile (0..1) of latencies, nearest-rank; 0 when nothing matched."""
        if not self.latencies:
            return 0.0
        xs = sorted(self.latencies)
        k = max(0, min(len(xs) - 1, int(-(-q * len(xs) // 1)) - 1))
        return xs[k]


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def score(
    predicted: Sequence[Mapping[str, Any]],
    truth: Sequence[Mapping[str, Any]],
    *,
    tolerance_s: float = 60.0,
    min_jaccard: float = 0.9,
    down_times: Mapping[str, Sequence[float]] | None = None,
) -> Score:
    """Match ``predicted`` to ``truth`` (both in the replay's JSON shape) and count."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(predicted):
        by_key.setdefault((p["kind"], p["subject"]), []).append(i)
    pred_sets = [set(p["cameras"]) for p in predicted]
    used: set[int] = set()
    result = Score(predicted=len(predicted), truth=len(truth), matched=0)
    kinds: dict[str, list[int]] = {}
    for p in predicted:
        kinds.setdefault(p["kind"], [0, 0, 0])[1] += 1
    for t in sorted(truth, key=lambda r: (r["opened"], r["kind"], r["subject"])):
        kinds.setdefault(t["kind"], [0, 0, 0])[2] += 1
        tset = set(t["cameras"])
        best: tuple[float, float] | None = None
        best_i = -1
        for i in by_key.get((t["kind"], t["subject"]), ()):
            if i in used or abs(predicted[i]["opened"] - t["opened"]) > tolerance_s:
                continue
            j = jaccard(tset, pred_sets[i])
            if j < min_jaccard:
                continue
            rank = (j, -abs(predicted[i]["opened"] - t["opened"]))
            if best is None or rank > best:
                best, best_i = rank, i
        if best_i < 0:
            result.misses.append(dict(t))
            continue
        used.add(best_i)
        result.matched += 1
        kinds[t["kind"]][0] += 1
        result.latencies.append(_latency(predicted[best_i], t, down_times))
    result.false_alarms = [dict(p) for i, p in enumerate(predicted) if i not in used]
    result.by_kind = {k: (v[0], v[1], v[2]) for k, v in sorted(kinds.items())}
    return result


def _latency(
    pred: Mapping[str, Any], truth: Mapping[str, Any], down_times: Mapping[str, Sequence[float]] | None
) -> float:
    if "lag_s" in pred:
        return float(pred["lag_s"])
    last = float(truth["opened"])
    if down_times is not None:
        for cam in truth["cameras"]:
            seen = [x for x in down_times.get(cam, ()) if x >= truth["opened"] - 1e-6]
            if seen:
                last = max(last, min(seen))
    return max(0.0, float(pred["opened"]) - last)


def naive_incidents(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The baseline: one ``camera`` alarm per camera seen down, closed when it is seen up."""
    open_: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for ev in events:
        cam = ev["camera"]
        if ev["state"] == "down" and cam not in open_:
            row = {"kind": CAMERA, "subject": cam, "opened": ev["t"], "resolved": None, "cameras": [cam]}
            row["lag_s"] = 0.0
            open_[cam] = row
            out.append(row)
        elif ev["state"] == "up" and cam in open_:
            open_.pop(cam)["resolved"] = ev["t"]
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open("r", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
