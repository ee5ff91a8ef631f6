"""One config file (``$CAMGRID_HOME/camgrid.toml``) plus environment overrides.

Every field has a default, bounds and a description; unknown keys are errors (``extra="forbid"``), and every error
names its key as ``section.key``. Environment variables override the file: ``CAMGRID_RECORDER__STALL_TIMEOUT_S=3``
sets ``recorder.stall_timeout_s``.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from camgrid.vocabulary import Role, RtspTransport, UiLanguage

log = logging.getLogger("camgrid.config")
CONFIG_NAME = "camgrid.toml"
ENV_PREFIX = "CAMGRID_"
# Keys removed from the recorder section, and why; a file that still has one loads with a warning.
RETIRED_RECORDER_KEYS = {"queue_fragments": "the disk writer's backlog limit is in bytes (disk_slow gap)"}
MIN_SECRET_CHARS = 32  # cluster media credentials: shorter ones (or the example CHANGE-ME) are refused at start
NOT_CONFIG = frozenset({"CAMGRID_HOME", "CAMGRID_NEW_PASSWORD"})  # environment variables that are not config keys


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DatabaseConfig(_Section):
    url: str = Field(
        "",
        max_length=2000,
        description="SQLAlchemy URL; empty means SQLite at $CAMGRID_HOME/camgrid.db",
    )


class RecorderConfig(_Section):
    @model_validator(mode="before")
    @classmethod
    def _retired(cls, data: Any) -> Any:
        """Keys that once existed but were never read: an old config file still loads, with a warning."""
        if isinstance(data, dict):
            for key in sorted(RETIRED_RECORDER_KEYS.keys() & data.keys()):
                log.warning("config: recorder.%s is retired and ignored (%s)", key, RETIRED_RECORDER_KEYS[key])
            data = {k: v for k, v in data.items() if k not in RETIRED_RECORDER_KEYS}
        return data

    node_id: str = Field("local", min_length=1, max_length=64, description="Name of this recorder node")
    segment_seconds: float = Field(10.0, ge=2.0, le=600.0, description="Target segment length, cut on keyframes")
    fragment_seconds: float = Field(1.0, ge=0.2, le=5.0, description="Longest fragment before it is flushed")
    poll_interval_ms: int = Field(
        40, ge=5, le=500, description="How often sockets are drained; larger batches cost less CPU"
    )
    connect_timeout_s: float = Field(5.0, ge=0.5, le=60.0, description="TCP connect and RTSP reply timeout")
    stall_timeout_s: float = Field(3.0, ge=0.5, le=60.0, description="No media for this long means stalled")
    backoff_initial_s: float = Field(0.5, ge=0.05, le=60.0, description="First reconnect delay")
    backoff_max_s: float = Field(
        4.0, ge=0.5, le=600.0, description="Longest reconnect delay for an unreachable or stalled camera"
    )
    slow_backoff_max_s: float = Field(
        30.0, ge=1.0, le=3600.0, description="Longest reconnect delay after a refused password or stream"
    )
    max_connects_per_s: float = Field(
        100.0, ge=1.0, le=10000.0, description="Connection attempts per second across all cameras (no herd)"
    )
    max_frame_bytes: int = Field(
        4_000_000,
        ge=100_000,
        le=64_000_000,
        description="Largest access unit accepted before a camera is cut",
    )
    transport: RtspTransport = Field(
        RtspTransport.AUTO,
        description="How media travels for cameras whose own transport is auto: auto (TCP interleaved, UDP after "
        "a 461 answer), tcp or udp",
    )
    rtcp_interval_s: float = Field(5.0, ge=1.0, le=60.0, description="RTCP receiver reports this often")
    reorder_window: int = Field(32, ge=1, le=1024, description="UDP: packets held ahead of a hole before it is lost")
    reorder_delay_ms: int = Field(100, ge=0, le=2000, description="UDP: longest wait for a packet out of order")
    rtsps_verify: bool = Field(
        True,
        description="rtsps://: verify the camera's certificate (system CAs and rtsps_ca_file); false accepts any "
        "certificate (encrypted, not authenticated: for a lab only)",
    )
    rtsps_ca_file: str = Field(
        "", max_length=4096, description="rtsps://: a PEM bundle of the CAs that signed the cameras' certificates"
    )
    rtsps_pins: dict[str, str] = Field(
        default_factory=dict,
        description="rtsps://: camera id -> SHA-256 fingerprint (hex) of its certificate, accepted even when "
        "self-signed (the usual camera); any other certificate is refused",
    )

    @field_validator("rtsps_pins")
    @classmethod
    def _pins(cls, pins: dict[str, str]) -> dict[str, str]:
        out = {}
        for camera, text in pins.items():
            hexed = text.lower().removeprefix("sha256:").replace(":", "").strip()
            if not re.fullmatch(r"[0-9a-f]{64}", hexed):
                raise ValueError(f"rtsps_pins[{camera!r}] is not a SHA-256 fingerprint (64 hex digits)")
            out[camera] = hexed
        return out

    fsync_interval_s: float = Field(
        1.0, ge=0.0, le=60.0, description="Make written segments durable this often (one syncfs per filesystem)"
    )
    free_space_floor_mb: int = Field(
        256, ge=0, le=10_000_000, description="Below this free space, stop writing and record a gap"
    )
    heartbeat_interval_s: float = Field(1.0, ge=0.1, le=60.0, description="Liveness mark for crash recovery")
    metrics_port: int = Field(9108, ge=0, le=65535, description="Port for /metrics (0 disables)")
    metrics_host: str = Field("127.0.0.1", max_length=255, description="Address for /metrics")


class RetentionConfig(_Section):
    default_days: float = Field(14.0, gt=0, le=3650, description="Keep recordings this long unless overridden")
    disk_budget_gb: float = Field(
        0.0, ge=0.0, le=10_000_000, description="Recordings may use at most this much (0 = no budget)"
    )
    interval_s: float = Field(60.0, ge=1.0, le=86400.0, description="How often retention runs")
    district_days: dict[str, float] = Field(
        default_factory=dict, description="Retention in days per district id (overrides the default)"
    )


class SimConfig(_Section):
    host: str = Field("127.0.0.1", max_length=255, description="Address the simulated cameras listen on")
    port: int = Field(8554, ge=1, le=65535, description="RTSP port of the simulated city")
    control_port: int = Field(8555, ge=0, le=65535, description="HTTP port of the fault injector (0 disables)")
    onvif: bool = Field(True, description="Every simulated camera is also an ONVIF device (and answers WS-Discovery)")
    onvif_port: int = Field(
        8556, ge=0, le=65535, description="ONVIF HTTP port, on each camera's own loopback address (0 = ephemeral)"
    )
    discovery_port: int = Field(
        3702, ge=0, le=65535, description="WS-Discovery UDP port of the simulator (0 = ephemeral)"
    )
    replay_max_rate: float = Field(
        32.0, ge=1.0, le=1000.0, description="ONVIF replay with Rate-Control: no sends at most this many x real time"
    )
    width: int = Field(1280, ge=64, le=3840, description="Picture width")
    height: int = Field(720, ge=64, le=2160, description="Picture height")
    fps: int = Field(25, ge=1, le=60, description="Frames per second")
    bitrate_kbps: int = Field(2000, ge=50, le=50_000, description="Target bit rate")
    gop_seconds: float = Field(2.0, ge=0.2, le=10.0, description="Keyframe interval")
    clip_seconds: float = Field(8.0, ge=1.0, le=60.0, description="Length of each encoded loop")
    h265_every: int = Field(8, ge=0, le=1000, description="Every Nth camera uses H.265 (0 = none)")
    shared_clip: bool = Field(False, description="Every camera sends the same clip (benchmarks: one encode, one loop)")
    tick_ms: int = Field(10, ge=5, le=500, description="How often each session sends what is due, in one write")
    scene_cameras: int = Field(
        0,
        ge=0,
        le=100_000,
        description="The first N cameras are scene cameras (a still picture with scripted motion and tamper; "
        "more than the count: all)",
    )
    cache_dir: str = Field(
        "", max_length=1000, description="Where encoded clips are kept (default $CAMGRID_HOME/cache/clips)"
    )


class ServerConfig(_Section):
    host: str = Field("127.0.0.1", max_length=255, description="Address of the control room")
    port: int = Field(8080, ge=1, le=65535, description="Port of the control room")
    tls_cert: str = Field(
        "",
        max_length=4096,
        description='PEM certificate (chain) for HTTPS, relative to $CAMGRID_HOME or absolute; "" = plain HTTP',
    )
    tls_key: str = Field(
        "",
        max_length=4096,
        description="PEM private key for HTTPS (must not be world-readable), relative to $CAMGRID_HOME or absolute",
    )
    insecure_http: bool = Field(
        False, description="Allow plain HTTP on an address beyond loopback (sessions and video in clear: avoid)"
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Browser origins besides the server's own that may use the API "
        "(scheme://host[:port], e.g. a reverse proxy's public origin); comma-separated in the environment",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for origin in value:
                if not isinstance(origin, str) or not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin):
                    raise ValueError(f"not an origin (scheme://host[:port], no path): {origin!r}")
            value = [o.lower() for o in value]
        return value


class LdapConfig(_Section):
    """Sign-in against the city's directory (LDAP / Active Directory; docs/design/sign-in.md). Off by default."""

    enabled: bool = Field(False, description="Users not known locally (or marked as directory users) bind here")
    url: str = Field(
        "ldap://127.0.0.1:389", max_length=500, pattern=r"^ldaps?://", description="ldap:// or ldaps:// URL"
    )
    start_tls: bool = Field(False, description="Upgrade an ldap:// connection with StartTLS before binding")
    ca_file: str = Field("", max_length=1000, description="CA certificates for ldaps/StartTLS ('' = system store)")
    timeout_s: float = Field(5.0, ge=0.5, le=60.0, description="Connect and operation timeout")
    user_dn_template: str = Field(
        "",
        max_length=500,
        description="Bind DN of a user, {username} replaced (escaped), e.g. uid={username},ou=people,dc=city; "
        "'' = find the user with the service account (search_base and user_filter)",
    )
    search_base: str = Field("", max_length=500, description="Where users are searched (service account mode)")
    user_filter: str = Field(
        "(uid={username})", max_length=500, description="Filter finding one user; {username} is escaped"
    )
    bind_dn: str = Field("", max_length=500, description="Service account DN (searches users, checks accounts)")
    bind_password: str = Field(
        "", max_length=500, description="Service account password (prefer env CAMGRID_ACCESS__LDAP__BIND_PASSWORD)"
    )
    group_base: str = Field("", max_length=500, description="Where groups are searched")
    group_filter: str = Field(
        "(|(member={dn})(uniqueMember={dn}))",
        max_length=500,
        description="Groups of a user; {dn} is the user's DN (escaped)",
    )
    role_groups: dict[str, Role] = Field(
        default_factory=dict,
        max_length=50,
        description="Group DN -> camgrid role; the first group listed that the user is in gives the role",
    )
    district_groups: dict[str, str] = Field(
        default_factory=dict,
        max_length=500,
        description="Group DN -> district id ('*' = all districts); a user in none of them cannot sign in",
    )
    recheck_s: float = Field(
        60.0, ge=1.0, le=3600.0, description="How often a directory user's session is re-checked against the directory"
    )


