"""camgrid's shared words: gap reasons, camera states, incident kinds, roles and audit actions, in one place.

Why one module: these strings are stored in the database, sent on the bus, shown by the front end and counted by
reports. Spelt in several modules they drift apart (a report that forgets a reason counts its minutes nowhere).
Every package imports them from here; ``tests/test_vocabulary.py`` fails on a literal spelt anywhere else.
The values are ``StrEnum`` members, so they compare equal to, and serialise as, their plain strings.
"""

from __future__ import annotations

from enum import StrEnum


class GapReason(StrEnum):
    """Why an instant of a camera was not recorded (the ``gaps.reason`` column)."""

    UNREACHABLE = "unreachable"  # no TCP connection, no answer, connection lost
    STALLED = "stalled"  # connected, but no media for the stall timeout (or a pause in the media)
    AUTH_REFUSED = "auth_refused"  # the camera refused the registered credentials
    BAD_STREAM = "bad_stream"  # malformed RTSP/RTP from the camera
    REFUSED = "refused"  # the camera answered an RTSP request with an error status
    UNSUPPORTED = "unsupported"  # no H.264/H.265 video in the stream
    PACKET_LOSS = "packet_loss"  # pictures were lost: the segment ends until the next keyframe
    DISK_FULL = "disk_full"  # free space under the floor, or a write failed
    DISK_SLOW = "disk_slow"  # the disk writer does not keep up
    NOT_RUNNING = "recorder_not_running"  # the recorder (or the node holding the camera) was not running
    STARTING = "starting"  # the recorder took the camera and has not yet received a keyframe
    INTERNAL_ERROR = "internal_error"  # camgrid itself failed on this camera's data (a bug, logged with a traceback)


class RtspTransport(StrEnum):
    """How a camera's media travels (the registry's ``cameras.transport`` and ``recorder.transport``)."""

    AUTO = "auto"  # RTP interleaved in the RTSP connection; RTP over UDP when the camera answers 461 to that
    TCP = "tcp"  # interleaved only
    UDP = "udp"  # RTP over UDP only


class RtspQuirk(StrEnum):
    """Ways a camera departs from RTSP/RTP that the recorder noticed and worked around (``RtspClient.quirks``,
    shown by the probe). docs/design/packet-path.md, "Transports"."""

    NO_GET_PARAMETER = "no_get_parameter"  # GET_PARAMETER not listed in Public, or refused: OPTIONS keeps alive
    BOGUS_RTP_INFO = "bogus_rtp_info"  # RTP-Info's seq disagrees with the first packet (Hikvision, Tapo)
    DATA_BEFORE_PLAY = "data_before_play"  # RTP/RTCP arrived before the PLAY reply (Reolink)
    STRAY_SSRC = "stray_ssrc"  # packets of another SSRC (an old session's, Reolink): dropped
    SSRC_CHANGED = "ssrc_changed"  # the camera's SSRC changed for good: followed
    STRAY_PAYLOAD_TYPE = "stray_payload_type"  # packets whose PT is not the SDP's video PT (Geovision): dropped
    PAYLOAD_TYPE_CHANGED = "payload_type_changed"  # only another PT comes: the SDP named the wrong one, followed
    EMPTY_FMTP = "empty_fmtp"  # ``a=fmtp:96`` with no parameters (Ubiquiti)
    CONTENT_BASE_NO_SCHEME = "content_base_no_scheme"  # ``Content-Base: host/path`` (Anjvision)
    ODD_TRANSPORT_SSRC = "odd_transport_ssrc"  # ssrc= with < 8 hex digits, spaces or decimal (Dahua, Rubetek)
    STALE_SESSION = "stale_session"  # SETUP answered 454/455 (live555 after a reconnect): set up again
    UDP_ONLY = "udp_only"  # SETUP answered 461 to TCP interleaved: recorded over UDP


# Reasons the camera (or its path to us) is to blame, by the group the reports and the health engine use.
CAMERA_REASONS = frozenset(
    {
        GapReason.UNREACHABLE,
        GapReason.STALLED,
        GapReason.AUTH_REFUSED,
        GapReason.BAD_STREAM,
        GapReason.REFUSED,
        GapReason.UNSUPPORTED,
        GapReason.PACKET_LOSS,
    }
)
DISK_REASONS = frozenset({GapReason.DISK_FULL, GapReason.DISK_SLOW})
RECORDER_REASONS = frozenset({GapReason.NOT_RUNNING, GapReason.STARTING, GapReason.INTERNAL_ERROR})
# While a camera's gap has one of these reasons nothing is known of the camera itself (the recorder was away).
UNKNOWN_CAMERA_STATE = frozenset({GapReason.NOT_RUNNING, GapReason.STARTING})
# Gaps a camera with an SD card may have recorded through (it was up; the network or the recorder was not): the
# candidates of edge backfill (docs/design/onvif.md, "Edge backfill").
BACKFILL_REASONS = frozenset({GapReason.UNREACHABLE, GapReason.STALLED, GapReason.NOT_RUNNING})
# Failures worth waiting longer for before the next attempt: retrying fast would not help and may lock an account.
SLOW_RETRY_REASONS = frozenset({GapReason.AUTH_REFUSED, GapReason.UNSUPPORTED, GapReason.REFUSED})


