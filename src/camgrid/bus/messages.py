"""Typed messages of the bus and the subjects they travel on (documented in docs/design/cluster.md).

Every message is a pydantic model with a ``kind`` literal; on the wire it is its JSON. The subject is
``camgrid.<kind>.<key>`` where the key is the camera, node or incident it is about, so that a consumer can filter by
kind (``camgrid.state.>``) or by one camera (``camgrid.state.CAM-0001``).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PREFIX = "camgrid"
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


def token(key: str) -> str:
    """A subject token for an id: NATS tokens may not hold '.', '*', '>' or spaces."""
    return _UNSAFE.sub("_", key) or "_"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # Unique per message: JetStream drops a re-sent message with the same id (publisher retries are idempotent).
    msg_id: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=64)
    node_id: str = Field("local", max_length=64, description="The node that published it")

    @property
    def key(self) -> str:
        raise NotImplementedError

    @property
    def subject(self) -> str:
        return f"{PREFIX}.{self.kind}.{token(self.key)}"  # type: ignore[attr-defined]


class CameraState(_Message):
    """A camera starts or stops being recorded (the recorder's state listener): ``offline`` opens a gap row with
    ``reason`` at ``since_ns``, ``recording`` closes it, so this is also the stream of the index's gaps."""

    kind: Literal["state"] = "state"
    camera_id: str = Field(max_length=64)
    state: Literal["recording", "offline"]
    reason: str = Field("", max_length=64)
    since_ns: int

    @property
    def key(self) -> str:
        return self.camera_id


class IncidentEvent(_Message):
    """An incident opened, changed or closed (correlated outage of a feeder, uplink, site or one camera), published
    by the central node for consumers outside camgrid (paging, a second control room)."""

    kind: Literal["incident"] = "incident"
    incident_id: str = Field(max_length=64)
    event: Literal["open", "update", "close"]
    cause: str = Field("", max_length=64)
    subject_id: str = Field("", max_length=64, description="Feeder, uplink, site or camera the cause points at")
    cameras: list[str] = Field(default_factory=list, max_length=100_000)
    at_ns: int

    @property
    def key(self) -> str:
        return self.incident_id


class NodeEvent(_Message):
    """A recorder node joined, took or released cameras, or left; ``heartbeat`` (every ``cluster.heartbeat_s``) says
    that everything the node published before ``at_ns`` has been sent (the control plane's event-time watermark)."""

    kind: Literal["node"] = "node"
    event: Literal["up", "heartbeat", "acquired", "released", "down"]
    cameras: list[str] = Field(default_factory=list, max_length=100_000)
    at_ns: int

    @property
    def key(self) -> str:
        return self.node_id


Message = Annotated[CameraState | IncidentEvent | NodeEvent, Field(discriminator="kind")]
MessageType = type[CameraState] | type[IncidentEvent] | type[NodeEvent]
_ADAPTER: TypeAdapter[CameraState | IncidentEvent | NodeEvent] = TypeAdapter(Message)
KINDS: dict[str, MessageType] = {"state": CameraState, "incident": IncidentEvent, "node": NodeEvent}


def encode(msg: CameraState | IncidentEvent | NodeEvent) -> bytes:
    return msg.model_dump_json().encode()


def decode(data: bytes) -> CameraState | IncidentEvent | NodeEvent:
    return _ADAPTER.validate_json(data)


def subject_filter(kind: MessageType | None) -> str:
    """The subject filter for every message of one kind (or of every kind)."""
    if kind is None:
        return f"{PREFIX}.>"
    name = kind.model_fields["kind"].default
    return f"{PREFIX}.{name}.>"
