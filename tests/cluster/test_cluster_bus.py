"""The bus: one interface, in-process and NATS JetStream (docs/design/cluster.md, "The bus")."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.bus import AnyMessage, Bus, CameraState, IncidentEvent, InProcessBus, NodeEvent, make_bus
from camgrid.bus.messages import decode, encode, subject_filter, token
from camgrid.config import BusConfig, ConfigError, load_settings
from tests.cluster.conftest import NatsServer
from tests.conftest import wait_for


class Inbox:
    def __init__(self) -> None:
        self.items: list[AnyMessage] = []
        self.lock = threading.Lock()

    def __call__(self, msg: AnyMessage) -> None:
        with self.lock:
            self.items.append(msg)

    def ids(self) -> list[str]:
        with self.lock:
            return [m.msg_id for m in self.items]


def sample(i: int) -> AnyMessage:
    kinds: list[AnyMessage] = [
        CameraState(camera_id=f"CAM-{i:05d}", state="offline", reason="unreachable", since_ns=i, node_id="n1"),
        IncidentEvent(incident_id=f"I{i}", event="open", cause="power_cut", subject_id="F-01", cameras=["a"], at_ns=i),
        NodeEvent(event="acquired", cameras=[f"CAM-{i:05d}"], at_ns=i, node_id="n2"),
    ]
    return kinds[i % len(kinds)]


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.text(min_size=1, max_size=20))
def test_messages_round_trip_and_subjects_are_valid(i: int, camera: str) -> None:
    msg = sample(i)
    assert decode(encode(msg)) == msg
    assert msg.subject.startswith(f"camgrid.{msg.kind}.")
    tok = token(camera)
    assert tok and not any(c in tok for c in ". *>\t\n")
    assert subject_filter(type(msg)) == f"camgrid.{msg.kind}.>"


def test_bus_setting_selects_the_backend(tmp_path: object) -> None:
    assert isinstance(make_bus(BusConfig()), InProcessBus)
    assert type(make_bus(BusConfig(url="nats://127.0.0.1:4222"))).__name__ == "JetStreamBus"
    with pytest.raises(ConfigError, match=r"bus\.url"):
        load_settings(str(tmp_path), {"CAMGRID_BUS__URL": "http://example"})
    with pytest.raises(ConfigError, match=r"bus\.nope"):
        load_settings(str(tmp_path), {"CAMGRID_BUS__NOPE": "1"})


def exchange(bus: Bus, n: int) -> None:
    states, everything = Inbox(), Inbox()
    bus.subscribe(CameraState, states, durable="states")
    bus.subscribe(None, everything, durable="all")
    sent = [sample(i) for i in range(n)]
    for m in sent:
        bus.publish(m)
    assert bus.flush(20)
    wait_for(lambda: len(everything.ids()) >= n, 20, 0.02, what="every message delivered")
    assert everything.ids() == [m.msg_id for m in sent], "delivered once each, in publish order"
    assert states.ids() == [m.msg_id for m in sent if isinstance(m, CameraState)]
    assert everything.items[0] == sent[0], "typed messages arrive equal to what was sent"


@pytest.fixture
def inproc() -> Iterator[InProcessBus]:
    bus = InProcessBus()
    bus.start()
    yield bus
    bus.close()


def test_in_process_publish_subscribe(inproc: InProcessBus) -> None:
    exchange(inproc, 400)


def test_in_process_subscriber_failure_does_not_stop_others(inproc: InProcessBus) -> None:
    good = Inbox()

    def bad(_msg: AnyMessage) -> None:
        raise RuntimeError("boom")

    inproc.subscribe(None, bad)
    inproc.subscribe(None, good)
    for i in range(10):
        inproc.publish(sample(i))
    assert inproc.flush(5)
    assert len(good.ids()) == 10


def test_nats_publish_subscribe(nats_server: NatsServer) -> None:
    bus = make_bus(BusConfig(url=nats_server.url))
    bus.start()
    try:
        exchange(bus, 400)
    finally:
        bus.close()


def test_nats_outage_loses_nothing(nats_server: NatsServer) -> None:
    """Messages published while NATS is down wait on the publisher and arrive, once each, when it is back."""
    pub = make_bus(BusConfig(url=nats_server.url))
    sub = make_bus(BusConfig(url=nats_server.url))
    pub.start()
    sub.start()
    inbox = Inbox()
    try:
        sub.subscribe(None, inbox, durable="control-plane")
        before = [sample(i) for i in range(50)]
        for m in before:
            pub.publish(m)
        wait_for(lambda: len(inbox.ids()) >= 50, 20, 0.05, what="messages before the outage")
        nats_server.stop()
        during = [sample(i) for i in range(50, 250)]
        for m in during:
            pub.publish(m)
        time.sleep(1.5)
        assert pub.pending() > 0, "held on the publisher while NATS is down"
        nats_server.start()
        after = [sample(i) for i in range(250, 300)]
        for m in after:
            pub.publish(m)
        assert pub.flush(30), f"{pub.pending()} messages still buffered"
        want = [m.msg_id for m in before + during + after]
        wait_for(lambda: set(want) <= set(inbox.ids()), 30, 0.1, what="every message after the outage")
        time.sleep(1.0)
        got = inbox.ids()
        assert len(got) == len(set(got)) == len(want), "no duplicates"
        order = [got.index(x) for x in want]
        assert order == sorted(order), "in publish order"
    finally:
        pub.close()
        sub.close()


def test_state_feed_keeps_the_newest_state_per_camera(nats_server: NatsServer) -> None:
    """The control plane's feed: every state from many nodes lands in one table; an older message never wins."""
    from camgrid.cluster.control import StateFeed

    table: dict[str, tuple[str, int]] = {}
    sub = make_bus(BusConfig(url=nats_server.url))
    feed = StateFeed(sub, lambda cam, state, _reason, since: table.__setitem__(cam, (state, since)))
    feed.start()
    pubs = [make_bus(BusConfig(url=nats_server.url)) for _ in range(3)]
    try:
        for n, pub in enumerate(pubs):
            pub.start()
            for i in range(300):
                state = "recording" if i % 2 else "offline"
                pub.publish(CameraState(camera_id=f"C{i % 50}", state=state, since_ns=n * 1000 + i, node_id=f"n{n}"))
        pubs[0].publish(CameraState(camera_id="C1", state="offline", since_ns=5, node_id="late"))
        for pub in pubs:
            assert pub.flush(20)
        wait_for(lambda: feed.received >= 901, 20, 0.05, what="every state")
        assert len(table) == 50
        assert table["C1"] == ("recording", 2000 + 251), "the newest state wins; the late, older one is dropped"
        assert feed.stale >= 1
    finally:
        for pub in pubs:
            pub.close()
        sub.close()


