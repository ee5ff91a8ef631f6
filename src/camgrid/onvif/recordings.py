"""What a camera's SD card holds in an interval, and where to replay it (ONVIF Profile G: Search and Replay).

Edge backfill (docs/design/onvif.md, "Edge backfill") asks this before it replays a gap: the spans the card holds
inside [start, end) in the camera's own clock, and the RTSP replay URI of the recording. The card is read through
the Search service: ``FindRecordings``/``GetRecordingSearchResults`` name the recording and its video track, then
``FindEvents`` on ``tns1:RecordingHistory/Track/State`` (``IsDataPresent`` true/false) gives the spans, holes
included; a camera whose event search fails or is empty is read through the track's ``DataFrom``/``DataTo``
(``GetRecordingInformation``): one span, holes unseen. Every search is bounded (wait time, result counts, pages).
A camera without the Search or Replay service answers :class:`CardContents` with ``profile_g=False``: a clear
"no Profile G", never an error per gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from camgrid.onvif.connect import OnvifError, OnvifTarget, connect, scrub

SEARCH_NS = "http://www.onvif.org/ver10/search/wsdl"
REPLAY_NS = "http://www.onvif.org/ver10/replay/wsdl"
TRACK_STATE_TOPIC = "tns1:RecordingHistory/Track/State"
TOPIC_DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
TNS1 = "http://www.onvif.org/ver10/topics"
MAX_PAGES = 50  # GetXxxSearchResults calls of one search, at most (each returns up to max_results)
NS = 1_000_000_000


@dataclass(frozen=True)
class Span:
    """A stretch the card holds, in the camera's clock (UTC ns as the camera counts them)."""

    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass(frozen=True)
class CardContents:
    """The answer for one camera and interval. ``profile_g`` False: the camera has no Search/Replay service (the
    other fields are empty). ``source``: ``events`` (Track/State events) or ``track`` (DataFrom/DataTo)."""

    profile_g: bool
    spans: tuple[Span, ...] = ()
    recording_token: str = ""
    replay_uri: str = ""
    source: str = ""
    detail: str = ""

    @property
    def held_ns(self) -> int:
        return sum(s.duration_ns for s in self.spans)


@dataclass
class _Recording:
    token: str
    video_tracks: set[str] = field(default_factory=set)
    data_from_ns: int | None = None
    data_to_ns: int | None = None