class CameraState(StrEnum):
    """What the control room says of a camera."""

    RECORDING = "recording"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    PLANNED = "planned"  # in the registry, not installed yet (registry status ``planned``): nothing to record


class ProcessRole(StrEnum):
    """What a camgrid process is in the deployment (``camgrid.runtime.build``)."""

    SINGLE = "single"  # one machine: records every camera assigned to it (``camgrid record``, ``camgrid serve``)
    NODE = "node"  # a cluster's recorder node: records the cameras it holds leases on (``camgrid node``)
    CENTRAL = "central"  # a cluster's control room: records nothing (``camgrid serve --no-record``)


class HealthState(StrEnum):
    """A camera's health as the health engine judges it (``health/policy.py``)."""

    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"


class IncidentKind(StrEnum):
    """What an incident blames (see docs/design/health-incidents.md)."""

    POWER = "power"
    SITE = "site"
    UPLINK = "uplink"
    CAMERA = "camera"


class MaskMode(StrEnum):
    """Who burns a camera's privacy masks in (``camera_side_masks.mode``; docs/design/camera-side-masks.md)."""

    RECORDER = "recorder"  # camgrid decodes, masks and encodes (the camera cannot hold the masks)
    CAMERA = "camera"  # the camera does; camgrid stores its stream untouched once a check of its pictures passed
    CAMERA_FAILED = "camera_failed"  # a check failed: the recorder masks until an admin re-arms the camera's masks


class IncidentReason(StrEnum):
    """Why a ``camera`` incident was opened other than the camera going dark (``incidents.reason`` prefix)."""

    MASK_UNVERIFIED = "mask_unverified"  # the camera's own privacy mask was not in its pictures (or not listed)
    TAMPER = "tamper"  # the camera streams but its picture is covered, defocused, turned, blinded or frozen


class TamperKind(StrEnum):
    """What a tampered camera's picture shows (``docs/design/tamper.md``): decided by camgrid from the compressed
    stream and one keyframe every few seconds, or said by the camera over ONVIF (``camera``)."""

    COVERED = "covered"  # covered or blacked out: a dark, flat picture, tiny pictures in the stream
    DEFOCUSED = "defocused"  # out of focus or smeared: the reference's edges are gone
    TURNED = "turned"  # turned away: the scene no longer matches the camera's reference keyframe
    BLINDED = "blinded"  # blinded by light: a bright, washed-out picture
    FROZEN = "frozen"  # the camera repeats the same picture
    CAMERA = "camera"  # the camera's own tamper event (ONVIF GlobalSceneChange), kind not known


