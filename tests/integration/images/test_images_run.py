"""lgp's images run for real, without a kubelet: a private containerd runs them read-only as their
non-root users (host network). Postgres initialises from the official image's env and takes the
password; Redis answers PING with protected mode off; the example agent's server image answers /ok
on $PORT and runs the example graph through langgraph-sdk, executed by a queue worker started from
/storage/queue_entrypoint.sh while the api process has N_JOBS_PER_WORKER=0."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from lgp_local.images.containerd import Container
from lgp_local.procs import free_port, wait_for

from .conftest import EXAMPLE, Loaded

pytestmark = pytest.mark.timeout(900)  # a cold build of the three images takes a few minutes


@dataclass
class Postgres:
    container: Container
    port: int
    password: str
    data: Path

    @property
    def uri(self) -> str:
        # the operator's format (builders/postgres.py: postgres_uri)
        return f"postgres://postgres:{self.password}@127.0.0.1:{self.port}/postgres?sslmode=disable"


@dataclass
class Redis:
    container: Container
    port: int


def _start_postgres(images: Loaded, data: Path, port: int, password: str) -> Container:
    return images.ctrd.run(
        "postgres",
        images.names["postgres"],
        # the operator's StatefulSet: these env vars, `-c max_connections=N` as args
        env={
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "postgres",
            "POSTGRES_PASSWORD": password,
            "PGDATA": "/var/lib/postgresql/data/pgdata",
        },
        args=("-c", "max_connections=77", "-c", f"port={port}"),
        tmpfs=("/tmp", "/var/run/postgresql"),
        binds={"/var/lib/postgresql/data": data},
    )


def _connect(pg: Postgres, password: str | None = None, host: str = "127.0.0.1") -> psycopg.Connection:
    return psycopg.connect(
        host=host, port=pg.port, user="postgres", dbname="postgres", password=password or pg.password
    )


def _can_connect(pg: Postgres) -> bool:
    _connect(pg).close()
    return True


@pytest.fixture(scope="module")
def postgres(images: Loaded) -> Iterator[Postgres]:
    data = Path(tempfile.mkdtemp(prefix="lgp-pgdata-"))
    os.chown(data, 999, 999)  # what fsGroup 999 does for the pod's volume
    port, password = free_port(), secrets.token_urlsafe(16)
    container = _start_postgres(images, data, port, password)
    pg = Postgres(container, port, password, data)
    try:
        wait_for(lambda: _can_connect(pg), timeout=60, what=f"postgres in {container.id}")
        yield pg
    finally:
        images.ctrd.stop_container(postgres_container(pg))
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def redis(images: Loaded) -> Iterator[Redis]:
    port = free_port()
    container = images.ctrd.run(
        "redis",
        images.names["redis"],
        args=("--save", "", "--appendonly", "no", "--port", str(port)),  # the operator's args (+ a port)
        tmpfs=("/data", "/tmp"),
    )
    try:
        wait_for(lambda: _ping("127.0.0.1", port) == b"+PONG\r\n", timeout=30, what="redis PING")
        yield Redis(container, port)
    finally:
        images.ctrd.stop_container(container)


def postgres_container(pg: Postgres) -> Container:
    return pg.container  # the restart test replaces it


def _ping(host: str, port: int) -> bytes:
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(100)


def _outbound_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))  # no packet is sent: this picks the route's source address
        except OSError:
            return None
        ip = s.getsockname()[0]
    return None if ip.startswith("127.") else ip


def test_postgres_initialises_from_env_and_takes_the_password(postgres: Postgres, images: Loaded):
    with _connect(postgres) as conn:
        assert conn.execute("SHOW max_connections").fetchone() == ("77",)
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    # Like the official image, loopback connections are trusted (initdb's default) and every other
    # address needs the password (scram-sha-256): a pod's clients come from other addresses.
    ip = _outbound_ip()
    if ip is None:
        pytest.fail("this machine has no non-loopback IPv4 address to check password authentication from")
    with _connect(postgres, host=ip) as conn:
        assert conn.execute("SELECT inet_client_addr()::text").fetchone() == (f"{ip}/32",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(postgres, password="wrong", host=ip).close()
    assert (postgres.data / "pgdata" / "PG_VERSION").read_text().strip() == "15"
    assert (postgres.data / "pgdata" / "PG_VERSION").stat().st_uid == 999
    # the operator's probes run `pg_isready -U postgres -d postgres` in the container
    probe = postgres.container.exec(
        "pg_isready", "-U", "postgres", "-d", "postgres", "-p", str(postgres.port)
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr
    who = postgres.container.exec("sh", "-c", "id -u; touch /probe 2>&1 || true")
    assert who.stdout.splitlines()[0] == "999" and "Read-only file system" in who.stdout
    assert "PostgreSQL init process complete" in postgres.container.logs()
    assert postgres.password not in postgres.container.logs()


def test_postgres_keeps_an_initialised_pgdata(images: Loaded, postgres: Postgres):
    """A second server on the same PGDATA (a restarted pod) starts without initdb, same password."""
    images.ctrd.stop_container(postgres.container)
    postgres.container = _start_postgres(images, postgres.data, postgres.port, secrets.token_urlsafe(8))
    wait_for(lambda: _can_connect(postgres), timeout=60, what="postgres after a restart")
    assert "init process complete" not in postgres.container.logs()


def test_redis_answers_ping_with_protected_mode_off(redis: Redis):
    assert _ping("127.0.0.1", redis.port) == b"+PONG\r\n"
    probe = redis.container.exec("redis-cli", "-p", str(redis.port), "ping")  # the operator's probe
    assert probe.returncode == 0 and probe.stdout.strip() == "PONG"
    ip = _outbound_ip()
    if ip is not None:  # from a non-loopback address, protected mode would answer -DENIED
        assert _ping(ip, redis.port) == b"+PONG\r\n"
    who = redis.container.exec("id", "-u")
    assert who.stdout.strip() == "999"


def _json_lines(text: str) -> list[dict[str, object]]:
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def test_the_server_image_runs_the_example_graph_with_a_queue_worker(
    images: Loaded, postgres: Postgres, redis: Redis
):
    from langgraph_sdk import get_client

    api_port, worker_port = free_port(), free_port()
    env = {
        # what the operator sets (builders/deployment.py); only POSTGRES_URI, in its format
        "POSTGRES_URI": postgres.uri,
        "REDIS_URI": f"redis://127.0.0.1:{redis.port}/0",
        "LOG_JSON": "true",
    }
    api = images.ctrd.run(
        "api",
        images.names["agent"],
        env={**env, "PORT": str(api_port), "N_JOBS_PER_WORKER": "0"},
        tmpfs=("/tmp",),
    )
    url = f"http://127.0.0.1:{api_port}"
    wait_for(lambda: httpx.get(f"{url}/ok").json() == {"ok": True}, timeout=120, what=f"GET /ok of {api.id}")
    # started once the api has migrated the empty database: two processes migrating it at once race
    # (langgraph-runtime-pg 0.11.1.post1: the loser exits; a pod would restart)
    worker = images.ctrd.run(
        "worker",
        images.names["agent"],
        command=("/storage/queue_entrypoint.sh",),
        env={**env, "PORT": str(worker_port), "N_JOBS_PER_WORKER": "2"},
        tmpfs=("/tmp",),
    )
    wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{worker_port}/ok").status_code == 200,
        timeout=120,
        what=f"the queue worker's /ok ({worker.id})",
    )

    async def calls() -> tuple[str, Any, list[str], str]:
        client = get_client(url=url)
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "agent", input={"topic": "lgp", "sleep": 0.3})
        await client.runs.join(thread["thread_id"], run["run_id"])
        done = await client.runs.get(thread["thread_id"], run["run_id"])
        state = (await client.threads.get_state(thread["thread_id"]))["values"]
        streamed = await client.threads.create()
        events, stream_run = [], ""
        async for part in client.runs.stream(
            streamed["thread_id"], "agent", input={"sleep": 0}, stream_mode="updates"
        ):
            events.append(part.event)
            if part.event == "updates":
                events[-1] += ":" + ",".join(part.data)
            if part.event == "metadata":
                stream_run = part.data["run_id"]
        assert done["status"] == "success", done
        return run["run_id"], state, events, stream_run

    run_id, state, events, stream_run = asyncio.run(calls())
    assert state["steps"][0] == "plan" and state["steps"][-1] == "review"
    assert sorted(state["steps"][1:3]) == ["draft", "research"]  # the parallel super-step
    assert str(state["answer"]).startswith("3 notes after 0.3 s")
    assert events[0] == "metadata" and sorted(events[1:]) == [
        "updates:draft",
        "updates:plan",
        "updates:research",
        "updates:review",
    ]

    # the worker executed both runs; the api process (N_JOBS_PER_WORKER=0) executed none
    def executed(container: Container) -> set[object]:
        return {
            e.get("run_id")
            for e in _json_lines(container.logs())
            if e.get("event") == "Background run succeeded"
        }

    assert {run_id, stream_run} <= executed(worker)
    assert executed(api) == set()
    for c in (api, worker):  # non-root, read-only root filesystem
        who = c.exec("sh", "-c", "id -u; touch /probe 2>&1 || true")
        assert who.stdout.splitlines()[0] == "1000" and "Read-only file system" in who.stdout
    _run_the_readme_example(url)
    print("\nimage timings:", json.dumps(images.timings, indent=1))


def _run_the_readme_example(url: str) -> None:
    """examples/agent/README.md's langgraph-sdk code, as written, against this server."""
    readme = (EXAMPLE / "README.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    line = 'URL = "http://127.0.0.1:8000"'
    assert line in code
    proc = subprocess.run(
        [sys.executable, "-c", code.replace(line, f'URL = "{url}"')],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "'plan'" in out and "review" in out and out.count("updates") == 4, out