def test_nats_events_outbox_survives_a_publisher_restart(nats_server: NatsServer, tmp_path: Path) -> None:
    """A node that dies while NATS is down keeps its unsent events on disk and publishes them, once, after restart."""
    spool = tmp_path / "outbox" / "events.jsonl"
    nats_server.stop()
    first = make_bus(BusConfig(url=nats_server.url), spool=spool)
    first.start()
    sent = [sample(i) for i in range(100)]
    for m in sent:
        first.publish(m)
    wait_for(lambda: spool.exists() and len(spool.read_text().splitlines()) == 100, 10, 0.1, what="the spool")
    first.close()
    assert len(spool.read_text().splitlines()) == 100, "nothing spooled twice"
    nats_server.start()
    inbox = Inbox()
    sub = make_bus(BusConfig(url=nats_server.url))
    sub.subscribe(None, inbox, durable="control-plane")
    sub.start()
    second = make_bus(BusConfig(url=nats_server.url), spool=spool)
    second.start()
    try:
        assert second.flush(20)
        wait_for(lambda: len(inbox.ids()) >= 100, 20, 0.05, what="the spooled events")
        time.sleep(0.5)
        assert inbox.ids() == [m.msg_id for m in sent], "once each, in order"
        wait_for(lambda: not spool.exists(), 5, 0.05, what="the spool removed once published")
    finally:
        second.close()
        sub.close()


def test_a_subscription_that_fails_to_start_is_retried(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating a consumer can time out on a loaded server: the subscriber tries again instead of staying subscribed
    to nothing, silently (the likely cause of a loaded fresh-clone run where a durable consumer received none of 100
    events published after it). The fault injector fails the first two attempts the way nats-py does."""
    import nats.errors

    from camgrid.bus.jetstream import JetStreamBus

    real = JetStreamBus._start_sub
    calls = {"n": 0}

    async def flaky(self: JetStreamBus, entry: object) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise nats.errors.TimeoutError
        await real(self, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(JetStreamBus, "_start_sub", flaky)
    inbox = Inbox()
    sub = make_bus(BusConfig(url=nats_server.url))
    sub.subscribe(None, inbox, durable="control-plane")
    sub.start()
    pub = make_bus(BusConfig(url=nats_server.url))
    pub.start()
    try:
        sent = [sample(i) for i in range(20)]
        for m in sent:
            pub.publish(m)
        assert pub.flush(20)
        wait_for(lambda: len(inbox.ids()) >= 20, 20, 0.05, what="the events, after two failed starts")
        assert sorted(inbox.ids()) == sorted(m.msg_id for m in sent) and calls["n"] == 3
    finally:
        pub.close()
        sub.close()