class Role(StrEnum):
    """Roles of users (permissions per role: ``access/policy.py``)."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PLANNER = "planner"  # plans where cameras go (the planner screen); no video (docs/design/planner-screen.md)


ALL_ROLES: tuple[Role, ...] = tuple(Role)


class AuditAction(StrEnum):
    """Every action the audit log records. An action that releases video, or changes what is kept, who may do
    what or what is masked, has one here, and the service that performs it writes the entry first."""

    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGOUT = "logout"
    LIVE_START = "live.start"
    LIVE_STOP = "live.stop"
    PLAYBACK = "playback"
    SNAPSHOT = "snapshot"
    EXPORT_REQUEST = "export.request"
    EXPORT_APPROVE = "export.approve"
    EXPORT_REFUSE = "export.refuse"
    EXPORT_DOWNLOAD = "export.download"
    HOLD_CREATE = "hold.create"
    HOLD_RELEASE = "hold.release"
    RETENTION_DELETE = "retention.delete"
    MASK_SET = "mask.set"
    MASK_REMOVAL_REQUEST = "mask.removal.request"
    MASK_REMOVAL_APPROVE = "mask.removal.approve"
    MASK_REMOVAL_REFUSE = "mask.removal.refuse"  # a pending removal or reduction refused (or withdrawn)
    MASK_REDUCTION_REQUEST = "mask.reduction.request"  # an edit that uncovers part of the mask, held for approval
    MASK_REDUCTION_APPROVE = "mask.reduction.approve"
    # Camera-side masks (docs/design/camera-side-masks.md): camgrid set the camera's own Media2 masks; a check of
    # the camera's pictures (or of its GetMasks) failed and the recorder masks again; an admin re-armed them.
    MASK_CAMERA_SET = "mask.camera.set"
    MASK_CAMERA_FAILED = "mask.camera.failed"
    MASK_CAMERA_REARM = "mask.camera.rearm"
    CAMERAS_IMPORT = "cameras.import"
    CAMERA_UPDATE = "camera.update"
    CAMERA_MAINTENANCE = "camera.maintenance"
    CAMERA_AUDIO_SET = "camera.audio"  # recording of a camera's sound switched on or off (docs/design/audio.md)
    CAMERAS_EXPORT_SECRETS = "cameras.export.secrets"
    BACKFILL = "backfill"  # a gap's video replayed from the camera's card into the recordings (camgrid itself)
    CAMERA_PROBE = "camera.probe"  # a diagnostic session with the camera's credentials (no video released)
    CAMERA_DISCOVER = "camera.discover"  # cameras probed and asked who they are, with a login given for it
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    USER_DELETE = "user.delete"
    USER_PASSWORD = "user.password"  # an admin set a new password (the entry never holds it)
    USER_REVOKE = "user.revoke"  # every session and token of a user ended
    USER_SETTINGS = "user.settings"  # a user chose their language, calendar or digits (docs/design/languages.md)
    TOKEN_ISSUE = "token.issue"
    TOKEN_REVOKE = "token.revoke"
    TOTP_ENROL = "2fa.enrol"
    TOTP_RESET = "2fa.reset"
    TOTP_VERIFY = "2fa.verify"
    TOTP_RECOVERY = "2fa.recovery"  # a single-use recovery code was spent
    DIRECTORY_SYNC = "user.directory"  # a directory user's local row made or changed from their groups at login
    SUGGESTION_DECIDE = "registry.suggestion"
    EVIDENCE_SUBMIT = "evidence.submit"
    MOTION_SEARCH = "motion.search"  # an investigator searched a region of one camera's recordings for motion
    TAMPER_REFERENCE = "tamper.reference"  # a camera's tamper reference picture re-taken (after a planned move)
    # The planner screen (docs/design/planner-screen.md): a plan run started or stopped, a plan imported as cameras.
    PLAN_RUN = "plan.run"
    PLAN_STOP = "plan.stop"
    PLAN_IMPORT = "plan.import"
    AUDIT_SEARCH = "audit.search"  # an auditor searched the log (first page; its filters in the details)
    AUDIT_EXPORT = "audit.export"  # the whole log left as a download
    # An action whose entry was written first and then failed (the store refused it): details name the action and
    # the entry's index, so no refused action is left looking done (docs/design/scopes.md).
    ACTION_FAILED = "action.failed"


class ExportStatus(StrEnum):
    """Where a four-eyes export stands (the ``exports.status`` column; docs/design/services-own-invariants.md)."""

    PENDING = "pending"  # asked for; nothing has left (also while a cluster node holding its sources is down)
    READY = "ready"  # approved by a second person: the clip is cut, the manifest signed
    REFUSED = "refused"  # a second person said no
    FAILED = "failed"  # approved, but nothing was recorded in the range (or the sources were unreadable)


class EvidenceKind(StrEnum):
    """Outside evidence the outage correlation accepts (``health.feed.IncidentFeed.on_evidence``)."""

    FEEDER = "feeder"  # a utility's notice that a feeder is out or restored
    UPS = "ups"  # a site's UPS telemetry: on battery or back on mains


class IncidentAction(StrEnum):
    """What an operator (or the engine) did on an incident (the ``incident_actions.action`` column)."""

    ACK = "ack"
    COMMENT = "comment"
    ACCEPT_SUGGESTION = "accept_suggestion"
    REJECT_SUGGESTION = "reject_suggestion"
    CLOSED_ON_RESTART = "closed_on_restart"


class SegmentStatus(StrEnum):
    """A recorded segment's state (the ``segments.status`` column)."""

    WRITING = "writing"  # the file is open: never deleted, its tail not yet settled
    COMPLETE = "complete"  # closed or repaired by recovery


class BackfillState(StrEnum):
    """Where an edge backfill job stands (the ``backfill_jobs.state`` column; docs/design/onvif.md)."""

    PENDING = "pending"  # found, not yet run (also a job that was running when its process stopped)
    RUNNING = "running"  # replaying from the camera's card now
    DONE = "done"  # the card's video of the gap was replayed (``recovered_ns`` says how much)
    NOTHING_HELD = "nothing_held"  # the card held nothing of the gap, or the camera has no Profile G
    FAILED = "failed"  # the camera refused or failed, ``attempts`` times


