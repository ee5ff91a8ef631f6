"""The live hub: the recorder's packets, fanned out to browser viewers as fragmented MP4.

It taps the recorder (one camera connection serves the recording and every viewer). Work happens only for watched
cameras: per picture one ``moof+mdat`` is built once and handed to the event loop with one thread-safe call; the
loop copies it to each viewer's bounded queue. A viewer that falls behind is cut back to the next keyframe.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from camgrid.live.transcode import Transcoder
from camgrid.media import fmp4, fmp4_audio
from camgrid.media.audio import AAC, OPUS, AudioFrame, AudioTrack
from camgrid.media.nal import H264, StreamInfo, codec_string, nal_type, param_set_type, parse_sps
from camgrid.media.reorder import DecodeTimes
from camgrid.media.rtp import AccessUnit, merge_continuation
from camgrid.vocabulary import VideoPath

log = logging.getLogger("camgrid.live")
NS = 1_000_000_000
NO_ORIGIN = -(1 << 63)  # a feed's origin before its first keyframe
MAX_QUEUE = 75  # pictures (3 s at 25 fps) before a viewer is moved to the next keyframe

Message = str | bytes


@dataclass(eq=False)
class Viewer:
    queue: asyncio.Queue[Message | None] = field(default_factory=lambda: asyncio.Queue())
    need_key: bool = True
    dropped: int = 0


@dataclass
class _Feed:
    """Per watched camera, on the ingest thread."""

    codec: str = H264
    params: dict[int, bytes] = field(default_factory=dict)
    info: StreamInfo | None = None
    origin_ns: int = 0
    origin_ext: int = -(1 << 63)  # NO_ORIGIN: waiting for a keyframe to start (a decode time may be below 0)
    last_ext: int = -1
    last_dur: int = 3600
    seq: int = 0
    epoch: int = 0
    dts: DecodeTimes = field(default_factory=DecodeTimes)  # B-frames: decode times and composition offsets
    hold: bool = False  # the camera sends a picture's slices as separate marked packets (live555): hold each one
    held: tuple[AccessUnit, int, bool] | None = None  # the picture held until the next one starts
    audio: AudioTrack | None = None  # the sound sent with the pictures (AAC, Opus: what browsers play)
    audio_anchor: tuple[int, int] | None = None  # (position in audio ticks from the origin, extended RTP time)
    audio_end: int = 0


SUB = "#sub"  # suffix of a substream's session id
LINGER_S = 10.0  # keep a substream open this long after its last viewer leaves (tiles are reshuffled often)
AS_H264 = "#h264"  # suffix of a session's H.264-for-viewers twin (live/transcode.py), e.g. "cam-0008#sub#h264"


def _path(key: str) -> VideoPath:
    return VideoPath.H264_TRANSCODE if key.endswith(AS_H264) else VideoPath.NATIVE


def transcode_limit_message(limit: int) -> str:
    """What a viewer gets instead of a black tile when every transcode slot of this process is taken."""
    return json.dumps({"type": "transcode_limit", "limit": limit})


class LiveHub:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        codec_of: Callable[[str], str],
        open_sub: Callable[[str], bool] | None = None,
        close_sub: Callable[[str], None] | None = None,
        open_main: Callable[[str], bool] | None = None,
        close_main: Callable[[str], None] | None = None,
        *,
        max_transcodes: int = 4,
        transcode_queue: int = 50,
        transcode_threads: int = 1,
        transcode_max_lag_s: float = 0.5,
    ) -> None:
        """``open_sub(camera)`` starts the camera's substream session (False if it has none); ``close_sub`` ends it.
        ``open_main``/``close_main`` do the same for a main stream this process does not record (a cluster's
        central node): opened for the first viewer, closed ``LINGER_S`` after the last. At most ``max_transcodes``
        streams are transcoded to H.264 at once (:meth:`h264_key`)."""
        self.loop = loop
        self.codec_of = codec_of
        self.open_sub = open_sub
        self.close_sub = close_sub
        self.open_main = open_main
        self.close_main = close_main
        self.viewers: dict[str, set[Viewer]] = {}  # touched on the event loop only
        self.watched: frozenset[str] = frozenset()  # read on the ingest thread
        self._feeds: dict[str, _Feed] = {}  # ingest thread only
        self._epochs: dict[str, int] = {}  # bumped when a camera becomes watched: its feed starts afresh
        self._headers: dict[str, list[Message]] = {}  # last codec/origin/init per camera (event loop)
        self._audio_tracks: dict[str, AudioTrack] = {}  # each session's playable audio track (ingest thread)
        self.max_transcodes = max_transcodes
        self._transcode_opts = {"max_queue": transcode_queue, "threads": transcode_threads}
        self._transcode_max_lag_s = transcode_max_lag_s
        self._transcoders: dict[str, Transcoder] = {}  # by twin key; changed on the event loop, read on ingest
        self.transcodes_started = 0  # since the process started (tests, stats)

    # ingest thread ---------------------------------------------------------------------------------------------
    def tap(self, camera_id: str, au: AccessUnit, ext: int, jump: bool) -> None:
        if camera_id not in self.watched:
            return
        feed = self._feeds.get(camera_id)
        epoch = self._epochs.get(camera_id, 0)
        if feed is None or feed.epoch != epoch:
            codec = H264 if camera_id.endswith(AS_H264) else self.codec_of(camera_id) or H264
            feed = self._feeds[camera_id] = _Feed(codec=codec, epoch=epoch)
        for p in au.params:
            t = nal_type(feed.codec, p)
            if feed.params.get(t) != p:
                if t in feed.params:
                    feed.origin_ext = NO_ORIGIN  # new parameter sets: viewers get a new init at this keyframe
                feed.params[t] = bytes(p)
                if t == param_set_type(feed.codec, "sps"):
                    try:
                        feed.info = parse_sps(feed.codec, bytes(p))
                        feed.dts.hint(feed.info.reorder)
                    except (ValueError, IndexError):
                        feed.info = None
        if au.continuation:
            self._continuation(feed, au)
            return
        if feed.hold:
            # Each picture waits for the next one (its slices may still come): one picture of latency, for these
            # cameras only; every other camera's picture goes out as it arrives.
            prev, feed.held = feed.held, (au, ext, jump)
            if prev is None:
                return
            au, ext, jump = prev
        self._emit(camera_id, feed, au, ext, jump)

    def _continuation(self, feed: _Feed, au: AccessUnit) -> None:
        held = feed.held
        if au.after_loss:
            feed.held = None  # the rest of the held picture was lost: start again at a keyframe
            feed.origin_ext = NO_ORIGIN
        elif held is not None and held[0].ts == au.ts:
            merge_continuation(held[0], au)
        elif not feed.hold:
            # The first sign: the picture already sent was only its first slice. From now on each picture is held
            # until the next starts, and viewers start again at the next keyframe (new init: nothing half-drawn).
            feed.hold = True
            feed.origin_ext = NO_ORIGIN

    def _emit(self, camera_id: str, feed: _Feed, au: AccessUnit, ext: int, jump: bool) -> None:
        twin = self._transcoders.get(camera_id + AS_H264)
        if twin is not None:
            twin.feed(feed.codec, au, ext, jump, [feed.params[t] for t in sorted(feed.params)])
            if camera_id not in self.viewers:
                return  # only H.264 viewers: no fragments for no one
        header: list[Message] = []
        if feed.origin_ext == NO_ORIGIN or jump:
            if not au.key or feed.info is None:
                return
            feed.dts.reset()
            dts = feed.dts.place(ext)
            feed.origin_ns, feed.origin_ext, feed.last_ext = au.arrival_ns, dts, dts
            sps = feed.params[param_set_type(feed.codec, "sps")]
            mime = f'video/mp4; codecs="{codec_string(feed.info, sps)}"'
            init = fmp4.init_segment(feed.info, [feed.params[t] for t in sorted(feed.params)])
            mime, init = self._with_audio(camera_id, feed, mime, init)
            header = [
                json.dumps({"type": "codec", "mime": mime, "codec": feed.codec, "path": _path(camera_id)}),
                json.dumps({"type": "origin", "wall_ms": feed.origin_ns // 1_000_000}),
                init,
            ]
        else:
            dts = feed.dts.place(ext)
        if dts > feed.last_ext:
            feed.last_dur = min(dts - feed.last_ext, 5 * 90_000)
        feed.last_ext = dts
        feed.seq += 1
        frag = fmp4.fragment(
            feed.seq,
            max(0, dts - feed.origin_ext),
            [(feed.last_dur, len(au.data), au.key)],
            [au.data],
            [ext - dts],
        )
        self.loop.call_soon_threadsafe(self._dispatch, camera_id, header, frag, au.key)

    # audio (ingest thread; docs/design/audio.md) ---------------------------------------------------------------
    def audio_stream(self, camera_id: str, track: AudioTrack | None) -> None:
        """A session's audio track: sent to viewers when browsers play it (AAC, Opus; never G.711)."""
        if track is not None and track.codec in (AAC, OPUS):
            self._audio_tracks[camera_id] = track
        else:
            self._audio_tracks.pop(camera_id, None)

    def _with_audio(self, camera_id: str, feed: _Feed, mime: str, init: bytes) -> tuple[str, bytes]:
        track = self._audio_tracks.get(camera_id)
        feed.audio = track
        feed.audio_anchor = None
        feed.audio_end = 0
        if track is None:
            return mime, init
        both = mime[:-1] + f',{fmp4_audio.audio_codec_string(track)}"'
        return both, fmp4_audio.add_audio_to_init(init, track)

    def audio_frame(self, camera_id: str, frame: AudioFrame, wall_ns: int, ext_ts: int, jump: bool) -> None:
        """One audio frame to the viewers, placed by its UTC from the stream's origin, then by its RTP time."""
        if camera_id not in self.watched:
            return
        feed = self._feeds.get(camera_id)
        if feed is None or feed.audio is None or feed.origin_ext < 0 or feed.epoch != self._epochs.get(camera_id, 0):
            return
        if feed.audio_anchor is None or jump:
            pos = (wall_ns - feed.origin_ns) * feed.audio.clock_rate // NS
            if pos < 0:
                return
            feed.audio_anchor = (max(pos, feed.audio_end), ext_ts)
        pos = feed.audio_anchor[0] + ext_ts - feed.audio_anchor[1]
        if pos < feed.audio_end:
            return
        feed.audio_end = pos + frame.duration
        feed.seq += 1
        frag = fmp4_audio.audio_fragment(feed.seq, pos, [(frame.duration, len(frame.data))], [frame.data])
        self.loop.call_soon_threadsafe(self._dispatch, camera_id, [], frag, False)

    def on_state(self, camera_id: str, up: bool, reason: str, at_ns: int) -> None:
        if up or camera_id not in self.watched:
            return
        twin = self._transcoders.get(camera_id + AS_H264)
        if twin is not None:
            twin.reset()
        msg = json.dumps({"type": "offline", "reason": reason, "since_ms": at_ns // 1_000_000})
        for key in (camera_id, camera_id + AS_H264):
            feed = self._feeds.get(key)
            if feed is not None:
                feed.origin_ext = NO_ORIGIN  # the next session starts a new stream (new init, new origin)
            self.loop.call_soon_threadsafe(self._dispatch_text, key, msg)

    # event loop ------------------------------------------------------------------------------------------------
    def _dispatch(self, camera_id: str, header: list[Message], frag: bytes, key: bool) -> None:
        for viewer in self.viewers.get(camera_id, ()):
            if header:
                viewer.need_key = True
            if viewer.need_key:
                if not key:
                    continue
                viewer.need_key = False
                if header:
                    for m in header:
                        viewer.queue.put_nowait(m)
                else:
                    self._resend_header(camera_id, viewer)
            if viewer.queue.qsize() > MAX_QUEUE:
                while not viewer.queue.empty():
                    viewer.queue.get_nowait()
                viewer.dropped += 1
                viewer.need_key = True
                continue
            viewer.queue.put_nowait(frag)
        if header:
            self._headers[camera_id] = header

    def _dispatch_text(self, camera_id: str, msg: str) -> None:
        self._headers.pop(camera_id, None)
        for viewer in self.viewers.get(camera_id, ()):
            viewer.need_key = True
            viewer.queue.put_nowait(msg)

    def _resend_header(self, camera_id: str, viewer: Viewer) -> None:
        for m in self._headers.get(camera_id, []):
            viewer.queue.put_nowait(m)

    def stream_key(self, camera_id: str, stream: str) -> str:
        """The session a viewer of ``stream`` ("main" or "sub") gets; the main stream when there is no substream."""
        if stream == "sub" and self.open_sub is not None:
            key = camera_id + SUB
            if key in self.viewers or self.open_sub(camera_id):
                return key
        if self.open_main is not None and camera_id not in self.viewers and camera_id + AS_H264 not in self.viewers:
            self.open_main(camera_id)
        return camera_id

    def h264_key(self, key: str) -> str:
        """The session for a viewer that plays only H.264: ``key`` itself when its stream is known to be H.264,
        else its twin, which :class:`~camgrid.live.transcode.Transcoder` fills (H.265 decoded and encoded again)."""
        codec = self.codec_of(key)
        if not codec and key.endswith(SUB):
            # a substream just opened has told nothing yet: its camera's main stream is the best guess (a wall of
            # H.264 cameras must not take every transcode slot for pass-through twins)
            codec = self.codec_of(key[: -len(SUB)])
        return key if codec == H264 else key + AS_H264

    def transcodes(self) -> list[dict[str, float | int | str]]:
        """The running transcodes (event loop): what ``GET /api/live/transcodes`` reports."""
        return [
            {
                "key": key,
                "viewers": len(self.viewers.get(key, ())),
                "frames_in": t.frames_in,
                "frames_out": t.frames_out,
                "dropped": t.dropped,
                "failures": t.failures,
                "busy_s": round(t.busy_s, 3),
            }
            for key, t in sorted(self._transcoders.items())
        ]

    def _source(self, key: str) -> str:
        return key[: -len(AS_H264)] if key.endswith(AS_H264) else key

    def _set_watched(self) -> None:
        self.watched = frozenset(self.viewers) | frozenset(self._source(k) for k in self._transcoders)

    def _linger_close(self, key: str) -> None:
        if key in self.viewers or key + AS_H264 in self.viewers:
            return
        if key.endswith(SUB):
            if self.close_sub is not None:
                self.close_sub(key[: -len(SUB)])
        elif self.close_main is not None:
            self.close_main(key)

    async def watch(self, camera_id: str) -> AsyncIterator[Message]:
        """Messages for one viewer of session ``camera_id`` (from :meth:`stream_key`) until it goes away."""
        viewer = Viewer()
        twin = camera_id.endswith(AS_H264)
        if twin and camera_id not in self._transcoders:
            if len(self._transcoders) >= self.max_transcodes:
                log.warning("transcode limit (%d) reached: %s not transcoded", self.max_transcodes, camera_id)
                yield transcode_limit_message(self.max_transcodes)
                return
            self._transcoders[camera_id] = Transcoder(
                camera_id,
                functools.partial(self.tap, camera_id),
                max_queue=self._transcode_opts["max_queue"],
                threads=self._transcode_opts["threads"],
                max_lag_s=self._transcode_max_lag_s,
            )
            self.transcodes_started += 1
        if camera_id not in self.viewers:
            self._epochs[camera_id] = self._epochs.get(camera_id, 0) + 1
            self._headers.pop(camera_id, None)
        self.viewers.setdefault(camera_id, set()).add(viewer)
        self._set_watched()
        try:
            while True:
                msg = await viewer.queue.get()
                if msg is None:
                    return
                yield msg
        finally:
            group = self.viewers.get(camera_id)
            if group is not None:
                group.discard(viewer)
                if not group:
                    del self.viewers[camera_id]
                    if twin:
                        self._transcoders.pop(camera_id).stop()  # the last H.264 viewer left
                    source = self._source(camera_id)
                    if source.endswith(SUB) or self.close_main is not None:
                        self.loop.call_later(LINGER_S, self._linger_close, source)
            self._set_watched()
