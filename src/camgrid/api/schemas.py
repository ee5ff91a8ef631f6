"""Response bodies of the control-room API: one typed model per route (the OpenAPI document, and from it the front
end's TypeScript types, are generated from these: ``scripts/gen_api_types.py``).

Times are milliseconds since 1970 UTC (``*_ms`` ints) everywhere in the API: nanoseconds exceed JavaScript's safe
integers. Incident and report bodies live with their service in ``camgrid.health.schemas``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from camgrid.vocabulary import (
    CameraCondition,
    CameraEventKind,
    CameraState,
    ExportStatus,
    GapReason,
    IncidentKind,
    Role,
    RtspTransport,
    SegmentSource,
    VideoPath,
)

# A camera's reason: a gap reason while it is not recording, "" while it is (or nothing is known).
ReasonShown = GapReason | Literal[""]


class Me(BaseModel):
    username: str
    role: Role
    districts: list[str] = Field(description="The user's districts; empty: all")
    timezone: str = Field(description="The city's IANA time zone: the control room shows times in it")
    permissions: list[str] = Field(description="The role's permissions (access.policy), for the control room")
    screens: list[str] = Field(description="The control-room screens the role may open (access.screens), menu order")


class LoginThrottled(BaseModel):
    detail: str
    retry_after_s: int


class RecorderThread(BaseModel):
    name: str = Field(description="ingest, disk-writer, index-writer or housekeeping")
    running: bool
    restarts: int = Field(description="How often the watchdog restarted it since the process started")


class RecorderHealth(BaseModel):
    """The recorder of this process: is it recording? The control room warns while it is impaired."""

    present: bool = Field(description="False where this process records nothing (a cluster's central node)")
    node_id: str | None
    recording: bool = Field(description="Present, every thread running and not paused")
    paused: GapReason | None = Field(description="Why nothing is written (disk full), if so")
    threads: list[RecorderThread]


class City(BaseModel):
    name: str
    timezone: str
    bounds: list[float] = Field(min_length=4, max_length=4, description="[west, south, east, north], degrees")
    attribution: str


class Geometry(BaseModel):
    type: Literal["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"]
    coordinates: JsonValue = Field(description="GeoJSON coordinates (lon, lat), nested by the geometry's type")


class Feature(BaseModel):
    type: Literal["Feature"]
    geometry: Geometry
    properties: dict[str, JsonValue]


class FeatureCollection(BaseModel):
    """GeoJSON (RFC 7946): the base map, a plan (``camgrid.planner.output``; its foreign members are kept)."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
    bbox: list[float] | None = None
    attribution: str | None = None
    license: str | None = None
    planner: dict[str, JsonValue] | None = Field(None, description="A plan's summary: coverage, cost, solver")


class DistrictOut(BaseModel):
    id: str
    name: str
    cameras: int


class MaintenanceIn(BaseModel):
    """Take a camera out of service for repair (``on``) or put it back, with a note for the next shift."""

    on: bool
    note: str = Field("", max_length=500)


class AudioIn(BaseModel):
    """Record a camera's sound too (``enabled``) or stop (docs/design/audio.md)."""

    enabled: bool


class AudioOut(BaseModel):
    """Whether a camera's sound is recorded, after the change (the recorder picks it up within seconds)."""

    camera: str
    enabled: bool = Field(description="Whether the camera's audio track is recorded")
    revision: int


class MaintenanceOut(BaseModel):
    """A maintenance window: open (``until_ms`` null) while the camera is in maintenance."""

    camera: str
    on: bool = Field(description="Whether the camera is in maintenance after this change")
    since_ms: int
    until_ms: int | None
    by: str
    note: str


class CameraColumns(BaseModel):
    """Every camera of the user's districts, column by column (index i of each list is one camera): at 62,000
    cameras a list of objects would repeat every key 62,000 times. Serialised by hand for speed; this is its shape."""

    count: int
    id: list[str]
    name: list[str]
    lon: list[float]
    lat: list[float]
    district: list[str]
    site: list[str]
    feeder: list[str]
    uplink: list[str]
    heading_deg: list[int | None] = Field(
        default_factory=list, description="Compass bearing of the view, whole degrees; null: not known"
    )
    fov_deg: list[int | None] = Field(
        default_factory=list, description="Horizontal field of view, whole degrees; null: not known"
    )
    range_m: list[int | None] = Field(
        default_factory=list, description="How far the camera sees, whole metres; null: not known"
    )
    street: list[int] = Field(description="Index into streets (0: no street known)")
    streets: list[str] = Field(description="The streets of these cameras; streets[0] is the empty string")
    site_names: dict[str, str] = Field(description="Names of these cameras' sites (only those other than the id)")
    district_names: dict[str, str] = Field(
        description="Names of these cameras' districts (only those other than the id)"
    )
    state: list[CameraState]
    reason: list[ReasonShown]
    since_ms: list[int | None]
    maintenance_since_ms: list[int | None] = Field(
        description="When an operator took the camera out of service for repair; null while it is in service"
    )
    epoch: str = Field(description="The serving process's events epoch (WS /api/events?since=&epoch=)")
    event_id: int = Field(description="The last event these states contain: apply only later events on top")


