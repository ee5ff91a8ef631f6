"""``make demo-cluster``: PostgreSQL, NATS JetStream, a central node and three recorder nodes on this machine.

Everything on loopback, in one folder (default ``var/demo-cluster``): the simulated city, ``camgrid serve
--no-record`` as the central node (control room on http://127.0.0.1:8080 unless ``--port``), and three ``camgrid
node`` processes sharing the city's cameras through leases, each serving its recordings over HTTPS (a certificate
from the cluster CA the central node makes) on a loopback port to the central node's playback and exports, with
its own credential derived from the central node's secret (generated per run). NATS requires TLS and a user and
password per process. Every node witnesses the central audit log; the central node asks all three to cosign.
Ctrl-C stops everything; ``kill -9`` one of the node pids it prints to watch its cameras move to the others within
15 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from camgrid.audit.witness import load_or_create_cosigner
from camgrid.cluster.certs import issue_node_cert
from camgrid.cluster.media import node_credential
from camgrid.demo.servers import LocalNats, LocalPostgres, free_port

CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    """Until ``url`` answers (any HTTP status): the control room is announced only once it can be used."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the central node stopped:\n" + log.read_text()[-2000:])
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the central node does not answer on {url}; see {log}")


def copy_secrets_key(central: Path, node_home: Path) -> None:
    """Give a node its copy of the central node's key (mode 0600): the camera passwords are sealed with it
    (docs/design/secrets-at-rest.md)."""
    key = central / "secrets.key"
    if key.exists():
        fd = os.open(node_home / "secrets.key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, key.read_bytes())
        finally:
            os.close(fd)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=Path("var/demo-cluster"))
    ap.add_argument("--cameras", type=int, default=24)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--duration", type=float, default=0.0, help="Stop after this many seconds (0: until Ctrl-C)")
    args = ap.parse_args(argv)
    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    pg = LocalPostgres(home / "pg", free_port())
    central = home / "central"
    central.mkdir(exist_ok=True)
    now = datetime.now(UTC)
    nats_cert, nats_key = issue_node_cert(central, node_id="nats", hosts=["127.0.0.1"], out=home / "nats", now=now)
    ca = str(central / "keys" / "cluster-ca.pem")
    names = ["central"] + [f"node-{i}" for i in range(1, args.nodes + 1)]
    nats = LocalNats(
        home / "nats",
        free_port(),
        users={n: secrets.token_urlsafe(24) for n in names},
        tls_cert=nats_cert,
        tls_key=nats_key,
    )
    secret = secrets.token_urlsafe(32)  # the central node's; each node gets only its own credential
    procs: list[subprocess.Popen[bytes]] = []
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("now", True))
    try:
        pg.start()
        nats.start()
        url = pg.create_database("camgrid")
        password = secrets.token_urlsafe(9)
        # Every node is a witness of the audit log (its key made here, so the central node knows it from the start).
        addresses = {n: f"127.0.0.1:{free_port()}" for n in names[1:]}
        peers = "; ".join(
            f"https://{addresses[n]} "
            + load_or_create_cosigner(home / n / "witness" / "witness.key", name=f"camgrid.witness/{n}").key.text()
            for n in names[1:]
        )
        env = dict(
            os.environ,
            CAMGRID_HOME=str(central),
            CAMGRID_DATABASE__URL=url,
            CAMGRID_BUS__URL=nats.url_for("central"),
            CAMGRID_BUS__TLS_CA=ca,
            CAMGRID_SERVER__PORT=str(args.port),
            CAMGRID_RECORDER__METRICS_PORT="0",
            CAMGRID_NEW_PASSWORD=password,
            CAMGRID_CLUSTER__MEDIA_SECRET=secret,
            CAMGRID_CLUSTER__TLS_CA=ca,
            CAMGRID_WITNESS__PEERS=peers,
            CAMGRID_WITNESS__QUORUM=str(max(1, args.nodes // 2 + 1)),
        )
        logs = home / "logs"
        logs.mkdir(exist_ok=True)

        def spawn(name: str, cmd: list[str], extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
            penv = {**env, **(extra or {})}
            if name.startswith("node-"):
                penv.pop("CAMGRID_CLUSTER__MEDIA_SECRET")  # the central node's alone
            p = subprocess.Popen(cmd, env=penv, stdout=(logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT)
            procs.append(p)
            return p

        print(f"demo-cluster: PostgreSQL {pg.url('camgrid')}, NATS {nats.url}, logs in {logs}", flush=True)
        sim = spawn("sim", [*CAMGRID, "sim", "--count", str(args.cameras), "--out", str(central / "cams.csv")])
        while b"ready" not in (logs / "sim.log").read_bytes():
            if sim.poll() is not None:
                raise SystemExit("the simulator stopped:\n" + (logs / "sim.log").read_text()[-2000:])
            time.sleep(0.5)
        subprocess.run([*CAMGRID, "cameras", "import", str(central / "cams.csv")], env=env, check=True)
        engine = create_engine(url)
        with engine.connect() as conn:
            has_user = conn.scalar(text("select count(*) from users where username = 'operator'"))
        engine.dispose()
        if not has_user:
            subprocess.run([*CAMGRID, "users", "add", "operator", "--role", "operator"], env=env, check=True)
            (home / "login.txt").write_text(f"operator {password}\n")
        central_proc = spawn("central", [*CAMGRID, "serve", "--no-record"])
        for name in names[1:]:
            nhome = home / name
            nhome.mkdir(exist_ok=True)
            address = addresses[name]
            cert, key = issue_node_cert(central, node_id=name, hosts=["127.0.0.1"], out=nhome / "tls", now=now)
            copy_secrets_key(central, nhome)
            p = spawn(
                name,
                [*CAMGRID, "node", "--node", name],
                {
                    "CAMGRID_HOME": str(nhome),
                    "CAMGRID_CLUSTER__ADDRESS": address,
                    "CAMGRID_CLUSTER__MEDIA_TOKEN": node_credential(secret, name),
                    "CAMGRID_CLUSTER__TLS_CERT": str(cert),
                    "CAMGRID_CLUSTER__TLS_KEY": str(key),
                    "CAMGRID_BUS__URL": nats.url_for(name),
                },
            )
            print(f"demo-cluster: recorder node {name} pid {p.pid}, recordings on https://{address}", flush=True)
        wait_http(f"http://127.0.0.1:{args.port}/login", central_proc, logs / "central.log")
        login = (home / "login.txt").read_text().strip() if (home / "login.txt").exists() else "(see login.txt)"
        print(f"demo-cluster: control room http://127.0.0.1:{args.port}/  login: {login}", flush=True)
        print("demo-cluster: Ctrl-C stops everything", flush=True)
        end = time.monotonic() + args.duration if args.duration else float("inf")
        while not stop["now"] and time.monotonic() < end:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        nats.stop()
        pg.stop()
        print("demo-cluster: stopped", flush=True)


if __name__ == "__main__":
    main()
