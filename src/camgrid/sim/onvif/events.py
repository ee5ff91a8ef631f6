"""The simulated camera's ONVIF Events service (ver10, PullPoint): what a camera says happened to it.

Events are derived from the camera's state flags, as a real camera derives them from its sensors: tamper
(``tampered``), motion (``motion_until_ns``), video loss (``stalled``) and storage failure (``sd_failed``). Each is an
ONVIF *property*: a subscription first gets every one as ``Initialized``, then each change as ``Changed``, stamped
with the camera's own clock (true time + ``clock_offset_ns``), which is what makes a camera's clock offset visible
in its events. PullMessages waits for a change up to the asked timeout (bounded) off the sim's event loop.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime

from camgrid.sim.onvif.soap import Call, SoapFault, operation
from camgrid.sim.server import CameraState, SimServer

NS_TEV = "http://www.onvif.org/ver10/events/wsdl"
NS_WSNT = "http://docs.oasis-open.org/wsn/b-2"
NS_WSA = "http://www.w3.org/2005/08/addressing"
NS_TT = "http://www.onvif.org/ver10/schema"
NS_TNS1 = "http://www.onvif.org/ver10/topics"
NS_WSTOP = "http://docs.oasis-open.org/wsn/t-1"
DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
NS_DECL = (
    f'xmlns:tev="{NS_TEV}" xmlns:wsnt="{NS_WSNT}" xmlns:wsa="{NS_WSA}" xmlns:tt="{NS_TT}" xmlns:tns1="{NS_TNS1}" '
    f'xmlns:wstop="{NS_WSTOP}"'
)

MAX_SUBSCRIPTIONS = 8  # per camera (a real camera has a handful of pull points)
DEFAULT_TERMINATION_S = 60.0
MIN_TERMINATION_S = 10.0
MAX_TERMINATION_S = 3600.0
MAX_PULL_WAIT_S = 10.0
MAX_MESSAGE_LIMIT = 100
POLL_S = 0.02

# topic -> (the data item's name, the source item's name, its value)
TOPICS: dict[str, tuple[str, str, str]] = {
    "tns1:VideoSource/GlobalSceneChange/ImagingService": ("State", "Source", "VideoSourceToken_1"),
    "tns1:VideoSource/MotionAlarm": ("State", "Source", "VideoSourceToken_1"),
    "tns1:VideoSource/SignalLoss": ("State", "Source", "VideoSourceToken_1"),
    "tns1:Device/HardwareFailure/StorageFailure": ("Failed", "Token", "SD_1"),
}


def states(cam: CameraState, now_ns: int) -> dict[str, bool]:
    """Each topic's property value, read from the camera's flags now."""
    return {
        "tns1:VideoSource/GlobalSceneChange/ImagingService": bool(getattr(cam, "tampered", False)),
        "tns1:VideoSource/MotionAlarm": int(getattr(cam, "motion_until_ns", 0)) > now_ns,
        "tns1:VideoSource/SignalLoss": bool(cam.stalled),
        "tns1:Device/HardwareFailure/StorageFailure": bool(getattr(cam, "sd_failed", False)),
    }


@dataclass
class _Message:
    topic: str
    value: bool
    t_ns: int  # true time of the change
    operation: str  # Initialized | Changed


@dataclass
class _Subscription:
    n: int
    camera_id: str
    termination_ns: int
    delivered: dict[str, bool] = field(default_factory=dict)  # what this subscriber last got per topic
    pending: list[_Message] = field(default_factory=list)  # Initialized messages still to deliver


@dataclass
class _CameraEvents:
    """One camera's properties (value and when it took it) and its subscriptions."""

    props: dict[str, tuple[bool, int]] = field(default_factory=dict)
    subs: dict[int, _Subscription] = field(default_factory=dict)


