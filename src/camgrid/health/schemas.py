"""What leaves the health service: incidents, their cameras and suggestions, operator actions, and the reports.

Two shapes of an incident: ``IncidentOut`` is the service's (nanoseconds, like every stored time; the bus carries
it) and ``IncidentView`` the API's and the events WebSocket's (milliseconds: the API speaks one time unit, and
nanoseconds since 1970 exceed JavaScript's safe integers).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from camgrid.vocabulary import IncidentAction, IncidentKind

MS = 1_000_000
Grouping = Literal["camera", "site", "feeder", "uplink", "district", "city"]
Cause = Literal["power", "uplink", "camera", "recorder", "disk", "maintenance"]


class SuggestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: str
    field: str
    registry_value: str
    suggested_value: str
    status: Literal["open", "accepted", "rejected"]


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    t_ns: int
    actor: str
    action: IncidentAction
    text: str


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: IncidentKind
    subject: str
    opened_ns: int
    resolved_ns: int | None
    confidence: float
    n_members: int
    reason: str | None = None
    flaps: int = 0
    evidence: str = ""
    merged_into_id: int | None = None
    acknowledged_ns: int | None = None
    acknowledged_by: str | None = None
    cameras: list[str] = Field(default_factory=list, description="Member cameras, sorted")
    unexplained: list[str] = Field(default_factory=list)
    suggestions: list[SuggestionOut] = Field(default_factory=list)
    actions: list[ActionOut] = Field(default_factory=list)


class ActionView(BaseModel):
    id: int
    t_ms: int
    actor: str
    action: IncidentAction
    text: str


class IncidentView(BaseModel):
    """An incident as the control room sees it (``GET /api/incidents``, ``{"type": "incident"}`` events)."""

    id: int
    kind: IncidentKind
    subject: str
    opened_ms: int
    resolved_ms: int | None
    confidence: float
    n_members: int
    reason: str | None
    flaps: int
    evidence: str
    merged_into_id: int | None
    acknowledged_ms: int | None
    acknowledged_by: str | None
    cameras: list[str] = Field(description="Member cameras, sorted")
    unexplained: list[str] = Field(description="Cameras dark in its window that it does not explain (own incidents)")
    suggestions: list[SuggestionOut]
    actions: list[ActionView]

    @classmethod
    def of(cls, item: IncidentOut) -> IncidentView:
        return cls(
            id=item.id,
            kind=item.kind,
            subject=item.subject,
            opened_ms=item.opened_ns // MS,
            resolved_ms=None if item.resolved_ns is None else item.resolved_ns // MS,
            confidence=item.confidence,
            n_members=item.n_members,
            reason=item.reason,
            flaps=item.flaps,
            evidence=item.evidence,
            merged_into_id=item.merged_into_id,
            acknowledged_ms=None if item.acknowledged_ns is None else item.acknowledged_ns // MS,
            acknowledged_by=item.acknowledged_by,
            cameras=item.cameras,
            unexplained=item.unexplained,
            suggestions=item.suggestions,
            actions=[
                ActionView(id=a.id, t_ms=a.t_ns // MS, actor=a.actor, action=a.action, text=a.text)
                for a in item.actions
            ],
        )


class IncidentEvent(IncidentView):
    """The events WebSocket's message for one incident change."""

    type: Literal["incident"] = "incident"


# Reports ------------------------------------------------------------------------------------------------------------
class AvailabilityRow(BaseModel):
    key: str = Field(description="The group: a camera, site, feeder or district id, or 'city'")
    cameras: int
    availability: float | None = Field(
        description="Share of the expected camera time recorded, 0..1: counted only while each camera existed (from "
        "its first sight in the recording index) and was not in maintenance; null when nothing was expected"
    )
    camera_min: float = Field(0.0, description="Camera-minutes the group's cameras existed within the period")
    expected_min: float = Field(0.0, description="Camera-minutes expected to record: existed, not in maintenance")
    down_min: float = Field(description="Camera-minutes not recorded, maintenance left out")
    outage_min: dict[Cause, float] = Field(
        description="Camera-minutes not recorded, by what is to blame; 'maintenance' (a camera out of service) is "
        "not down"
    )


class LostCoverage(BaseModel):
    weight_total: float
    lost_weight_h: float
    share: float


class AvailabilityReport(BaseModel):
    from_ms: int
    to_ms: int
    by: Grouping
    rows: list[AvailabilityRow]
    city: AvailabilityRow | None
    lost_coverage: LostCoverage | None = Field(None, description="Only with coverage=1")


class SeriesReport(BaseModel):
    from_ms: int
    to_ms: int
    step_ms: int
    by: Grouping
    t_ms: list[int] = Field(description="Start of each bucket")
    series: dict[str, list[float | None]] = Field(
        description="Group -> availability per bucket (null: no camera of the group expected in that bucket)"
    )
    period: dict[str, float | None] = Field(
        default_factory=dict, description="Group -> availability over the whole period (the table's number)"
    )


class FeederCuts(BaseModel):
    feeder: str
    cuts: int
    minutes: float


class PowerCutReport(BaseModel):
    feeders: list[FeederCuts] = Field(description="Worst first")
    hour_of_day: list[int] = Field(description="Cuts beginning in each local hour, 0..23")
    from_ms: int
    to_ms: int
    timezone: str


class LiveCoverage(BaseModel):
    share: float
    points: int
    cameras_up: int


class SuggestionDecision(BaseModel):
    id: int
    status: Literal["open", "accepted", "rejected"]
    incident_id: int


class Accepted(BaseModel):
    accepted: bool