class PlanRunState(StrEnum):
    """Where a plan run stands (the ``plan_runs.state`` column; docs/design/planner-screen.md)."""

    QUEUED = "queued"  # started by a planner, waiting for a free worker slot
    RUNNING = "running"  # the worker is solving it
    DONE = "done"  # finished: its plan is written
    STOPPED = "stopped"  # a planner stopped it; the best plan found so far is written (when there is one)
    FAILED = "failed"  # the solver or the map refused it (``detail`` says why)
    INTERRUPTED = "interrupted"  # the server stopped while it ran (marked at the next start)


class PlanAreaKind(StrEnum):
    """What a plan run covers."""

    CITY = "city"  # the whole map
    DISTRICTS = "districts"  # some of the planner's districts
    BBOX = "bbox"  # a latitude/longitude box


class VideoPath(StrEnum):
    """How a viewer's video reaches the browser (live ``codec`` message, playback ``X-Camgrid-Path``, tile badge)."""

    NATIVE = "native"  # the camera's own stream, as recorded
    H264_TRANSCODE = (
        "h264-transcode"  # H.265 made H.264 by the server for this browser (docs/design/h265-for-viewers.md)
    )


class SegmentSource(StrEnum):
    """Where a segment's pictures came from (the ``segments.source`` column, migration 0021)."""

    LIVE = "live"  # recorded from the camera's live stream
    EDGE = "edge"  # replayed from the camera's own card (ONVIF Profile G) to fill a gap (docs/design/onvif.md)


class DeletionReason(StrEnum):
    """Why retention deleted a segment (the ``deletions.reason`` column and the audit entry's ``reason``)."""

    AGE = "age"  # older than the camera's retention (camera, else district, else configuration, else default)
    BUDGET = "budget"  # oldest unheld segment while the recordings exceed the disk budget


# The account name camgrid's own automatic actions are audited under (retention, recovery).
SYSTEM_ACTOR = "camgrid"


class UserSource(StrEnum):
    """Where a user's password and rights live (the ``users.source`` column; docs/design/sign-in.md)."""

    LOCAL = "local"  # camgrid's own argon2 hash; role and districts set with ``camgrid users``
    DIRECTORY = "ldap"  # the city's directory: bind to check the password, groups give role and districts


class SecondFactor(StrEnum):
    """What the login route asks for after a good password (``{"second_factor": ...}``)."""

    TOTP = "totp"  # a code from the user's authenticator app (or a recovery code)
    ENROL = "enrol"  # the user must enrol first: /api/auth/login/enrol, then a code


class WitnessStatus(StrEnum):
    """What a witness answered for a checkpoint (``audit_cosignatures.status``; docs/design/witnesses.md)."""

    COSIGNED = "cosigned"
    REFUSED = "refused"  # it checked and said no: a rollback, a fork, a bad proof or signature
    UNREACHABLE = "unreachable"  # no answer (down, network, nonsense)


class CameraEventKind(StrEnum):
    """What a camera said happened to it, over ONVIF events (``camera_events.kind``; docs/design/onvif.md)."""

    TAMPER = "tamper"  # tns1:VideoSource/GlobalSceneChange/ImagingService: covered, moved, defocused
    MOTION = "motion"  # tns1:VideoSource/MotionAlarm
    VIDEO_LOSS = "video_loss"  # tns1:VideoSource/SignalLoss: the sensor gives no picture
    STORAGE_FAILURE = "storage_failure"  # tns1:Device/HardwareFailure/StorageFailure: the SD card failed
    OTHER = "other"  # any other topic (kept with its topic, shown, never acted on)


class CameraCondition(StrEnum):
    """A camera's own trouble shown beside its health state (never an outage: it does not feed incidents)."""

    CLOCK_OFF = "clock_off"  # its clock is further from ours than onvif.clock_tolerance_s
    TAMPER = "tamper"
    VIDEO_LOSS = "video_loss"
    STORAGE_FAILURE = "storage_failure"


# What a district-scoped user is shown instead of a feeder, site or uplink none of whose cameras is in their
# districts (an incident's subject: docs/design/scopes.md).
OUTSIDE_SCOPE = "(outside your districts)"


class UiLanguage(StrEnum):
    """Languages of the control room (web/src/locales/<lang>/; docs/design/languages.md)."""

    EN = "en"
    FA_AF = "fa-AF"  # Dari (right to left)
    PS = "ps"  # Pashto (right to left)
    NE = "ne"  # Nepali


class UiCalendar(StrEnum):
    """Calendars dates are shown in, as Intl names them (Bikram Sambat is not in Intl)."""

    GREGORY = "gregory"
    PERSIAN = "persian"  # Solar Hijri, Afghanistan's and Iran's civil calendar


class UiDigits(StrEnum):
    """Digits numbers and dates are written with, as Intl's numbering systems name them."""

    LATN = "latn"  # 0-9
    ARABEXT = "arabext"  # Persian digits, also used for Pashto
    DEVA = "deva"  # Devanagari digits (Nepali)
