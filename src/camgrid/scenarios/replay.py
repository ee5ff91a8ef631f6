"""Replay recorded camera changes through the correlation engine on a simulated clock (``camgrid health replay``).

The events file is JSON lines ``{"t": <seconds>, "camera": "<id>", "state": "down"|"up"}``; unknown keys are
ignored except ``reason``, which is kept. Any bad line is an error naming its line, and nothing is replayed.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camgrid.config import HealthConfig
from camgrid.health.incidents import CorrelationEngine, Incident
from camgrid.health.topology import CAMERA, POWER, SITE, Topology


class ReplayInputError(ValueError):
    """The events file has bad lines; the message lists them as ``FILE:LINE: reason``."""


@dataclass(frozen=True)
class Event:
    t: float
    camera: str
    down: bool
    reason: str | None = None


@dataclass(frozen=True)
class Evidence:
    """Outside evidence: a utility's feeder outage notice, or a site's UPS running on battery."""

    t: float
    feeder: str | None = None
    site: str | None = None
    until: float | None = None
    source: str = "utility"


MAX_ERRORS = 20


def parse_evidence(path: Path, topo: Topology) -> list[Evidence]:
    """Evidence lines: ``{"t": s, "feeder": id[, "until": s, "source": name]}`` or ``{"t": s, "site": id,
    "ups": "battery"}``. Raises :class:`ReplayInputError` listing bad lines, as for events."""
    errors: list[str] = []
    out: list[Evidence] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayInputError(f"{path}:0: cannot read: {exc}") from None
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            t = obj.get("t")
            if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
                raise ValueError("'t' must be a finite number of seconds")
            if isinstance(obj.get("site"), str):
                if obj["site"] not in topo.groups[SITE].index:
                    raise ValueError(f"unknown site {obj['site'][:64]!r}")
                if obj.get("ups", "battery") != "battery":
                    continue  # back on mains: nothing to use
                out.append(Evidence(t=float(t), site=obj["site"], source="ups"))
            elif isinstance(obj.get("feeder"), str):
                if obj["feeder"] not in topo.groups[POWER].index:
                    raise ValueError(f"unknown feeder {obj['feeder'][:64]!r}")
                until = obj.get("until")
                if until is not None and (isinstance(until, bool) or not isinstance(until, int | float)):
                    raise ValueError("'until' must be a number of seconds")
                source = obj.get("source") if isinstance(obj.get("source"), str) else "utility"
                out.append(Evidence(t=float(t), feeder=obj["feeder"], until=until, source=str(source)[:32]))
            else:
                raise ValueError("needs a 'feeder' (utility notice) or a 'site' (UPS telemetry)")
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{line_no}: not valid JSON: {exc.msg}")
        except ValueError as exc:
            errors.append(f"{path}:{line_no}: {exc}")
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ReplayInputError("\n".join(errors))
    return out


def parse_events(path: Path, topo: Topology) -> list[Event]:
    """Read and check every line; raise :class:`ReplayInputError` listing (up to 20) bad lines."""
    errors: list[str] = []
    events: list[Event] = []
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise ReplayInputError(f"{path}:0: cannot read: {exc.strerror}") from None
    with handle:
        try:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    events.append(_parse_line(line, topo))
                except ValueError as exc:
                    errors.append(f"{path}:{line_no}: {exc}")
                    if len(errors) >= MAX_ERRORS:
                        break
        except UnicodeDecodeError:
            errors.append(f"{path}:{line_no + 1}: not valid UTF-8")
    if errors:
        raise ReplayInputError("\n".join(errors))
    events.sort(key=lambda e: e.t)  # stable: equal times keep file order
    return events


def _parse_line(line: str, topo: Topology) -> Event:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    t = obj.get("t")
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
        raise ValueError(f"'t' must be a finite number of seconds (got {str(t)[:40]!r})")
    camera = obj.get("camera")
    if not isinstance(camera, str) or not camera:
        raise ValueError("'camera' must be a camera id string")
    if camera not in topo.cam_index:
        raise ValueError(f"unknown camera {camera[:64]!r} (not in the registry)")
    state = obj.get("state")
    if state not in ("down", "up"):
        raise ValueError(f'\'state\' must be "down" or "up" (got {str(state)[:20]!r})')
    reason = obj.get("reason")
    return Event(float(t), camera, state == "down", reason if isinstance(reason, str) and reason else None)


@dataclass
class ReplayResult:
    engine: CorrelationEngine
    incidents: list[Incident]
    events: int
    engine_seconds: float


def replay(
    topo: Topology,
    events: Iterable[Event],
    config: HealthConfig | None = None,
    evidence: Sequence[Evidence] = (),
) -> ReplayResult:
    """Feed the events (and any outside evidence) in time order, then let every waiting camera be judged.

    Times the engine alone."""
    engine = CorrelationEngine(topo, config)
    down, up, drain = engine.camera_down, engine.camera_up, engine.drain
    n = 0
    last = 0.0
    proofs = sorted(evidence, key=lambda e: e.t)
    k = 0
    started = time.perf_counter()
    for ev in events:
        while k < len(proofs) and proofs[k].t <= ev.t:
            _apply(engine, proofs[k])
            k += 1
        if ev.down:
            down(ev.camera, ev.t, ev.reason)
        else:
            up(ev.camera, ev.t)
        last = ev.t
        n += 1
        if n % 4096 == 0:
            drain()
    for proof in proofs[k:]:
        _apply(engine, proof)
    engine.finish(last)
    drain()
    elapsed = time.perf_counter() - started
    return ReplayResult(engine=engine, incidents=sorted_incidents(engine.incidents), events=n, engine_seconds=elapsed)


def _apply(engine: CorrelationEngine, proof: Evidence) -> None:
    if proof.site is not None:
        engine.ups_on_battery(proof.site, proof.t)
    elif proof.feeder is not None:
        engine.utility_notice(proof.feeder, proof.t, proof.until, proof.source)


def sorted_incidents(incidents: Iterable[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: (_t(i.opened), i.kind, i.subject, i.id))


def _t(x: float) -> float:
    return round(x, 3)


def incident_json(inc: Incident, topo: Topology) -> dict[str, Any]:
    """The replay's line for one incident: the issue's keys first, then what the control room also shows."""
    ids = topo.cam_ids
    out: dict[str, Any] = {
        "kind": inc.kind,
        "subject": inc.subject,
        "opened": _t(inc.opened),
        "resolved": None if inc.resolved is None else _t(inc.resolved),
        "cameras": sorted(ids[c] for c in inc.members),
        "confidence": inc.confidence(),
        "unexplained": sorted(ids[c] for c in inc.unexplained),
        "suggestions": [
            {"camera": s.camera, "field": s.field, "registry": s.registry, "suggested": s.suggested}
            for s in sorted(inc.suggestions, key=lambda s: (s.camera, s.field))
        ],
        "lag_s": _t(inc.lag_s()),
        "max_wait_s": _t(inc.max_wait_s()),
        "id": inc.id,
    }
    if inc.kind != CAMERA:
        out["survivors"] = sorted(ids[c] for c in inc.survivors)
    if inc.reason:
        out["reason"] = inc.reason
    if inc.flaps:
        out["flaps"] = inc.flaps
    if inc.evidence:
        out["evidence"] = sorted(inc.evidence)
    if inc.merged_into is not None:
        out["merged_into"] = inc.merged_into
    return out
