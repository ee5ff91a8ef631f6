"""``camgrid.db.bulk.insert_rows``: COPY on PostgreSQL, executemany on SQLite; what goes in comes out, exactly,
whatever the text holds (COPY has its own escaping: tabs, newlines, backslashes, quotes, NULL)."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from camgrid.db.bulk import insert_rows
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health.models import HealthTransition
from tests.backends import db_url

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_counter = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(TEXT, st.integers(-(2**63), 2**63 - 1), st.one_of(st.none(), TEXT)),
        min_size=0,
        max_size=30,
    )
)
def test_rows_round_trip(tmp_path: Path, rows: list[tuple[str, int, str | None]]) -> None:
    engine = make_engine(db_url(tmp_path / "bulk.db"))
    upgrade(engine)
    factory = session_factory(engine)
    tag = f"run{next(_counter)}:"
    table = HealthTransition.__table__
    with unit_of_work(factory) as s:
        s.execute(table.delete())  # type: ignore[attr-defined]
        n = insert_rows(
            s,
            table,  # type: ignore[arg-type]
            [
                {"camera_id": (tag + cam)[:64], "t_ns": t, "old_state": "online", "new_state": "offline", "reason": r}
                for cam, t, r in rows
            ],
        )
    assert n == len(rows)
    with unit_of_work(factory) as s:
        got = s.execute(
            select(HealthTransition.camera_id, HealthTransition.t_ns, HealthTransition.reason).order_by(
                HealthTransition.id
            )
        ).all()
    engine.dispose()
    assert [tuple(g) for g in got] == [((tag + c)[:64], t, r) for c, t, r in rows]
