"""The LangGraph server's own usage reports: their shapes, and the durable store that turns them
into closed windows exactly once.

What the stock server sends (langgraph-api 0.11.1, ``langgraph_api/metadata.py``; captured from the
real server in ``shared/realserver/beacon_captured.jsonl``), every ``INTERVAL`` (300 s) from every
process that runs the lifespan (api server and queue workers; runs and nodes are counted in the
process that executes them, so an api-only process reports 0/0)::

    {"from_timestamp": ISO, "to_timestamp": ISO, "tags": {str: str},
     "measures": {"langgraph.platform.runs": int, "langgraph.platform.nodes": int,
                  "langgraph.platform.py_graphs": int, "langgraph.platform.js_graphs": int},
     "logs": [], "api_key": str}            # to <LANGSMITH_AUTH_ENDPOINT>/v1/metadata/submit
                                            # (or <endpoint>/metadata/submit if it holds /api/v1)
    ... "license_key": str}                 # to /v1/beacon/metadata/submit (lcl_ license keys)

When a submission fails the server adds the unsent counts back and its next report starts at the
same ``from_timestamp``: a report is a *superset* of an earlier one with the same start. The server
sends no idempotency key; a report is identified by (deployment, sender address, from_timestamp),
and a later report with the same identity adds only what it has more than the stored one. So a
report received twice (the answer was lost), or merged with one the receiver already held, is
counted once.

Each accepted increment lands in the deployment's *open* window (the window of the receiver's
clock when it is committed, never one already sealed). Sealing moves every window that ended into
the buffer's ``windows`` table, from where the reporter sends it once (see :mod:`.reporter`), in the
same SQLite transaction discipline as the rest of the buffer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lgp_contract.usage import MEASURE_NODES, MEASURE_RUNS

from .buffer import SCHEMA as BUFFER_SCHEMA
from .windows import epoch, floor_window, from_epoch

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    deployment_id TEXT NOT NULL,
    source TEXT NOT NULL,
    from_us INTEGER NOT NULL,
    to_us INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    nodes INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, source, from_us)
);
CREATE TABLE IF NOT EXISTS open_windows (
    deployment_id TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    deployment TEXT NOT NULL,
    namespace TEXT NOT NULL,
    tags TEXT NOT NULL,
    runs INTEGER NOT NULL,
    nodes INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, window_start)
);
"""

SUBMIT_PATHS = ("/v1/metadata/submit", "/api/v1/metadata/submit")
"""Where the server posts with ``api_key``: ``<LANGSMITH_AUTH_ENDPOINT>/v1/metadata/submit``, or
``<endpoint>/metadata/submit`` when the endpoint already ends in ``/api/v1``."""
LICENSE_SUBMIT_PATH = "/v1/beacon/metadata/submit"
"""Where the server posts with ``license_key`` (hard-coded to LangChain's beacon host in 0.11.1)."""
MAX_BODY = 64 * 1024


class ReportError(ValueError):
    """A report that is not of the server's shape; ``field`` names what is wrong (for the 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class ServerReport:
    from_timestamp: datetime
    to_timestamp: datetime
    runs: int
    nodes: int
    credential: str = field(repr=False)
    credential_field: str  # "api_key" or "license_key"


def _timestamp(body: dict[str, Any], name: str) -> datetime:
    value = body.get(name)
    if not isinstance(value, str):
        raise ReportError(name, "an ISO 8601 timestamp is required")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise ReportError(name, "not an ISO 8601 timestamp") from None
    if ts.tzinfo is None:
        raise ReportError(name, "the timestamp has no UTC offset")
    return ts


def _count(measures: dict[str, Any], name: str) -> int:
    value = measures.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReportError(f"measures.{name}", "a non-negative integer is required")
    return value


def parse_report(body: object) -> ServerReport:
    """Check one report body against the server's shape (either credential field)."""
    if not isinstance(body, dict):
        raise ReportError("body", "a JSON object is required")
    keys = [k for k in ("api_key", "license_key") if body.get(k) is not None]
    if len(keys) != 1:
        raise ReportError("api_key", "exactly one of api_key or license_key is required")
    credential = body[keys[0]]
    if not isinstance(credential, str) or not credential:
        raise ReportError(keys[0], "a non-empty string is required")
    start, end = _timestamp(body, "from_timestamp"), _timestamp(body, "to_timestamp")
    if end < start:
        raise ReportError("to_timestamp", "is before from_timestamp")
    measures = body.get("measures")
    if not isinstance(measures, dict):
        raise ReportError("measures", "an object is required")
    tags = body.get("tags", {})
    if not isinstance(tags, dict):
        raise ReportError("tags", "an object is required")
    logs = body.get("logs", [])
    if not isinstance(logs, list):
        raise ReportError("logs", "a list is required")
    return ServerReport(
        from_timestamp=start,
        to_timestamp=end,
        runs=_count(measures, MEASURE_RUNS),
        nodes=_count(measures, MEASURE_NODES),
        credential=credential,
        credential_field=keys[0],
    )


