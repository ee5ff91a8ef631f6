"""Cluster transport (docs/design/cluster.md, "Node credentials and TLS"): a node serves its recordings over HTTPS
with a certificate from the cluster CA, only to the holder of its own credential (derived from the central node's
secret), refuses the example token and short ones at start, and refuses plain HTTP beyond loopback. Finding 10.

Real parts: the node's recordings server on a free port with TLS, the central node's real client (``open_segment``),
SQLite for the index (the transport does not depend on the database)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from camgrid.audit.note import Checkpoint, Signer
from camgrid.audit.witness import AddCheckpoint, Cosigner, WitnessStore
from camgrid.audit.witness_http import submit
from camgrid.cli.main import cli
from camgrid.clock import FakeClock
from camgrid.cluster.certs import issue_node_cert
from camgrid.cluster.media import MediaError, RecordingsServer, Remote, node_credential, open_segment, serve_recordings
from camgrid.config import ClusterConfig, ConfigError, load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.storage.models import Segment
from tests.backends import db_url, free_port

SECRET = "central-media-secret-0123456789abcdefghij"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@dataclass
class NodeUp:
    server: RecordingsServer
    address: str
    central: ClusterConfig
    seg_id: int
    content: bytes
    url: str


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeUp]:
    engine = make_engine(db_url(tmp_path / "index.db"))
    upgrade(engine)
    factory = session_factory(engine)
    rec = tmp_path / "n1" / "recordings"
    rec.mkdir(parents=True)
    content = b"\0\0\0\x18ftypmp42" + bytes(range(256)) * 8
    (rec / "a.mp4").write_bytes(content)
    with factory() as s:
        seg = Segment(
            camera_id="C-1",
            start_ns=0,
            end_ns=1,
            path=str(rec / "a.mp4"),
            codec="h264",
            status="complete",
            node_id="n1",
        )
        s.add(seg)
        s.commit()
        seg_id = seg.id
    central_home = tmp_path / "central"
    cert, key = issue_node_cert(central_home, node_id="n1", hosts=["127.0.0.1"], out=tmp_path / "n1" / "tls", now=NOW)
    assert key.stat().st_mode & 0o077 == 0
    address = f"127.0.0.1:{free_port()}"
    cfg = ClusterConfig(
        address=address, media_token=node_credential(SECRET, "n1"), tls_cert=str(cert), tls_key=str(key)
    )
    witness = WitnessStore(tmp_path / "n1" / "witness.json", cosigner=Cosigner("w/n1", b"\5" * 32), pin_first=True)
    server = serve_recordings(
        factory=factory, node_id="n1", recordings=rec, cfg=cfg, witness=witness, clock=FakeClock()
    )
    assert server is not None
    central = ClusterConfig(media_secret=SECRET, tls_ca=str(central_home / "keys" / "cluster-ca.pem"))
    try:
        yield NodeUp(server, address, central, seg_id, content, f"https://{address}/segments/{seg_id}")
    finally:
        server.stop()
        engine.dispose()


def _ca_client(up: NodeUp) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=up.central.tls_ca), trust_env=False, timeout=10)


def test_the_central_node_fetches_with_the_node_credential_over_tls(node: NodeUp) -> None:
    stream = open_segment(Remote("n1", node.address), node.seg_id, cfg=node.central, range_header="bytes=4-11")
    assert stream.status == 206 and b"".join(stream) == node.content[4:12]
    stream = open_segment(Remote("n1", node.address), node.seg_id, cfg=node.central)
    assert b"".join(stream) == node.content


def test_a_node_refuses_clients_without_its_own_credential(node: NodeUp) -> None:
    with _ca_client(node) as c:
        assert c.get(node.url).status_code == 401  # no credential
        other = node_credential(SECRET, "n2")  # another node's credential
        assert c.get(node.url, headers={"Authorization": f"Bearer {other}"}).status_code == 401
        assert c.get(node.url, headers={"Authorization": f"Bearer {SECRET}"}).status_code == 401  # the central secret
        good = {"Authorization": f"Bearer {node_credential(SECRET, 'n1')}"}
        assert c.get(node.url, headers=good).content == node.content
    # The central node with another secret: refused, named.
    wrong = ClusterConfig(media_secret="x" * 40, tls_ca=node.central.tls_ca)
    with pytest.raises(MediaError) as exc:
        open_segment(Remote("n1", node.address), node.seg_id, cfg=wrong)
    assert exc.value.status == 502 and "refused this server's credential" in str(exc.value)


def test_plain_http_and_unknown_certificates_get_nothing(node: NodeUp) -> None:
    good = {"Authorization": f"Bearer {node_credential(SECRET, 'n1')}"}
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://{node.address}/segments/{node.seg_id}", headers=good, timeout=5)
    with pytest.raises(httpx.ConnectError):  # the system's CAs do not know the cluster CA
        httpx.get(node.url, headers=good, timeout=5)
    plain = ClusterConfig(media_secret=SECRET)  # a central node without the cluster CA speaks HTTP: nothing
    with pytest.raises(MediaError) as exc:
        open_segment(Remote("n1", node.address), node.seg_id, cfg=plain)
    assert exc.value.status == 503


def test_the_node_witnesses_on_the_same_server_without_a_credential(node: NodeUp) -> None:
    log_key = Signer.generate("city/audit")
    note = log_key.sign_note(Checkpoint(log_key.name, 0, bytes(32)).body())
    with _ca_client(node) as c:
        line = submit(f"https://{node.address}", AddCheckpoint(0, [], note), log_key=log_key.verifier.text(), client=c)
    assert line.startswith("\u2014 w/n1 ")


@pytest.mark.parametrize(
    "token", ["CHANGE-ME", "change-me-change-me-change-me-change-me", "short-token-31-characters-long!"]
)
def test_the_example_token_and_short_ones_are_refused_at_start(tmp_path: Path, token: str) -> None:
    for key in ("MEDIA_TOKEN", "MEDIA_SECRET"):
        env = {f"CAMGRID_CLUSTER__{key}": token}
        with pytest.raises(ConfigError, match=f"cluster.{key.lower()} is the example value or shorter than 32"):
            load_settings(tmp_path, env)
    r = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "node", "--duration", "0"], env={"CAMGRID_CLUSTER__MEDIA_TOKEN": token}
    )
    assert r.exit_code != 0 and "cluster.media_token is the example value" in r.output


def test_beyond_loopback_without_tls_the_node_does_not_start(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path / "i.db"))
    cfg = ClusterConfig(address="0.0.0.0:1", media_token=node_credential(SECRET, "n1"))
    with pytest.raises(RuntimeError, match=r"beyond loopback but cluster\.tls_cert is not set"):
        serve_recordings(factory=session_factory(engine), node_id="n1", recordings=tmp_path, cfg=cfg)


def test_node_credential_command_prints_the_derived_credential_and_issues_a_certificate(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CAMGRID_CLUSTER__MEDIA_SECRET": SECRET}
    r = runner.invoke(
        cli,
        ["--home", str(tmp_path), "node-credential", "n7", "--certs", str(tmp_path / "c"), "--host", "10.0.1.7"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == node_credential(SECRET, "n7") and len(r.stdout.strip()) >= 32
    assert (tmp_path / "c" / "n7.pem").exists() and (tmp_path / "keys" / "cluster-ca.key").stat().st_mode & 0o077 == 0
    r = runner.invoke(cli, ["--home", str(tmp_path / "other"), "node-credential", "n7"])
    assert r.exit_code != 0 and "cluster.media_secret is not set" in r.output