class AccessConfig(_Section):
    """How long credentials live, and how soon open connections notice one ended (docs/design/users-life.md)."""

    session_ttl_s: float = Field(
        12 * 3600.0, ge=60.0, le=7 * 86400.0, description="A browser session ends this long after login"
    )
    token_days: float = Field(
        30.0, gt=0.0, le=365.0, description="Lifetime of a script token when `camgrid users token` is not given --ttl"
    )
    token_max_days: float = Field(
        90.0, gt=0.0, le=365.0, description="Longest lifetime a script token may be given; a longer --ttl is refused"
    )
    revalidate_s: float = Field(
        0.5, ge=0.05, le=1.0, description="How often an open WebSocket re-checks its session or token"
    )

    two_factor: bool = Field(False, description="Ask the roles in require_2fa_roles for a TOTP code after the password")
    require_2fa_roles: list[Role] = Field(
        default_factory=lambda: [Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR],
        max_length=5,
        description="Roles that must use a second factor (enrolled at their first login; docs/design/sign-in.md)",
    )
    second_factor_ttl_s: float = Field(
        300.0, ge=30.0, le=900.0, description="How long a password-checked login waits for its code"
    )
    ldap: LdapConfig = Field(default_factory=LdapConfig, description="The city's directory (docs/design/sign-in.md)")

    @model_validator(mode="after")
    def _default_within_max(self) -> AccessConfig:
        if self.token_days > self.token_max_days:
            raise ValueError("token_days must not exceed token_max_days")
        return self


