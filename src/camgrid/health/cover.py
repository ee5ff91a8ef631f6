"""Which shared-risk groups may explain the cameras waiting for a decision, and which of them wins
(weighted greedy set cover; design: docs/design/health-incidents.md). A mixin of the correlation engine: it reads
the engine's state and never changes it."""

from __future__ import annotations

from camgrid.config import HealthConfig
from camgrid.health.records import Incident
from camgrid.health.topology import CAMERA, KIND_ORDER, POWER, SITE, UPLINK, Topology

Rank = tuple[float, float, int, int]
_EPS = 1e-6  # a microsecond: well above float rounding at epoch seconds (2e-7 at 1.7e9)


class GroupCover:
    """The engine state the cover reads (set by ``CorrelationEngine.__init__``)."""

    topo: Topology
    cfg: HealthConfig
    _of: dict[str, list[int]]
    _count: dict[str, list[int]]
    _down: bytearray
    _maint: bytearray
    _maint_count: dict[str, list[int]]
    _cam_incs: dict[int, list[Incident]]
    _n_open_groups: int
    _on_battery: dict[int, float]
    _notices: dict[int, tuple[float, float, str]]
    _open_camera: dict[int, Incident]
    _open_group: dict[str, dict[int, Incident]]
    _pending: dict[int, float]
    _now: float

    def _passes(self, kind: str, g: int, live: list[int], now: float) -> tuple[bool, float]:
        """Whether a group may explain ``live`` (its waiting cameras), and the share of the group down."""
        cfg = self.cfg
        members = self.topo.groups[kind].members[g]
        # Cameras in maintenance are never down (the engine ignores them) and are not part of the share.
        size = full = len(members) - self._maint_count[kind][g]
        down = self._count[kind][g]
        # Conditional share: cameras another open incident already explains say nothing about this group, and
        # cameras whose registry entry disagrees with their site count only if they went dark.
        cam_incs, is_down = self._cam_incs, self._down
        if self._n_open_groups:
            for c in members:
                if is_down[c] and any(o.kind != CAMERA for o in cam_incs.get(c, ())):
                    size -= 1
                    down -= 1
        if kind != SITE:
            maint = self._maint
            size -= sum(1 for c in self.topo.suspects[kind][g] if not is_down[c] and not maint[c])
        if kind == POWER and self._on_battery:
            # Sites whose UPS reported running on battery have no mains: their cameras still up are survivors
            # the feeder explains, not evidence against it.
            site_members = self.topo.groups[SITE].members
            for st, since in self._on_battery.items():
                if self.topo.site_major[POWER][st] == g and since <= now + cfg.correlation_window_s:
                    size -= sum(
                        1 for c in site_members[st] if not is_down[c] and not self._maint[c] and self._of[POWER][c] == g
                    )
        r = down / size if size > 0 else 0.0
        n_new = len(live)
        if kind == SITE:
            n_new += self._young_cameras(members)  # cameras judged alone a moment ago will be folded in
            return (len(members) >= 2 and n_new >= 2 and r >= cfg.site_min_ratio), r
        if kind == POWER:
            if self._noticed(g, now):
                return (n_new >= 1 and r >= cfg.evidence_min_ratio), r
            minr = cfg.power_min_ratio
        else:
            minr = cfg.uplink_min_ratio
        if not self._many_sites(kind, g, live):
            return False, r
        if n_new >= max(2, min(cfg.group_min_cameras, full, (size + 1) // 2)) and r >= minr:
            return True, r
        # Last-gasp tracing: two whole sites of one feeder (or uplink) dark together point at the feeder, however
        # many of its other sites ride through on batteries.
        site_of, site_count, site_members = self._of[SITE], self._count[SITE], self.topo.groups[SITE].members
        whole = 0
        for st in {site_of[c] for c in live}:
            n_site = len(site_members[st])
            if n_site >= 2 and site_count[st] >= cfg.site_min_ratio * n_site:
                whole += 1
                if whole >= 2:
                    return True, r
        return False, r

    def _noticed(self, g: int, now: float) -> bool:
        notice = self._notices.get(g)
        return notice is not None and notice[0] - self.cfg.correlation_window_s <= now <= notice[1]

    def _many_sites(self, kind: str, g: int, live: list[int]) -> bool:
        """False when one site of a larger group goes dark: the site explains it better. Unless that site is all
        that can still be seen of the group (the rest dark for another reason, or only suspect registry entries),
        or cameras of other sites of the group are going dark too (UPS survivors of a power cut, say)."""
        site_of = self._of[SITE]
        if self.topo.n_sites[kind][g] <= 1 or len({site_of[c] for c in live}) >= 2:
            return True
        suspect = self.topo.suspect_flag[kind]
        cam_incs, is_down = self._cam_incs, self._down
        seen_sites: set[int] = set()
        dark_sites: set[int] = set()
        for c in self.topo.groups[kind].members[g]:
            if suspect[c] or self._maint[c] or (is_down[c] and any(o.kind != CAMERA for o in cam_incs.get(c, ()))):
                continue
            seen_sites.add(site_of[c])
            if is_down[c]:
                dark_sites.add(site_of[c])
        return len(seen_sites) <= 1 or len(dark_sites) >= 2

    def _young_cameras(self, members: list[int]) -> int:
        young = self._now - self.cfg.merge_window_s - _EPS
        n = 0
        for c in members:
            inc = self._open_camera.get(c)
            if inc is not None and inc.opened >= young and inc.n_down > 0:
                n += 1
        return n

    def _passing(
        self,
        cand: dict[tuple[str, int], list[int]],
        taken: set[int],
        survivor_of: dict[int, Incident],
        odd: dict[str, list[int]],
        now: float,
        due_limit: float,
        site_due: float,
    ) -> list[tuple[Rank, tuple[str, int], list[int]]]:
        """Groups that may explain their waiting cameras now, ranked, minus those another one dominates."""
        pend, of = self._pending, self._of
        found: list[tuple[Rank, tuple[str, int], list[int], set[int], bool]] = []
        sites: list[tuple[tuple[str, int], list[int]]] = []
        contested: set[int] = set()
        for key, cams in list(cand.items()):
            live = [c for c in cams if c not in taken] if taken else cams
            if not live:
                del cand[key]
                continue
            kind, g = key
            if kind == SITE:
                sites.append((key, live))
                continue
            # Survivors of an open power cut going dark now are most likely UPS batteries running flat: they
            # support a new group only alongside cameras nothing explains yet (an uplink cut during the cut).
            fresh = [c for c in live if c not in survivor_of] if survivor_of else live
            ok, r = self._passes(kind, g, fresh, now) if fresh else (False, 0.0)
            if not ok:
                continue
            spans = {of[SITE][c] for c in live}
            if len(spans) >= 2:
                contested |= spans  # a site is not the cause when its feeder or uplink is going down too
            # What the group would explain once registry errors are corrected by site: its own waiting cameras
            # plus waiting cameras whose site-mates are on it.
            major = self.topo.site_major[kind]
            eff = set(live)
            eff.update(c for c in odd[kind] if c not in taken and major[of[SITE][c]] == g)
            due = any(pend[c] <= due_limit for c in eff)
            score = len(live) * r**0.5
            if kind == POWER and self._noticed(g, now):
                score *= 1.5  # outside evidence says this feeder has no power
            found.append(((score, r, -KIND_ORDER[kind], -g), key, live, eff, due))
        for key, live in sites:
            fresh = [c for c in live if c not in survivor_of] if survivor_of else live
            if key[1] in contested or not fresh:
                continue
            ok, r = self._passes(SITE, key[1], fresh, now)
            # A site waits for the longest hold: the other sites of its feeder may still be going dark.
            members = self.topo.groups[SITE].members[key[1]]
            if ok:
                due = any(pend[c] <= site_due for c in live) or self._young_cameras(members) > 0
                found.append(((len(live) * r**0.5, r, -KIND_ORDER[SITE], -key[1]), key, live, set(live), due))
        # Set cover: a group whose cameras another passing group also explains, with more, is not the cause.
        # Nor is an uplink whose cameras are all on feeders that are going dark as fully as it is (a blackout of
        # several feeders darkens whole uplinks across them; the feeders are the cause).
        # Groups not due yet count here too: a smaller group does not go first only because it is due first.
        feeders = {key[1]: set(live) for _, key, live, _, _ in found if key[0] == POWER}
        if feeders:
            found = [x for x in found if x[1][0] != UPLINK or not self._feeders_explain(x[3], feeders)]
        out = []
        for rank, key, live, eff, due in found:
            if due and not any(other is not eff and eff < other for _, _, _, other, _ in found):
                out.append((rank, key, live))
        return out

    def _feeders_explain(self, eff: set[int], feeders: dict[int, set[int]]) -> bool:
        """An uplink's dark cameras (nine in ten) lie on feeders that pass on their own, and some of those feeders
        are dark beyond the uplink too, or other feeders are tripping at the same moment.

        In an uplink cut a feeder's dark cameras are those on the uplink; in a blackout of several feeders a feeder
        is dark beyond any uplink crossing it, so the feeders are needed anyway and they explain the uplink too."""
        of = self._of[POWER]
        by_feeder: dict[int, int] = {}
        for c in eff:
            by_feeder[of[c]] = by_feeder.get(of[c], 0) + 1
        if len(by_feeder) < 2:
            return False
        covered = 0
        needed = False
        for f, inside in by_feeder.items():
            live = feeders.get(f)
            if live is not None:
                covered += inside
                needed = needed or len(live - eff) >= max(2, len(live) // 10)
        if covered < 0.9 * len(eff):
            return False
        if needed:
            return True
        # Other feeders of the same district tripping within seconds (a substation going down) make power the
        # likelier cause.
        district = self.topo.district
        here = {district[c] for c in eff}
        for f, live in feeders.items():
            if f not in by_feeder and any(district[c] in here for c in live):
                return True
        recent = self._now - self.cfg.hold_max_s - self.cfg.decide_step_s
        return any(inc.first_down >= recent and inc.district in here for inc in self._open_group[POWER].values())
