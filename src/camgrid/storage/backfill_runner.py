"""The edge backfill runner: finds gaps a camera's card may hold, and replays them, throttled so live recording
comes first (docs/design/onvif.md, "Edge backfill").

``tick()`` is a recorder housekeeping hook: every ``backfill.interval_s`` it turns qualifying gaps into jobs, and
on every call it starts the jobs the throttle admits (``backfill.per_uplink`` replays per uplink,
``backfill.per_node`` on this node, one per camera), each in its own thread named ``backfill-<camera>``. A job
asks the card what it holds (``onvif.recordings.card_contents``, in the camera's clock: our time + its measured
offset, from the ``offset_of`` port, 0 until a clock reading is wired in) and hands each held span to the writer
(``storage.backfill_writer.backfill_interval``), which stores it as ``edge`` segments and shrinks the gap. Every
port (camera targets, card, writer, clock offset) is passed in, so tests drive it with a fake writer and a fake
clock, and the runtime with the real ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from camgrid.auditing import SYSTEM, AuditWriter
from camgrid.clock import Clock
from camgrid.config import BackfillSettings
from camgrid.db.engine import unit_of_work
from camgrid.onvif.connect import OnvifError, OnvifTarget
from camgrid.onvif.recordings import CardContents, card_contents
from camgrid.storage import backfill as jobs
from camgrid.storage.backfill_plan import NS, Waiting, admit, candidates
from camgrid.storage.models import BackfillJob
from camgrid.vocabulary import BackfillState

log = logging.getLogger("camgrid.backfill")


@dataclass(frozen=True)
class WriteResult:
    """What the writer stored of one span (``storage.backfill_writer.BackfillResult`` has these fields)."""

    recovered_ns: int
    segments: int
    pictures: int
    detail: str


class Writer(Protocol):
    """``storage.backfill_writer.backfill_interval``'s signature (owner: replayclient)."""

    def __call__(
        self, *, camera_id: str, replay_uri: str, username: str, password: str, start_ns: int, end_ns: int,
        clock_offset_ns: int, recordings_dir: Path, session_factory: sessionmaker[Session], node_id: str,
        max_bytes_per_s: float, stop: threading.Event, clock: Clock,
    ) -> WriteResult: ...  # fmt: skip


CardReader = Callable[[OnvifTarget, int, int], CardContents]


def default_writer() -> Writer:
    from camgrid.storage.backfill_writer import backfill_interval  # replayclient's; loaded when a job first runs

    writer: Writer = backfill_interval  # type: ignore[assignment]  # same keywords; its result has the same fields
    return writer


@dataclass(frozen=True)
class Outcome:
    """A finished job, kept in memory for the benchmark and the logs (``seconds``: wall time it took)."""

    job_id: int
    camera_id: str
    state: BackfillState
    recovered_ns: int
    held_ns: int
    seconds: float