class ApiConfig(_Section):
    """Limits the control room applies before any work (docs/design/limits-before-work.md)."""

    trusted_proxies: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed; empty = none",
    )
    max_body_bytes: int = Field(
        65_536, ge=1024, le=64 << 20, description="Largest request body of any route not named below (else 413)"
    )
    login_max_body_bytes: int = Field(8192, ge=512, le=1 << 20, description="Largest body of the login request")
    mask_max_body_bytes: int = Field(
        1 << 20, ge=4096, le=64 << 20, description="Largest body of a privacy mask (32 polygons of 256 points)"
    )
    login_free_failures: int = Field(
        3, ge=1, le=100, description="Wrong passwords for one user from one address before logins must wait"
    )
    login_delay_s: float = Field(
        5.0, ge=0.1, le=3600.0, description="First wait after the free failures; it doubles with each further one"
    )
    login_max_delay_s: float = Field(300.0, ge=1.0, le=86_400.0, description="Longest wait between login attempts")
    login_forget_s: float = Field(
        3600.0, ge=10.0, le=7 * 86_400.0, description="Failures are forgotten after this long without another"
    )
    login_user_failures: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Wrong passwords for one user from addresses it never logged in from before those wait too",
    )
    login_address_failures: int = Field(
        100,
        ge=1,
        le=1_000_000,
        description="Wrong passwords from one address (any user) per window before it may only try known users",
    )
    login_address_window_s: float = Field(600.0, ge=1.0, le=86_400.0, description="Window of the per-address ceiling")
    login_known_s: float = Field(
        30 * 86_400.0,
        ge=60.0,
        le=366 * 86_400.0,
        description="A user's address stays known this long after a successful login from it",
    )

    probe_min_interval_s: float = Field(
        10.0,
        ge=0.0,
        le=3600.0,
        description="A user may start one camera probe per this many seconds (POST /api/cameras/{id}/probe, else 429)",
    )
    probe_max_running: int = Field(
        4, ge=1, le=64, description="Camera probes running at once in this server (each holds a thread; else 409)"
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """An environment override is one string: ``CAMGRID_API__TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7``."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _networks(self) -> ApiConfig:
        import ipaddress

        for item in self.trusted_proxies:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {item!r} is not an address or CIDR") from None
        return self


class PlannerConfig(_Section):
    """Coverage planner: demand weights, candidate sites, camera model, power, solvers (docs/design/planner.md).
    The defaults are the instance of ``make bench-plan``."""

    poi_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "amenity=hospital": 10.0,
            "amenity=school": 8,
            "amenity=marketplace": 8,
            "office=government": 7,
            "amenity=college": 6,
            "amenity=police": 6,
            "amenity=bus_station": 6,
            "amenity=place_of_worship": 5,
            "amenity=clinic": 4,
            "highway=traffic_signals": 4,
            "highway=bus_stop": 3,
            "amenity=pharmacy": 2,
        },
        description="Weight of an important point by OSM tag key=value (a POI takes its largest matching weight)",
    )
    junction_weight: float = Field(4.0, ge=0.0, le=1000.0, description="Weight of a street junction (0 = none)")
    street_point_weight: float = Field(1.0, ge=0.0, le=1000.0, description="Weight of each point along streets")
    street_point_spacing_m: float = Field(5.0, ge=0.5, le=1000.0, description="Spacing of demand points on streets")
    street_classes: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="highway=* classes that count as streets (empty = every linear highway way, footways included)",
    )
    site_spacing_m: float = Field(5.0, ge=0.5, le=1000.0, description="Spacing of candidate camera sites on streets")
    site_offset_m: float = Field(2.0, ge=-50.0, le=50.0, description="Sites sit this far left of the centre line")
    orientations: int = Field(12, ge=1, le=360, description="Orientations considered per site")
    fov_deg: float = Field(90.0, gt=0.0, le=360.0, description="Camera field of view")
    range_m: float = Field(60.0, gt=0.0, le=1000.0, description="Camera range for coverage")
    camera_cost: float = Field(1.0, gt=0.0, le=1e9, description="Cost of one camera (several may share a site)")
    coverage_k: dict[str, int] = Field(
        default_factory=dict,
        description="Cameras a point asks for, by category (tag key=value, 'junction', 'street', 'operator')",
    )
    power_aware: bool = Field(False, description="Weight coverage by the chance that a camera has power")
    feeder_availability: float = Field(
        0.85, ge=0.0, le=1.0, description="Default share of time a feeder has power (when no outage history)"
    )
    feeder_availability_by_id: dict[str, float] = Field(
        default_factory=dict, description="Measured availability per feeder id (from the outage reports)"
    )
    feeder_cell_m: float = Field(
        400.0, ge=10.0, le=100_000.0, description="Size of the synthetic feeder areas (the maps have no feeders)"
    )
    district_cell_m: float = Field(
        500.0, ge=10.0, le=100_000.0, description="Size of the synthetic districts used when none are given"
    )
    time_limit_s: float = Field(60.0, gt=0.0, le=86_400.0, description="Time limit of the exact solver")
    mip_rel_gap: float = Field(1e-3, ge=0.0, le=1.0, description="Relative gap at which the exact solver stops")
    heuristic_time_s: float = Field(8.0, gt=0.0, le=3600.0, description="Time for the local search")
    cache_dir: str = Field(
        "", max_length=4096, description="Visibility cache folder (empty = $CAMGRID_HOME/cache/planner)"
    )


class CameraModelConfig(_Section):
    """A camera model a plan run may use (the planner screen offers them by name)."""

    name: str = Field(..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$", description="Model name")
    fov_deg: float = Field(90.0, gt=0.0, le=360.0, description="Field of view")
    range_m: float = Field(60.0, gt=0.0, le=1000.0, description="Range for coverage")
    cost: float = Field(1.0, gt=0.0, le=1e9, description="Cost of one camera of this model (budget units)")


# The city planner's tile side (m): 1.5 km tiles gave the 9 km² and 100 km² benches their best gap for the time
# (docs/design/planner-city.md, "Measured"); the worker, `camgrid plan city` and `make bench-plan-city` share it.
CITY_TILE_M = 1500.0


class PlanRunsConfig(_Section):
    """Plan runs from the control room's planner screen (docs/design/planner-screen.md): the background worker's
    limits and the camera models offered. The demand and site rules are ``planner.*``."""

    map_path: str = Field(
        "",
        max_length=4096,
        description=(
            "Map the runs plan on: an OSM map (.osm, .osm.xz, .osm.pbf, GeoJSON; loaded whole) or a `camgrid plan "
            "city-gen` manifest (.json; a synthetic city planned whole in tiles, districts and boxes cut from it). "
            "Empty = the shipped extract"
        ),
    )
    max_concurrent: int = Field(1, ge=1, le=16, description="Runs solved at the same time (the others wait queued)")
    max_queued: int = Field(8, ge=1, le=1000, description="Runs waiting at most; more are refused")
    max_budget: float = Field(100_000.0, gt=0.0, le=1e9, description="Largest budget of one year of a run")
    max_districts: int = Field(400, ge=1, le=100_000, description="Most districts one run may name")
    solver: str = Field(
        "local", pattern="^(greedy|local|exact)$", description="Today's solver for a run: greedy, local or exact"
    )
    heuristic_time_s: float = Field(8.0, gt=0.0, le=3600.0, description="Local search time per year of a run")
    time_limit_s: float = Field(120.0, gt=0.0, le=86_400.0, description="Exact solver time per year of a run")
    city_workers: int = Field(2, ge=1, le=64, description="Processes of the city-scale planner (when installed)")
    city_tile_m: float = Field(
        CITY_TILE_M,
        ge=300.0,
        le=20_000.0,
        description="Tile side (m) of the city-scale planner: larger tiles bound tighter, need more memory per worker",
    )
    city_solver_min_km2: float = Field(
        4.0, ge=0.0, le=1e6, description="Areas at least this large use the city-scale planner when it is installed"
    )
    city_time_limit_s: float = Field(
        1800.0,
        ge=0.0,
        le=7 * 86_400.0,
        description=(
            "Time limit (s) of a city-planner run: the bound refinement, the second sweep, the border windows and the "
            "camera moves are skipped or cut when the time left cannot cover them (the preparation and the first "
            "sweep always complete; the planner can also stop a run when its gap is good enough). 0 = none"
        ),
    )
    max_district_km2: float = Field(
        4.0,
        gt=0.0,
        le=1e6,
        description="Largest area (km²) a district or box run may plan in one piece; larger areas: plan the whole city",
    )
    poll_s: float = Field(0.5, gt=0.0, le=60.0, description="How often the worker looks for new runs and stops")
    models: list[CameraModelConfig] = Field(
        default_factory=lambda: [
            CameraModelConfig(name="dome-90", fov_deg=90.0, range_m=60.0, cost=1.0),
            CameraModelConfig(name="wide-120", fov_deg=120.0, range_m=40.0, cost=1.0),
            CameraModelConfig(name="long-60", fov_deg=60.0, range_m=100.0, cost=1.5),
        ],
        min_length=1,
        max_length=20,
        description="Camera models a run may choose from",
    )


class HealthConfig(_Section):
    """Camera health and incident correlation settings (see docs/design/health-incidents.md)."""

    correlation_window_s: float = Field(
        30.0, ge=1.0, le=600.0, description="Cameras going down within this window are correlated"
    )
    hold_s: float = Field(
        3.5, ge=0.2, le=5.0, description="A camera seen down waits this long for its peers before it is judged"
    )
    hold_max_s: float = Field(
        4.75, ge=0.2, le=10.0, description="Longest wait, when peers are going down but no group is clear yet"
    )
    decide_step_s: float = Field(
        0.25, ge=0.0, le=1.0, description="Decisions run on this time grid (0 = at each camera's own deadline)"
    )
    power_min_ratio: float = Field(
        0.3, ge=0.01, le=1.0, description="Share of a feeder's cameras down for a power incident"
    )
    uplink_min_ratio: float = Field(
        0.3, ge=0.01, le=1.0, description="Share of an uplink's cameras down for an uplink incident"
    )
    site_min_ratio: float = Field(0.5, ge=0.1, le=1.0, description="Share of a site's cameras down for a site incident")
    group_min_cameras: int = Field(
        3, ge=1, le=1000, description="Fewest newly down cameras that open a power or uplink incident"
    )
    evidence_min_ratio: float = Field(
        0.05, ge=0.0, le=1.0, description="Feeder share enough when a utility notice or UPS says the feeder is out"
    )
    camera_clear_s: float = Field(
        180.0, ge=0.0, le=86400.0, description="A camera incident resolves after the camera is up this long"
    )
    flap_window_s: float = Field(600.0, ge=1.0, le=86400.0, description="Short outages within this window count")
    flap_blips: int = Field(2, ge=1, le=100, description="Short outages in the window that make a camera flapping")
    straggler_s: float = Field(
        600.0, ge=1.0, le=86400.0, description="Cameras still down this long after the others returned are re-judged"
    )
    resolve_ratio: float = Field(
        0.8, ge=0.1, le=1.0, description="Share of members back before stragglers may be re-judged"
    )
    merge_window_s: float = Field(
        15.0, ge=0.0, le=600.0, description="A camera or site incident this young is folded into a larger one"
    )
    attach_radius_m: float = Field(
        300.0, ge=0.0, le=5000.0, description="A lone camera dark with a cut this close to its cameras is attached"
    )
    degraded_fps_ratio: float = Field(
        0.5, ge=0.05, le=1.0, description="Frame rate below this share of the camera's own normal is degraded"
    )
    degraded_bitrate_ratio: float = Field(
        0.3, ge=0.01, le=1.0, description="Bit rate below this share of the camera's own normal is degraded"
    )
    degraded_reconnects: int = Field(
        3, ge=1, le=1000, description="Reconnects within the observation window that make a camera degraded"
    )
    recover_ratio: float = Field(
        0.8, ge=0.1, le=1.0, description="A degraded camera is online again above this share of its normal"
    )
    baseline_alpha: float = Field(
        0.05, gt=0.0, le=1.0, description="Weight of each healthy sample in the camera's learned normal"
    )


class BusConfig(_Section):
    url: str = Field(
        "",
        max_length=2000,
        pattern=r"^(|(nats|tls)://\S+)$",
        repr=False,
        description='Message bus: "" = in-process (one machine), "nats://user:password@host:4222" = NATS JetStream '
        '(a cluster; "tls://..." over TLS); the password is never logged',
    )
    tls_ca: str = Field(
        "", max_length=1000, description='PEM CA the NATS server\'s certificate is checked against; "" = system CAs'
    )
    stream: str = Field(
        "CAMGRID", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="JetStream stream name"
    )
    max_buffer: int = Field(
        1_000_000, ge=1000, le=100_000_000, description="Messages kept locally while NATS is unreachable"
    )
    max_age_s: float = Field(86400.0, ge=60.0, le=31_536_000.0, description="How long JetStream keeps a message")


class ClusterConfig(_Section):
    capacity: int = Field(200, ge=1, le=100_000, description="Cameras this recorder node takes at most")
    capacity_mbps: float = Field(
        0.0,
        ge=0.0,
        le=1_000_000.0,
        description="Mbit/s this node takes at most (cameras counted at their measured bitrate); 0 = cameras only",
    )
    camera_mbps: float = Field(
        4.0, ge=0.01, le=1000.0, description="Bitrate counted for a camera not measured yet (Mbit/s capacity)"
    )
    districts: str = Field(
        "", max_length=2000, description='District ids this node prefers (affinity), comma-separated; "" = none'
    )
    lease_ttl_s: float = Field(
        6.0, ge=1.0, le=300.0, description="A lease not renewed for this long is free: the failover time budget"
    )
    heartbeat_s: float = Field(1.0, ge=0.2, le=60.0, description="How often a node renews its leases and takes more")
    settle_s: float = Field(
        2.0, ge=0.0, le=60.0, description="Wait after joining before taking cameras, so nodes that start together share"
    )
    address: str = Field("", max_length=255, description="host:port where this node serves its recordings")
    max_event_lag_s: float = Field(
        300.0,
        ge=5.0,
        le=3600.0,
        description="Control plane: longest the incident engine waits for a live node's states delayed on the bus",
    )
    media_token: str = Field(
        "",
        max_length=256,
        repr=False,
        description="A recorder node's own credential: the central node presents it to fetch this node's recordings "
        '(`camgrid node credential NODE` on the central node prints it); "" = the node does not serve its recordings',
    )
    media_secret: str = Field(
        "",
        max_length=256,
        repr=False,
        description="Central node: the secret each node's media credential is derived from (never given to a node); "
        '"" = recordings on other nodes cannot be fetched',
    )
    tls_cert: str = Field(
        "", max_length=1000, description="Recorder node: PEM certificate its recordings are served with (HTTPS)"
    )
    tls_key: str = Field("", max_length=1000, description="Recorder node: PEM private key of tls_cert (mode 600)")
    tls_ca: str = Field(
        "",
        max_length=1000,
        description='Central node: PEM CA the nodes\' certificates are checked against; "" = nodes speak plain HTTP '
        "(only on loopback)",
    )

    @model_validator(mode="after")
    def _strong_secrets(self) -> ClusterConfig:
        for key in ("media_token", "media_secret"):
            value = getattr(self, key)
            if value and (len(value) < MIN_SECRET_CHARS or "CHANGE-ME" in value.upper()):
                raise ValueError(
                    f"cluster.{key} is the example value or shorter than {MIN_SECRET_CHARS} characters: make one with "
                    "`camgrid node credential` (nodes) or python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("cluster.tls_cert and cluster.tls_key go together")
        return self


class WitnessConfig(_Section):
    """Witnesses of the audit log (docs/design/witnesses.md)."""

    peers: str = Field(
        "",
        max_length=20_000,
        description='Witnesses the central node asks to cosign each checkpoint, "; "-separated "<url> <witness key>" '
        'pairs (the key as printed by `camgrid audit witness`); "" = none',
    )
    quorum: int = Field(
        1, ge=0, le=100, description="Cosignatures the newest checkpoint needs for `camgrid audit verify` to pass"
    )
    serve_on_node: bool = Field(
        True, description="A recorder node is a witness: it answers add-checkpoint on cluster.address"
    )
    log_keys: str = Field(
        "",
        max_length=20_000,
        description='Log verifier keys a witness trusts, "; "-separated; "" = pin the key of the first checkpoint '
        "it is sent per log (trust on first use)",
    )


class OnvifSettings(_Section):
    """Each camera's clock and events over ONVIF (docs/design/onvif.md, "Clock and events")."""

    watch: bool = Field(
        True, description="Read the clocks and pull the events of the cameras with an onvif_url this process records"
    )
    events: bool = Field(True, description="Pull each camera's ONVIF events (PullPoint); false: clocks only")
    clock_interval_s: float = Field(
        600.0, ge=5.0, le=86_400.0, description="How often each camera's clock offset is measured"
    )
    clock_tolerance_s: float = Field(
        2.0, ge=0.1, le=3600.0, description="A camera whose clock is further off than this is shown as 'clock off'"
    )
    start_delay_s: float = Field(
        20.0,
        ge=0.0,
        le=3600.0,
        description="Talk to cameras only this long after start: parsing SOAP holds the interpreter in bursts, and "
        "the recorder in the same process anchors each camera's time on its first pictures (docs/design/onvif.md)",
    )
    workers: int = Field(4, ge=1, le=64, description="Threads talking to cameras (one slow camera holds one)")
    timeout_s: int = Field(5, ge=1, le=60, description="HTTP timeout of one ONVIF request")
    pull_timeout_s: int = Field(
        2, ge=1, le=10, description="How long a camera may hold a PullMessages request open (below timeout_s)"
    )
    subscription_s: int = Field(
        120, ge=30, le=3600, description="Lifetime asked for each PullPoint subscription (renewed before it ends)"
    )
    backoff_max_s: float = Field(
        120.0, ge=1.0, le=3600.0, description="Longest wait before a failing camera is tried again"
    )
    refresh_s: float = Field(30.0, ge=1.0, le=3600.0, description="How often the list of cameras is read again")
    event_days: float = Field(
        30.0, gt=0, le=3650, description="Camera events are kept this long (like the other health history)"
    )

    @model_validator(mode="after")
    def _pull_below_timeout(self) -> OnvifSettings:
        if self.pull_timeout_s >= self.timeout_s:
            raise ValueError("onvif.pull_timeout_s must be below onvif.timeout_s (the request would time out)")
        return self


class SecretsConfig(_Section):
    key_file: Path | None = Field(
        None,
        description="File with the key that seals camera passwords and credential URLs in the database (mode "
        "0600, made on first use); relative to the home; default <home>/secrets.key. Every node of a cluster "
        "needs a copy of the same file",
    )


class BackfillSettings(_Section):
    """Edge backfill: a gap's video replayed from the camera's SD card (ONVIF Profile G; docs/design/onvif.md)."""

    enabled: bool = Field(True, description="Look for gaps the cameras' cards may hold, and replay them")
    interval_s: float = Field(30.0, ge=1.0, le=3600.0, description="How often closed gaps are looked for")
    min_gap_s: float = Field(
        10.0, ge=1.0, le=86_400.0, description="Shorter gaps are not worth a replay session (seconds)"
    )
    max_age_s: float = Field(
        7 * 86_400.0,
        ge=60.0,
        le=90 * 86_400.0,
        description="Gaps that ended longer ago are not looked for (the card has overwritten them by then)",
    )
    per_uplink: int = Field(
        1, ge=1, le=16, description="Replays at once over one uplink (live recording shares it and comes first)"
    )
    per_node: int = Field(2, ge=1, le=32, description="Replays at once on this recorder node")
    max_bytes_per_s: float = Field(
        4_000_000.0, ge=10_000.0, le=1e9, description="Bandwidth one replay may use (bytes per second)"
    )
    max_attempts: int = Field(3, ge=1, le=20, description="Tries of a job before it is marked failed")
    retry_after_s: float = Field(
        300.0, ge=1.0, le=86_400.0, description="Wait before a failed try of a job is repeated (seconds)"
    )
    search_timeout_s: int = Field(
        5, ge=1, le=60, description="Bound on one ONVIF Search/Replay request to a camera (seconds)"
    )
    max_results: int = Field(
        500, ge=1, le=10_000, description="Recordings and events read from one camera's search, at most"
    )
    no_profile_g_recheck_s: float = Field(
        3600.0, ge=60.0, le=7 * 86_400.0, description="A camera without Profile G is asked again after this long"
    )


class PrivacyConfig(_Section):
    camera_side: bool = Field(
        True, description="Set masks on cameras that hold Media2 masks and verify their pictures instead of re-encoding"
    )
    verify_interval_s: float = Field(
        3.0, ge=0.5, le=60.0, description="Camera-side masks: a keyframe is decoded and checked at most this often"
    )
    arm_grace_s: float = Field(
        15.0,
        ge=0.0,
        le=300.0,
        description="Camera-side masks: time a camera has to apply new masks before a failed "
        "check counts (its pictures are masked by the recorder meanwhile)",
    )
    camera_mask_poll_s: float = Field(
        30.0, ge=1.0, le=3600.0, description="Camera-side masks: how often the camera's GetMasks is compared"
    )


class LiveConfig(_Section):
    """H.265 for browsers that cannot decode it: H.264 made for viewers only (docs/design/h265-for-viewers.md)."""

    max_transcodes: int = Field(
        4, ge=0, le=256, description="Live streams transcoded H.265 to H.264 at once in this process (each costs CPU)"
    )
    transcode_queue: int = Field(
        50, ge=5, le=500, description="Pictures waiting for one live transcode before it skips to the next keyframe"
    )
    transcode_threads: int = Field(1, ge=1, le=8, description="Encoder threads per live transcode")
    transcode_max_lag_ms: int = Field(
        500,
        ge=50,
        le=10_000,
        description="A picture that waited longer for a busy live transcode is dropped, up to the next keyframe",
    )
    max_segment_transcodes: int = Field(
        2, ge=0, le=32, description="Recorded H.265 segments transcoded for playback at once (more wait, then 503)"
    )
    segment_cache: int = Field(
        8, ge=0, le=256, description="Transcoded playback segments kept in memory (newest first) for repeat requests"
    )
    max_segment_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024 * 1024,
        le=4 * 1024**3,
        description="Largest recorded segment transcoded for playback (bytes)",
    )


