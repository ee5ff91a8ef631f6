"""Motion search in a region of one camera's recordings: keyframes compared inside the region, masks never looked at.

"Motion" is only "something changed in this area of this camera's picture": the share of the region's pixels whose
brightness changed between two pictures. Never a person, a face, a plate or an object; never a count.

Cost decides it (docs/design/motion-search.md, "Motion search"): the range is first narrowed to the spans the
activity data says something happened (or kept whole where there is none), then only keyframes are decoded (a
keyframe decodes alone), shrunk to a small grey picture and compared with the keyframe before; the pictures between
two keyframes are decoded only in candidate windows, where the stream's own picture sizes say something moved but
the keyframes on either side look alike (a motion that came and went inside one keyframe interval).

The searched area is the region minus the camera's privacy masks, rasterised conservatively (a pixel touching a mask
is masked): a change under a mask can never make a hit, and every thumbnail is black there.
"""

from __future__ import annotations

import statistics
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Polygon

from camgrid.config import MotionSearchConfig
from camgrid.motion.segments import (
    Decoder,
    SampleRef,
    SegmentTable,
    SegmentUnreadable,
    read_table,
    thumbnail,
    work_size,
)
from camgrid.privacy.errors import MaskError
from camgrid.privacy.geometry import raster, validate

MAX_REGION_POINTS = 64


class SearchError(ValueError):
    """The search cannot be made as asked (a bad region, one entirely under the masks); the message says why."""


@dataclass(frozen=True)
class SearchParams:
    """How sensitive and how costly a search is (config ``motion_search``, docs/design/motion-search.md)."""

    work_width: int = 160  # pictures are compared at this width (grey, area-averaged)
    diff_level: int = 24  # a pixel changed when its brightness moved by more than this (0..255)
    min_fraction: float = 0.01  # a change: at least this share of the searched area's pixels changed...
    min_pixels: int = 4  # ...and at least this many of them
    merge_gap_s: float = 2.0  # changes closer than this are one hit
    max_hits: int = 50
    thumb_width: int = 192
    refine_factor: float = 1.5  # a keyframe interval whose other pictures weigh this much more than the median...
    max_refine: int = 8  # ...has its pictures decoded (at most this many intervals per search)


def params_of(cfg: MotionSearchConfig) -> SearchParams:
    return SearchParams(
        work_width=cfg.work_width,
        diff_level=cfg.diff_level,
        min_fraction=cfg.min_fraction,
        max_hits=cfg.max_hits,
        thumb_width=cfg.thumb_width,
        max_refine=cfg.max_refine,
    )


DEFAULT_PARAMS = SearchParams()


@dataclass(frozen=True)
class SourceSegment:
    path: Path
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class Hit:
    start_ns: int
    end_ns: int
    score: float  # the largest share of the searched area that changed
    thumb: bytes  # a small JPEG, black under the masks


@dataclass
class Outcome:
    hits: list[Hit] = field(default_factory=list)
    keyframes: int = 0  # keyframes decoded
    frames: int = 0  # other pictures decoded (candidate windows)
    refined: int = 0  # keyframe intervals decoded picture by picture
    unreadable: int = 0  # segments skipped (gone or damaged)
    truncated: bool = False  # more hits than ``max_hits``: the strongest were kept


# ------------------------------------------------------------------------------------------------ the pure parts


def region_polygon(points: Sequence[Any]) -> Polygon:
    """A region: a polygon of normalised [x, y] points, or a rectangle [x0, y0, x1, y1]."""
    if len(points) == 4 and all(isinstance(v, int | float) for v in points):
        x0, y0, x1, y1 = (float(v) for v in points)
        points = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    if len(points) > MAX_REGION_POINTS:
        raise SearchError(f"a region has at most {MAX_REGION_POINTS} points")
    try:
        (poly,) = validate([points])
    except MaskError as exc:
        raise SearchError(str(exc).replace("polygon 1: ", "region: ")) from None
    return poly


def search_area(region: Polygon, masks: Sequence[Polygon], width: int, height: int) -> NDArray[np.bool_]:
    """The pixels searched: inside the region and touching no mask."""
    return raster([region], width, height) & ~raster(list(masks), width, height)


def hidden(masks: Sequence[Polygon], width: int, height: int) -> NDArray[np.bool_] | None:
    return raster(list(masks), width, height) if masks else None


