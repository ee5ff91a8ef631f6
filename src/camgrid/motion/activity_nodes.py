"""A camera's activity levels in a cluster: they live on the node(s) that recorded it (docs/design/cluster.md,
"Activity across nodes").

The segments index says which nodes hold the camera's recordings in the range (two after a failover, or when a node
came back); each is asked for its part in parallel, with a short timeout (``cluster.media.ACTIVITY_TIMEOUT_S``), and
the answers are merged by second: recorded beats no data, and where two nodes both recorded a second (the overlap
of a failover) the higher level is kept. A node that does not answer gives no data for its part, and the answer says
which seconds are unknown and why: the strip draws nothing there rather than the API failing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.cluster import media
from camgrid.cluster.models import Node
from camgrid.config import ClusterConfig
from camgrid.motion.activity_store import ActivitySeries, ActivityStore
from camgrid.storage.models import Segment
from camgrid.vocabulary import SegmentStatus

NS = 1_000_000_000
MAX_NODES = 8  # nodes asked for one camera's range; more (a camera moved around all day) are reported unknown
JOIN_S = 2  # segments of one node this close are one part (the gap between consecutive segments)


@dataclass(frozen=True)
class Unknown:
    """Seconds ``[start_s, end_s)`` recorded by ``node_id`` whose levels could not be had."""

    start_s: int
    end_s: int
    node_id: str
    reason: str


@dataclass(frozen=True)
class NodeActivity:
    """The merged levels and the parts that stayed unknown."""

    series: ActivitySeries
    unknown: tuple[Unknown, ...] = ()


Fetch = Callable[[media.Remote, str, int, int], bytes]


def merge(start_s: int, end_s: int, parts: Iterable[ActivitySeries]) -> ActivitySeries:
    """One level per second of ``[start_s, end_s)``: per second the highest of the parts (0 = no data, so recorded
    always beats no data); seconds of a part outside the range are ignored."""
    out = bytearray(end_s - start_s)
    for part in parts:
        a, b = max(start_s, part.start_s), min(end_s, part.end_s)
        for s in range(a, b):
            v = part.levels[s - part.start_s]
            if v > out[s - start_s]:
                out[s - start_s] = v
    return ActivitySeries(start_s, bytes(out))


def node_spans(session: Session, *, camera_id: str, start_s: int, end_s: int) -> dict[str, list[tuple[int, int]]]:
    """Per node, the seconds of ``[start_s, end_s)`` its segments of the camera cover (joined, clipped). A segment
    still being written covers up to the range's end (its ``end_ns`` lags behind)."""
    rows = session.execute(
        select(Segment.node_id, Segment.start_ns, Segment.end_ns, Segment.status)
        .where(Segment.camera_id == camera_id, Segment.start_ns < end_s * NS, Segment.end_ns >= start_s * NS)
        .order_by(Segment.node_id, Segment.start_ns)
    ).all()
    spans: dict[str, list[tuple[int, int]]] = {}
    for node_id, a_ns, b_ns, status in rows:
        a = max(start_s, a_ns // NS)
        b = end_s if status == SegmentStatus.WRITING else min(end_s, -(-b_ns // NS))
        if b <= a:
            continue
        mine = spans.setdefault(node_id, [])
        if mine and a <= mine[-1][1] + JOIN_S:
            mine[-1] = (mine[-1][0], max(mine[-1][1], b))
        else:
            mine.append((a, b))
    return spans


def across_nodes(
    *,
    session: Session,
    local: ActivitySeries,
    camera_id: str,
    own_node_id: str,
    cfg: ClusterConfig,
    fetch: Fetch | None = None,
) -> NodeActivity:
    """``local`` (this process's own store) merged with what the other nodes holding the camera's recordings in the
    range keep. One request per node for the seconds from its first to its last part; at most ``MAX_NODES``."""
    start_s, end_s = local.start_s, local.end_s
    spans = {n: s for n, s in node_spans(session, camera_id=camera_id, start_s=start_s, end_s=end_s).items()}
    spans.pop(own_node_id, None)
    if not spans:
        return NodeActivity(local)
    unknown: list[Unknown] = []
    asked: list[tuple[str, media.Remote, int, int]] = []
    for node_id in sorted(spans, key=lambda n: spans[n][0][0]):
        node = session.get(Node, node_id)
        if len(asked) >= MAX_NODES:
            reason = f"more than {MAX_NODES} nodes recorded this camera in the range"
        elif node is None or not node.address:
            reason = "the node does not serve its recordings (cluster.address is not set there)"
        else:
            asked.append((node_id, media.Remote(node.id, node.address), spans[node_id][0][0], spans[node_id][-1][1]))
            continue
        unknown += [Unknown(a, b, node_id, reason) for a, b in spans[node_id]]
    get: Fetch = fetch or (lambda remote, cam, a, b: media.fetch_activity(remote, cam, a, b, cfg=cfg))

    def one(job: tuple[str, media.Remote, int, int]) -> ActivitySeries | str:
        _, remote, a, b = job
        try:
            return ActivitySeries(a, get(remote, camera_id, a, b))
        except (media.MediaError, ValueError) as exc:
            return str(exc)

    parts = [local]
    if asked:
        with ThreadPoolExecutor(max_workers=len(asked), thread_name_prefix="activity-nodes") as pool:
            answers = list(pool.map(one, asked))
        for (node_id, _, _, _), got in zip(asked, answers, strict=True):
            if isinstance(got, str):
                unknown += [Unknown(a, b, node_id, got) for a, b in spans[node_id]]
            else:
                parts.append(got)
    unknown.sort(key=lambda u: (u.start_s, u.node_id))
    return NodeActivity(merge(start_s, end_s, parts), tuple(unknown))


@dataclass(frozen=True)
class ClusterActivityReader:
    """``ActivityStore.read`` as a cluster's central node sees it (for motion search's narrowing): this process's
    levels merged with the nodes'. A part whose node does not answer reads as 0 (no data), which the search already
    treats as "search every keyframe there"."""

    session: Session
    store: ActivityStore | None
    own_node_id: str
    cfg: ClusterConfig
    fetch: Fetch | None = None

    def read(self, *, camera_id: str, start_s: int, end_s: int) -> ActivitySeries:
        if self.store is not None:
            local = self.store.read(camera_id=camera_id, start_s=start_s, end_s=end_s)
        else:
            local = ActivitySeries(start_s, bytes(end_s - start_s))
        return across_nodes(
            session=self.session,
            local=local,
            camera_id=camera_id,
            own_node_id=self.own_node_id,
            cfg=self.cfg,
            fetch=self.fetch,
        ).series
