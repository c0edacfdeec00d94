"""Counting runs and node executions per window in a deployment's own Postgres.

What is counted, and why (the LangGraph server's schema; our tests create tables of this shape):

- **runs**: rows of the server's ``run`` table (``run_id``, ``thread_id``, ``assistant_id``,
  ``status``, ``created_at timestamptz`` ...) whose ``created_at`` falls in the window. A run is
  counted once, in the hour it was created, whatever its status later becomes; ``created_at``
  never changes, so a closed window's count is stable.
- **nodes**: rows of the checkpointer's ``checkpoints`` table (``thread_id``, ``checkpoint_ns``,
  ``checkpoint_id``, ``parent_checkpoint_id``, ``type``, ``checkpoint jsonb``, ``metadata jsonb``)
  written by a graph step: ``metadata->>'source' = 'loop'`` (a row without a source counts too).
  LangGraph writes one such checkpoint after each super-step that executed nodes, in subgraphs
  (``checkpoint_ns`` not empty) as well; the ``input`` checkpoint (before any node ran) and
  ``update`` / ``fork`` checkpoints (a person editing state) execute no node and are not counted.
  The table has no ``created_at`` column: the time is the checkpoint's own ``ts`` field
  (``checkpoint->>'ts'``, ISO 8601 with an offset), set once when the checkpoint is created.

Windows are half-open, ``[start, end)``, aligned to the Unix epoch. The connection is read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from psycopg import errors as pg_errors

from .windows import epoch, from_epoch

# A checkpoint's time is its own ``ts``; rows whose ts is not an ISO timestamp are skipped.
# Step checkpoints only: ``source`` is "loop" (or absent).
RUNS_SQL = """
SELECT floor(extract(epoch FROM created_at) / %(w)s)::bigint AS bucket, count(*)
FROM run WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY bucket
"""
NODES_SQL = r"""
SELECT floor(extract(epoch FROM ts) / %(w)s)::bigint AS bucket, count(*)
FROM (
  SELECT CASE WHEN checkpoint->>'ts' ~ '^\d{4}-\d{2}-\d{2}[T ]'
              THEN (checkpoint->>'ts')::timestamptz END AS ts
  FROM checkpoints WHERE COALESCE(metadata->>'source', 'loop') = 'loop'
) c
WHERE ts >= %(start)s AND ts < %(end)s GROUP BY bucket
"""
EARLIEST_SQL = r"""
SELECT least(
  (SELECT min(created_at) FROM run),
  (SELECT min(CASE WHEN checkpoint->>'ts' ~ '^\d{4}-\d{2}-\d{2}[T ]'
                   THEN (checkpoint->>'ts')::timestamptz END)
   FROM checkpoints WHERE COALESCE(metadata->>'source', 'loop') = 'loop')
)
"""


class SchemaNotReady(RuntimeError):
    """The deployment's database has no ``run`` / ``checkpoints`` table yet (server not migrated)."""


class DatabaseUnavailable(RuntimeError):
    """The deployment's database cannot be reached or queried; the message never holds the URI."""


def libpq_uri(uri: str) -> str:
    """Accept SQLAlchemy-style URIs (``postgresql+psycopg://``) as well as libpq ones."""
    scheme, sep, rest = uri.partition("://")
    if sep and "+" in scheme:
        scheme = scheme.split("+", 1)[0]
    return f"{scheme}{sep}{rest}"


@contextmanager
def connect(uri: str, *, timeout: float = 10.0) -> Iterator[psycopg.Connection]:
    try:
        conn = psycopg.connect(libpq_uri(uri), connect_timeout=max(1, int(timeout)), autocommit=True)
    except psycopg.Error as e:
        raise DatabaseUnavailable(f"cannot connect: {type(e).__name__}: {_first_line(e)}") from None
    try:
        conn.execute("SET default_transaction_read_only = on")
        conn.execute(f"SET statement_timeout = {int(timeout * 6000)}")
        yield conn
    finally:
        conn.close()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else ""


def _run(conn: psycopg.Connection, sql: str, params: dict[str, object]) -> list[tuple[int, int]]:
    try:
        return [(int(b), int(n)) for b, n in conn.execute(sql, params).fetchall()]
    except pg_errors.UndefinedTable as e:
        raise SchemaNotReady(f"the LangGraph server's tables are missing: {_first_line(e)}") from None
    except psycopg.Error as e:
        raise DatabaseUnavailable(f"query failed: {type(e).__name__}: {_first_line(e)}") from None


def earliest_activity(conn: psycopg.Connection) -> datetime | None:
    """The time of the oldest run or step checkpoint, or None for an empty database."""
    try:
        row = conn.execute(EARLIEST_SQL).fetchone()
    except pg_errors.UndefinedTable as e:
        raise SchemaNotReady(f"the LangGraph server's tables are missing: {_first_line(e)}") from None
    except psycopg.Error as e:
        raise DatabaseUnavailable(f"query failed: {type(e).__name__}: {_first_line(e)}") from None
    return row[0] if row and row[0] is not None else None


def count_windows(
    conn: psycopg.Connection, start: datetime, end: datetime, window_seconds: int
) -> dict[datetime, tuple[int, int]]:
    """``{window_start: (runs, nodes)}`` for every window in ``[start, end)``, zeros included."""
    params: dict[str, object] = {"w": window_seconds, "start": start, "end": end}
    runs = dict(_run(conn, RUNS_SQL, params))
    nodes = dict(_run(conn, NODES_SQL, params))
    out: dict[datetime, tuple[int, int]] = {}
    for s in range(epoch(start), epoch(end), window_seconds):
        b = s // window_seconds
        out[from_epoch(s)] = (runs.get(b, 0), nodes.get(b, 0))
    return out
