"""``camgrid recordings retention``: the recorder's own runner, audited under the operator's login, and only the
segments this node (``recorder.node_id``) recorded: another node's rows and files stay for that node."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from camgrid.audit.log import AuditLog
from camgrid.auditing import SYSTEM, cli_actor
from camgrid.cli.main import cli
from camgrid.clock import FakeClock, SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.runtime import retention_hook
from camgrid.storage.models import Segment
from camgrid.vocabulary import AuditAction, DeletionReason
from tests.storage.retention_city import H, add_camera, add_segment, add_topology


def test_the_command_deletes_only_this_nodes_segments_and_audits_each(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "camgrid.toml").write_text('[recorder]\nnode_id = "a"\n\n[retention]\ndefault_days = 1\n')
    engine = make_engine(load_settings(home).database_url)
    upgrade(engine)
    factory = session_factory(engine)
    now = SystemClock().wall_ns()  # the command runs on the real clock: the footage is days old, not nanoseconds
    rec = tmp_path / "rec"
    with unit_of_work(factory) as s:
        add_topology(s, {"D": None})
        add_camera(s, "c", "D")
        old = {node: [add_segment(s, rec, "c", now - (48 + i) * H, node=node) for i in range(3)] for node in "ab"}
        young = add_segment(s, rec, "c", now - H, node="a")

    result = CliRunner().invoke(cli, ["--home", str(home), "recordings", "retention"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"age": 3, "budget": 0, "freed_bytes": 300}

    with unit_of_work(factory) as s:
        left = set(s.execute(select(Segment.id, Segment.node_id)).tuples())
    assert left == {(x.id, "b") for x in old["b"]} | {(young.id, "a")}
    assert all((rec / "b" / "c" / f"{x.id}.mp4").exists() for x in old["b"])
    assert not any((rec / "a" / "c" / f"{x.id}.mp4").exists() for x in old["a"])

    log = AuditLog.open(engine, home=home, clock=FakeClock(now), auto_checkpoint=False)
    entries = [json.loads(log.entry_data(i)) for i in range(log.size)]
    assert [(e["who"], e["action"], e["details"]["reason"]) for e in entries] == [
        (cli_actor().name, AuditAction.RETENTION_DELETE, DeletionReason.AGE)
    ] * 3
    assert sorted(e["t_to_ns"] for e in entries) == sorted(x.end_ns for x in old["a"])


def test_the_recorders_hook_runs_every_interval_on_its_clock_audited_as_camgrid(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "camgrid.toml").write_text("[retention]\ndefault_days = 1\ninterval_s = 60\n")
    settings = load_settings(home)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    clock = FakeClock(SystemClock().wall_ns())
    rec = tmp_path / "rec"
    with unit_of_work(factory) as s:
        add_topology(s, {"D": None})
        add_camera(s, "c", "D")
        first = add_segment(s, rec, "c", clock.wall_ns() - 48 * H)
    hook = retention_hook(settings, engine, factory, clock, node_id="local")

    hook()  # the first run waits a few seconds after start
    assert (rec / "local" / "c" / f"{first.id}.mp4").exists()
    clock.advance(5)
    hook()
    assert not (rec / "local" / "c" / f"{first.id}.mp4").exists()
    with unit_of_work(factory) as s:
        second = add_segment(s, rec, "c", clock.wall_ns() - 48 * H)
    clock.advance(59)
    hook()  # not yet: one run per retention.interval_s
    assert (rec / "local" / "c" / f"{second.id}.mp4").exists()
    clock.advance(1)
    hook()
    assert not (rec / "local" / "c" / f"{second.id}.mp4").exists()

    log = AuditLog.open(engine, home=home, clock=clock, auto_checkpoint=False)
    entries = [json.loads(log.entry_data(i)) for i in range(log.size)]
    assert [(e["who"], e["camera"]) for e in entries] == [(SYSTEM.name, "c")] * 2
