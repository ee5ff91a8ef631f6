"""The bus on NATS JetStream (nats-py), for many nodes.

An asyncio loop runs on a thread of its own, so callers stay synchronous. Published messages wait in a local buffer
until JetStream acknowledges them; while the server is unreachable they stay there (bounded) and are sent, in order,
when it returns. Each message carries its ``msg_id`` as ``Nats-Msg-Id``, so a message re-sent after a lost ack is
stored once (JetStream's duplicate window). Subscriptions are pull consumers; a durable one resumes where it acked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.js import api

from camgrid.bus.base import AnyMessage, Handler
from camgrid.bus.messages import MessageType, decode, encode, subject_filter

log = logging.getLogger("camgrid.bus")


def redact_url(url: str) -> str:
    """``nats://user:password@host:port`` → ``nats://user:***@host:port`` (nothing secret left to log)."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    user = f"{parts.username}:***" if parts.password is not None else "***"  # a lone user part is a NATS token
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _redacted(exc: BaseException, url: str) -> str:
    text = str(exc)
    parts = urlsplit(url)
    for secret in (parts.password, parts.username if parts.password is None else None):
        if secret:
            text = text.replace(secret, "***")
    return text


class JetStreamBus:
    def __init__(
        self,
        url: str,
        *,
        stream: str = "CAMGRID",
        max_buffer: int = 1_000_000,
        max_age_s: float = 86400.0,
        duplicate_window_s: float = 600.0,
        batch: int = 1024,
        ack_every: int = 512,
        spool: Path | None = None,
        tls_ca: str = "",
    ) -> None:
        self.url = url
        self.shown_url = redact_url(url)  # what logs may show: no user name or password
        self.tls_ca = tls_ca
        self.stream = stream
        self.max_buffer = max_buffer
        self.max_age_s = max_age_s
        self.duplicate_window_s = duplicate_window_s
        self.batch = batch
        self.ack_every = ack_every
        self._buf: deque[AnyMessage] = deque()
        self._lock = threading.Lock()
        self._inflight = 0
        self._subs: list[tuple[MessageType | None, Handler, str]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bus-nats", daemon=True)
        self._wake: asyncio.Event | None = None
        self._nc: Any = None
        self._js: Any = None
        self._ready = threading.Event()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self.dropped = 0
        self.published = 0
        self.received = 0
        self.redelivered = 0
        self.dedupe_window = 100_000
        # Events outbox: while NATS is unreachable, buffered messages are also appended to this file (fsync'd), so
        # that a node that dies during a NATS outage still delivers them after its restart (msg ids dedupe).
        self.spool = spool
        self._progress = time.monotonic()
        self._last_error_log = 0.0
        self._spooled = 0  # leading buffer entries already in the spool file
        if spool is not None and spool.exists():
            for line in spool.read_text(encoding="utf-8").splitlines():
                try:
                    self._buf.append(decode(line.encode()))
                except ValueError:
                    log.warning("bus: ignoring a torn line in %s", spool)
            self._spooled = len(self._buf)
            if self._buf:
                log.warning("bus: %d events from the last run to publish", len(self._buf))

    # public (any thread) ---------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread.is_alive():
            return
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._main(), self._loop)
        if self.spool is not None:
            asyncio.run_coroutine_threadsafe(self._spooler(), self._loop)

    def connected(self, timeout: float = 0.0) -> bool:
        return self._ready.wait(timeout)

    def publish(self, msg: AnyMessage) -> None:
        with self._lock:
            if len(self._buf) >= self.max_buffer:
                self.dropped += 1
                return
            self._buf.append(msg)
        if self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def subscribe(self, kind: MessageType | None, handler: Handler, *, durable: str = "") -> None:
        entry = (kind, handler, durable)
        self._subs.append(entry)
        if self._ready.is_set():
            asyncio.run_coroutine_threadsafe(self._start_sub(entry), self._loop).result(30)

    def pending(self) -> int:
        with self._lock:
            return len(self._buf)

    def flush(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        if not self.flush(5.0):
            self._spool_pending()
        self._closing = True
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            except Exception:
                log.exception("bus: closing the NATS connection failed")
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _spool_pending(self) -> None:
        if self.spool is None:
            return
        with self._lock:
            fresh = list(self._buf)[self._spooled :]
            self._spooled = len(self._buf)
        if not fresh:
            return
        try:
            self.spool.parent.mkdir(parents=True, exist_ok=True)
            with self.spool.open("a", encoding="utf-8") as fh:
                fh.write("".join(encode(m).decode() + "\n" for m in fresh))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            log.error("bus: cannot write %s (%s); events kept in memory only", self.spool, exc)

    # loop thread -----------------------------------------------------------------------------------------------
    async def _spooler(self) -> None:
        """Spool what waits while NATS is unreachable (also before the first connection ever succeeds)."""
        while not self._closing:
            await asyncio.sleep(0.5)
            stuck = time.monotonic() - self._progress > 2.0
            if self.pending() and (not self._ready.is_set() or stuck):
                self._spool_pending()

    async def _on_error(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log > 10.0:
            self._last_error_log = now
            log.warning("bus: NATS at %s: %s", self.shown_url, _redacted(exc, self.url))

    async def _main(self) -> None:
        self._wake = asyncio.Event()
        delay = 0.2
        while not self._closing:
            try:
                tls: ssl.SSLContext | None = None
                if self.url.startswith("tls://") or self.tls_ca:
                    tls = ssl.create_default_context(cafile=self.tls_ca or None)
                self._nc = await nats.connect(
                    self.url,
                    tls=tls,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    error_cb=self._on_error,
                    name=f"camgrid-{uuid.uuid4().hex[:6]}",
                )
                self._js = self._nc.jetstream()
                await self._ensure_stream()
                break
            except Exception as exc:
                log.warning("bus: NATS at %s: %s; retrying", self.shown_url, _redacted(exc, self.url))
                self._spool_pending()
                if self._nc is not None:
                    await _quiet_close(self._nc)
                    self._nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self._ready.set()
        self._tasks.append(asyncio.ensure_future(self._publisher()))
        for entry in list(self._subs):
            self._tasks.append(asyncio.ensure_future(self._start_sub_until_done(entry)))

    async def _start_sub_until_done(self, entry: tuple[MessageType | None, Handler, str]) -> None:
        """Creating a consumer is a request to the server that can time out (a loaded server, NATS restarting): try
        again with backoff instead of leaving this process subscribed to nothing, silently, for the rest of its life
        (a central node would never hear of an outage again). One subscription failing never holds up another."""
        delay = 0.2
        while not self._closing:
            try:
                await self._start_sub(entry)
                return
            except Exception as exc:
                log.warning("bus: subscribing to %s failed (%s); retrying", entry[0] or "everything", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _ensure_stream(self) -> None:
        cfg = api.StreamConfig(
            name=self.stream,
            subjects=[subject_filter(None)],
            storage=api.StorageType.FILE,
            max_age=self.max_age_s,
            duplicate_window=self.duplicate_window_s,
        )
        try:
            await self._js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(cfg)

    async def _publisher(self) -> None:
        assert self._wake is not None
        delay = 0.1
        while True:
            with self._lock:
                head = [self._buf[i] for i in range(min(self.batch, len(self._buf)))]
            if not head:
                self._progress = time.monotonic()
                if self._closing:
                    return
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                except TimeoutError:
                    pass
                continue
            try:
                # Sent in order on one connection, so JetStream stores them in that order; only the last of a batch
                # waits for JetStream's acknowledgement (one round trip per batch). If it fails, the whole batch is
                # sent again and the message ids make JetStream drop what it already stored.
                for m in head[:-1]:
                    await self._nc.publish(m.subject, encode(m), headers={"Nats-Msg-Id": m.msg_id})
                last = head[-1]
                await self._js.publish(last.subject, encode(last), timeout=5.0, headers={"Nats-Msg-Id": last.msg_id})
            except Exception as exc:
                log.warning("bus: publish to NATS failed (%s); %d messages kept", exc, self.pending())
                self._spool_pending()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            with self._lock:
                for _ in head:
                    self._buf.popleft()
                self._spooled = max(0, self._spooled - len(head))
                self._progress = time.monotonic()
                drop_spool = self._spooled == 0 and self.spool is not None
            if drop_spool and self.spool is not None:
                self.spool.unlink(missing_ok=True)  # everything in it is in JetStream
            self.published += len(head)

    async def _start_sub(self, entry: tuple[MessageType | None, Handler, str]) -> None:
        """A push consumer: the server streams messages to it (one round trip per message would cap the rate).

        AckPolicy.ALL: acknowledging a message acknowledges every one before it, so the subscriber acks every
        ``ack_every`` messages and, for a quiet stream, the last one every 0.2 s. A durable consumer lives on the
        server: after an outage of this subscriber or of NATS, delivery resumes after the last acknowledged message.
        """
        kind, handler, durable = entry
        name = durable or f"eph-{uuid.uuid4().hex[:12]}"
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.ALL,
            deliver_policy=api.DeliverPolicy.ALL if durable else api.DeliverPolicy.NEW,
            inactive_threshold=None if durable else 300.0,
            max_ack_pending=100_000,
            ack_wait=30.0,
        )
        state: dict[str, Any] = {"last": None, "count": 0}

        seen = RecentIds(self.dedupe_window)

        async def on_msg(raw: Any) -> None:
            try:
                msg = decode(raw.data)
                # A redelivery (its acknowledgement was lost in an outage) is dropped: handlers see each message once.
                if seen.add(msg.msg_id):
                    handler(msg)
                else:
                    self.redelivered += 1
            except Exception:
                log.exception("bus subscriber failed on %s", raw.subject)
            self.received += 1
            state["last"] = raw
            state["count"] += 1
            if state["count"] >= self.ack_every:
                await _ack(state)

        await self._js.subscribe(
            subject_filter(kind),
            durable=name,
            stream=self.stream,
            cb=on_msg,
            manual_ack=True,
            config=config,
            pending_msgs_limit=1_000_000,
            pending_bytes_limit=512 * 1024 * 1024,
        )

        async def acker() -> None:
            while True:
                await asyncio.sleep(0.2)
                await _ack(state)

        self._tasks.append(asyncio.ensure_future(acker()))

    async def _shutdown(self) -> None:
        if self._nc is not None:
            await _quiet_close(self._nc)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:  # publisher, acks, spooler, and a connect still retrying
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _quiet_close(nc: Any) -> None:
    try:
        await nc.close()
    except Exception:
        pass


async def _ack(state: dict[str, Any]) -> None:
    last = state["last"]
    if last is None:
        return
    state["last"] = None
    state["count"] = 0
    try:
        await last.ack()
    except Exception:
        pass  # not acknowledged: redelivered after ack_wait; handlers see a message at least once


class RecentIds:
    """The last ``size`` message ids seen, to drop redeliveries (bounded memory)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._order: deque[str] = deque()
        self._ids: set[str] = set()

    def add(self, msg_id: str) -> bool:
        """True if new (and now remembered), False if seen recently."""
        if msg_id in self._ids:
            return False
        self._ids.add(msg_id)
        self._order.append(msg_id)
        if len(self._order) > self.size:
            self._ids.discard(self._order.popleft())
        return True
