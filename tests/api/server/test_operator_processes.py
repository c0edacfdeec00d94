"""The real LangGraph server (langgraph-api 0.11.1, MIT runtime langgraph-runtime-pg 0.11.1.post1, from PyPI)
run as processes with exactly the command and environment of the Deployments the operator builds (secret
references resolved from the Secrets it builds, cluster addresses rewritten to this test's Postgres and
Redis): it starts, runs execute on the queue worker and not the api process, the deployment's pending-runs
query counts queued runs, and SIGTERM to the worker mid-run followed by a restart completes the run once."""

from __future__ import annotations

import base64
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from lgp_operator.builders.common import Platform
from lgp_operator.builders.desired import build_desired
from lgp_operator.settings import OperatorSettings

from lgp_local import PostgresServer
from lgp_local.images.recipes import PENDING_RUNS_QUERY
from lgp_local.procs import wait_for
from lgp_local.realserver import ContainerProcess, project_image, server_python

AGENT = Path(__file__).resolve().parents[3] / "examples" / "agent" / "langgraph.json"
# Checkpoints (step, attempt) of the example agent's run interrupted in review (step 3): the steps before
# it come from attempt 1, only review's from attempt 2 (each once).
RESUMED = [(-1, 1), (0, 1), (1, 1), (2, 1), (3, 2)]
NS, NAME, PASSWORD = "agents", "agent", "pw-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def python() -> Path:
    return server_python()


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    """A Postgres of this test's own: the managed database's URI names its maintenance database."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


def built(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """What the operator builds for a LangGraphPlatform with ``spec``, by (kind, name)."""
    cr = Platform.from_body(
        {
            "metadata": {"name": NAME, "namespace": NS, "uid": "u-1"},
            "spec": {"image": "localhost/lgp/agent:dev", **spec},
        }
    )
    desired = build_desired(cr, OperatorSettings(), postgres_password=PASSWORD)
    return {(o["kind"], o["metadata"]["name"]): o for o in desired.objects}


class Stack:
    """The api server and queue worker of one built deployment, as processes."""

    def __init__(
        self, objects: dict[tuple[str, str], dict[str, Any]], python: Path, tmp: Path, pg: Any, redis: Any
    ):
        self.objects = objects
        secrets = {
            name: {k: base64.b64decode(v).decode() for k, v in o.get("data", {}).items()}
            for (kind, name), o in objects.items()
            if kind == "Secret"
        }
        addresses = {  # the managed Services' cluster addresses -> this test's servers
            f"{NAME}-postgres.{NS}.svc:5432": f"127.0.0.1:{pg.port}",
            f"{NAME}-redis.{NS}.svc:6379": f"127.0.0.1:{redis.port}",
        }

        def rewrite(value: str) -> str:
            for cluster, local in addresses.items():
                value = value.replace(cluster, local)
            return value

        image_env, folder = project_image(AGENT)
        self.procs: dict[str, ContainerProcess] = {}
        self._tmp = tmp
        self._python, self._image_env, self._secrets, self._rewrite = python, image_env, secrets, rewrite
        self._folder = folder
        for component in ("api-server", "queue"):
            self.procs[component] = self.pod(component, component)

    def pod(self, component: str, name: str) -> ContainerProcess:
        """A process of the Deployment's container (another one is what a rolling update adds)."""
        (container,) = self.deployment(component)["spec"]["template"]["spec"]["containers"]
        (self._tmp / name).mkdir()
        proc = ContainerProcess(
            container=container,
            python=self._python,
            workdir=self._tmp / name,
            image_env=self._image_env,
            secrets=self._secrets,
            rewrite=self._rewrite,
            cwd=self._folder,
        )
        self.procs[name] = proc
        return proc

    def deployment(self, component: str) -> dict[str, Any]:
        suffix = {"api-server": "api-server", "queue": "queue"}[component]
        return self.objects[("Deployment", f"{NAME}-{suffix}")]

    @property
    def api(self) -> ContainerProcess:
        return self.procs["api-server"]

    @property
    def worker(self) -> ContainerProcess:
        return self.procs["queue"]

    def database(self) -> str:
        """The database the processes use: the api container's POSTGRES_URI, as KEDA reads it."""
        return self.api.environment()["POSTGRES_URI"]

    def stop(self) -> None:
        for p in self.procs.values():
            p.stop()