def change(prev: NDArray[np.uint8], cur: NDArray[np.uint8], area: NDArray[np.bool_], level: int) -> tuple[float, int]:
    """(share of the area's pixels whose brightness moved by more than ``level``, how many)."""
    total = int(area.sum())
    if total == 0 or prev.shape != cur.shape:
        return 0.0, 0
    moved = np.abs(cur.astype(np.int16) - prev.astype(np.int16)) > level
    n = int(np.count_nonzero(moved & area))
    return n / total, n


def changed(score: tuple[float, int], p: SearchParams) -> bool:
    return score[0] >= p.min_fraction and score[1] >= p.min_pixels


def merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass
class _Change:
    start_ns: int
    end_ns: int
    score: float
    where: tuple[int, int, int]  # (segment, keyframe sample, picture sample): what to decode for the thumbnail


def group(changes: Sequence[_Change], gap_ns: int) -> list[_Change]:
    """Changes closer than ``gap_ns`` as one, with the strongest's score and picture."""
    out: list[_Change] = []
    for c in sorted(changes, key=lambda c: c.start_ns):
        if out and c.start_ns - out[-1].end_ns <= gap_ns:
            last = out[-1]
            best = c if c.score > last.score else last
            out[-1] = _Change(last.start_ns, max(last.end_ns, c.end_ns), best.score, best.where)
        else:
            out.append(_Change(c.start_ns, c.end_ns, c.score, c.where))
    return out


# ------------------------------------------------------------------------------------------------ the search


@dataclass(frozen=True)
class _Key:
    seg: int
    idx: int  # the keyframe's index in its segment's samples
    t_ns: int
    other_bytes: int  # the bytes of the pictures after it, up to the next keyframe (the stream's own activity)
    next_t_ns: int  # when the next keyframe (or the segment's end) comes


def _keys(tables: Sequence[SegmentTable]) -> list[_Key]:
    out: list[_Key] = []
    for si, table in enumerate(tables):
        samples = table.samples
        key_idx = [i for i, s in enumerate(samples) if s.key]
        for n, i in enumerate(key_idx):
            j = key_idx[n + 1] if n + 1 < len(key_idx) else len(samples)
            end = samples[j].t_ns if j < len(samples) else samples[-1].t_ns + samples[-1].dur_ns
            out.append(_Key(si, i, samples[i].t_ns, sum(s.size for s in samples[i + 1 : j]), end))
    return out


def _chosen(keys: Sequence[_Key], spans: Sequence[tuple[int, int]] | None, start_ns: int, end_ns: int) -> list[bool]:
    """Which keyframes to decode: those whose interval meets the range and a span, plus the keyframe before each."""
    want = [k.next_t_ns > start_ns and k.t_ns < end_ns for k in keys]
    if spans is not None:
        merged = merge(spans)
        want = [w and any(a < k.next_t_ns and k.t_ns < b for a, b in merged) for w, k in zip(want, keys, strict=True)]
    out = list(want)
    for i in range(1, len(keys)):  # the keyframe before an interval is its reference
        if want[i]:
            out[i - 1] = True
    return out