class BackfillRunner:
    """Finds gaps, runs jobs within the throttle, and survives restarts (jobs are rows, not memory)."""

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        cfg: BackfillSettings,
        audit: AuditWriter,
        clock: Clock,
        node_id: str,
        recordings_dir: Path,
        targets: Callable[[str], OnvifTarget | None],
        owns: Callable[[str], bool] = lambda _cid: True,
        offset_of: Callable[[str], int] = lambda _cid: 0,
        card: CardReader | None = None,
        writer: Writer | None = None,
    ) -> None:
        self._factory, self._cfg, self._audit, self._clock = factory, cfg, audit, clock
        self._node_id, self._dir = node_id, recordings_dir
        self._targets, self._owns, self._offset_of = targets, owns, offset_of
        self._card: CardReader = card or (
            lambda t, a, b: card_contents(
                t, start_ns=a, end_ns=b, max_results=cfg.max_results, wait_s=cfg.search_timeout_s
            )
        )
        self._writer = writer
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[int, tuple[str, str, threading.Thread]] = {}  # job -> camera, uplink, thread
        self._no_profile_g: dict[str, float] = {}  # camera -> monotonic time to ask again
        self._next_scan = 0.0
        self._recovered = False
        self.outcomes: list[Outcome] = []
        self.max_concurrent: dict[str, int] = {}  # uplink -> most replays seen at once (tests, benchmark)
        self.max_total = 0

    # the hook ------------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Housekeeping: requeue interrupted jobs once, look for gaps every ``interval_s``, start admitted jobs."""
        if not self._cfg.enabled or self._stop.is_set():
            return
        if not self._recovered:
            with unit_of_work(self._factory) as s:
                n = jobs.requeue_running(s, node_id=self._node_id, now_ns=self._clock.wall_ns())
            if n:
                log.info("%d backfill jobs interrupted by the last stop are pending again", n)
            self._recovered = True
        now = self._clock.monotonic()
        if now >= self._next_scan:
            self._next_scan = now + self._cfg.interval_s
            self.scan()
        self.dispatch()

    def scan(self) -> int:
        """Make pending jobs of the gaps that qualify now; returns how many."""
        now_ns, mono = self._clock.wall_ns(), self._clock.monotonic()
        cfg = self._cfg
        with unit_of_work(self._factory) as s:
            gaps = [g for g in jobs.recent_gaps(s, now_ns=now_ns, max_age_s=cfg.max_age_s) if self._owns(g.camera_id)]
            if not gaps:
                return 0
            ids = {g.camera_id for g in gaps}
            live = ids - jobs.open_gap_cameras(s, ids)
            cams = jobs.camera_infos(s, ids, live=live)
            for cid, until in list(self._no_profile_g.items()):
                if until <= mono:
                    del self._no_profile_g[cid]
                elif cid in cams:
                    c = cams[cid]
                    cams[cid] = type(c)(c.camera_id, c.uplink_id, onvif=c.onvif, live=c.live, profile_g=False)
            chosen = candidates(
                gaps, cams, jobs.known_jobs(s, gaps), now_ns=now_ns, min_gap_s=cfg.min_gap_s, max_age_s=cfg.max_age_s
            )
            return jobs.add_jobs(s, chosen, node_id=self._node_id, now_ns=now_ns)

    def dispatch(self) -> list[int]:
        """Start the due jobs the throttle admits; returns their ids."""
        cfg = self._cfg
        with self._lock:
            self._reap()
            running_uplinks = [up for _c, up, _t in self._running.values()]
            running_cams = {c for c, _u, _t in self._running.values()}
            if len(running_uplinks) >= cfg.per_node:
                return []
        with unit_of_work(self._factory) as s:
            due = jobs.due_jobs(
                s, node_id=self._node_id, now_ns=self._clock.wall_ns(), retry_after_s=cfg.retry_after_s,
                max_attempts=cfg.max_attempts,
            )  # fmt: skip
            due = [j for j in due if j.camera_id not in running_cams]
            cams = jobs.camera_infos(s, {j.camera_id for j in due}, live=set())
            waiting = [Waiting(j.id, j.camera_id, cams[j.camera_id].uplink_id) for j in due if j.camera_id in cams]
            spans = {j.id: (j.start_ns, j.end_ns) for j in due}
        started = []
        with self._lock:
            for w in admit(waiting, running_uplinks, per_uplink=cfg.per_uplink, per_node=cfg.per_node):
                if self._stop.is_set():
                    break
                t = threading.Thread(
                    target=self._run,
                    args=(w.job_id, w.camera_id, *spans[w.job_id]),
                    name=f"backfill-{w.camera_id}"[:64],  # "backfill-<camera>": which replay, in thread dumps
                    daemon=True,
                )
                self._running[w.job_id] = (w.camera_id, w.uplink_id, t)
                t.start()
                started.append(w.job_id)
            self._note_concurrency()
        return started

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the replays (each writer sees ``stop``) and wait for them; their jobs stay running until the next
        start requeues them."""
        self._stop.set()
        with self._lock:
            threads = [t for _c, _u, t in self._running.values()]
        for t in threads:
            t.join(timeout_s)

    def busy(self) -> int:
        with self._lock:
            self._reap()
            return len(self._running)

    # one job -------------------------------------------------------------------------------------------------------
    def _run(self, job_id: int, camera_id: str, start_ns: int, end_ns: int) -> None:
        t0 = self._clock.monotonic()
        state, recovered, held, detail = BackfillState.FAILED, 0, 0, ""
        attempts = 0
        try:
            with unit_of_work(self._factory) as s:
                jobs.begin_job(
                    session=s, audit=self._audit, actor=SYSTEM, camera_id=camera_id, start_ns=start_ns,
                    end_ns=end_ns, node_id=self._node_id, now_ns=self._clock.wall_ns(),
                )  # fmt: skip
                job = s.get(BackfillJob, job_id)
                attempts = job.attempts if job else 1
            state, recovered, held, detail = self._replay(camera_id, start_ns, end_ns)
        except Exception as exc:  # one bad camera never disturbs the others: the job says why
            detail = f"{type(exc).__name__}: {str(exc)[:300]}"
            state = BackfillState.FAILED if attempts >= self._cfg.max_attempts else BackfillState.PENDING
            log.warning("backfill of %s [%d, %d) failed (attempt %d): %s", camera_id, start_ns, end_ns, attempts,
                        detail)  # fmt: skip
        interrupted = self._stop.is_set() and state is not BackfillState.DONE
        if interrupted:
            state, detail = BackfillState.PENDING, "interrupted by a stop; pending again"
        try:
            with unit_of_work(self._factory) as s:
                jobs.finish_job(
                    s, job_id=job_id, state=state, recovered_ns=recovered, detail=detail,
                    now_ns=self._clock.wall_ns(), interrupted=interrupted,
                )  # fmt: skip
        except Exception:
            log.exception("backfill job %d of %s could not be recorded as %s", job_id, camera_id, state)
        seconds = self._clock.monotonic() - t0
        self.outcomes.append(Outcome(job_id, camera_id, state, recovered, held, seconds))
        log.info("backfill %s [%d s]: %s, %.1f s recovered in %.1f s (%s)", camera_id, (end_ns - start_ns) // NS,
                 state, recovered / NS, seconds, detail)  # fmt: skip

    def _replay(self, camera_id: str, start_ns: int, end_ns: int) -> tuple[BackfillState, int, int, str]:
        target = self._targets(camera_id)
        if target is None:
            return BackfillState.NOTHING_HELD, 0, 0, "the camera has no ONVIF address"
        offset = self._offset_of(camera_id)
        try:
            card = self._card(target, start_ns + offset, end_ns + offset)
        except OnvifError as exc:
            raise RuntimeError(f"card search: {exc}") from None
        if not card.profile_g:
            self._no_profile_g[camera_id] = self._clock.monotonic() + self._cfg.no_profile_g_recheck_s
            return BackfillState.NOTHING_HELD, 0, 0, f"no Profile G: {card.detail}"
        if not card.spans:
            return BackfillState.NOTHING_HELD, 0, 0, card.detail or "the card holds nothing of the gap"
        writer = self._writer or default_writer()
        recovered, segments = 0, 0
        for span in card.spans:
            if self._stop.is_set():
                raise RuntimeError("stopped")
            result = writer(
                camera_id=camera_id, replay_uri=card.replay_uri, username=target.username, password=target.password,
                start_ns=span.start_ns - offset, end_ns=span.end_ns - offset, clock_offset_ns=offset,
                recordings_dir=self._dir, session_factory=self._factory, node_id=self._node_id,
                max_bytes_per_s=self._cfg.max_bytes_per_s, stop=self._stop, clock=self._clock,
            )  # fmt: skip
            recovered += result.recovered_ns
            segments += result.segments
        detail = (
            f"{recovered / NS:.1f} s of {card.held_ns / NS:.1f} s held recovered in {segments} segments "
            f"({len(card.spans)} spans, {card.source}, offset {offset / 1e6:.0f} ms)"
        )
        return BackfillState.DONE, recovered, card.held_ns, detail

    def _reap(self) -> None:
        for job_id in [j for j, (_c, _u, t) in self._running.items() if not t.is_alive()]:
            del self._running[job_id]

    def _note_concurrency(self) -> None:
        per: dict[str, int] = {}
        for _c, up, t in self._running.values():
            if t.is_alive():
                per[up] = per.get(up, 0) + 1
        for up, n in per.items():
            self.max_concurrent[up] = max(self.max_concurrent.get(up, 0), n)
        self.max_total = max(self.max_total, sum(per.values()))
