"""NATS with TLS and a user per process (finding 10; docs/design/cluster.md, "Node credentials and TLS"): the bus
works with its own user over TLS checked against the cluster CA, a wrong password or none gets nothing, and the
password never reaches a log line."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from camgrid.bus import CameraState, make_bus
from camgrid.bus.jetstream import redact_url
from camgrid.cluster.certs import issue_node_cert
from camgrid.config import BusConfig
from camgrid.demo.servers import LocalNats
from tests.cluster.test_cluster_bus import Inbox, exchange
from tests.conftest import free_port, wait_for

PASSWORD = "node-1-password-0123456789abcdef"


@pytest.fixture
def secure_nats(tmp_path: Path) -> Iterator[tuple[LocalNats, str]]:
    now = dt.datetime.now(dt.UTC)
    cert, key = issue_node_cert(tmp_path / "central", node_id="nats", hosts=["127.0.0.1"], out=tmp_path / "t", now=now)
    server = LocalNats(
        tmp_path / "nats", free_port(), users={"node-1": PASSWORD, "central": "c" * 32}, tls_cert=cert, tls_key=key
    )
    server.start()
    try:
        yield server, str(tmp_path / "central" / "keys" / "cluster-ca.pem")
    finally:
        server.stop()


def test_redact_url() -> None:
    assert redact_url("tls://node-1:s3cret@10.0.0.1:4222") == "tls://node-1:***@10.0.0.1:4222"
    assert redact_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert "s3cret" not in redact_url("nats://s3cret@[::1]:4222")


def test_the_bus_needs_its_user_and_tls_and_never_logs_the_password(
    secure_nats: tuple[LocalNats, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, ca = secure_nats
    assert server.url.startswith("tls://") and PASSWORD not in server.url
    caplog.set_level(logging.WARNING, logger="camgrid.bus")
    good = make_bus(BusConfig(url=server.url_for("node-1"), tls_ca=ca))
    good.start()
    try:
        exchange(good, 20)
    finally:
        good.close()

    for url in (server.url.replace("tls://", "tls://node-1:wrong-password-0123456789@"), server.url):
        bad = make_bus(BusConfig(url=url, tls_ca=ca))
        inbox = Inbox()
        bad.subscribe(CameraState, inbox, durable="intruder")
        bad.start()
        try:
            bad.publish(CameraState(camera_id="C-1", state="offline", reason="x", since_ns=1, node_id="n9"))
            wait_for(lambda: "NATS at" in caplog.text, 20, 0.05, what="the refusal logged")
            assert not bad.flush(1), "nothing is delivered without a valid user"
        finally:
            bad.close()
    assert "authorization" in caplog.text.lower()
    assert PASSWORD not in caplog.text and "wrong-password" not in caplog.text
