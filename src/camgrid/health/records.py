"""What the correlation engine produces: incidents, their suggested corrections, and the records it emits."""

from __future__ import annotations

from dataclasses import dataclass, field

from camgrid.health.topology import CAMERA


@dataclass(frozen=True)
class Suggestion:
    """A camera that behaves as if its registry entry were different: an operator may accept it."""

    camera: str
    field: str
    registry: str
    suggested: str


@dataclass(eq=False)
class Incident:
    """One outage. ``members`` maps camera index to the time it joined; ``down_at`` to when it was seen down."""

    id: int
    kind: str
    subject: str
    gid: int
    opened: float
    size: int
    members: dict[int, float] = field(default_factory=dict)
    down_at: dict[int, float] = field(default_factory=dict)
    n_down: int = 0
    resolved: float | None = None
    merged_into: int | None = None
    survivors: set[int] = field(default_factory=set)
    unexplained: set[int] = field(default_factory=set)
    suggestions: list[Suggestion] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    reason: str | None = None
    flaps: int = 0
    first_down: float = 0.0
    last_return: float | None = None
    overlap: bool = False
    district: str = ""  # where most of its first cameras are
    inherited: set[int] = field(default_factory=set)

    @property
    def is_open(self) -> bool:
        return self.resolved is None

    def lag_s(self) -> float:
        """Latency as the issue means it: from the last member being seen down to it being in the incident.

        Members inherited from another incident (already shown dark) are left out."""
        last = None
        for c, seen in self.down_at.items():
            if c not in self.inherited and (last is None or seen > self.down_at[last]):
                last = c
        return 0.0 if last is None else self.members[last] - self.down_at[last]

    def max_wait_s(self) -> float:
        """The longest any member waited (the first cameras of a cut wait for their peers)."""
        return max((self.members[c] - self.down_at[c] for c in self.members if c not in self.inherited), default=0.0)

    def confidence(self) -> float:
        """Share of the group that went dark, plus outside evidence; a camera incident is plain but certain."""
        if self.kind == CAMERA:
            return 0.9
        share = len(self.members) / max(1, self.size)
        bonus = 0.1 * len(self.evidence)
        return round(min(0.99, 0.45 + 0.5 * share + bonus), 3)


@dataclass(frozen=True)
class Record:
    """What the engine tells the control room: ``opened``, ``updated``, ``resolved`` or ``merged``."""

    event: str
    t: float
    incident: Incident
