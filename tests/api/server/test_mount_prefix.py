"""The real LangGraph server (langgraph-api 0.11.1 with the MIT runtime langgraph-runtime-pg, from PyPI,
on real Postgres and Redis) under the prefix a shared host gives it (MOUNT_PREFIX, what the operator sets):
its API and OpenAPI document under the prefix, /ok still at the root for the probes, nothing unprefixed;
the queue worker started with the same variable still answers /ok."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lgp_local import realserver

PREFIX = "/lgp/agents/support"  # <base path>/<namespace>/<name>, as routing.route_of makes it
GRAPH = """\
from typing import TypedDict
from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    items: list[str]


def a(s):
    return {"items": ["a"]}


g = StateGraph(State)
g.add_node("a", a)
g.add_edge(START, "a")
g.add_edge("a", END)
graph = g.compile()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server_python() -> Path:
    """A virtualenv with the real server at the server image's pins, built once (lgp_local.realserver)."""
    return realserver.server_python()


def _wait_ok(url: str, proc: subprocess.Popen[bytes], log: Path, deadline: float = 120) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {deadline} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def server(
    server_python: Path, postgres_url: str, redis_server: Any, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    app = tmp_path / "app"
    app.mkdir()
    (app / "graph.py").write_text(GRAPH)
    database = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    api_port, worker_port = _free_port(), _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LGP_", "KUBE"))},
        "LANGGRAPH_RUNTIME_EDITION": "pg",
        "DATABASE_URI": database,
        "POSTGRES_URI": database,
        "REDIS_URI": redis_server.url,
        "LANGSERVE_GRAPHS": json.dumps({"probe": str(app / "graph.py") + ":graph"}),
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "LOG_COLOR": "false",
        "MOUNT_PREFIX": PREFIX,
    }
    uvicorn = [str(server_python), "-m", "uvicorn", "langgraph_api.server:app", "--host", "127.0.0.1"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
        with api_log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [*uvicorn, "--port", str(api_port)],
                    env={**env, "N_JOBS_PER_WORKER": "0", "PORT": str(api_port)},
                    cwd=app,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_ok(f"http://127.0.0.1:{api_port}/ok", procs[0], api_log)
        with worker_log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(server_python), "-m", "langgraph_api.queue_entrypoint"],
                    env={
                        **env,
                        "N_JOBS_PER_WORKER": "2",
                        "PORT": str(worker_port),
                        "LANGGRAPH_SERVER_HOST": "127.0.0.1",
                    },
                    cwd=app,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_ok(f"http://127.0.0.1:{worker_port}/ok", procs[1], worker_log)
        yield {"api": f"http://127.0.0.1:{api_port}", "worker": f"http://127.0.0.1:{worker_port}"}
    finally:
        realserver.stop_all(procs)


def test_the_server_serves_under_the_prefix_and_answers_probes_at_the_root(server: dict[str, Any]) -> None:
    api = server["api"]
    assert httpx.get(f"{api}/ok", timeout=10).status_code == 200  # the probes' path is unchanged
    assert httpx.get(f"{api}{PREFIX}/ok", timeout=10).status_code == 200
    found = httpx.post(f"{api}{PREFIX}/assistants/search", json={"graph_id": "probe"}, timeout=30)
    assert found.status_code == 200, found.text
    assert [a["graph_id"] for a in found.json()] == ["probe"]
    doc = httpx.get(f"{api}{PREFIX}/openapi.json", timeout=10).json()
    assert doc["servers"] == [{"url": PREFIX}]  # the docs page and clients resolve under the prefix
    assert (
        httpx.post(f"{api}/assistants/search", json={}, timeout=10).status_code == 404
    )  # nothing unprefixed
    run = httpx.post(
        f"{api}{PREFIX}/runs/wait", json={"assistant_id": "probe", "input": {"items": []}}, timeout=60
    )
    assert run.status_code == 200, run.text
    assert run.json()["items"] == ["a"]  # run by the queue worker started with the same MOUNT_PREFIX
    assert httpx.get(f"{server['worker']}/ok", timeout=10).status_code == 200
