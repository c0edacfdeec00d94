"""The durable buffer: a SQLite file (on a volume) holding computed windows and each deployment's
high-water mark.

The rules that make counting exact:

1. A window is computed once. Its row and the deployment's new high-water mark are written in one
   transaction, so after a crash either both exist or neither does (and the window is computed
   again from the same closed data, giving the same counts).
2. A window is marked sent only after the receiver answered 2xx. A crash between the answer and
   the mark means one resend with the same idempotency key, which the receiver replaces.
3. Nothing is deleted because of an error; sent windows are kept (``prune_sent`` removes sent rows
   older than a retention period, never unsent ones).

SQLite runs in WAL mode with ``synchronous=FULL``: a committed transaction survives a kill and a
power cut.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from .windows import Window, epoch, from_epoch

SCHEMA = """
CREATE TABLE IF NOT EXISTS windows (
    deployment_id TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    deployment TEXT NOT NULL,
    namespace TEXT NOT NULL,
    runs INTEGER NOT NULL,
    nodes INTEGER NOT NULL,
    tags TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    sent_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (deployment_id, window_start)
);
CREATE INDEX IF NOT EXISTS windows_unsent ON windows (window_start) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS marks (
    deployment_id TEXT PRIMARY KEY,
    next_window_start INTEGER NOT NULL,
    last_sent_end INTEGER
);
"""


class BufferConflict(RuntimeError):
    """The high-water mark moved under us (another reporter shares this buffer file)."""


class Buffer:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -------------------------------------------------------------- high-water marks
    def next_window_start(self, deployment_id: str) -> datetime | None:
        row = self._db.execute(
            "SELECT next_window_start FROM marks WHERE deployment_id = ?", (deployment_id,)
        ).fetchone()
        return from_epoch(row[0]) if row else None

    def start_mark(self, deployment_id: str, start: datetime) -> datetime:
        """Set the first window to compute for a new deployment; keeps an existing mark. Returns the mark."""
        self._db.execute(
            "INSERT INTO marks (deployment_id, next_window_start) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (deployment_id, epoch(start)),
        )
        mark = self.next_window_start(deployment_id)
        assert mark is not None
        return mark

    def record(
        self, deployment_id: str, expected_mark: datetime, windows: Iterable[Window], new_mark: datetime
    ) -> int:
        """Store computed windows and move the mark from ``expected_mark`` to ``new_mark``, atomically."""
        rows = list(windows)
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            moved = cur.execute(
                "UPDATE marks SET next_window_start = ? WHERE deployment_id = ? AND next_window_start = ?",
                (epoch(new_mark), deployment_id, epoch(expected_mark)),
            ).rowcount
            if moved != 1:
                raise BufferConflict(
                    f"the high-water mark of {deployment_id} moved; another reporter uses this buffer"
                )
            cur.executemany(
                "INSERT INTO windows (deployment_id, window_start, window_end, deployment, namespace,"
                " runs, nodes, tags, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, strftime('%s','now'))",
                [
                    (
                        w.deployment_id,
                        epoch(w.window_start),
                        epoch(w.window_end),
                        w.deployment,
                        w.namespace,
                        w.runs,
                        w.nodes,
                        json.dumps(w.tags, sort_keys=True),
                    )
                    for w in rows
                ],
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return len(rows)

    # -------------------------------------------------------------- sending
    def pending(self, limit: int = 100) -> list[Window]:
        """Unsent windows: fewest failed attempts first, then oldest first (a window the receiver keeps
        refusing does not hold back the others)."""
        rows = self._db.execute(
            "SELECT deployment_id, deployment, namespace, window_start, window_end, runs, nodes, tags"
            " FROM windows WHERE sent_at IS NULL ORDER BY attempts, window_start, deployment_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            Window(
                deployment_id=r[0],
                deployment=r[1],
                namespace=r[2],
                window_start=from_epoch(r[3]),
                window_end=from_epoch(r[4]),
                runs=r[5],
                nodes=r[6],
                tags=json.loads(r[7]),
            )
            for r in rows
        ]

    def mark_sent(self, window: Window, at: datetime) -> None:
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(
                "UPDATE windows SET sent_at = ?, attempts = attempts + 1, last_error = NULL"
                " WHERE deployment_id = ? AND window_start = ?",
                (epoch(at), window.deployment_id, epoch(window.window_start)),
            )
            cur.execute(
                "UPDATE marks SET last_sent_end = max(coalesce(last_sent_end, 0), ?) WHERE deployment_id = ?",
                (epoch(window.window_end), window.deployment_id),
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def mark_failed(self, window: Window, error: str) -> None:
        self._db.execute(
            "UPDATE windows SET attempts = attempts + 1, last_error = ?"
            " WHERE deployment_id = ? AND window_start = ?",
            (error[:500], window.deployment_id, epoch(window.window_start)),
        )

    # -------------------------------------------------------------- metrics and upkeep
    def pending_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM windows WHERE sent_at IS NULL").fetchone()[0])

    def lag_points(self) -> dict[str, tuple[str, str, int | None, int | None]]:
        """Per deployment id: (name, namespace, last sent window end, oldest unsent window start)."""
        out: dict[str, tuple[str, str, int | None, int | None]] = {}
        for dep_id, name, ns, last_sent, oldest_unsent in self._db.execute(
            "SELECT m.deployment_id, w.deployment, w.namespace, m.last_sent_end,"
            " (SELECT min(window_start) FROM windows u"
            "  WHERE u.deployment_id = m.deployment_id AND u.sent_at IS NULL)"
            " FROM marks m LEFT JOIN windows w ON w.deployment_id = m.deployment_id"
            " AND w.window_start = (SELECT max(window_start) FROM windows x"
            "  WHERE x.deployment_id = m.deployment_id)"
        ):
            out[dep_id] = (name or dep_id, ns or "", last_sent, oldest_unsent)
        return out

    def prune_sent(self, older_than: datetime) -> int:
        """Remove sent windows that ended before ``older_than`` (the marks keep counting exact)."""
        return self._db.execute(
            "DELETE FROM windows WHERE sent_at IS NOT NULL AND window_end < ?", (epoch(older_than),)
        ).rowcount

    def all_windows(self) -> list[tuple[Window, bool]]:
        """Every stored window with whether it was sent (for tests and `lgp usage status`)."""
        rows = self._db.execute(
            "SELECT deployment_id, deployment, namespace, window_start, window_end, runs, nodes, tags,"
            " sent_at FROM windows ORDER BY deployment_id, window_start"
        ).fetchall()
        return [
            (
                Window(r[0], r[1], r[2], from_epoch(r[3]), from_epoch(r[4]), r[5], r[6], json.loads(r[7])),
                r[8] is not None,
            )
            for r in rows
        ]
