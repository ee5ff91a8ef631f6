"""Streaming outage correlation: camera state changes in, incidents out (design: docs/design/health-incidents.md).

Pure: no I/O and no wall clock. Every call carries its time (seconds on any monotonic scale); ``advance(t)`` fires
the engine's own deadlines in time order, stamping each decision with the deadline, not with the call.

How a decision is made (fault localisation over shared-risk groups, as SCORE/SpotLight with utilities' last-gasp
tracing): a camera seen down that no open incident explains waits ``hold_s`` for its peers. When the oldest waiting
camera is due, a weighted greedy set cover runs over the feeders, uplinks and sites of all waiting cameras: a group's
score is (waiting cameras it explains) x (share of its cameras down); the best group that passes its kind's threshold
opens an incident, takes its waiting cameras, and the cover repeats. Cameras no group explains are attached to their
site-mates' incident when the registry disagrees with the site (a suggested correction), otherwise each opens a
``camera`` incident. Cameras going down while a group incident is open join it at once (zero added latency).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from typing import Any

from camgrid.config import HealthConfig
from camgrid.health.cover import GroupCover
from camgrid.health.records import Incident, Record, Suggestion
from camgrid.health.topology import CAMERA, GROUP_KINDS, POWER, SITE, UPLINK, Topology

__all__ = ["CorrelationEngine", "Incident", "Record", "Suggestion"]

FIELD_OF = {POWER: "feeder", UPLINK: "uplink"}
_DECIDE, _CLEAR, _STRAGGLE, _FLAP = 0, 1, 2, 3
_EPS = 1e-6  # a microsecond: well above float rounding at epoch seconds (2e-7 at 1.7e9)


class CorrelationEngine(GroupCover):
    """Turns camera down/up changes into incidents over the registry topology. One instance per city."""

    def __init__(self, topo: Topology, config: HealthConfig | None = None) -> None:
        self.topo = topo
        self.cfg = config or HealthConfig()
        n = topo.size
        self._down = bytearray(n)
        self._maint = bytearray(n)
        self._down_t = [0.0] * n
        self._reason: dict[int, str] = {}
        self._count = {k: [0] * len(topo.groups[k].names) for k in GROUP_KINDS}
        self._maint_count = {k: [0] * len(topo.groups[k].names) for k in GROUP_KINDS}  # cameras in maintenance
        self._of = topo.of
        self._open_group: dict[str, dict[int, Incident]] = {k: {} for k in GROUP_KINDS}
        self._open_camera: dict[int, Incident] = {}
        self._n_open_groups = 0
        self._cam_incs: dict[int, list[Incident]] = {}
        self._pending: dict[int, float] = {}
        self._postponed: set[int] = set()
        self._decide_at: set[float] = set()
        # Blip times, oldest first; engine time never goes back, so old ones leave from the left (a feeder whose
        # 1,600 cameras blip at once must not cost 1,600 scans of 1,600 entries).
        self._blips: dict[int, deque[float]] = {}
        self._group_blips: dict[tuple[str, int], deque[float]] = {}
        self._notices: dict[int, tuple[float, float, str]] = {}
        self._on_battery: dict[int, float] = {}
        self._timers: list[tuple[float, int, int, int]] = []
        self._seq = 0
        self._now = float("-inf")
        self.incidents: list[Incident] = []
        self._by_id: dict[int, Incident] = {}
        self._out: list[Record] = []
        self._dirty: dict[int, Incident] = {}

    # ----------------------------------------------------------------- inputs
    def camera_down(self, camera: str, t: float, reason: str | None = None) -> None:
        """The recorder saw ``camera`` go dark at ``t`` (unreachable, stalled, auth refused...)."""
        c = self.topo.cam_index[camera]
        t = self._tick(t)
        if self._maint[c] or self._down[c]:
            return
        self._down[c] = 1
        self._down_t[c] = t
        if reason:
            self._reason[c] = reason
        of = self._of
        incs = self._cam_incs.get(c)
        explained = bool(incs)
        if incs:
            for inc in incs:
                inc.n_down += 1
                if inc.kind == CAMERA:
                    inc.flaps += 1
                self._dirty[inc.id] = inc
        for kind in GROUP_KINDS:
            g = of[kind][c]
            self._count[kind][g] += 1
            joined = self._open_group[kind].get(g)
            # A camera that rode through the start of the outage (UPS) and goes dark now may have another cause
            # (an uplink cut): it waits like any other and is attached at the decision if nothing else explains it.
            if (
                joined is not None
                and c not in joined.members
                and (c not in joined.survivors or t <= joined.first_down + self.cfg.correlation_window_s)
            ):
                self._add_member(joined, c, t, t)
                explained = True
        if not explained:
            explained = self._attach_by_site(c, t)
        if not explained:
            self._pending[c] = t
            self._schedule_decide(t + self.cfg.hold_s)

    def camera_up(self, camera: str, t: float) -> None:
        """The recorder has ``camera`` back at ``t``."""
        c = self.topo.cam_index[camera]
        t = self._tick(t)
        if not self._down[c]:
            return
        self._down[c] = 0
        of = self._of
        for kind in GROUP_KINDS:
            self._count[kind][of[kind][c]] -= 1
        if self._pending.pop(c, None) is not None:
            self._postponed.discard(c)
            self._blip(c, t)
            return
        for inc in list(self._cam_incs.get(c, ())):
            inc.n_down -= 1
            inc.last_return = t
            self._dirty[inc.id] = inc
            if inc.kind == CAMERA:
                if self._clear_s(inc) <= 0:
                    self._resolve(inc, t, t)
                else:
                    self._push(t + self._clear_s(inc), _CLEAR, inc.id)
            elif inc.n_down <= 0 or (inc.overlap and self._rest_explained(inc)):
                self._resolve(inc, t, t)
            elif (len(inc.members) - inc.n_down) >= self.cfg.resolve_ratio * len(inc.members):
                self._push(t + self.cfg.straggler_s, _STRAGGLE, inc.id)

    def set_maintenance(self, camera: str, on: bool, t: float) -> None:
        """An operator took ``camera`` out of (or back into) service: its changes no longer count, and it is not
        part of its groups' shares (a feeder of ten with two under repair is cut when the other eight go dark).

        Taking a dark camera out of service ends its part in incidents (as if it came back); putting it back does
        not say it is down: the caller feeds ``camera_down`` if it still is (``IncidentFeed`` does)."""
        c = self.topo.cam_index[camera]
        t = self._tick(t)
        if bool(self._maint[c]) == on:
            return
        if on and self._down[c]:
            self.camera_up(camera, t)
        self._maint[c] = 1 if on else 0
        for kind in GROUP_KINDS:
            self._maint_count[kind][self._of[kind][c]] += 1 if on else -1

    def utility_notice(self, feeder: str, t: float, until: float | None = None, source: str = "utility") -> None:
        """A utility (or a UPS) says ``feeder`` has no power from ``t``: a smaller share of its cameras suffices."""
        g = self.topo.groups[POWER].index.get(feeder)
        if g is None:
            return
        self._tick(t)
        self._notices[g] = (t, until if until is not None else t + 4 * 3600.0, source)
        inc = self._open_group[POWER].get(g)
        if inc is not None and source not in inc.evidence:
            inc.evidence.append(source)
            self._dirty[inc.id] = inc

    def ups_on_battery(self, site: str, t: float) -> None:
        """A site's UPS reports running on battery: its feeder has lost power (its cameras may stay up)."""
        s = self.topo.groups[SITE].index.get(site)
        if s is None:
            return
        g = self.topo.site_major[POWER][s]
        self._on_battery[s] = t
        self.utility_notice(self.topo.group_name(POWER, g), t, t + self.cfg.correlation_window_s * 10, "ups")

    def ups_on_mains(self, site: str, t: float) -> None:
        """The site's UPS is back on mains."""
        s = self.topo.groups[SITE].index.get(site)
        if s is not None:
            self._tick(t)
            self._on_battery.pop(s, None)

    def advance(self, t: float) -> None:
        """Fire every deadline up to ``t`` (call it periodically, e.g. every 0.5 s, when no change arrives)."""
        self._tick(t)

    def drain(self) -> list[Record]:
        """Records produced since the last drain, in time order; updates are coalesced per incident."""
        for inc in self._dirty.values():
            if inc.is_open:
                self._out.append(Record("updated", self._now, inc))
        self._dirty.clear()
        out, self._out = self._out, []
        return out

    def finish(self, t: float) -> None:
        """End of a replay: fire deadlines to ``t`` and judge every camera still waiting."""
        self._tick(t)
        wait = self.cfg.hold_max_s + self.cfg.decide_step_s + 0.001
        for _ in range(1000):  # every waiting camera has a decision scheduled no later than ``wait`` after it
            if not self._pending:
                break
            self._tick(max(self._now, max(self._pending.values())) + wait)

    # ---------------------------------------------------------------- plumbing
    def _push(self, when: float, what: int, key: int) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (when, self._seq, what, key))

    def _schedule_decide(self, when: float) -> None:
        """Decisions run on a grid of ``decide_step_s``: one cover for all cameras due in the same step, so that a
        city-wide blackout costs a few covers, not one per camera (latency grows by at most one step)."""
        step = self.cfg.decide_step_s
        if step > 0:
            when = math.ceil(when / step - 1e-6) * step
        if when not in self._decide_at:
            self._decide_at.add(when)
            self._push(when, _DECIDE, 0)

    def _tick(self, t: float) -> float:
        if t < self._now:
            t = self._now  # late input is taken as happening now: the engine never goes back in time
        timers = self._timers
        while timers and timers[0][0] <= t + _EPS:
            when, _, what, key = heapq.heappop(timers)
            self._now = max(self._now, when)
            if what == _DECIDE:
                self._decide_at.discard(when)
                self._decide(self._now)
            elif what == _CLEAR:
                inc = self._by_id[key]
                back = inc.last_return
                if (
                    inc.is_open
                    and inc.n_down == 0
                    and back is not None
                    and back + self._clear_s(inc) <= self._now + _EPS
                ):
                    self._resolve(inc, back, self._now)
            elif what == _STRAGGLE:
                self._straggle(self._by_id[key], self._now)
            elif what == _FLAP:
                self._flap_check(key, self._now)
        self._now = t
        return t

    def _clear_s(self, inc: Incident) -> float:
        """How long a camera must stay back before its incident resolves: longer the more it has flapped."""
        return min(self.cfg.camera_clear_s * (1 + inc.flaps), max(self.cfg.camera_clear_s, self.cfg.flap_window_s))

    def _new(self, kind: str, gid: int, subject: str, size: int, t: float) -> Incident:
        inc = Incident(id=len(self.incidents) + 1, kind=kind, subject=subject, gid=gid, opened=t, size=size)
        self.incidents.append(inc)
        self._by_id[inc.id] = inc
        self._out.append(Record("opened", t, inc))
        return inc

    def _add_member(self, inc: Incident, c: int, down_t: float, t: float) -> None:
        inc.members[c] = t
        inc.down_at[c] = down_t
        if self._down[c]:
            inc.n_down += 1
        inc.survivors.discard(c)
        self._cam_incs.setdefault(c, []).append(inc)
        self._dirty[inc.id] = inc

    def _detach(self, inc: Incident) -> None:
        for c in inc.members:
            incs = self._cam_incs.get(c)
            if incs is not None:
                if inc in incs:
                    incs.remove(inc)
                if not incs:
                    del self._cam_incs[c]
        if inc.kind == CAMERA:
            self._open_camera.pop(inc.gid, None)
        elif self._open_group[inc.kind].pop(inc.gid, None) is not None:
            self._n_open_groups -= 1

    def _resolve(self, inc: Incident, resolved: float, t: float) -> None:
        if not inc.is_open:
            return
        inc.resolved = resolved
        self._detach(inc)
        self._dirty.pop(inc.id, None)
        self._out.append(Record("resolved", t, inc))

    def _rest_explained(self, inc: Incident) -> bool:
        """Members still down are all held by another open group incident (an uplink cut during a power cut)."""
        for c, _ in inc.members.items():
            if self._down[c] and not any(o is not inc and o.kind != CAMERA for o in self._cam_incs.get(c, ())):
                return False
        return True

    def _straggle(self, inc: Incident, now: float) -> None:
        """Most members are back and the rest have not moved for ``straggler_s``: resolve, re-judge the rest."""
        if not inc.is_open or inc.last_return is None or inc.last_return + self.cfg.straggler_s > now + _EPS:
            return
        rest = [c for c in inc.members if self._down[c]]
        self._resolve(inc, inc.last_return, now)
        for c in rest:
            if c not in self._cam_incs:
                self._pending[c] = now
                self._down_t[c] = now
                self._schedule_decide(now + self.cfg.hold_s)

    def _blip(self, c: int, t: float) -> None:
        """A camera back before it was judged. Repeated blips make it flapping, unless its whole group blipped."""
        blips = _trimmed(self._blips, c, t - self.cfg.flap_window_s)
        blips.append(t)
        for kind in (POWER, UPLINK):
            _trimmed(self._group_blips, (kind, self._of[kind][c]), t - 2 * self.cfg.hold_s).append(t)
        if len(blips) >= self.cfg.flap_blips and c not in self._open_camera:
            self._push(t + self.cfg.hold_s, _FLAP, c)

    def _flap_check(self, c: int, now: float) -> None:
        if c in self._open_camera or c in self._pending:
            return
        since = now - 3 * self.cfg.hold_s
        for kind in (POWER, UPLINK):
            recent = 0
            for b in reversed(self._group_blips.get((kind, self._of[kind][c]), ())):
                if b < since or recent >= self.cfg.group_min_cameras:
                    break
                recent += 1
            if recent >= self.cfg.group_min_cameras:
                return  # the whole feeder or uplink flickered: not this camera's fault
        # Latency counts from the blip that made it flapping; the incident starts with the first blip.
        inc = self._camera_incident(c, self._blips[c][-1], now, "flapping")
        inc.first_down = self._blips[c][0]
        inc.flaps = len(self._blips[c])
        if not self._down[c]:
            inc.last_return = self._blips[c][-1]
            self._push(inc.last_return + self._clear_s(inc), _CLEAR, inc.id)

    # ---------------------------------------------------------------- decisions
    def _decide(self, now: float) -> None:
        pend = self._pending
        if not pend:
            return
        due_limit = now - self.cfg.hold_s + _EPS
        if next(iter(pend.values())) > due_limit:
            return
        for c in [c for c in pend if self._attach_by_site(c, now)]:
            del pend[c]
            self._postponed.discard(c)
        if not pend:
            return
        of = self._of
        cand: dict[tuple[str, int], list[int]] = {}
        for c in pend:
            for kind in GROUP_KINDS:
                cand.setdefault((kind, of[kind][c]), []).append(c)
        site_due = now - self.cfg.hold_max_s + _EPS
        survivor_of: dict[int, Incident] = {}
        for c in pend:
            for kind in (POWER, UPLINK):
                inc = self._open_group[kind].get(of[kind][c])
                if inc is not None and c in inc.survivors:
                    survivor_of[c] = inc
                    cand.pop((kind, of[kind][c]), None)
        taken: set[int] = set()
        suspect = self.topo.suspect_flag
        odd = {kind: [c for c in pend if suspect[kind][c]] for kind in (POWER, UPLINK)}
        while cand:
            passing = self._passing(cand, taken, survivor_of, odd, now, due_limit, site_due)
            if not passing:
                break
            # Greedy set cover, several picks a round: the best group, then the next best whose cameras do not
            # overlap this round's picks (overlapping ones are judged again next round, on what is left).
            passing.sort(reverse=True)
            used: set[int] = set()
            for _, key, live in passing:
                if key not in cand or any(c in used for c in live):
                    continue
                del cand[key]
                self._open_group_incident(key[0], key[1], live, now)
                used.update(live)
                taken.update(live)
                if key[0] != SITE:
                    major = self.topo.site_major[key[0]]
                    for c in odd[key[0]]:
                        if c not in taken and major[of[SITE][c]] == key[1] and self._attach_by_site(c, now):
                            taken.add(c)
        for c in taken:
            del pend[c]
            self._postponed.discard(c)
        due = [c for c, t in pend.items() if t <= due_limit]
        last_call = now - self.cfg.hold_max_s + _EPS
        waiting: dict[tuple[str, int], int] | None = None
        for c in due:
            if pend[c] > last_call and c not in survivor_of:
                if waiting is None:
                    waiting = {}
                    for other in pend:
                        for kind in GROUP_KINDS:
                            key = (kind, of[kind][other])
                            waiting[key] = waiting.get(key, 0) + 1
                if any(waiting[(kind, of[kind][c])] >= 2 for kind in GROUP_KINDS):
                    # Peers of the same site, feeder or uplink are waiting too: a group may still form.
                    if c not in self._postponed:
                        self._postponed.add(c)
                        self._schedule_decide(pend[c] + self.cfg.hold_max_s)
                    continue
            del pend[c]
            self._postponed.discard(c)
            held = survivor_of.get(c)
            if held is not None and held.is_open:
                self._add_member(held, c, self._down_t[c], now)  # its UPS ran flat
            elif not self._attach_by_site(c, now) and not self._attach_by_place(c, now):
                self._camera_incident(c, self._down_t[c], now, self._reason.get(c))

    def _open_group_incident(self, kind: str, g: int, cams: list[int], now: float) -> None:
        members = self.topo.groups[kind].members[g]
        inc = self._new(kind, g, self.topo.group_name(kind, g), len(members) - self._maint_count[kind][g], now)
        inc.first_down = min(self._down_t[c] for c in cams)
        districts = [self.topo.district[c] for c in cams]
        inc.district = max(sorted(set(districts)), key=districts.count)
        self._open_group[kind][g] = inc
        self._n_open_groups += 1
        for c in cams:
            self._add_member(inc, c, self._down_t[c], now)
        young = now - self.cfg.merge_window_s - _EPS
        for c in members:
            if c in inc.members:
                continue
            if not self._down[c]:
                if not self._maint[c]:  # under repair: neither evidence against the group nor a survivor of it
                    inc.survivors.add(c)
                continue
            for other in list(self._cam_incs.get(c, ())):
                if other.kind == CAMERA or (other.kind == SITE and kind != SITE):
                    if other.opened >= young and other.is_open:
                        self._merge(other, inc, now)
                elif other.kind != kind:
                    # Dark already for another group's fault (an uplink cut during a power cut): a member of
                    # both, joined now and not counted as late, since the control room already shows it dark.
                    inc.overlap = other.overlap = True
                    if c not in inc.members:
                        self._add_member(inc, c, self._down_t[c], now)
                        inc.inherited.add(c)
        if kind == POWER:
            notice = self._notices.get(g)
            if notice is not None and notice[0] - self.cfg.correlation_window_s <= now <= notice[1]:
                inc.evidence.append(notice[2])

    def _merge(self, small: Incident, big: Incident, now: float) -> None:
        """A young camera or site incident turns out to be part of a larger one: fold it in, say so."""
        small.merged_into = big.id
        small.resolved = now
        self._detach(small)
        self._dirty.pop(small.id, None)
        self._out.append(Record("merged", now, small))
        for c in small.members:
            if c not in big.members and self._down[c]:
                self._add_member(big, c, small.down_at[c], now)

    def _attach_by_site(self, c: int, now: float) -> bool:
        """The camera's site-mates are in an open power/uplink incident the registry does not put it in."""
        s = self._of[SITE][c]
        window = self.cfg.correlation_window_s
        for kind in (POWER, UPLINK):
            major = self.topo.site_major[kind][s]
            if major == self._of[kind][c]:
                continue
            inc = self._open_group[kind].get(major)
            if inc is None or self._down_t[c] < inc.first_down - window:
                continue
            self._suggest(inc, kind, c, now)
            return True
        return False

    def _suggest(self, inc: Incident, kind: str, c: int, now: float) -> None:
        self._add_member(inc, c, self._down_t[c], now)
        inc.suggestions.append(
            Suggestion(
                camera=self.topo.cam_ids[c],
                field=FIELD_OF[kind],
                registry=self.topo.group_name(kind, self._of[kind][c]),
                suggested=inc.subject,
            )
        )

    def _attach_by_place(self, c: int, now: float) -> bool:
        """No site-mates to go by: a camera that went dark with a cut (within the detection spread of its first
        camera) and stands among that group's cameras behaves as if it were on it."""
        radius = self.cfg.attach_radius_m
        if radius <= 0:
            return False
        t = self._down_t[c]
        lat, lon = self.topo.lat, self.topo.lon
        coslat = math.cos(math.radians(lat[c]))
        best: tuple[float, str, Incident] | None = None
        for kind in (POWER, UPLINK):
            for inc in self._open_group[kind].values():
                if not inc.first_down - 1.0 <= t <= inc.first_down + self.cfg.hold_max_s + 1.0:
                    continue
                d2 = min(
                    ((lat[m] - lat[c]) * 111_320.0) ** 2 + ((lon[m] - lon[c]) * 111_320.0 * coslat) ** 2
                    for m in inc.members
                )
                if d2 <= radius * radius and (best is None or d2 < best[0]):
                    best = (d2, kind, inc)
        if best is None:
            return False
        self._suggest(best[2], best[1], c, now)
        return True

    def _camera_incident(self, c: int, down_t: float, now: float, reason: str | None) -> Incident:
        inc = self._new(CAMERA, c, self.topo.cam_ids[c], 1, now)
        inc.reason = reason
        inc.first_down = down_t
        self._open_camera[c] = inc
        self._add_member(inc, c, down_t, now)
        window = self.cfg.correlation_window_s
        for kind in GROUP_KINDS:
            for other in self._open_group[kind].values():
                if other.first_down - window <= down_t <= other.opened + window:
                    other.unexplained.add(c)
        return inc


def _trimmed(table: dict[Any, deque[float]], key: Any, oldest: float) -> deque[float]:
    """The times kept for ``key`` with those before ``oldest`` dropped (times only ever grow)."""
    times = table.get(key)
    if times is None:
        times = table[key] = deque()
    while times and times[0] < oldest:
        times.popleft()
    return times
