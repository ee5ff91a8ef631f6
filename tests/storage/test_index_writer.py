"""The index writer: rows in order, kept while the database is away, and an operation that can never apply set
aside instead of holding every row behind it forever. Real SQLite or PostgreSQL (CAMGRID_TEST_BACKEND)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.storage import index as ix
from camgrid.storage.models import Gap, Segment
from camgrid.vocabulary import GapReason

T0 = 1_700_000_000 * 1_000_000_000


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    settings = load_settings(tmp_path, env)
    eng = make_engine(settings.database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def segments(engine: Engine) -> list[tuple[str, int, int, str]]:
    with session_factory(engine)() as s:
        return [(r.path, r.start_ns, r.end_ns, r.status) for r in s.scalars(select(Segment).order_by(Segment.start_ns))]


def gaps(engine: Engine) -> list[tuple[str, int, int | None]]:
    with session_factory(engine)() as s:
        return [(g.reason, g.start_ns, g.end_ns) for g in s.scalars(select(Gap).order_by(Gap.start_ns))]


def test_operations_apply_in_order(engine: Engine) -> None:
    w = ix.IndexWriter(engine)
    w.put(ix.GapOpen("c", T0, GapReason.STARTING, "", "n"))
    w.put(ix.SegOpen("c", T0 + 5, "/a", "h264", "n"))
    w.put(ix.GapClose("c", T0 + 5))
    w.put(ix.SegClose("/a", T0 + 10, 100, 3))
    w.put(ix.GapOpen("c", T0 + 10, GapReason.STALLED, "", "n"))
    w.put(ix.SegOpen("c", T0 + 12, "/b", "h264", "n"))
    w.put(ix.GapClose("c", T0 + 12))
    assert w.flush()
    assert segments(engine) == [("/a", T0 + 5, T0 + 10, "complete"), ("/b", T0 + 12, T0 + 12, "writing")]
    assert gaps(engine) == [(GapReason.STARTING, T0, T0 + 5), (GapReason.STALLED, T0 + 10, T0 + 12)]
    assert (w.applied, w.quarantined, w.pending()) == (7, 0, 0)


def test_a_poisoned_operation_is_quarantined_and_the_rest_go_in(engine: Engine) -> None:
    """A second segment row with the same path breaks a unique constraint: retried whole, it blocked the queue
    (and every camera's index) for ever. It is set aside, counted and logged; the rows around it go in, in order."""
    w = ix.IndexWriter(engine)
    w.put(ix.SegOpen("c", T0, "/a", "h264", "n"))
    assert w.flush()
    w.put(ix.GapOpen("c", T0 + 1, GapReason.PACKET_LOSS, "", "n"))
    w.put(ix.SegOpen("c", T0 + 2, "/a", "h264", "n"))  # poisoned: the path exists
    w.put(ix.GapClose("c", T0 + 2))
    w.put(ix.SegOpen("c", T0 + 3, "/b", "h264", "n"))
    assert w.flush()
    assert w.pending() == 0
    assert w.quarantined == 1 and w.poisoned[0][0] == ix.SegOpen("c", T0 + 2, "/a", "h264", "n")
    assert [s[0] for s in segments(engine)] == ["/a", "/b"]
    assert gaps(engine) == [(GapReason.PACKET_LOSS, T0 + 1, T0 + 2)]
    w.put(ix.GapOpen("c", T0 + 4, GapReason.STALLED, "", "n"))
    assert w.flush() and w.quarantined == 1, "the queue flows again"


def test_rows_are_kept_in_order_while_the_database_is_away(tmp_path: Path, engine: Engine) -> None:
    """An unreachable database is no poisoned row: everything is kept, ahead of newer rows, and applied later."""
    away = make_engine(f"sqlite:///{tmp_path}/missing-dir/nowhere.db")
    w = ix.IndexWriter(away)
    w.put(ix.GapOpen("c", T0, GapReason.UNREACHABLE, "", "n"))
    assert not w.flush()
    w.put(ix.GapClose("c", T0 + 9))
    assert w.pending() == 2 and w.quarantined == 0
    w.engine = engine  # the database is back
    assert w.flush()
    assert gaps(engine) == [(GapReason.UNREACHABLE, T0, T0 + 9)]
    away.dispose()