def search(
    segments: Sequence[SourceSegment],
    *,
    region: Polygon,
    masks: Sequence[Polygon],
    start_ns: int,
    end_ns: int,
    spans: Sequence[tuple[int, int]] | None = None,
    params: SearchParams = DEFAULT_PARAMS,
) -> Outcome:
    """Changes inside ``region`` (minus ``masks``) between ``start_ns`` and ``end_ns``; ``spans``: where the activity
    data says something happened (None: no data, every keyframe is looked at)."""
    out = Outcome()
    tables: list[SegmentTable] = []
    for seg in sorted(segments, key=lambda s: s.start_ns):
        try:
            tables.append(read_table(seg.path, seg.start_ns))
        except (OSError, SegmentUnreadable, struct.error):
            out.unreadable += 1
    tables = [t for t in tables if t.samples]
    if not tables:
        return out
    keys = _keys(tables)
    chosen = _chosen(keys, spans, start_ns, end_ns)
    work = work_size(tables[0].width, tables[0].height, params.work_width)
    area = search_area(region, masks, *work)
    whole = ~raster(list(masks), *work)
    if not area.any():
        raise SearchError("the region lies under the camera's privacy masks: nothing of it can be searched")
    changes: list[_Change] = []
    quiet: list[int] = []  # keyframe intervals whose two keyframes look alike, in the region and elsewhere
    pictures: dict[int, NDArray[np.uint8]] = {}
    by_seg: dict[int, list[int]] = {}
    for ki, k in enumerate(keys):
        if chosen[ki]:
            by_seg.setdefault(k.seg, []).append(ki)
    for si, kis in by_seg.items():
        with Decoder(tables[si], work) as dec:
            for ki in kis:
                got = dec.decode(tables[si].samples[keys[ki].idx])
                if got is not None and got[0].shape == (work[1], work[0]):
                    pictures[ki] = got[0]
            out.keyframes += dec.decoded
    for ki in range(1, len(keys)):
        prev, cur = pictures.get(ki - 1), pictures.get(ki)
        k0 = keys[ki - 1]
        if prev is None or cur is None or not (k0.next_t_ns > start_ns and k0.t_ns < end_ns):
            continue
        score = change(prev, cur, area, params.diff_level)
        if changed(score, params):
            changes.append(_Change(k0.t_ns, keys[ki].t_ns, score[0], (keys[ki].seg, keys[ki].idx, keys[ki].idx)))
        elif not changed(change(prev, cur, whole, params.diff_level), params):
            quiet.append(ki - 1)  # nothing changed anywhere between the keyframes: heavy pictures between them are news
    refine = _candidates(keys, quiet, params)
    out.refined = len(refine)
    for ki in refine:
        c = _refine(tables, keys[ki], pictures[ki], area, params, out)
        if c is not None:
            changes.append(c)
    grouped = group(changes, int(params.merge_gap_s * 1e9))
    if len(grouped) > params.max_hits:
        out.truncated = True
        grouped = sorted(sorted(grouped, key=lambda c: -c.score)[: params.max_hits], key=lambda c: c.start_ns)
    out.hits = [
        Hit(max(c.start_ns, start_ns), min(c.end_ns, end_ns), round(c.score, 4), _thumb(tables, c.where, masks, params))
        for c in grouped
    ]
    return out


def _candidates(keys: Sequence[_Key], quiet: Sequence[int], p: SearchParams) -> list[int]:
    """Quiet keyframe intervals whose other pictures weigh clearly more than usual (most first, at most
    ``max_refine``): a motion may have come and gone between their keyframes. Intervals whose keyframes differ
    outside the region are left out: their weight is explained by that change (a caveat of the design note)."""
    if not quiet or p.max_refine <= 0:
        return []
    usual = statistics.median(k.other_bytes for k in keys) if keys else 0
    heavy = [ki for ki in quiet if keys[ki].other_bytes > p.refine_factor * usual and keys[ki].other_bytes > 0]
    return sorted(sorted(heavy, key=lambda ki: -keys[ki].other_bytes)[: p.max_refine])


def _refine(
    tables: Sequence[SegmentTable],
    key: _Key,
    ref: NDArray[np.uint8],
    area: NDArray[np.bool_],
    p: SearchParams,
    out: Outcome,
) -> _Change | None:
    """Every picture of one keyframe interval against its keyframe: the span where the area differed."""
    table = tables[key.seg]
    samples = table.samples
    first = last = None
    best = (0.0, key.idx)
    with Decoder(table, (ref.shape[1], ref.shape[0])) as dec:
        dec.decode(samples[key.idx])
        for i in range(key.idx + 1, len(samples)):
            s: SampleRef = samples[i]
            if s.key:
                break
            got = dec.decode(s)
            if got is None:
                continue
            score = change(ref, got[0], area, p.diff_level)
            if changed(score, p):
                first = s if first is None else first
                last = s
                if score[0] > best[0]:
                    best = (score[0], i)
        out.frames += max(0, dec.decoded - 1)
    if first is None or last is None:
        return None
    return _Change(first.t_ns, last.t_ns + last.dur_ns, best[0], (key.seg, key.idx, best[1]))


def _thumb(
    tables: Sequence[SegmentTable], where: tuple[int, int, int], masks: Sequence[Polygon], p: SearchParams
) -> bytes:
    si, key_idx, idx = where
    table = tables[si]
    frame: Any = None
    with Decoder(table, work_size(table.width, table.height, p.thumb_width)) as dec:
        for i in range(key_idx, idx + 1):
            got = dec.decode(table.samples[i])
            if got is not None:
                frame = got[1]
    if frame is None:
        return b""
    w, h = work_size(frame.width, frame.height, p.thumb_width)
    return thumbnail(frame, hidden(masks, w, h), p.thumb_width)
