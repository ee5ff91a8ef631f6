"""Four-eyes exports as a service over the ``exports`` table (docs/design/services-own-invariants.md): the state
machine, the district scope, a cluster source that is down (the export stays pending), and the signed manifest that
``camgrid export verify`` accepts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from camgrid.audit.note import Signer
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.exports import service as exports
from camgrid.exports.clip import verify
from camgrid.storage.models import Segment
from camgrid.vocabulary import AuditAction, ExportStatus
from tests.access.world import OP, SUP, SUP_D2, T0, World, build
from tests.backends import db_url
from tests.conftest import CAMGRID

NS = 1_000_000_000


@pytest.fixture
def world(tmp_path: Path) -> World:
    engine = make_engine(db_url(tmp_path / "exports.db"))
    upgrade(engine)
    return build(engine, tmp_path)


def _actions(w: World, since: int) -> list[str]:
    return [json.loads(w.log.entry_data(i))["action"] for i in range(since, w.log.size)]


def test_request_then_a_second_person_approves_and_the_clip_verifies(world: World, tmp_path: Path) -> None:
    w = world
    start = w.log.size
    with unit_of_work(w.factory) as s:
        row = exports.request_export(
            session=s,
            audit=w.log,
            actor=OP,
            camera_id="cam-a",
            from_ns=T0 + 2 * NS,
            to_ns=T0 + 6 * NS,
            reason="case x1",
            now_ns=T0,
        )
        export_id = row.id
        assert row.status == ExportStatus.PENDING
    assert not (w.root / export_id).exists(), "nothing is cut before the approval"
    with unit_of_work(w.factory) as s, pytest.raises(exports.ExportConflict, match="second person"):
        exports.approve_export(session=s, audit=w.log, actor=OP, root=w.root, export_id=export_id, reason="", now_ns=T0)
    signer = Signer.generate("camgrid.test")
    with unit_of_work(w.factory) as s:
        row = exports.approve_export(
            session=s, audit=w.log, actor=SUP, root=w.root, export_id=export_id, reason="ok", now_ns=T0, signer=signer
        )
        assert row.status == ExportStatus.READY and row.actual_from_ns == T0 + 2 * NS
        names = {str(f["name"]) for f in exports.export_files(w.root, row)}
    assert names == {"clip.mp4", "README.html", "manifest.json", "manifest.sig", "key.pub"}  # the page: issue 16
    folder = w.root / export_id
    assert verify(folder) == []
    ok = subprocess.run([*CAMGRID, "export", "verify", str(folder)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [a["by"] for a in manifest["approval"]] == ["op", "sup"]
    with unit_of_work(w.factory) as s, pytest.raises(exports.ExportConflict, match="ready"):
        exports.refuse_export(session=s, audit=w.log, actor=SUP, export_id=export_id, reason="late", now_ns=T0)
    with unit_of_work(w.factory) as s:
        path = exports.download_export(
            session=s, audit=w.log, actor=OP, root=w.root, export_id=export_id, name="clip.mp4"
        )
    assert path == folder / "clip.mp4"
    assert _actions(w, start) == [AuditAction.EXPORT_REQUEST, AuditAction.EXPORT_APPROVE, AuditAction.EXPORT_DOWNLOAD]
    assert manifest["audit_entries"] == [start, start + 1]


def test_scope_and_who_sees_what(world: World) -> None:
    w = world
    with unit_of_work(w.factory) as s:
        with pytest.raises(exports.ExportNotFound):  # cam-a is in D-01: outside sup-d2's districts it does not exist
            exports.export_for(session=s, actor=SUP_D2, export_id=w.ids["pending"])
        with pytest.raises(exports.ExportNotFound):
            exports.refuse_export(
                session=s, audit=w.log, actor=SUP_D2, export_id=w.ids["pending"], reason="", now_ns=T0
            )
        assert exports.list_exports(session=s, actor=SUP_D2) == []
        other_operator = type(OP)("op2", OP.role)
        assert exports.list_exports(session=s, actor=other_operator) == [], "an operator sees only their requests"
        assert len(exports.list_exports(session=s, actor=OP)) == 2


def test_a_source_on_a_down_node_leaves_the_export_pending_until_approved_again(world: World) -> None:
    w = world
    start = w.log.size

    def node_down(segment: Segment, scratch: Path) -> Path:
        raise exports.SourcesUnavailable(503, "recorder node n2 is down")

    with unit_of_work(w.factory) as s, pytest.raises(exports.ExportPending, match="n2 is down") as caught:
        exports.approve_export(
            session=s,
            audit=w.log,
            actor=SUP,
            root=w.root,
            export_id=w.ids["pending"],
            reason="ok",
            now_ns=T0,
            sources=node_down,
        )
        s.commit()  # the route keeps the attempt
    assert caught.value.status == 503
    with unit_of_work(w.factory) as s:
        row = exports.export_for(session=s, actor=SUP, export_id=w.ids["pending"])
        assert row.status == ExportStatus.PENDING and "n2 is down" in row.note
        assert len(exports.audit_entries(row)) == 2, "the request and the attempt"
    with unit_of_work(w.factory) as s:
        row = exports.approve_export(
            session=s, audit=w.log, actor=SUP, root=w.root, export_id=w.ids["pending"], reason="ok", now_ns=T0
        )
        assert row.status == ExportStatus.READY and row.note == ""
    assert _actions(w, start) == [AuditAction.EXPORT_APPROVE, AuditAction.EXPORT_APPROVE]
    assert not list((w.root / w.ids["pending"]).glob(".sources-*"))


def test_nothing_recorded_fails_the_export_and_says_why(world: World) -> None:
    w = world
    with unit_of_work(w.factory) as s:
        export_id = exports.request_export(
            session=s, audit=w.log, actor=OP, camera_id="cam-b", from_ns=T0, to_ns=T0 + NS, reason="case x2", now_ns=T0
        ).id
    with unit_of_work(w.factory) as s, pytest.raises(exports.ExportFailed) as caught:
        exports.approve_export(
            session=s, audit=w.log, actor=SUP, root=w.root, export_id=export_id, reason="ok", now_ns=T0
        )
        s.commit()
    assert caught.value.missing
    with unit_of_work(w.factory) as s:
        row = exports.export_for(session=s, actor=OP, export_id=export_id)
        assert row.status == ExportStatus.FAILED and row.decision_reason == "no recording in the requested range"


def test_bad_requests_are_refused_before_any_entry(world: World) -> None:
    w = world
    start = w.log.size
    with unit_of_work(w.factory) as s:
        with pytest.raises(ValueError, match="6 hours"):
            exports.request_export(
                session=s,
                audit=w.log,
                actor=OP,
                camera_id="cam-a",
                from_ns=T0,
                to_ns=T0 + 7 * 3600 * NS,
                reason="x",
                now_ns=T0,
            )
        with pytest.raises(exports.ExportNotFound):
            exports.download_export(session=s, audit=w.log, actor=OP, root=w.root, export_id="../etc", name="passwd")
        with pytest.raises(exports.ExportNotFound):
            exports.download_export(
                session=s, audit=w.log, actor=OP, root=w.root, export_id=w.ids["ready"], name="request.json"
            )
    assert w.log.size == start
