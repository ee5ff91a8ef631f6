"""Camera health as pure policy: one observation in, one state out. Tested by tables (tests/health).

States, strongest first: ``maintenance`` (an operator said so), ``unknown`` (the camera's recorder is not running,
so nothing can be said), ``offline`` (with its gap reason: unreachable, stalled...), ``degraded`` (frame rate
or bit rate far below the camera's *own* normal, or frequent reconnects), ``online``. Degraded has hysteresis: it is
entered below ``degraded_*_ratio`` of normal and left only above ``recover_ratio``, so a camera hovering at the edge
does not flap between the two. A camera's normal is learned only while it is online.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from camgrid.config import HealthConfig
from camgrid.vocabulary import CAMERA_REASONS, HealthState

ONLINE = HealthState.ONLINE
DEGRADED = HealthState.DEGRADED
OFFLINE = HealthState.OFFLINE
UNKNOWN = HealthState.UNKNOWN
MAINTENANCE = HealthState.MAINTENANCE
STATES = tuple(HealthState)
CONNECTED = "ok"
# A connection is fine, or a gap reason that blames the camera (or its path to us).
CONNECTIONS: tuple[str, ...] = (CONNECTED, *sorted(CAMERA_REASONS))


@dataclass(frozen=True)
class Observation:
    """What the recorder (and the operator) say about one camera at one moment."""

    connection: str = CONNECTED  # one of CONNECTIONS
    fps: float | None = None
    bitrate_kbps: float | None = None
    reconnects: int = 0  # within the recorder's observation window
    recorder_running: bool = True
    maintenance: bool = False


@dataclass(frozen=True)
class Baseline:
    """A camera's own normal, learned while it is online (``None`` until the first healthy sample)."""

    fps: float | None = None
    bitrate_kbps: float | None = None


@dataclass(frozen=True)
class Transition:
    camera: str
    t_ns: int
    old: str
    new: str
    reason: str | None


def _low(value: float | None, normal: float | None, ratio: float) -> bool:
    return value is not None and normal is not None and normal > 0 and value < ratio * normal


def next_state(prev: str, obs: Observation, base: Baseline, cfg: HealthConfig) -> tuple[str, str | None]:
    """The camera's state after ``obs``, and why (``None`` when online)."""
    if obs.maintenance:
        return MAINTENANCE, "operator"
    if not obs.recorder_running:
        return UNKNOWN, "recorder not running"
    if obs.connection != CONNECTED:
        return OFFLINE, obs.connection
    if prev == DEGRADED:
        fps_ratio = bitrate_ratio = cfg.recover_ratio
        reconnect_limit = max(1, cfg.degraded_reconnects // 2)
    else:
        fps_ratio, bitrate_ratio = cfg.degraded_fps_ratio, cfg.degraded_bitrate_ratio
        reconnect_limit = cfg.degraded_reconnects - 1
    reasons = []
    if _low(obs.fps, base.fps, fps_ratio):
        reasons.append(f"frame rate {obs.fps:.1f}/{base.fps:.1f}")
    if _low(obs.bitrate_kbps, base.bitrate_kbps, bitrate_ratio):
        reasons.append(f"bit rate {obs.bitrate_kbps:.0f}/{base.bitrate_kbps:.0f} kbit/s")
    if obs.reconnects > reconnect_limit:
        reasons.append(f"{obs.reconnects} reconnects")
    if reasons:
        return DEGRADED, "; ".join(reasons)
    return ONLINE, None


def learn(base: Baseline, obs: Observation, state: str, cfg: HealthConfig) -> Baseline:
    """Move the camera's normal towards ``obs``, only while it is online (a degraded camera must not teach it)."""
    if state != ONLINE:
        return base
    a = cfg.baseline_alpha

    def ewma(old: float | None, new: float | None) -> float | None:
        if new is None:
            return old
        return new if old is None else (1 - a) * old + a * new

    return Baseline(fps=ewma(base.fps, obs.fps), bitrate_kbps=ewma(base.bitrate_kbps, obs.bitrate_kbps))


@dataclass
class HealthTracker:
    """Runs the policy for many cameras and keeps every transition with its time (no I/O; the caller stores)."""

    config: HealthConfig = field(default_factory=HealthConfig)
    states: dict[str, str] = field(default_factory=dict)
    baselines: dict[str, Baseline] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)

    def observe(self, camera: str, t_ns: int, obs: Observation) -> Transition | None:
        """Apply one observation; return the transition if the state changed."""
        prev = self.states.get(camera, UNKNOWN)
        base = self.baselines.get(camera, Baseline())
        new, reason = next_state(prev, obs, base, self.config)
        self.baselines[camera] = learn(base, obs, new, self.config)
        self.states[camera] = new
        if new == prev:
            return None
        tr = Transition(camera=camera, t_ns=t_ns, old=prev, new=new, reason=reason)
        self.transitions.append(tr)
        return tr


def engine_change(tr: Transition) -> str | None:
    """What a transition means to the correlation engine: ``down``, ``up``, ``maintenance``, or nothing.

    ``unknown`` is neither: a stopped recorder says nothing about the camera's power or network."""
    if tr.new == MAINTENANCE:
        return "maintenance"
    if tr.new == OFFLINE and tr.old != OFFLINE:
        return "down"
    if tr.old == OFFLINE and tr.new in (ONLINE, DEGRADED):
        return "up"
    return None