class ReportConflict(ValueError):
    """A report with the start of a stored one but smaller counts: not a resend of it."""


@dataclass(frozen=True)
class Accepted:
    window_start: datetime
    runs: int  # what this report added (0 for a resend)
    nodes: int
    duplicate: bool


def _us(dt: datetime) -> int:
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


class ReportStore:
    """The receiver's side of the buffer file: accepted reports and the open windows they fill."""

    def __init__(self, path: str, window_seconds: int) -> None:
        self.window_seconds = window_seconds
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(BUFFER_SCHEMA + SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def accept(
        self,
        *,
        deployment_id: str,
        deployment: str,
        namespace: str,
        tags: dict[str, str],
        source: str,
        report: ServerReport,
        now: datetime,
    ) -> Accepted:
        """Store one report and add what it brings to the deployment's open window, atomically."""
        w = self.window_seconds
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                key = (deployment_id, source, _us(report.from_timestamp))
                row = cur.execute(
                    "SELECT to_us, runs, nodes FROM reports WHERE deployment_id = ? AND source = ?"
                    " AND from_us = ?",
                    key,
                ).fetchone()
                mark_row = cur.execute(
                    "SELECT next_window_start FROM marks WHERE deployment_id = ?", (deployment_id,)
                ).fetchone()
                start = epoch(floor_window(now, w))
                if mark_row is None:
                    cur.execute(
                        "INSERT INTO marks (deployment_id, next_window_start) VALUES (?, ?)",
                        (deployment_id, start),
                    )
                else:
                    start = max(start, int(mark_row[0]))  # never into a sealed window
                if row is not None and row[0] >= _us(report.to_timestamp):
                    cur.execute("COMMIT")
                    return Accepted(from_epoch(start), 0, 0, duplicate=True)
                d_runs = report.runs - (row[1] if row else 0)
                d_nodes = report.nodes - (row[2] if row else 0)
                if d_runs < 0 or d_nodes < 0:
                    raise ReportConflict("a report with this from_timestamp was stored with larger counts")
                cur.execute(
                    "INSERT INTO reports (deployment_id, source, from_us, to_us, runs, nodes, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (deployment_id, source, from_us) DO UPDATE"
                    " SET to_us = excluded.to_us, runs = excluded.runs, nodes = excluded.nodes,"
                    " received_at = excluded.received_at",
                    (*key, _us(report.to_timestamp), report.runs, report.nodes, epoch(now)),
                )
                cur.execute(
                    "INSERT INTO open_windows (deployment_id, window_start, window_end, deployment,"
                    " namespace, tags, runs, nodes, reports) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)"
                    " ON CONFLICT (deployment_id, window_start) DO UPDATE SET runs = runs + excluded.runs,"
                    " nodes = nodes + excluded.nodes, reports = reports + 1,"
                    " deployment = excluded.deployment, namespace = excluded.namespace, tags = excluded.tags",
                    (
                        deployment_id,
                        start,
                        start + w,
                        deployment,
                        namespace,
                        json.dumps(tags, sort_keys=True),
                        d_runs,
                        d_nodes,
                    ),
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return Accepted(from_epoch(start), d_runs, d_nodes, duplicate=False)

    def seal(self, closed_end: datetime) -> int:
        """Move every open window that ended by ``closed_end`` into ``windows`` (to be sent), and
        move every deployment's mark to ``closed_end`` so no report lands in a sealed window."""
        end = epoch(closed_end)
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                moved = cur.execute(
                    "INSERT INTO windows (deployment_id, window_start, window_end, deployment, namespace,"
                    " runs, nodes, tags, computed_at) SELECT deployment_id, window_start, window_end,"
                    " deployment, namespace, runs, nodes, tags, strftime('%s','now') FROM open_windows"
                    " WHERE window_end <= ?",
                    (end,),
                ).rowcount
                cur.execute("DELETE FROM open_windows WHERE window_end <= ?", (end,))
                cur.execute("UPDATE marks SET next_window_start = ? WHERE next_window_start < ?", (end, end))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return int(moved)

    def prune(self, older_than: datetime) -> int:
        """Forget reports that ended before ``older_than`` (a resend older than that is counted again)."""
        with self._lock:
            return self._db.execute("DELETE FROM reports WHERE to_us < ?", (_us(older_than),)).rowcount

    def open_totals(self) -> dict[str, tuple[int, int]]:
        """Per deployment id: runs and nodes in windows not sealed yet (for tests and status)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT deployment_id, sum(runs), sum(nodes) FROM open_windows GROUP BY deployment_id"
            ).fetchall()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}