def to_ns(value: Any) -> int | None:
    """A zeep dateTime (naive: UTC) as UTC nanoseconds; None when absent or not a time."""
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return int((delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1000)


def from_ns(ns: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ns // 1000)


def has_profile_g(client: Any) -> bool:
    """True when the camera lists both the Search and the Replay service (GetServices, else GetCapabilities).

    onvif-python falls back to a guessed default address for a service the camera never named: asking that would
    turn "no Profile G" into an HTTP error per gap, so the camera's own list decides."""
    services = getattr(client, "_service_map", None) or {}
    if services:
        return SEARCH_NS in services and REPLAY_NS in services
    capabilities = getattr(client, "capabilities", None)
    if capabilities is None:  # neither list came back: a refused login or no ONVIF at all, not "no Profile G"
        raise OnvifError("the camera answered neither GetServices nor GetCapabilities (login refused?)")
    ext = getattr(capabilities, "Extension", None)
    return bool(getattr(ext, "Search", None) and getattr(ext, "Replay", None))


def card_contents(
    target: OnvifTarget,
    *,
    start_ns: int,
    end_ns: int,
    max_results: int = 500,
    wait_s: int = 5,
) -> CardContents:
    """What the camera's card holds in [start_ns, end_ns) (camera clock), and the replay URI of that recording.

    Raises OnvifError (never with the password) when the camera cannot be reached or answers nonsense."""
    if end_ns <= start_ns:
        return CardContents(profile_g=True, detail="empty interval")
    client = connect(target)
    try:
        if not has_profile_g(client):  # raises when the camera listed nothing at all
            return CardContents(profile_g=False, detail="the camera lists no Search and Replay service (Profile G)")
        search = client.search()
        recordings = list(_find_recordings(search, max_results=max_results, wait_s=wait_s))
        rec = _pick(recordings, start_ns, end_ns)
        if rec is None:
            return CardContents(profile_g=True, detail=f"no recording on the card ({len(recordings)} found)")
        source = "events"
        try:
            events = list(_track_events(search, rec, start_ns, end_ns, max_results, wait_s))
        except OnvifError:
            events = []  # a camera whose event search fails is read through its track's times
        # Any Track/State answer (the start state included) is the card's word, "nothing held" too; only a camera
        # that answers none is read through DataFrom/DataTo (holes unseen).
        spans = list(held_spans(events, start_ns, end_ns, rec.video_tracks))
        if not events:
            source = "track"
            if rec.data_from_ns is None:
                _fill_track_times(search, rec)
            spans = _clip(rec.data_from_ns, rec.data_to_ns, start_ns, end_ns)
        uri = replay_uri(client, rec.token) if spans else ""
        return CardContents(profile_g=True, spans=tuple(spans), recording_token=rec.token, replay_uri=uri,
                            source=source if spans else "")  # fmt: skip
    except OnvifError as exc:
        raise OnvifError(f"{target.host}:{target.port}: {scrub(str(exc), target)}") from None
    except Exception as exc:  # zeep faults, transport errors, malformed answers alike
        raise OnvifError(f"{target.host}:{target.port}: search failed: {scrub(str(exc), target)}") from None


def replay_uri(client: Any, recording_token: str) -> str:
    """The RTSP URI the Replay service gives for a recording (RTP unicast over RTSP)."""
    answer = client.replay().GetReplayUri(
        StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}, RecordingToken=recording_token
    )
    uri = answer if isinstance(answer, str) else getattr(answer, "Uri", None)
    if not isinstance(uri, str) or not uri.startswith(("rtsp://", "rtsps://")) or len(uri) > 2000:
        raise OnvifError(f"GetReplayUri answered no RTSP URI for recording {recording_token[:64]!r}")
    return uri


def _end(search: Any, token: Any) -> None:
    """End a search session at once (a camera keeps only a few open; best effort: it times out anyway)."""
    try:
        search.EndSearch(SearchToken=token)
    except Exception:  # the session's keep-alive ends it anyway
        pass


def _find_recordings(search: Any, *, max_results: int, wait_s: int) -> Iterator[_Recording]:
    token = search.FindRecordings(Scope={}, KeepAliveTime=f"PT{wait_s * 2}S", MaxMatches=max_results)
    try:
        yield from _recording_pages(search, token, max_results=max_results, wait_s=wait_s)
    finally:
        _end(search, token)


def _recording_pages(search: Any, token: Any, *, max_results: int, wait_s: int) -> Iterator[_Recording]:
    seen = 0
    for _ in range(MAX_PAGES):
        page = search.GetRecordingSearchResults(SearchToken=token, MaxResults=max_results, WaitTime=f"PT{wait_s}S")
        for info in _list(getattr(page, "RecordingInformation", None)):
            seen += 1
            if seen > max_results:
                return
            rec = _Recording(token=str(getattr(info, "RecordingToken", "") or "")[:64])
            for track in _list(getattr(info, "Track", None)):
                if str(getattr(track, "TrackType", "")) == "Video":
                    rec.video_tracks.add(str(getattr(track, "TrackToken", "")))
                    rec.data_from_ns = _min(rec.data_from_ns, to_ns(getattr(track, "DataFrom", None)))
                    rec.data_to_ns = _max(rec.data_to_ns, to_ns(getattr(track, "DataTo", None)))
            if rec.data_from_ns is None:
                rec.data_from_ns = to_ns(getattr(info, "EarliestRecording", None))
                rec.data_to_ns = to_ns(getattr(info, "LatestRecording", None))
            if rec.token:
                yield rec
        if str(getattr(page, "SearchState", "Completed")) == "Completed":
            return


def _pick(recordings: list[_Recording], start_ns: int, end_ns: int) -> _Recording | None:
    """The recording with video that overlaps the interval most (a camera has one per stream, usually one)."""
    best, best_overlap = None, -1
    for rec in recordings:
        lo, hi = rec.data_from_ns, rec.data_to_ns
        overlap = 0 if lo is None or hi is None else max(0, min(hi, end_ns) - max(lo, start_ns))
        if rec.video_tracks or lo is not None:
            overlap += 1  # a recording the camera describes beats an empty one
        if overlap > best_overlap:
            best, best_overlap = rec, overlap
    return best


def _fill_track_times(search: Any, rec: _Recording) -> None:
    info = search.GetRecordingInformation(RecordingToken=rec.token)
    for track in _list(getattr(info, "Track", None)):
        if str(getattr(track, "TrackType", "")) in ("Video", ""):
            rec.data_from_ns = _min(rec.data_from_ns, to_ns(getattr(track, "DataFrom", None)))
            rec.data_to_ns = _max(rec.data_to_ns, to_ns(getattr(track, "DataTo", None)))


def _topic_filter() -> dict[str, Any]:
    from lxml import etree

    topic = etree.Element(f"{{{WSNT}}}TopicExpression", Dialect=TOPIC_DIALECT, nsmap={"tns1": TNS1, "wsnt": WSNT})
    topic.text = TRACK_STATE_TOPIC
    return {"_value_1": [topic]}


def _track_events(
    search: Any, rec: _Recording, start_ns: int, end_ns: int, max_results: int, wait_s: int
) -> Iterator[tuple[int, str, bool]]:
    """(time, track, data present) of the recording's Track/State events in the interval, with the state at start."""
    try:
        token = search.FindEvents(
            StartPoint=from_ns(start_ns),
            EndPoint=from_ns(end_ns),
            Scope={"IncludedRecordings": [rec.token]},
            SearchFilter=_topic_filter(),
            IncludeStartState=True,
            MaxMatches=max_results,
            KeepAliveTime=f"PT{wait_s * 2}S",
        )
    except Exception as exc:
        raise OnvifError(f"FindEvents refused: {str(exc)[:200]}") from None
    try:
        yield from _event_pages(search, rec, token, max_results=max_results, wait_s=wait_s)
    finally:
        _end(search, token)


def _event_pages(search: Any, rec: _Recording, token: Any, *, max_results: int, wait_s: int) -> Iterator[
        tuple[int, str, bool]]:  # fmt: skip
    seen = 0
    for _ in range(MAX_PAGES):
        page = search.GetEventSearchResults(SearchToken=token, MaxResults=max_results, WaitTime=f"PT{wait_s}S")
        for result in _list(getattr(page, "Result", None)):
            seen += 1
            if seen > max_results:
                return
            t = to_ns(getattr(result, "Time", None))
            if t is None or (getattr(result, "RecordingToken", rec.token) or rec.token) != rec.token:
                continue
            items = dict(_simple_items(getattr(result, "Event", None)))
            present = items.get("IsDataPresent", "").strip().lower()
            if present in ("true", "false", "1", "0"):
                yield t, str(getattr(result, "TrackToken", "") or items.get("Track", "")), present in ("true", "1")
        if str(getattr(page, "SearchState", "Completed")) == "Completed":
            return


def held_spans(
    events: Iterable[tuple[int, str, bool]], start_ns: int, end_ns: int, video_tracks: set[str] | None = None
) -> Iterator[Span]:
    """Spans inside [start, end) where the data was present, from (time, track, present) transitions. Events of
    tracks other than the video tracks (when those are known) are ignored; a span still open at ``end`` ends there."""
    opened: int | None = None
    for t, track, present in sorted(events, key=lambda e: e[0]):
        if video_tracks and track and track not in video_tracks:
            continue
        t = min(max(t, start_ns), end_ns)
        if present and opened is None:
            opened = t
        elif not present and opened is not None:
            if t > opened:
                yield Span(opened, t)
            opened = None
    if opened is not None and end_ns > opened:
        yield Span(opened, end_ns)


def _simple_items(node: Any) -> Iterator[tuple[str, str]]:
    """Name/Value of every SimpleItem under an event (zeep objects or raw lxml elements, as the camera sent them)."""
    if node is None:
        return
    tag = getattr(node, "tag", None)
    if isinstance(tag, str):  # an lxml element (the NotificationMessage's Message is xsd:any)
        for el in node.iter("{*}SimpleItem"):
            yield str(el.get("Name", "")), str(el.get("Value", ""))
        return
    name, value = getattr(node, "Name", None), getattr(node, "Value", None)
    if isinstance(name, str) and isinstance(value, str):
        yield name, value
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _simple_items(child)
        return
    values = getattr(node, "__values__", None)
    if isinstance(values, dict):
        for child in values.values():
            if child is not None and not isinstance(child, (str, int, float, bool, dt.datetime)):
                yield from _simple_items(child)


def _clip(lo: int | None, hi: int | None, start_ns: int, end_ns: int) -> list[Span]:
    if lo is None or hi is None:
        return []
    a, b = max(lo, start_ns), min(hi, end_ns)
    return [Span(a, b)] if b > a else []


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)
