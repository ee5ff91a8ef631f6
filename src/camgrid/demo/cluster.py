"""``make demo-cluster``: PostgreSQL, NATS JetStream, a central node and three recorder nodes on this machine.

Everything on loopback, in one folder (default ``var/demo-cluster``): the simulated city, ``camgrid serve
--no-record`` as the central node (control room on http://127.0.0.1:8080 unless ``--port``), and three ``camgrid
node`` processes sharing the city's cameras through leases, each serving its recordings on a loopback port to the
central node's playback and exports (a shared token generated per run). Ctrl-C stops everything; ``kill -9`` one
of the node pids it prints to watch its cameras move to the others within 15 s.
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
from pathlib import Path

from sqlalchemy import create_engine, text

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
    nats = LocalNats(home / "nats", free_port())
    procs: list[subprocess.Popen[bytes]] = []
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("now", True))
    try:
        pg.start()
        nats.start()
        url = pg.create_database("camgrid")
        central = home / "central"
        central.mkdir(exist_ok=True)
        password = secrets.token_urlsafe(9)
        env = dict(
            os.environ,
            CAMGRID_HOME=str(central),
            CAMGRID_DATABASE__URL=url,
            CAMGRID_BUS__URL=nats.url,
            CAMGRID_SERVER__PORT=str(args.port),
            CAMGRID_RECORDER__METRICS_PORT="0",
            CAMGRID_NEW_PASSWORD=password,
            # Nodes serve their recordings to the central node's playback and exports with this shared secret.
            CAMGRID_CLUSTER__MEDIA_TOKEN=secrets.token_urlsafe(32),
            # The camera passwords are sealed with the central node's key: every node reads the same file (on
            # machines of their own, each gets a copy; docs/design/secrets-at-rest.md).
            CAMGRID_SECRETS__KEY_FILE=str(central / "secrets.key"),
        )
        logs = home / "logs"
        logs.mkdir(exist_ok=True)

        def spawn(name: str, cmd: list[str], extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
            p = subprocess.Popen(
                cmd, env={**env, **(extra or {})}, stdout=(logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT
            )
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
        for i in range(1, args.nodes + 1):
            nhome = home / f"node-{i}"
            nhome.mkdir(exist_ok=True)
            address = f"127.0.0.1:{free_port()}"
            p = spawn(
                f"node-{i}",
                [*CAMGRID, "node", "--node", f"node-{i}"],
                {"CAMGRID_HOME": str(nhome), "CAMGRID_CLUSTER__ADDRESS": address},
            )
            print(f"demo-cluster: recorder node node-{i} pid {p.pid}, recordings on {address}", flush=True)
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
