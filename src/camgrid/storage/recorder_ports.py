"""The recorder's ports: what the composition root plugs into it before it starts, and what others may ask of it.

Kept apart from ``recorder.py`` so that the recorder's own work (sessions, segments, gaps, threads) reads on its own;
the fields stay private: nothing outside ``camgrid.storage`` touches them (``tests/test_boundaries.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.rtp import AccessUnit
from camgrid.storage.transform import PictureTransform


class AudioTap(Protocol):
    """A consumer of the cameras' audio besides the recording (the live view)."""

    def audio_stream(self, camera_id: str, track: AudioTrack | None) -> None: ...

    def audio_frame(self, camera_id: str, frame: AudioFrame, wall_ns: int, ext_ts: int, jump: bool) -> None: ...


class RecorderPorts:
    """Taps, listeners, hooks, transforms, the camera filter and the cluster's hand-overs."""

    def __init__(self, *, only: Iterable[str] | None) -> None:
        self._transforms: dict[str, PictureTransform] = {}
        self._hooks: list[Callable[[], None]] = []  # housekeeping hooks (retention, masks, leases)
        # Other consumers of the same packets (the live view): one connection per camera serves them all.
        # Called on the ingest thread; must not block.
        self._taps: list[Callable[[str, AccessUnit, int, bool], None]] = []
        self._audio_taps: list[AudioTap] = []  # the same for the cameras' sound (docs/design/audio.md)
        # State changes for the control room: (camera, state "recording"|"offline", reason, since_ns).
        self._state_listeners: list[Callable[[str, str, str, int], None]] = []
        # Every ingest session's up/down, recorded or not (live-only substreams too): (id, up, reason, at_ns).
        self._session_listeners: list[Callable[[str, bool, str, int], None]] = []
        # Cluster mode (camgrid.cluster): record only these cameras (the node's leases); None = every assigned one.
        self._only: set[str] | None = None if only is None else set(only)
        # Gaps to open for cameras the next reload (re)starts, instead of "starting": {camera: (start, reason, detail)}.
        self._pending_gaps: dict[str, tuple[int, str, str]] = {}
        # Cameras the next reload removes because another node records them now: no gap (they are not unrecorded).
        self._handed_over: set[str] = set()
        # Each session's codec and parameter sets, as ingest reports them before its first access unit.
        self._streams: dict[str, tuple[str, list[bytes]]] = {}

    # ports (the composition root registers these before start) -------------------------------------------------
    def add_tap(self, tap: Callable[[str, AccessUnit, int, bool], None]) -> None:
        """Another consumer of the same packets (the live view): one connection per camera serves them all.
        Called on the ingest thread with (camera, access unit, extended timestamp, jump); must not block."""
        self._taps.append(tap)

    def add_audio_tap(self, tap: AudioTap) -> None:
        """Another consumer of the cameras' audio (the live view): each session's track, then its frames with
        their anchored UTC. Called on the ingest thread; must not block."""
        self._audio_taps.append(tap)

    def add_state_listener(self, listener: Callable[[str, str, str, int], None]) -> None:
        """Recorded cameras' state changes (camera, "recording"|"offline", gap reason, since_ns); ingest thread."""
        self._state_listeners.append(listener)

    def add_session_listener(self, listener: Callable[[str, bool, str, int], None]) -> None:
        """Every ingest session's up/down, recorded or not (live-only substreams too): (id, up, reason, at_ns)."""
        self._session_listeners.append(listener)

    def add_hook(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` on every housekeeping round (retention, mask sync, a cluster node's lease work), in the order
        registered; one failing hook never stops the others."""
        self._hooks.append(hook)

    def record_only(self, cameras: Iterable[str] | None) -> None:
        """Restrict recording to ``cameras`` (None: every assigned camera); applies at the next registry reload.
        Housekeeping thread (or before start)."""
        self._only = None if cameras is None else set(cameras)

    def take_over(self, camera_id: str, start_ns: int, reason: str, detail: str) -> None:
        """The next reload starts ``camera_id`` with an open gap from ``start_ns`` (why it was unrecorded before this
        node took it) instead of a fresh "starting" gap. Housekeeping thread."""
        self._pending_gaps[camera_id] = (start_ns, reason, detail)

    def hand_over(self, camera_id: str) -> None:
        """Another node records ``camera_id`` now: the next reload stops it here without a gap (it is not
        unrecorded). Housekeeping thread."""
        self._handed_over.add(camera_id)

    @property
    def restricted(self) -> bool:
        """True when this recorder records only some cameras (a cluster's node or central node)."""
        return self._only is not None

    def codec_of(self, camera_id: str) -> str:
        """The codec of the camera's current (or last) session, as ingest reported it; "" before any."""
        stream = self._streams.get(camera_id)
        return stream[0] if stream is not None else ""

    def transform_of(self, camera_id: str) -> PictureTransform | None:
        return self._transforms.get(camera_id)

    def on_stream(self, camera_id: str, codec: str, params: Sequence[bytes]) -> None:
        """A session's codec and SDP parameter sets, reported by ingest before its first access unit."""
        self._streams[camera_id] = (codec, list(params))