class OnvifHealthOut(BaseModel):
    """A camera's ONVIF side: its clock against ours, and its own trouble (never an outage: no incident)."""

    clock_offset_ms: int | None = Field(description="Camera clock minus ours at the last reading; none before one")
    clock_measured_ms: int | None
    clock_round_trip_ms: int | None
    clock_tolerance_ms: int = Field(description="Beyond this the camera's clock is 'off' (onvif.clock_tolerance_s)")
    conditions: list[CameraCondition] = Field(description="clock_off, tamper, video_loss, storage_failure")
    condition_since_ms: dict[str, int] = Field(description="When each condition began (our clock)")


class CameraOut(BaseModel):
    id: str
    name: str
    lat: float
    lon: float
    district: str
    site: str
    feeder: str
    uplink: str
    codec: str | None = Field(description="Codec of the newest recorded segment (h264, h265), none before")
    recorded_by: str | None = Field(description="The cluster node holding the camera's lease")
    state: CameraState
    reason: ReasonShown
    since_ms: int | None
    heading_deg: float | None
    fov_deg: float | None
    range_m: float | None
    maintenance: MaintenanceOut | None = Field(description="The camera's current maintenance window, if any")
    transport: RtspTransport = Field(
        RtspTransport.AUTO, description="How its media travels: auto (the recorder's default), tcp or udp"
    )
    audio_enabled: bool = Field(False, description="Its sound is recorded too (off by default: docs/design/audio.md)")
    onvif_url: str | None = Field(
        None, description="Its ONVIF device service, if it has one (no login in it: docs/design/onvif.md)"
    )
    onvif: OnvifHealthOut | None = Field(
        None, description="Its clock offset and ONVIF conditions, once camgrid has read them"
    )


class SegmentOut(BaseModel):
    id: int
    start_ms: int
    end_ms: int
    bytes: int
    codec: str
    status: Literal["writing", "complete"]
    source: SegmentSource = Field(
        SegmentSource.LIVE, description="live: recorded from the stream; edge: recovered from the camera's card"
    )


class GapCauseOut(BaseModel):
    """The incident that caused a gap (the longest overlap; a feeder or uplink before the camera's own)."""

    incident_id: int
    kind: IncidentKind = Field(description="power: power cut; uplink: uplink cut; site; camera: the camera alone")
    subject: str = Field(description="The feeder, uplink, site or camera blamed (not named outside your districts)")
    opened_ms: int
    resolved_ms: int | None = Field(description="None: the incident is still open")


class GapOut(BaseModel):
    start_ms: int
    end_ms: int | None = Field(description="None: the gap is still open")
    reason: GapReason
    detail: str
    cause: GapCauseOut | None = Field(default=None, description="The incident behind the gap, when one covers it")


class CameraEventOut(BaseModel):
    """What the camera said happened (ONVIF events), at its own time and at ours (docs/design/onvif.md)."""

    id: int
    kind: CameraEventKind
    active: bool = Field(description="The property's new state: true while tampered, in motion, failed, ...")
    camera_ms: int | None = Field(description="The camera's own time of the event (its clock; none if it gave none)")
    received_ms: int = Field(description="When camgrid received it (our clock)")
    topic: str = Field(description="The ONVIF topic, e.g. tns1:VideoSource/MotionAlarm")
    detail: str


class Timeline(BaseModel):
    segments: list[SegmentOut]
    gaps: list[GapOut]
    events: list[CameraEventOut] = Field(
        default_factory=list, description="The camera's ONVIF events received in the range (at most 5,000)"
    )


class PlanInfo(BaseModel):
    name: str
    bytes: int
    modified_ms: int


class HoldOut(BaseModel):
    id: int
    camera: str
    from_ms: int
    to_ms: int
    until_ms: int | None = Field(description="When the hold ends; none: until lifted")
    reason: str
    created_by: str
    created_ms: int


