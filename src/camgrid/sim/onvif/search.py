"""ONVIF Search service (ver10, Profile G) of a simulated camera: what its SD card holds.

One recording per camera with a card (token :data:`RECORDING`, one video track :data:`TRACK`). Times are in the
camera's clock (true time + ``clock_offset_ns``). FindEvents answers ``tns1:RecordingHistory/Track/State``
(``IsDataPresent`` true at each held span's start, false at its end) and ``tns1:RecordingHistory/Recording/State``
(``IsRecording``, the same instants). A search is a bounded session: at most :data:`MAX_SEARCHES` open per camera,
each with at most ``MaxMatches`` (capped at :data:`MAX_MATCHES`) results, dropped ``KeepAliveTime`` (capped at
:data:`MAX_KEEPALIVE_S`) after its last use. Results are computed at Find time (the card is a list of spans: cheap).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from camgrid.sim.onvif.soap import NS, Call, SoapFault, operation
from camgrid.sim.server import CameraState

RECORDING = "SD_RECORDING"
TRACK = "VIDEO001"
MAX_SEARCHES = 8
MAX_MATCHES = 10_000
MAX_KEEPALIVE_S = 300.0
TRACK_TOPIC = "tns1:RecordingHistory/Track/State"
RECORDING_TOPIC = "tns1:RecordingHistory/Recording/State"
_HEAD = f'xmlns:tse="{NS["tse"]}" xmlns:tt="{NS["tt"]}"'
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def xs_time(ns: int) -> str:
    """An xs:dateTime in UTC with milliseconds."""
    secs, rest = divmod(ns, 1_000_000_000)
    return dt.datetime.fromtimestamp(secs, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest // 1_000_000:03d}Z"


def parse_time(text: str) -> int:
    """An xs:dateTime (a zone or Z; none means UTC) in ns; SoapFault for anything else."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SoapFault("ter:InvalidArgVal", f"bad dateTime {text[:40]!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def parse_duration(text: str, default_s: float) -> float:
    """An xs:duration (days, hours, minutes, seconds) in seconds, bounded to (0, MAX_KEEPALIVE_S]."""
    m = _DURATION.match(text.strip()) if text else None
    if m is None:
        return default_s
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return min(MAX_KEEPALIVE_S, max(1.0, ((d * 24 + h) * 60 + mi) * 60 + s))


def _int(call: Call, path: str, default: int, cap: int) -> int:
    text = call.text(path)
    if not text:
        return default
    try:
        return max(0, min(cap, int(text)))
    except ValueError:
        raise SoapFault("ter:InvalidArgVal", f"{path} is not an integer") from None


@dataclass
class _Search:
    kind: str  # "recordings" or "events"
    results: list[str]  # XML of each result, in order
    keepalive_s: float
    expires_ns: int
    endpoint_ns: int
    sent: int = 0


@dataclass
class _CameraSearches:
    open: dict[str, _Search] = field(default_factory=dict)


_SEARCHES: dict[str, _CameraSearches] = {}  # camera id -> its open searches


def _card_spans(cam: CameraState, now_ns: int) -> list[tuple[int, int]]:
    """The held spans in the camera's clock."""
    if cam.card is None:
        raise SoapFault("ter:ActionNotSupported", "this camera has no recording", sender=False)
    off = cam.clock_offset_ns
    return [(s + off, e + off) for s, e in cam.card.held(now_ns)]


def _open(cam: CameraState, call: Call, kind: str, results: list[str], endpoint_ns: int) -> str:
    mine = _SEARCHES.setdefault(cam.spec.id, _CameraSearches())
    for token in [t for t, s in mine.open.items() if s.expires_ns <= call.now_ns]:
        del mine.open[token]
    if len(mine.open) >= MAX_SEARCHES:
        raise SoapFault("ter:ResourceProblem", f"at most {MAX_SEARCHES} searches at once", sender=False)
    keepalive = parse_duration(call.text("tse:KeepAliveTime"), 10.0)
    token = "search-" + secrets.token_hex(6)
    mine.open[token] = _Search(kind, results, keepalive, call.now_ns + int(keepalive * 1e9), endpoint_ns)
    return token


def _get(cam: CameraState, call: Call, kind: str) -> _Search:
    token = call.text("tse:SearchToken")
    mine = _SEARCHES.get(cam.spec.id)
    search = mine.open.get(token) if mine else None
    if search is None or search.kind != kind or search.expires_ns <= call.now_ns:
        raise SoapFault("ter:InvalidArgVal/ter:InvalidToken", "no such search (ended or timed out)")
    search.expires_ns = call.now_ns + int(search.keepalive_s * 1e9)
    return search


def _page(call: Call, search: _Search) -> tuple[str, list[str]]:
    """The next results (at most MaxResults) and the search's state."""
    most = _int(call, "tse:MaxResults", MAX_MATCHES, MAX_MATCHES) or MAX_MATCHES
    out = search.results[search.sent : search.sent + most]
    search.sent += len(out)
    return ("Completed" if search.sent >= len(search.results) else "Searching"), out


@operation("search", "GetServiceCapabilities")
def get_service_capabilities(call: Call) -> str:
    return (
        f'<tse:GetServiceCapabilitiesResponse {_HEAD}><tse:Capabilities MetadataSearch="false" '
        f'GeneralStartEvents="false"/></tse:GetServiceCapabilitiesResponse>'
    )


@operation("search", "GetRecordingSummary")
def get_recording_summary(call: Call) -> str:
    spans = _card_spans(call.camera, call.now_ns)
    now = call.now_ns + call.camera.clock_offset_ns
    lo, hi = (spans[0][0], spans[-1][1]) if spans else (now, now)
    return (
        f"<tse:GetRecordingSummaryResponse {_HEAD}><tse:Summary><tt:DataFrom>{xs_time(lo)}</tt:DataFrom>"
        f"<tt:DataUntil>{xs_time(hi)}</tt:DataUntil><tt:NumberRecordings>1</tt:NumberRecordings></tse:Summary>"
        f"</tse:GetRecordingSummaryResponse>"
    )


def recording_information(call: Call) -> str:
    """The tt:RecordingInformation children of the camera's one recording."""
    cam = call.camera
    spans = _card_spans(cam, call.now_ns)
    now = call.now_ns + cam.clock_offset_ns
    lo, hi = (spans[0][0], spans[-1][1]) if spans else (now, now)
    assert cam.card is not None
    status = "Recording" if cam.card.recording else "Stopped"
    name, site = escape(cam.spec.name), escape(cam.spec.site)
    earliest = f"<tt:EarliestRecording>{xs_time(lo)}</tt:EarliestRecording>" if spans else ""
    latest = f"<tt:LatestRecording>{xs_time(hi)}</tt:LatestRecording>" if spans else ""
    return (
        f"<tt:RecordingToken>{RECORDING}</tt:RecordingToken><tt:Source><tt:SourceId>{call.base_url}/onvif/"
        f"device_service</tt:SourceId><tt:Name>{name}</tt:Name><tt:Location>{site}</tt:Location>"
        f"<tt:Description>SD card</tt:Description><tt:Address>{call.base_url}/onvif/device_service</tt:Address>"
        f"</tt:Source>{earliest}{latest}<tt:Content>SD card recording</tt:Content><tt:Track>"
        f"<tt:TrackToken>{TRACK}</tt:TrackToken><tt:TrackType>Video</tt:TrackType><tt:Description>main stream"
        f"</tt:Description><tt:DataFrom>{xs_time(lo)}</tt:DataFrom><tt:DataTo>{xs_time(hi)}</tt:DataTo>"
        f"</tt:Track><tt:RecordingStatus>{status}</tt:RecordingStatus>"
    )


@operation("search", "GetRecordingInformation")
def get_recording_information(call: Call) -> str:
    if call.text("tse:RecordingToken") != RECORDING:
        raise SoapFault("ter:InvalidArgVal/ter:NoRecording", "no such recording")
    return (
        f"<tse:GetRecordingInformationResponse {_HEAD}><tse:RecordingInformation>{recording_information(call)}"
        f"</tse:RecordingInformation></tse:GetRecordingInformationResponse>"
    )


def _in_scope(call: Call) -> bool:
    """The camera's recording is in the request's scope (IncludedRecordings, when given, names it)."""
    wanted = [(el.text or "").strip() for el in call.body.findall("tse:Scope/tt:IncludedRecordings", NS)]
    return not wanted or RECORDING in wanted


@operation("search", "FindRecordings")
def find_recordings(call: Call) -> str:
    _card_spans(call.camera, call.now_ns)
    most = _int(call, "tse:MaxMatches", MAX_MATCHES, MAX_MATCHES)
    results = [recording_information(call)] if _in_scope(call) and most > 0 else []
    token = _open(call.camera, call, "recordings", results, call.now_ns + call.camera.clock_offset_ns)
    return (
        f"<tse:FindRecordingsResponse {_HEAD}><tse:SearchToken>{token}</tse:SearchToken></tse:FindRecordingsResponse>"
    )


@operation("search", "GetRecordingSearchResults")
def get_recording_search_results(call: Call) -> str:
    state, out = _page(call, _get(call.camera, call, "recordings"))
    body = "".join(f"<tt:RecordingInformation>{r}</tt:RecordingInformation>" for r in out)
    return (
        f"<tse:GetRecordingSearchResultsResponse {_HEAD}><tse:ResultList><tt:SearchState>{state}</tt:SearchState>"
        f"{body}</tse:ResultList></tse:GetRecordingSearchResultsResponse>"
    )


def _event(topic: str, at_ns: int, name: str, value: bool, start_state: bool) -> str:
    track = f'<tt:SimpleItem Name="Track" Value="{TRACK}"/>' if topic == TRACK_TOPIC else ""
    return (
        f"<tt:RecordingToken>{RECORDING}</tt:RecordingToken><tt:TrackToken>{TRACK}</tt:TrackToken>"
        f"<tt:Time>{xs_time(at_ns)}</tt:Time><tt:Event>"
        f'<wsnt:Topic xmlns:wsnt="{NS["wsnt"]}" xmlns:tns1="{NS["tns1"]}" '
        f'Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">{topic}</wsnt:Topic>'
        f'<wsnt:Message xmlns:wsnt="{NS["wsnt"]}"><tt:Message UtcTime="{xs_time(at_ns)}">'
        f'<tt:Source><tt:SimpleItem Name="RecordingToken" Value="{RECORDING}"/>{track}</tt:Source>'
        f'<tt:Data><tt:SimpleItem Name="{name}" Value="{"true" if value else "false"}"/></tt:Data></tt:Message>'
        f"</wsnt:Message></tt:Event><tt:StartStateEvent>{'true' if start_state else 'false'}</tt:StartStateEvent>"
    )


def _topics(call: Call) -> list[str]:
    """The topics asked for: each ``|``-separated TopicExpression part names one exactly or, ending in ``//.``, a
    subtree (``tns1:RecordingHistory//.``); no expression asks for both."""
    exprs = [(el.text or "") for el in call.body.iter(f"{{{NS['wsnt']}}}TopicExpression")]
    if not exprs:
        return [TRACK_TOPIC, RECORDING_TOPIC]
    parts = [p.strip().split(":", 1)[-1] for e in exprs for p in e.split("|") if p.strip()]
    out = []
    for topic in (TRACK_TOPIC, RECORDING_TOPIC):
        tail = topic.split(":", 1)[1]
        if any(p == tail or (p.endswith("//.") and (tail + "/").startswith(p[:-3] + "/")) for p in parts):
            out.append(topic)
    return out


@operation("search", "FindEvents")
def find_events(call: Call) -> str:
    spans = _card_spans(call.camera, call.now_ns)
    start = parse_time(call.text("tse:StartPoint") or "1970-01-01T00:00:00Z")
    end_text = call.text("tse:EndPoint")
    end = parse_time(end_text) if end_text else None
    backward = end is not None and end < start
    lo, hi = (end, start) if backward and end is not None else (start, end)
    most = _int(call, "tse:MaxMatches", MAX_MATCHES, MAX_MATCHES)
    include_start = call.text("tse:IncludeStartState").lower() in ("true", "1")
    topics = _topics(call) if _in_scope(call) else []
    edges: list[tuple[int, bool, bool]] = []  # (time, data present, start state)
    if include_start:
        edges.append((start, any(s <= start < e for s, e in spans), True))
    assert call.camera.card is not None
    recording = call.camera.card.recording
    for n, (s, e) in enumerate(spans):
        for at, present in ((s, True), (e, False)):
            if not present and recording and n == len(spans) - 1:
                continue  # the open span: still recording, no end yet
            if at >= lo and (hi is None or at <= hi):
                edges.append((at, present, False))
    edges.sort(key=lambda x: (x[0], not x[2]), reverse=backward)
    results = []
    for at, present, start_state in edges:
        for topic in topics:
            name = "IsDataPresent" if topic == TRACK_TOPIC else "IsRecording"
            results.append(_event(topic, at, name, present, start_state))
    results = results[:most]
    endpoint = end if end is not None else call.now_ns + call.camera.clock_offset_ns
    token = _open(call.camera, call, "events", results, endpoint)
    return f"<tse:FindEventsResponse {_HEAD}><tse:SearchToken>{token}</tse:SearchToken></tse:FindEventsResponse>"


@operation("search", "GetEventSearchResults")
def get_event_search_results(call: Call) -> str:
    state, out = _page(call, _get(call.camera, call, "events"))
    body = "".join(f"<tt:Result>{r}</tt:Result>" for r in out)
    return (
        f"<tse:GetEventSearchResultsResponse {_HEAD}><tse:ResultList><tt:SearchState>{state}</tt:SearchState>"
        f"{body}</tse:ResultList></tse:GetEventSearchResultsResponse>"
    )


@operation("search", "GetSearchState")
def get_search_state(call: Call) -> str:
    token = call.text("tse:SearchToken")
    mine = _SEARCHES.get(call.camera.spec.id)
    search = mine.open.get(token) if mine else None
    if search is None:
        raise SoapFault("ter:InvalidArgVal/ter:InvalidToken", "no such search")
    state = "Completed" if search.sent >= len(search.results) else "Searching"
    return f"<tse:GetSearchStateResponse {_HEAD}><tse:State>{state}</tse:State></tse:GetSearchStateResponse>"


@operation("search", "EndSearch")
def end_search(call: Call) -> str:
    token = call.text("tse:SearchToken")
    mine = _SEARCHES.get(call.camera.spec.id)
    search = mine.open.pop(token, None) if mine else None
    if search is None:
        raise SoapFault("ter:InvalidArgVal/ter:InvalidToken", "no such search")
    return (
        f"<tse:EndSearchResponse {_HEAD}><tse:Endpoint>{xs_time(search.endpoint_ns)}</tse:Endpoint>"
        f"</tse:EndSearchResponse>"
    )