class TamperConfig(_Section):
    """Tamper alarms from one decoded keyframe per camera every few seconds (docs/design/tamper.md)."""

    enabled: bool = Field(
        True,
        description="Watch every recorded camera for covered, defocused, turned, blinded and "
        "frozen pictures (camera incidents, never outages)",
    )
    interval_s: float = Field(5.0, ge=1.0, le=60.0, description="One keyframe per camera is decoded this often")
    workers: int = Field(2, ge=1, le=32, description="Decoding threads shared by all cameras of this process")
    raise_after: int = Field(
        3,
        ge=1,
        le=20,
        description="Consecutive abnormal samples before a tamper incident opens (one odd picture never)",
    )
    clear_after: int = Field(2, ge=1, le=20, description="Consecutive normal samples before it closes")
    learn_samples: int = Field(
        6, ge=1, le=100, description="Consecutive alike samples that make a camera's reference (first, or re-taken)"
    )
    grace_s: float = Field(
        30.0,
        ge=0.0,
        le=600.0,
        description="After a camera (re)connects its pictures are not judged for this long (a camera coming back "
        "after a power cut shows odd pictures while it starts)",
    )


class MotionConfig(_Section):
    """Activity from the compressed stream (docs/design/motion-search.md, "Activity")."""

    activity: bool = Field(
        True, description="Count each recorded camera's picture sizes per second and keep its activity levels"
    )
    activity_flush_s: float = Field(
        10.0, ge=1.0, le=300.0, description="Activity levels are written to <home>/activity in batches this often"
    )