@pytest.fixture
def stack(python: Path, tmp_path: Path, postgres: PostgresServer, redis_server: Any) -> Iterator[Stack]:
    objects = built(
        {
            "queue": {"enabled": True, "jobsPerWorker": 4},
            "autoscaling": {"enabled": True, "keda": {"pendingRunsQuery": PENDING_RUNS_QUERY}},
        }
    )
    s = Stack(objects, python, tmp_path, postgres, redis_server)
    try:
        yield s
    finally:
        s.stop()


def _statuses(dsn: str, run_ids: list[str]) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT run_id::text, status FROM runs WHERE run_id::text = ANY(%s)", (run_ids,))
        return dict(rows.fetchall())


def _create_run(api: str, sleep: float) -> tuple[str, str]:
    thread = httpx.post(f"{api}/threads", json={}, timeout=30).json()["thread_id"]
    run = httpx.post(
        f"{api}/threads/{thread}/runs",
        json={"assistant_id": "agent", "input": {"topic": "lgp", "sleep": sleep}},
        timeout=30,
    )
    assert run.status_code == 200, run.text
    return thread, run.json()["run_id"]


def _attempts_by_step(dsn: str, thread: str) -> list[tuple[int, int]]:
    """(step, attempt of the run that wrote it) of every checkpoint of the thread's graph, in order: a
    step written twice (a node run again) shows twice."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT (metadata->>'step')::int, (metadata->>'run_attempt')::int FROM checkpoints "
            "WHERE thread_id = %s AND checkpoint_ns = '' ORDER BY 1, 2",
            (thread,),
        ).fetchall()
    return [(int(step), int(attempt)) for step, attempt in rows]


def _started(log: str, run_id: str) -> bool:
    return any(run_id in line and "Starting background run" in line for line in log.splitlines())


def _succeeded(log: str, run_id: str) -> int:
    return sum(1 for line in log.splitlines() if run_id in line and "Background run succeeded" in line)


def test_the_built_deployments_start_and_the_worker_runs_what_the_pending_query_counts(stack: Stack) -> None:
    api, worker = stack.api, stack.worker
    # exactly what the builders produce: the image's entrypoint for the api, the queue entrypoint, both URIs
    assert "command" not in api.container
    assert worker.container["command"] == ["/storage/queue_entrypoint.sh"]
    env = api.environment()
    assert env["DATABASE_URI"] == env["POSTGRES_URI"] and env["REDIS_URI"].startswith("redis://127.0.0.1:")
    assert env["N_JOBS_PER_WORKER"] == "0" and worker.environment()["N_JOBS_PER_WORKER"] == "4"

    api.start().wait_ok()
    thread_runs = [_create_run(api.url, sleep=0) for _ in range(3)]
    run_ids = [r for _, r in thread_runs]

    # no worker yet: the api server (N_JOBS_PER_WORKER=0) runs nothing, and the ScaledObject's query
    # counts the queued runs on the database its connectionFromEnv variable names
    (scaled,) = [o for (k, n), o in stack.objects.items() if k == "ScaledObject" and n == f"{NAME}-queue"]
    (trigger,) = [t for t in scaled["spec"]["triggers"] if t["type"] == "postgresql"]
    assert trigger["metadata"]["query"] == PENDING_RUNS_QUERY
    source = scaled["spec"]["scaleTargetRef"]["envSourceContainerName"]
    assert source == worker.name
    dsn = worker.environment()[trigger["metadata"]["connectionFromEnv"]]
    assert _statuses(dsn, run_ids) == dict.fromkeys(run_ids, "pending")
    with psycopg.connect(dsn) as conn:
        assert conn.execute(trigger["metadata"]["query"]).fetchone() == (3,)
        with pytest.raises(psycopg.errors.UndefinedTable):  # the official chart's query, on this runtime
            conn.execute("SELECT COUNT(*) FROM run WHERE status = 'pending'")

    worker.start().wait_ok()
    wait_for(
        lambda: set(_statuses(dsn, run_ids).values()) == {"success"},
        timeout=120,
        what="the queue worker to run the 3 runs",
    )
    with psycopg.connect(dsn) as conn:
        assert conn.execute(trigger["metadata"]["query"]).fetchone() == (0,)
    for thread, run_id in thread_runs:
        state = httpx.get(f"{api.url}/threads/{thread}/state", timeout=30).json()
        assert sorted(state["values"]["steps"]) == ["draft", "plan", "research", "review"]
        assert _succeeded(worker.tail(10**6), run_id) == 1
    assert "Background run" not in api.tail(10**6)  # the api process ran none of them


def test_sigterm_to_the_worker_mid_run_then_a_restart_completes_the_run_once(stack: Stack) -> None:
    api, worker = stack.api, stack.worker
    dsn = stack.database()
    api.start().wait_ok()
    worker.start().wait_ok()
    thread, run_id = _create_run(api.url, sleep=6)

    def in_review() -> bool:
        state = httpx.get(f"{api.url}/threads/{thread}/state", timeout=10).json()
        return state.get("next") == ["review"] and _statuses(dsn, [run_id]) == {run_id: "running"}

    wait_for(in_review, timeout=60, what="the run to be in its 6-second review node")
    started = time.monotonic()
    assert worker.environment()["BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS"] == "885"  # 900 - 15; no preStop
    exit_s = worker.exit_seconds(signal.SIGTERM, timeout=60)
    code = worker.proc.returncode if worker.proc else None
    assert code == 0 and exit_s < 30  # this runtime does not wait for the run (README: Shutdown)
    assert _statuses(dsn, [run_id]) == {run_id: "pending"}  # put back, not lost, not left running
    with psycopg.connect(dsn) as conn:
        assert conn.execute(PENDING_RUNS_QUERY).fetchone() == (1,)  # so the autoscaler sees it

    worker.start().wait_ok()
    wait_for(
        lambda: _statuses(dsn, [run_id]) == {run_id: "success"},
        timeout=120,
        what="the restarted worker to finish the run",
    )
    total_s = time.monotonic() - started
    state = httpx.get(f"{api.url}/threads/{thread}/state", timeout=30).json()
    assert sorted(state["values"]["steps"]) == [
        "draft",
        "plan",
        "research",
        "review",
    ]  # each node's write once
    log = worker.tail(10**7)
    assert _succeeded(log, run_id) == 1
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM runs WHERE run_id::text = %s", (run_id,)).fetchone() == (1,)
        attempts = conn.execute(
            "SELECT count FROM retry_counters WHERE run_id::text = %s", (run_id,)
        ).fetchone()
    assert _attempts_by_step(dsn, thread) == RESUMED  # resumed: only review again
    print(  # the figures the README gives for a run in flight during a rollout
        f"\nSIGTERM mid-run: worker exited in {exit_s:.2f} s (code {code}), the run pending again at once; "
        f"the restarted worker finished it {total_s:.1f} s after the SIGTERM; attempts {attempts}"
    )


def test_a_run_in_flight_during_a_rolling_update_moves_to_the_new_worker(stack: Stack) -> None:
    """maxSurge 1, maxUnavailable 0: the new pod is ready before the old one gets SIGTERM. Both workers run
    before the run is created; the one that took it is stopped."""
    api = stack.api
    dsn = stack.database()
    api.start().wait_ok()
    workers = [stack.worker.start(), stack.pod("queue", "queue-new").start()]
    for w in workers:
        w.wait_ok()
    thread, run_id = _create_run(api.url, sleep=6)

    def holder() -> ContainerProcess | None:
        state = httpx.get(f"{api.url}/threads/{thread}/state", timeout=10).json()
        if state.get("next") != ["review"]:
            return None
        took = [w for w in workers if _started(w.tail(10**7), run_id)]
        assert len(took) == 1, f"the run was started by {len(took)} workers"
        return took[0]

    old = wait_for(holder, timeout=60, what="the run to be in its review node")
    (new,) = [w for w in workers if w is not old]
    started = time.monotonic()
    exit_s = old.exit_seconds(signal.SIGTERM, timeout=60)
    assert _statuses(dsn, [run_id]) in ({run_id: "pending"}, {run_id: "running"})  # back, or taken again
    wait_for(lambda: _started(new.tail(10**7), run_id), timeout=60, what="the new worker to take the run")
    taken_s = time.monotonic() - started
    wait_for(lambda: _statuses(dsn, [run_id]) == {run_id: "success"}, timeout=120, what="the run to finish")
    done_s = time.monotonic() - started
    assert _succeeded(new.tail(10**7), run_id) == 1 and _succeeded(old.tail(10**7), run_id) == 0
    assert _attempts_by_step(dsn, thread) == RESUMED
    print(
        f"\nrolling update: old worker exited {exit_s:.2f} s after SIGTERM; the new one took the run "
        f"{taken_s:.2f} s after it and finished it after {done_s:.1f} s (review sleeps 6 s)"
    )
