"""An export's manifest names where each stretch of the clip came from (docs/design/onvif.md, "Edge backfill"): video
replayed from the camera's card (an ``edge`` segment) is listed with its source, the camera's clock and the offset
measured to place it, and the export still verifies (the manifest is signed with the rest)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from camgrid.audit.note import Signer
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.exports import service as exports
from camgrid.exports.clip import edge_provenance, verify
from camgrid.storage.models import Segment
from camgrid.vocabulary import SegmentSource
from tests.access.world import OP, SUP, T0, World, build
from tests.backends import db_url
from tests.conftest import CAMGRID
from tests.exports.media import write_segment

NS = 1_000_000_000
OFFSET = 2_500_000_000  # the camera's clock was 2.5 s ahead when the card was replayed


@pytest.fixture
def world(tmp_path: Path) -> World:
    engine = make_engine(db_url(tmp_path / "exports.db"))
    upgrade(engine)
    w = build(engine, tmp_path)  # cam-a: ten live seconds from T0
    path = w.home / "recordings" / "cam-a.edge.mp4"
    size = write_segment(path, 10)
    with unit_of_work(w.factory) as s:
        s.add(
            Segment(camera_id="cam-a", start_ns=T0 + 10 * NS, end_ns=T0 + 20 * NS, path=str(path), bytes=size,
                    codec="h264", status="complete", source=SegmentSource.EDGE, clock_offset_ns=OFFSET)
        )  # fmt: skip
    return w


def test_the_manifest_names_the_edge_stretch_and_still_verifies(world: World) -> None:
    w = world
    with unit_of_work(w.factory) as s:
        export_id = exports.request_export(
            session=s, audit=w.log, actor=OP, camera_id="cam-a", from_ns=T0 + 6 * NS, to_ns=T0 + 14 * NS,
            reason="case e1", now_ns=T0,
        ).id  # fmt: skip
    with unit_of_work(w.factory) as s:
        row = exports.approve_export(
            session=s, audit=w.log, actor=SUP, root=w.root, export_id=export_id, reason="ok", now_ns=T0,
            signer=Signer.generate("camgrid.test"),
        )  # fmt: skip
        assert row.actual_to_ns is not None and row.actual_to_ns > T0 + 13 * NS
    folder = w.root / export_id
    assert verify(folder) == []
    ok = subprocess.run([*CAMGRID, "export", "verify", str(folder)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    (edge,) = manifest["provenance"]
    assert (edge["source"], edge["clock"], edge["clock_offset_ns"]) == ("edge", "camera", OFFSET)
    assert edge["from_ns"] == T0 + 10 * NS and T0 + 13 * NS < edge["to_ns"] <= T0 + 14 * NS
    assert "card" in edge["recovered_from"]
    # The provenance is signed like the rest: changing it breaks the verification.
    manifest["provenance"] = []
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    bad = subprocess.run([*CAMGRID, "export", "verify", str(folder)], capture_output=True, text=True)
    assert bad.returncode != 0 and "signed manifest" in bad.stdout + bad.stderr


def test_a_live_only_clip_has_no_provenance_entries() -> None:
    live = [(0, 10, SegmentSource.LIVE, None), (10, 20, SegmentSource.LIVE, None)]
    assert edge_provenance(live, 0, 20) == []
    mixed = [*live, (20, 30, SegmentSource.EDGE, None), (30, 40, SegmentSource.EDGE, -5)]
    got = edge_provenance(mixed, 25, 35)
    assert [(p["from_ns"], p["to_ns"], p["clock_offset_ns"]) for p in got] == [(25, 30, 0), (30, 35, -5)]
