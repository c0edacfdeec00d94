"""Fixtures for the usage reporter tests: LangGraph-shaped databases on the real Postgres, seeded with
known usage, and a flaky beacon sink (a real HTTP server on 127.0.0.1).

The tables are created HERE, by these fixtures: ``run`` and ``checkpoints`` with the columns of the
LangGraph server's ``run`` table and of langgraph-checkpoint-postgres' ``checkpoints`` table (no
LangGraph server runs in these tests).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest

LANGGRAPH_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (
    run_id uuid PRIMARY KEY,
    thread_id uuid NOT NULL,
    assistant_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'pending',
    kwargs jsonb,
    multitask_strategy text NOT NULL DEFAULT 'reject'
);
CREATE TABLE IF NOT EXISTS checkpoints (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    checkpoint_id text NOT NULL,
    parent_checkpoint_id text,
    type text,
    checkpoint jsonb NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
"""

WINDOW = 3600


def floor_hour(dt: datetime) -> datetime:
    return datetime.fromtimestamp(int(dt.timestamp()) // WINDOW * WINDOW, UTC)


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_langgraph_tables(url: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(LANGGRAPH_SCHEMA)


@dataclass
class Truth:
    """What was inserted, counted independently of the reporter: {window start: [runs, nodes]}."""

    windows: dict[datetime, list[int]] = field(default_factory=dict)

    def add(self, ts: datetime, runs: int = 0, nodes: int = 0) -> None:
        w = self.windows.setdefault(floor_hour(ts), [0, 0])
        w[0] += runs
        w[1] += nodes

    def closed(self, before: datetime) -> dict[datetime, tuple[int, int]]:
        return {k: (v[0], v[1]) for k, v in self.windows.items() if k + timedelta(seconds=WINDOW) <= before}


def seed_usage(
    url: str, rng: random.Random, start: datetime, end: datetime, truth: Truth | None = None
) -> Truth:
    """Insert runs and checkpoints with timestamps spread over [start, end).

    Per run: an ``input`` checkpoint (no node ran: not counted), 1-4 ``loop`` checkpoints (counted),
    sometimes a subgraph ``loop`` checkpoint (counted) and an ``update`` checkpoint (not counted).
    """
    truth = truth or Truth()
    span = int((end - start).total_seconds())
    runs, cps = [], []
    n = rng.randint(span // 600, span // 200)
    for _ in range(n):
        ts = start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
        thread, run_id = uuid.uuid4(), uuid.uuid4()
        runs.append(
            (run_id, thread, uuid.UUID(int=1), ts, rng.choice(["success", "error", "pending", "running"]))
        )
        truth.add(ts, runs=1)
        steps = [("input", "", -1)] + [("loop", "", i) for i in range(rng.randint(1, 4))]
        if rng.random() < 0.3:
            steps.append(("loop", "sub:" + uuid.uuid4().hex[:6], 0))
        if rng.random() < 0.2:
            steps.append(("update", "", 99))
        for source, ns, step in steps:
            cts = min(ts + timedelta(seconds=rng.randrange(0, 120)), end - timedelta(microseconds=1))
            cp = {"v": 1, "id": str(uuid.uuid4()), "ts": cts.isoformat(), "channel_values": {}}
            cps.append(
                (str(thread), ns, cp["id"], json.dumps(cp), json.dumps({"source": source, "step": step}))
            )
            if source == "loop":
                truth.add(cts, nodes=1)
    with psycopg.connect(libpq(url)) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO run (run_id, thread_id, assistant_id, created_at, status)"
            " VALUES (%s, %s, %s, %s, %s)",
            runs,
        )
        cur.executemany(
            "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint, metadata)"
            " VALUES (%s, %s, %s, %s::jsonb, %s::jsonb)",
            cps,
        )
    return truth


@pytest.fixture
def make_langgraph_db(postgres_server: Any) -> Iterator[Callable[..., str]]:
    """Make fresh databases holding the LangGraph-shaped ``run`` and ``checkpoints`` tables (created here)."""
    names: list[str] = []

    def make(with_tables: bool = True) -> str:
        name = f"lg_{uuid.uuid4().hex[:10]}"
        names.append(name)
        url = postgres_server.create_database(name)
        if with_tables:
            create_langgraph_tables(url)
        return str(url)

    yield make
    for name in names:
        postgres_server.drop_database(name)


class FlakySink:
    """A beacon receiver: stores windows by Idempotency-Key (a resend replaces), and fails a share of
    requests, half before storing (503) and half after storing (500, so the sender must resend a
    window the receiver already holds). ``hook(n)`` runs on request n, after storing, before answering."""

    def __init__(self, failure_rate: float = 0.0, seed: int = 0) -> None:
        self.failure_rate = failure_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stored: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.resends_of_stored = 0
        self.refused = 0
        self.failed_after_store = 0
        self.torn = 0
        self.hook: Callable[[int], None] | None = None
        self.reject_deployment: str | None = None  # answer 422 for this deployment id, always
        self.bad: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing to store or answer
                    with outer.lock:
                        outer.torn += 1
                    return
                code = outer.handle(self.path, self.headers.get("Idempotency-Key"), body)
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender was killed while waiting for the answer
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, path: str, key: str | None, body: bytes) -> int:
        with self.lock:
            self.requests += 1
            n = self.requests
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if path != "/v1/metadata/submit" or not key or not isinstance(payload, dict):
                self.bad.append(f"{path} key={key!r} body={body[:80]!r}")
                return 400
            if payload["tags"].get("langgraph.platform.deployment_id") == self.reject_deployment:
                return 422
            roll = self.rng.random()
            if roll < self.failure_rate / 2:
                self.refused += 1
                return 503
            if key in self.stored:
                self.resends_of_stored += 1
            self.stored[key] = payload
            fail_after = roll < self.failure_rate
            if fail_after:
                self.failed_after_store += 1
        if self.hook:
            self.hook(n)
        return 500 if fail_after else 204

    def windows(self) -> dict[tuple[str, datetime], dict[str, Any]]:
        with self.lock:
            out = {}
            for p in self.stored.values():
                dep = p["tags"]["langgraph.platform.deployment_id"]
                out[(dep, datetime.fromisoformat(p["from_timestamp"]))] = p
            return out

    def __enter__(self) -> FlakySink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[FlakySink]:
    """A reliable sink (no failures)."""
    with FlakySink(0.0) as s:
        yield s
