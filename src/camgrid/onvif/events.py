"""A camera's ONVIF events, pulled (PullPoint): tamper, motion, video loss and storage failure as ``CameraEvent``.

Why PullPoint: it needs no listener on camgrid's side (cameras behind NAT or a firewall still work) and it is the
one delivery every ONVIF Profile S/T camera implements. The consumer creates a subscription, pulls with a bounded
timeout, renews before the subscription ends, re-creates it with backoff after any failure (a camera that rebooted
forgets its subscriptions) and unsubscribes on stop. Notifications are read from the raw SOAP answer: zeep drops the
text of a ``wsnt:Topic`` (mixed content), which is the one thing that says what happened.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml.etree import _Element as Element  # lxml's element type (annotations only)

from camgrid.clock import Clock
from camgrid.onvif.connect import OnvifError, OnvifTarget, connect, scrub
from camgrid.vocabulary import CameraEventKind

log = logging.getLogger("camgrid.onvif.events")

WSNT = "{http://docs.oasis-open.org/wsn/b-2}"
TT = "{http://www.onvif.org/ver10/schema}"
MAX_TOPIC_CHARS = 200
MAX_DETAIL_CHARS = 500
MAX_MESSAGES_PER_PULL = 64
MAX_TOPICS = 256  # states remembered per camera

# the topic's path (prefix stripped) -> kind; what a camera says of a state change, by ONVIF's topic tree
KINDS: dict[str, CameraEventKind] = {
    "VideoSource/GlobalSceneChange/ImagingService": CameraEventKind.TAMPER,
    "VideoSource/GlobalSceneChange/AnalyticsService": CameraEventKind.TAMPER,
    "VideoSource/GlobalSceneChange/RecordingService": CameraEventKind.TAMPER,
    "VideoSource/ImageTooBlurry/ImagingService": CameraEventKind.TAMPER,
    "VideoSource/MotionAlarm": CameraEventKind.MOTION,
    "RuleEngine/CellMotionDetector/Motion": CameraEventKind.MOTION,
    "VideoSource/SignalLoss": CameraEventKind.VIDEO_LOSS,
    "Device/HardwareFailure/StorageFailure": CameraEventKind.STORAGE_FAILURE,
}
EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"
# the data items whose boolean value is the property's state
STATE_ITEMS = ("State", "IsMotion", "Failed", "IsTamper", "Value")


class NoEventService(Exception):
    """The camera's device service lists no event service: it has none to subscribe to (checked again later, in
    case its firmware is upgraded)."""


def offers_events(client: Any) -> bool:
    """Whether the camera names an event service, by its ``GetServices`` answer, else its ``GetCapabilities``.

    Why: asked for a service the camera does not list, the ONVIF library guesses a default URL, and the camera's
    answer to that (a 404, an HTML page, an empty body) fails deep inside the SOAP stack with an error that names
    nothing; a camera without events is a model, not a failure. Unknown (neither answer) counts as offered."""
    services = getattr(client, "services", None)
    if services:
        return any(getattr(svc, "Namespace", None) == EVENTS_NS for svc in services)
    caps = getattr(client, "capabilities", None)
    if caps is not None:
        return getattr(getattr(caps, "Events", None), "XAddr", None) is not None
    return True


@dataclass(frozen=True)
class CameraEvent:
    """One notification: ``active`` is the property's new state; ``camera_ns`` the camera's time (its clock, as
    it stamped the event; None when it gave none), ``received_ns`` ours."""

    camera_id: str
    kind: CameraEventKind
    active: bool
    camera_ns: int | None
    received_ns: int
    topic: str
    detail: str


def kind_of(topic: str) -> CameraEventKind:
    """The kind a topic names (its namespace prefix ignored); OTHER when camgrid does not know it."""
    path = topic.strip().split(":", 1)[-1].strip("/")
    return KINDS.get(path, CameraEventKind.OTHER)


def utc_ns(text: str) -> int:
    """An xsd:dateTime in UTC as nanoseconds (ValueError when it is not one)."""
    text = text.strip()
    if not text or len(text) > 40:
        raise ValueError("not a time")
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("a time without a zone")
    whole = int(at.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + at.microsecond * 1000


def _items(parent: Element | None) -> dict[str, str]:
    if parent is None:
        return {}
    return {
        str(i.get("Name"))[:64]: str(i.get("Value", ""))[:100]
        for i in parent.findall(f"{TT}SimpleItem")
        if i.get("Name")
    }


def parse_notifications(envelope: Element, *, camera_id: str, received_ns: int) -> tuple[list[CameraEvent], int]:
    """The events in a PullMessages answer, and how many notifications were malformed (skipped)."""
    events: list[CameraEvent] = []
    bad = 0
    for note in envelope.iter(f"{WSNT}NotificationMessage"):
        if len(events) + bad >= MAX_MESSAGES_PER_PULL:
            break
        topic_el = note.find(f"{WSNT}Topic")
        message = note.find(f"{WSNT}Message/{TT}Message")
        topic = (topic_el.text or "").strip() if topic_el is not None else ""
        if not topic or message is None:
            bad += 1
            continue
        try:
            camera_ns: int | None = utc_ns(message.get("UtcTime", ""))
        except ValueError:
            bad += 1
            continue
        data = _items(message.find(f"{TT}Data"))
        source = _items(message.find(f"{TT}Source"))
        kind = kind_of(topic)
        value = next((data[k] for k in STATE_ITEMS if k in data), None)
        if kind is not CameraEventKind.OTHER and (value is None or value.lower() not in ("true", "false", "1", "0")):
            bad += 1  # a known topic without a boolean state says nothing camgrid can act on
            continue
        active = value is not None and value.lower() in ("true", "1")
        op = message.get("PropertyOperation", "")
        detail = " ".join(
            [f"{op}" if op else ""]
            + [f"{k}={v}" for k, v in sorted(source.items())]
            + [f"{k}={v}" for k, v in sorted(data.items())]
        ).strip()
        events.append(
            CameraEvent(
                camera_id=camera_id,
                kind=kind,
                active=active,
                camera_ns=camera_ns,
                received_ns=received_ns,
                topic=topic[:MAX_TOPIC_CHARS],
                detail=detail[:MAX_DETAIL_CHARS],
            )
        )
    return events, bad


class _Envelopes:
    """A zeep plugin that keeps the last raw SOAP answer (one consumer, one thread)."""

    def __init__(self) -> None:
        self.last: Element | None = None

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        self.last = envelope
        return envelope, http_headers

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> tuple[Any, Any]:
        return envelope, http_headers


@dataclass
class ConsumerSettings:
    pull_timeout_s: int = 2  # PullMessages Timeout (below the HTTP timeout of the target)
    message_limit: int = 32
    termination_s: int = 120  # asked lifetime of a subscription
    renew_margin_s: float = 30.0  # renew this long before it ends
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 120.0


class PullPointConsumer:
    """One camera's PullPoint subscription. ``step()`` (called again and again by one thread) creates or renews
    the subscription when due, pulls once and returns the events; it never raises for the camera's failures."""

    def __init__(
        self,
        *,
        camera_id: str,
        target: OnvifTarget,
        clock: Clock,
        settings: ConsumerSettings | None = None,
        known: dict[str, bool] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.target = target
        self.clock = clock
        self.settings = settings or ConsumerSettings()
        self.malformed = 0  # notifications skipped, counted
        self.failures = 0  # consecutive failures
        self.last_error = ""
        self.subscriptions_made = 0
        self.pulls = 0  # PullMessages answered
        self.unsupported = False  # the camera lists no event service (its last check)
        self._plugin = _Envelopes()
        self._client: Any = None
        self._pullpoint: Any = None
        self._manager: Any = None
        self._ends_ns = 0  # our time at which the subscription ends
        self._retry_ns = 0  # our time before which nothing is tried (backoff)
        # topic -> last state known (``known``: what health last stored, so a restart repeats nothing)
        self._states: dict[str, bool] = dict(list((known or {}).items())[:MAX_TOPICS])

    @property
    def subscribed(self) -> bool:
        return self._pullpoint is not None

    def _subscribe(self, now_ns: int) -> None:
        if self._client is None:
            self._client = connect(self.target, plugins=[self._plugin])
        if not offers_events(self._client):
            raise NoEventService("the camera offers no ONVIF event service")
        ref = self._client.events().CreatePullPointSubscription(
            InitialTerminationTime=f"PT{self.settings.termination_s}S"
        )
        self._pullpoint = self._client.pullpoint(ref)
        self._manager = self._client.subscription(ref)
        self._ends_ns = now_ns + self.settings.termination_s * 1_000_000_000
        self.subscriptions_made += 1

    def _renew(self, now_ns: int) -> None:
        self._manager.Renew(TerminationTime=f"PT{self.settings.termination_s}S")
        self._ends_ns = now_ns + self.settings.termination_s * 1_000_000_000

    def _fail(self, now_ns: int, exc: BaseException) -> None:
        self.failures += 1
        self.last_error = scrub(str(exc) or type(exc).__name__, self.target)
        self.unsupported = isinstance(exc, NoEventService)
        delay = min(self.settings.backoff_max_s, self.settings.backoff_initial_s * 2 ** min(self.failures - 1, 16))
        if self.unsupported:
            delay = self.settings.backoff_max_s  # a model without events: look again now and then, not often
            self._client = None  # a firmware upgrade shows in a fresh GetServices
        delay *= 0.75 + random.random() / 2  # cameras that failed together do not all retry together
        self._retry_ns = now_ns + int(delay * 1e9)
        self._pullpoint = self._manager = None
        if isinstance(exc, OnvifError):
            self._client = None  # could not even open the device service: open it again next time
        if self.unsupported and self.failures > 1:
            return  # said once
        log.info("camera %s: ONVIF events: %s (retry in %.1f s)", self.camera_id, self.last_error, delay)

    def due_ns(self) -> int:
        """When ``step`` has something to do (0: now)."""
        return self._retry_ns if self._pullpoint is None else 0

    def step(self) -> list[CameraEvent]:
        now_ns = self.clock.wall_ns()
        if now_ns < self._retry_ns:
            return []
        try:
            if self._pullpoint is None:
                self._subscribe(now_ns)
            elif self._ends_ns - now_ns <= self.settings.renew_margin_s * 1e9:
                self._renew(now_ns)
            self._plugin.last = None
            self._pullpoint.PullMessages(
                Timeout=f"PT{self.settings.pull_timeout_s}S", MessageLimit=self.settings.message_limit
            )
            envelope = self._plugin.last
        except Exception as exc:  # the library raises zeep, requests and its own errors alike
            self._fail(now_ns, exc)
            return []
        self.failures = 0
        self.pulls += 1
        if envelope is None:
            return []
        events, bad = parse_notifications(envelope, camera_id=self.camera_id, received_ns=self.clock.wall_ns())
        if bad:
            self.malformed += bad
            log.warning("camera %s: %d malformed ONVIF notification(s) skipped", self.camera_id, bad)
        return self._news(events)

    def _news(self, events: list[CameraEvent]) -> list[CameraEvent]:
        """Drop what only repeats a known state: every new subscription re-sends each property as Initialized, and
        a property never seen that is off says nothing (a camera is not tampered until it says so)."""
        out = []
        for e in events:
            if e.detail.startswith("Initialized") and self._states.get(e.topic, False) == e.active:
                self._states.setdefault(e.topic, e.active)
                continue
            if len(self._states) >= MAX_TOPICS and e.topic not in self._states:
                self._states.clear()  # a camera inventing topics: forget rather than grow
            self._states[e.topic] = e.active
            out.append(e)
        return out

    def stop(self) -> None:
        """Unsubscribe (best effort: a camera that is gone forgets the subscription when it ends anyway)."""
        manager, self._pullpoint, self._manager = self._manager, None, None
        if manager is not None:
            try:
                manager.Unsubscribe()
            except Exception as exc:  # the camera may be gone; its subscription then ends by itself
                log.debug("camera %s: Unsubscribe failed: %s", self.camera_id, scrub(str(exc), self.target))