class MotionSearchConfig(_Section):
    """Motion search in a region of one camera's recordings (docs/design/motion-search.md, "Motion search")."""

    work_width: int = Field(160, ge=32, le=640, description="Pictures are compared at this width (grey, averaged)")
    diff_level: int = Field(24, ge=1, le=254, description="A pixel changed when its brightness moved more than this")
    min_fraction: float = Field(
        0.01, ge=0.0001, le=1.0, description="A change: at least this share of the searched area's pixels changed"
    )
    max_hits: int = Field(50, ge=1, le=200, description="Hits per search (the strongest are kept)")
    thumb_width: int = Field(192, ge=64, le=480, description="Width of a hit's thumbnail (JPEG, black under masks)")
    max_refine: int = Field(
        8, ge=0, le=500, description="Keyframe intervals decoded picture by picture per search (candidate windows)"
    )
    activity_min_level: int = Field(
        72, ge=1, le=255, description="Activity level (65 = as usual) above which a second is searched"
    )
    activity_pad_s: int = Field(2, ge=0, le=60, description="Seconds searched either side of an active span")
    max_concurrent: int = Field(2, ge=1, le=16, description="Searches decoding at once in this process (more: 503)")


class Settings(_Section):
    home: Path = Field(Path("var"), description="Folder with the config, the database and the recordings")
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$", description="Log level")
    timezone: str = Field("Asia/Kathmandu", max_length=64, description="City time zone for display")
    language: UiLanguage = Field(
        UiLanguage.EN,
        description="The control room's language for a user who has not chosen one and whose browser asks for none "
        "of ours: en, fa-AF (Dari), ps (Pashto) or ne (Nepali)",
    )
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Database")
    recorder: RecorderConfig = Field(default_factory=RecorderConfig, description="Recorder")
    retention: RetentionConfig = Field(default_factory=RetentionConfig, description="Retention")
    sim: SimConfig = Field(default_factory=SimConfig, description="Simulated city")
    server: ServerConfig = Field(default_factory=ServerConfig, description="Control room server")
    api: ApiConfig = Field(default_factory=ApiConfig, description="Control room limits and trusted proxies")
    planner: PlannerConfig = Field(default_factory=PlannerConfig, description="Coverage planner")
    plan_runs: PlanRunsConfig = Field(default_factory=PlanRunsConfig, description="Plan runs from the planner screen")
    health: HealthConfig = Field(default_factory=HealthConfig, description="Health and incidents")
    bus: BusConfig = Field(default_factory=BusConfig, description="Message bus")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="Recorder node of a cluster")
    witness: WitnessConfig = Field(default_factory=WitnessConfig, description="Witnesses of the audit log")
    access: AccessConfig = Field(default_factory=AccessConfig, description="Sign-in, sessions, tokens and revocation")
    secrets: SecretsConfig = Field(default_factory=SecretsConfig, description="Secrets at rest")
    backfill: BackfillSettings = Field(default_factory=BackfillSettings, description="Edge backfill from cards")
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig, description="Privacy masks on the cameras")
    onvif: OnvifSettings = Field(default_factory=OnvifSettings, description="Cameras' clocks and events over ONVIF")
    live: LiveConfig = Field(default_factory=LiveConfig, description="Live and playback video for browsers")
    tamper: TamperConfig = Field(default_factory=TamperConfig, description="Tamper alarms (covered, turned, ...)")
    motion: MotionConfig = Field(default_factory=MotionConfig, description="Activity, motion search, tamper alarms")
    motion_search: MotionSearchConfig = Field(
        default_factory=MotionSearchConfig, description="Motion search in recordings"
    )

    @property
    def recordings_dir(self) -> Path:
        return self.home / "recordings"

    @property
    def secrets_key_path(self) -> Path:
        """Where the key that seals camera credentials is (docs/design/secrets-at-rest.md)."""
        key = self.secrets.key_file
        return self.home / "secrets.key" if key is None else self.home / key

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.home / 'camgrid.db').resolve()}"


class ConfigError(Exception):
    """A config file or environment override is invalid; the message names every bad key."""


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in NOT_CONFIG:
            continue
        parts = key[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(home: Path | str | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read ``home/camgrid.toml`` (if present), apply ``CAMGRID_*`` overrides, validate."""
    env = dict(os.environ if environ is None else environ)
    home_path = Path(home if home is not None else env.get("CAMGRID_HOME", "var"))
    data: dict[str, Any] = {}
    path = home_path / CONFIG_NAME
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    data = _merge(data, _env_overrides(env))
    data["home"] = home_path
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"{path}: {key}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from exc
