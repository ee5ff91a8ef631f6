"""What leaves the health service: incidents, their cameras and suggestions, operator actions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SuggestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: str
    field: str
    registry_value: str
    suggested_value: str
    status: str


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    t_ns: int
    actor: str
    action: str
    text: str


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
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
