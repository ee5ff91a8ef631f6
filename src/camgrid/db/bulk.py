"""Many rows in one go, on every database we support.

Through psycopg 3, SQLAlchemy's executemany sends one INSERT per row (pipelined), and a multi-row ``VALUES`` list
costs more to compile than to run; on PostgreSQL the rows go through ``COPY ... FROM STDIN`` instead (one stream,
in the session's own transaction). On SQLite executemany is already the fast path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same keys, no server-side defaults needed); returns how many. Never commits."""
    if not rows:
        return 0
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return len(rows)
    from psycopg import sql

    cols = list(rows[0])
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    )
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row([row[c] for c in cols])
    return len(rows)