class CameraSideMaskOut(BaseModel):
    mode: str = Field(
        description="Who burns the mask in: recorder | camera (the camera's own Media2 mask, its pictures checked) | "
        "camera_failed (a check failed: the recorder masks until an admin re-arms)"
    )
    verified_ms: int | None = Field(None, description="When a check of the camera's own mask first passed")
    failed_ms: int | None = Field(None, description="When a check last failed")
    reason: str | None = Field(None, description="Why it failed, or why the recorder masks")


class MaskOut(BaseModel):
    polygons: list[list[list[float]]] = Field(
        description="The mask in force, in fractions of the picture: [[[x, y], ...], ...]"
    )
    revision: int = Field(description="0: no mask")
    updated_by: str | None = None
    updated_ms: int | None = None
    removal_requested_by: str | None = Field(
        description="Who asked for the pending removal or reduction (none: nothing pending); a second person decides"
    )
    requested_ms: int | None = Field(None, description="When the pending removal or reduction was asked for")
    pending_polygons: list[list[list[float]]] | None = Field(
        None, description="The smaller mask a pending reduction asks for (none with a request: a removal)"
    )


class ExportFile(BaseModel):
    name: str
    bytes: int
    sha256: str | None = Field(None, description="The manifest's digest of the file (none for the manifest itself)")


class ExportOut(BaseModel):
    """An export request and, once approved, what it produced. Creating one returns it ``pending`` with no files:
    nothing leaves until a second person approves."""

    id: str
    status: ExportStatus
    camera: str
    district: str
    from_ms: int
    to_ms: int
    reason: str
    requested_by: str
    requested_ms: int
    decided_by: str | None
    decided_ms: int | None
    decision_reason: str | None
    actual_from_ms: int | None = Field(description="What the clip really contains (from its first keyframe)")
    actual_to_ms: int | None
    note: str = Field(
        "", description="Why the last approval did not finish (a cluster node that holds the video is down)"
    )
    files: list[ExportFile]


# WebSocket messages (JSON text frames). OpenAPI has no WebSockets: ``create_app`` adds these to the document's
# components so that the front end's generated types cover them too.
class CameraEvent(BaseModel):
    """``/api/events``: a camera's state changed."""

    type: Literal["camera"]
    id: str
    state: CameraState
    reason: ReasonShown
    since_ms: int


class Hello(BaseModel):
    """``/api/events``: ``hello`` once the client is current (after the events it missed, or after ``resync``: fetch
    ``GET /api/cameras`` and apply the events after its ``event_id``), ``ping`` after 15 s of silence. Every camera and
    incident message carries its ``eid`` too (docs/design/never-stale.md)."""

    type: Literal["hello", "ping", "resync"]
    epoch: str = Field(description="This process's events epoch: ids of another process mean nothing here")
    eid: int = Field(description="The last event this client has been sent or skipped (scope)")


class LiveCodec(BaseModel):
    """``/api/live/{camera}``: the stream's MSE type, before its init segment (binary frames are fMP4)."""

    type: Literal["codec"]
    mime: str
    codec: str
    path: VideoPath = Field(
        VideoPath.NATIVE, description="native, or h264-transcode: H.265 made H.264 by the server for this viewer"
    )


class LiveTranscodeLimit(BaseModel):
    """``/api/live/{camera}?codec=h264``: every transcode slot of the server is taken (``live.max_transcodes``)."""

    type: Literal["transcode_limit"]
    limit: int


class LiveTranscode(BaseModel):
    """``GET /api/live/transcodes``: one running H.265 → H.264 live transcode."""

    key: str = Field(description="camera id, #sub for its substream, #h264 for the H.264 twin")
    viewers: int
    frames_in: int
    frames_out: int
    dropped: int
    failures: int
    busy_s: float = Field(description="thread CPU seconds spent decoding and encoding")


class LiveTranscodes(BaseModel):
    """``GET /api/live/transcodes``: the process's running transcodes, its limit, and how many were ever started."""

    limit: int
    started: int
    running: list[LiveTranscode]


class LiveOrigin(BaseModel):
    """``/api/live/{camera}``: the wall-clock time of media time 0 (to show the picture's time)."""

    type: Literal["origin"]
    wall_ms: int


class LiveOffline(BaseModel):
    """``/api/live/{camera}``: no video, and why."""

    type: Literal["offline"]
    reason: ReasonShown
    since_ms: int | None