class _Registry:
    """Every camera's subscriptions, for one simulator (a restarted simulator forgets them, as a rebooted camera)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cameras: dict[str, _CameraEvents] = {}
        self.next_n = 1

    def observe(self, cam: CameraState, now_ns: int) -> _CameraEvents:
        """Stamp each property that changed since last looked at (a motion alarm ends when it was due to)."""
        ce = self.cameras.setdefault(cam.spec.id, _CameraEvents())
        for topic, value in states(cam, now_ns).items():
            old = ce.props.get(topic)
            if old is None:
                ce.props[topic] = (value, now_ns)
            elif old[0] != value:
                until = int(getattr(cam, "motion_until_ns", 0))
                stamp = until if topic == "tns1:VideoSource/MotionAlarm" and not value and until > old[1] else now_ns
                ce.props[topic] = (value, min(stamp, now_ns))
        return ce


_REGISTRIES: weakref.WeakKeyDictionary[SimServer, _Registry] = weakref.WeakKeyDictionary()
_REGISTRIES_LOCK = threading.Lock()


def _registry(server: SimServer) -> _Registry:
    with _REGISTRIES_LOCK:
        reg = _REGISTRIES.get(server)
        if reg is None:
            reg = _REGISTRIES[server] = _Registry()
        return reg


def has_events(cam: CameraState) -> bool:
    traits = getattr(cam, "onvif", None)
    services = getattr(traits, "services", None)
    return services is None or "events" in services


def _check(call: Call) -> None:
    if not has_events(call.camera):
        raise SoapFault("ter:ActionNotSupported", "this camera has no events service")


def iso(t_ns: int) -> str:
    return datetime.fromtimestamp(t_ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_termination(text: str | None, now_ns: int, cam_offset_ns: int) -> int:
    """An absolute time (the camera's clock) or an xsd:duration, bounded; returns the true termination time."""
    text = (text or "").strip()
    seconds = DEFAULT_TERMINATION_S
    if text:
        m = _DURATION.match(text)
        if m and any(m.groups()):
            d, h, mi, s = m.groups()
            seconds = int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
        else:
            try:
                at = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise SoapFault("wsnt:UnacceptableInitialTerminationTimeFault", "not a time or duration") from None
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            seconds = (at.timestamp() * 1e9 - (now_ns + cam_offset_ns)) / 1e9
    seconds = min(max(seconds, MIN_TERMINATION_S), MAX_TERMINATION_S)
    return now_ns + int(seconds * 1e9)


def _offset(cam: CameraState) -> int:
    return int(getattr(cam, "clock_offset_ns", 0))


def _child_text(call: Call, local: str) -> str | None:
    for el in call.body.iter():
        if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == local:
            return (el.text or "").strip()
    return None


def _subscription(call: Call, reg: _Registry) -> tuple[_CameraEvents, _Subscription]:
    try:
        n = int(call.path.rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        raise SoapFault("wsrf-rw:ResourceUnknownFault", "no such subscription") from None
    ce = reg.observe(call.camera, call.now_ns)
    sub = ce.subs.get(n)
    if sub is None or sub.termination_ns <= call.now_ns:
        ce.subs.pop(n, None)
        raise SoapFault("wsrf-rw:ResourceUnknownFault", "no such subscription (ended or never made)")
    return ce, sub


def _initialized(ce: _CameraEvents) -> list[_Message]:
    return [_Message(topic, v, t, "Initialized") for topic, (v, t) in ce.props.items()]


# operations ---------------------------------------------------------------------------------------------------
@operation("events", "GetServiceCapabilities")
def get_service_capabilities(call: Call) -> str:
    _check(call)
    return (
        f'<tev:GetServiceCapabilitiesResponse {NS_DECL}><tev:Capabilities WSSubscriptionPolicySupport="false" '
        f'WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" '
        f'MaxPullPoints="{MAX_SUBSCRIPTIONS}" PersistentNotificationStorage="false"/>'
        "</tev:GetServiceCapabilitiesResponse>"
    )


def _topic_set() -> str:
    def leaf(data: str, source: str) -> str:
        return (
            '<tt:MessageDescription IsProperty="true">'
            f'<tt:Source><tt:SimpleItemDescription Name="{source}" Type="tt:ReferenceToken"/></tt:Source>'
            f'<tt:Data><tt:SimpleItemDescription Name="{data}" Type="xs:boolean"/></tt:Data>'
            "</tt:MessageDescription>"
        )

    return (
        '<wstop:TopicSet xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        "<tns1:VideoSource>"
        f'<GlobalSceneChange><ImagingService wstop:topic="true">{leaf("State", "Source")}</ImagingService>'
        "</GlobalSceneChange>"
        f'<MotionAlarm wstop:topic="true">{leaf("State", "Source")}</MotionAlarm>'
        f'<SignalLoss wstop:topic="true">{leaf("State", "Source")}</SignalLoss>'
        "</tns1:VideoSource>"
        "<tns1:Device><HardwareFailure>"
        f'<StorageFailure wstop:topic="true">{leaf("Failed", "Token")}</StorageFailure>'
        "</HardwareFailure></tns1:Device>"
        "</wstop:TopicSet>"
    )


@operation("events", "GetEventProperties")
def get_event_properties(call: Call) -> str:
    _check(call)
    return (
        f"<tev:GetEventPropertiesResponse {NS_DECL}>"
        "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>"
        "<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
        f"{_topic_set()}"
        f"<wsnt:TopicExpressionDialect>{DIALECT}</wsnt:TopicExpressionDialect>"
        "<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
        "</wsnt:TopicExpressionDialect>"
        "<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
        "</tev:MessageContentFilterDialect>"
        "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd"
        "</tev:MessageContentSchemaLocation>"
        "</tev:GetEventPropertiesResponse>"
    )


@operation("events", "CreatePullPointSubscription")
def create_pull_point_subscription(call: Call) -> str:
    _check(call)
    reg = _registry(call.server)
    termination = parse_termination(_child_text(call, "InitialTerminationTime"), call.now_ns, _offset(call.camera))
    with reg.lock:
        ce = reg.observe(call.camera, call.now_ns)
        for n in [n for n, s in ce.subs.items() if s.termination_ns <= call.now_ns]:
            del ce.subs[n]
        if len(ce.subs) >= MAX_SUBSCRIPTIONS:
            raise SoapFault("ter:MaxPullPoints", f"this camera keeps at most {MAX_SUBSCRIPTIONS} subscriptions")
        n = reg.next_n
        reg.next_n += 1
        sub = _Subscription(n=n, camera_id=call.camera.spec.id, termination_ns=termination)
        sub.pending = _initialized(ce)
        ce.subs[n] = sub
    off = _offset(call.camera)
    return (
        f"<tev:CreatePullPointSubscriptionResponse {NS_DECL}>"
        f"<tev:SubscriptionReference><wsa:Address>{call.base_url}/onvif/pullpoint/{n}</wsa:Address>"
        "</tev:SubscriptionReference>"
        f"<wsnt:CurrentTime>{iso(call.now_ns + off)}</wsnt:CurrentTime>"
        f"<wsnt:TerminationTime>{iso(termination + off)}</wsnt:TerminationTime>"
        "</tev:CreatePullPointSubscriptionResponse>"
    )


def _take(reg: _Registry, call: Call, limit: int) -> tuple[list[_Message], int]:
    """The messages due to this subscriber now (Initialized ones first, then changes), at most ``limit``."""
    now_ns = time.time_ns()
    with reg.lock:
        ce, sub = _subscription(call, reg)
        ce = reg.observe(call.camera, now_ns)
        out = sub.pending[:limit]
        del sub.pending[: len(out)]
        for m in out:
            sub.delivered[m.topic] = m.value
        for topic, (value, t_ns) in ce.props.items():
            if len(out) >= limit:
                break
            if sub.delivered.get(topic) != value:
                out.append(_Message(topic, value, t_ns, "Changed"))
                sub.delivered[topic] = value
        return out, sub.termination_ns


def _message_xml(m: _Message, offset_ns: int) -> str:
    data, source, token = TOPICS[m.topic]
    return (
        "<wsnt:NotificationMessage>"
        f'<wsnt:Topic Dialect="{DIALECT}">{m.topic}</wsnt:Topic>'
        "<wsnt:Message>"
        f'<tt:Message UtcTime="{iso(m.t_ns + offset_ns)}" PropertyOperation="{m.operation}">'
        f'<tt:Source><tt:SimpleItem Name="{source}" Value="{token}"/></tt:Source>'
        f'<tt:Data><tt:SimpleItem Name="{data}" Value="{"true" if m.value else "false"}"/></tt:Data>'
        "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
    )


def _seconds(text: str | None, default: float) -> float:
    m = _DURATION.match((text or "").strip())
    if not m or not any(m.groups()):
        return default
    d, h, mi, s = m.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


@operation("pullpoint", "PullMessages")
async def pull_messages(call: Call) -> str:
    """Changes since the last pull; when there are none, waits up to ``Timeout`` (at most 10 s) for one.

    The wait is asynchronous (the handler is a coroutine on the sim's loop), so it never holds other cameras.
    """
    _check(call)
    reg = _registry(call.server)
    wait_s = min(max(_seconds(_child_text(call, "Timeout"), 1.0), 0.0), MAX_PULL_WAIT_S)
    try:
        limit = int(_child_text(call, "MessageLimit") or 1)
    except ValueError:
        raise SoapFault("ter:InvalidArgVal", "MessageLimit is not a number") from None
    limit = min(max(limit, 1), MAX_MESSAGE_LIMIT)
    deadline = time.monotonic() + wait_s
    while True:
        msgs, termination = _take(reg, call, limit)
        if msgs or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_S)
    off = _offset(call.camera)
    now = time.time_ns()
    return (
        f"<tev:PullMessagesResponse {NS_DECL}>"
        f"<tev:CurrentTime>{iso(now + off)}</tev:CurrentTime>"
        f"<tev:TerminationTime>{iso(termination + off)}</tev:TerminationTime>"
        + "".join(_message_xml(m, off) for m in msgs)
        + "</tev:PullMessagesResponse>"
    )


@operation("pullpoint", "Renew")
def renew(call: Call) -> str:
    _check(call)
    reg = _registry(call.server)
    termination = parse_termination(_child_text(call, "TerminationTime"), call.now_ns, _offset(call.camera))
    with reg.lock:
        _, sub = _subscription(call, reg)
        sub.termination_ns = termination
    off = _offset(call.camera)
    return (
        f"<wsnt:RenewResponse {NS_DECL}><wsnt:TerminationTime>{iso(termination + off)}</wsnt:TerminationTime>"
        f"<wsnt:CurrentTime>{iso(call.now_ns + off)}</wsnt:CurrentTime></wsnt:RenewResponse>"
    )


@operation("pullpoint", "Unsubscribe")
def unsubscribe(call: Call) -> str:
    _check(call)
    reg = _registry(call.server)
    with reg.lock:
        ce, sub = _subscription(call, reg)
        del ce.subs[sub.n]
    return f"<wsnt:UnsubscribeResponse {NS_DECL}/>"


@operation("pullpoint", "SetSynchronizationPoint")
def set_synchronization_point(call: Call) -> str:
    """Every property again, as ``Initialized`` (a client that lost track asks for this)."""
    _check(call)
    reg = _registry(call.server)
    with reg.lock:
        ce, sub = _subscription(call, reg)
        sub.pending = _initialized(ce)
    return f"<tev:SetSynchronizationPointResponse {NS_DECL}/>"


def subscriptions(server: SimServer, camera_id: str) -> int:
    """How many live subscriptions a camera holds (tests: Unsubscribe on stop)."""
    reg = _registry(server)
    now = time.time_ns()
    with reg.lock:
        ce = reg.cameras.get(camera_id)
        return 0 if ce is None else sum(1 for s in ce.subs.values() if s.termination_ns > now)
