"""Usage from the LangGraph server's own reports, end to end on the REAL server (langgraph-api 0.11.1
with the MIT runtime langgraph-runtime-pg, from PyPI, as an api process plus a queue worker on real
Postgres and Redis; no kubelet): 50 runs of mixed shapes reach the beacon with exactly the server's
own counts, while the beacon fails 30% of requests, the usage component is SIGKILLed twice, and
every fifth answer of the receiver to the server is lost after the report was stored.

The beacon is a stand-in for the vendor's beacon (``FlakySink``, a real HTTP server on 127.0.0.1);
``LossyNetwork`` is a stand-in for a network that loses answers.

The server's report interval: langgraph-api 0.11.1 has no setting for it. It is the module
constant ``langgraph_api.metadata.INTERVAL = 300`` (read at every turn of ``metadata_loop``). This
test sets it to 1 s through a ``sitecustomize`` module on the server processes' ``PYTHONPATH``
(``LGP_TEST_REPORT_INTERVAL``), the only change made to the stock server.

The virtualenv with the real server is ``lgp_local.realserver.server_python`` (the server image's
pins, built once), as for the other real-server tests.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from lgp_operator.builders.common import Platform
from lgp_operator.builders.desired import build_desired
from lgp_operator.settings import OperatorSettings
from lgp_operator.usage.buffer import Buffer
from lgp_operator.usage.reports import ReportStore

from lgp_local import realserver

from .conftest import FlakySink


@pytest.fixture(scope="module")
def server_python() -> Path:
    """A virtualenv with the real server at the server image's pins, built once."""
    return realserver.server_python()


REPO = Path(__file__).resolve().parents[3]
AGENT = REPO / "examples" / "agent" / "agent.py"
DEPLOYMENT_ID = "uid-agent"
REPORT_KEY = "usage-" + uuid.uuid4().hex  # the deployment's usage credential (a Secret in a cluster)
WINDOW_SECONDS = 3
SERVER_INTERVAL = 1.0

# Graphs of other shapes, beside the example agent (plan -> research || draft -> review: 4 node
# executions). Node executions per run, as the server counts them (``__pregel_node_finished``,
# hidden ``__start__`` excluded, a subgraph's parent node included): fan3 3, withsub 3 (sub, x, y).
SHAPES = """\
import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class S(TypedDict, total=False):
    items: Annotated[list[str], operator.add]


def _node(name):
    def f(state):
        return {"items": [name]}

    return f


b = StateGraph(S)
for n in ("p1", "p2", "p3"):
    b.add_node(n, _node(n))
    b.add_edge(START, n)
    b.add_edge(n, END)
fan3 = b.compile()

sb = StateGraph(S)
sb.add_node("x", _node("x"))
sb.add_node("y", _node("y"))
sb.add_edge(START, "x")
sb.add_edge("x", "y")
sb.add_edge("y", END)
b = StateGraph(S)
b.add_node("sub", sb.compile())
b.add_edge(START, "sub")
b.add_edge("sub", END)
withsub = b.compile()
"""
NODES = {"agent": 4, "fan3": 3, "withsub": 3}
SITECUSTOMIZE = """\
import os

if os.environ.get("LGP_TEST_REPORT_INTERVAL"):
    import langgraph_api.metadata

    langgraph_api.metadata.INTERVAL = float(os.environ["LGP_TEST_REPORT_INTERVAL"])
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class StrictBeacon(FlakySink):
    """The stand-in beacon, also recording a resend whose payload differs from the stored one
    (a window relayed twice with different counts would be a double count)."""

    def __init__(self, failure_rate: float, seed: int) -> None:
        super().__init__(failure_rate, seed)
        self.changed: list[str] = []

    def handle(self, path: str, key: str | None, body: bytes) -> int:
        with self.lock:
            old = self.stored.get(key or "")
        if old is not None and json.loads(body)["measures"] != old["measures"]:
            self.changed.append(f"{key}: {old['measures']} then {json.loads(body)['measures']}")
        return super().handle(path, key, body)

    def totals(self) -> tuple[int, int]:
        got = self.windows()
        runs = sum(p["measures"]["langgraph.platform.runs"] for p in got.values())
        nodes = sum(p["measures"]["langgraph.platform.nodes"] for p in got.values())
        return runs, nodes


class LossyNetwork:
    """A stand-in for a network that loses answers, between the servers and the usage component: it
    forwards every report and, for every ``every``-th one the receiver stored, closes the connection
    instead of answering (the server then keeps those counts and sends them again, merged into its
    next report with the same ``from_timestamp``)."""

    def __init__(self, target_port: int, every: int = 5) -> None:
        self.lock = threading.Lock()
        self.forwarded = 0
        self.lost: list[str] = []  # from_timestamp of reports stored whose answer was lost
        self.answered: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    r = httpx.post(
                        f"http://127.0.0.1:{target_port}{self.path}",
                        content=body,
                        headers={"Content-Type": "application/json"},
                        timeout=10,
                    )
                except httpx.HTTPError:  # the usage component is down
                    self.close_connection = True
                    return
                start = str(json.loads(body).get("from_timestamp"))
                with outer.lock:
                    outer.forwarded += 1
                    drop = r.status_code == 204 and outer.forwarded % every == 0
                    (outer.lost if drop else outer.answered).append(start)
                if drop:
                    self.close_connection = True
                    return
                self.send_response(r.status_code)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def resent_after_a_lost_answer(self) -> int:
        with self.lock:
            return len(set(self.lost) & set(self.answered))

    def __enter__(self) -> LossyNetwork:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class UsageComponent:
    """``lgp usage run`` as a process: the receiver of the servers' reports plus the relay."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = int(env["LGP_USAGE_RECEIVER_PORT"])

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lgp_operator.usage.cli", "run"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        _wait(lambda: _answers(f"http://127.0.0.1:{self.port}/healthz"), 30, "the usage receiver")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(30) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def beacon() -> Iterator[StrictBeacon]:
    b = StrictBeacon(0.3, seed=13)
    with b:
        yield b


@pytest.fixture
def usage(beacon: StrictBeacon, tmp_path: Path) -> Iterator[UsageComponent]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGP_USAGE_")}
    env.update(
        LGP_USAGE_BEACON_URL=beacon.url,
        LGP_USAGE_LICENSE_KEY="test-license",
        LGP_USAGE_REPORT_KEYS=f"{DEPLOYMENT_ID}:agent={REPORT_KEY}",
        LGP_USAGE_TARGET_NAMESPACE="team-a",
        LGP_USAGE_BUFFER_PATH=str(tmp_path / "usage" / "buffer.sqlite3"),
        LGP_USAGE_RECEIVER_HOST="127.0.0.1",
        LGP_USAGE_RECEIVER_PORT=str(_free_port()),
        LGP_USAGE_INTERVAL_SECONDS="0.2",
        LGP_USAGE_WINDOW_SECONDS=str(WINDOW_SECONDS),
        LGP_USAGE_SETTLE_SECONDS="0",
        LGP_USAGE_MAX_CONSECUTIVE_FAILURES="3",
        LGP_USAGE_BACKOFF_INITIAL_SECONDS="0.1",
        LGP_USAGE_BACKOFF_MAX_SECONDS="0.5",
        LGP_USAGE_METRICS_PORT="0",
    )
    component = UsageComponent(env, tmp_path / "usage.log")
    component.start()
    try:
        yield component
    finally:
        component.stop()


def usage_env_from_the_operator(receiver_url: str) -> dict[str, str]:
    """The usage-reporting variables exactly as the operator's builders set them on the api server and
    the queue worker, with each secretKeyRef resolved from the Secret the builders make."""
    cr = Platform.from_body(
        {
            "metadata": {"name": "agent", "namespace": "team-a", "uid": DEPLOYMENT_ID, "generation": 1},
            "spec": {"image": "agent:1", "queue": {"enabled": True}},
        }
    )
    settings = OperatorSettings(usage_receiver_url=receiver_url)
    objs = build_desired(cr, settings, postgres_password="pw", usage_key=REPORT_KEY).objects
    secrets = {
        o["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in o["data"].items()}
        for o in objs
        if o["kind"] == "Secret"
    }
    found = []
    for o in objs:
        if o["kind"] != "Deployment" or o["metadata"]["name"] not in ("agent-api-server", "agent-queue"):
            continue
        env = {}
        for e in o["spec"]["template"]["spec"]["containers"][0]["env"]:
            if not e["name"].startswith("LANGSMITH_"):
                continue
            if "valueFrom" in e:
                ref = e["valueFrom"]["secretKeyRef"]
                env[e["name"]] = secrets[ref["name"]][ref["key"]]
            else:
                env[e["name"]] = e["value"]
        found.append(env)
    assert len(found) == 2 and found[0] == found[1], found
    return found[0]


def _start(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def network(usage: UsageComponent) -> Iterator[LossyNetwork]:
    n = LossyNetwork(usage.port)
    with n:
        yield n


@pytest.fixture
def server(
    server_python: Path,
    postgres_url: str,
    redis_server: Any,
    network: LossyNetwork,
    tmp_path: Path,
) -> Iterator[dict[str, Any]]:
    """The real server (api process with no queue, plus one queue worker), reporting its usage to
    the usage component with the deployment's credential."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "shapes.py").write_text(SHAPES)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    database = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    api_port, worker_port = _free_port(), _free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("LGP_", "KUBE", "LANGSMITH", "LANGCHAIN"))
        },
        "LANGGRAPH_RUNTIME_EDITION": "pg",
        "DATABASE_URI": database,
        "POSTGRES_URI": database,
        "REDIS_URI": redis_server.url.rsplit("/", 1)[0] + "/5",
        "LANGSERVE_GRAPHS": json.dumps(
            {
                "agent": f"{AGENT}:graph",
                "fan3": f"{app}/shapes.py:fan3",
                "withsub": f"{app}/shapes.py:withsub",
            }
        ),
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "LOG_COLOR": "false",
        "AGENT_SLEEP_SECONDS": "0",
        # where the server reports its own usage, and with which credential: what the operator sets
        **usage_env_from_the_operator(f"http://127.0.0.1:{network.port}"),
        "PYTHONPATH": str(site),
        "LGP_TEST_REPORT_INTERVAL": str(SERVER_INTERVAL),
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            _start(
                [
                    str(server_python),
                    "-m",
                    "uvicorn",
                    "langgraph_api.server:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(api_port),
                ],
                {**env, "N_JOBS_PER_WORKER": "0", "PORT": str(api_port)},
                app,
                tmp_path / "api.log",
            )
        )
        _wait(lambda: _answers(f"http://127.0.0.1:{api_port}/ok"), 120, "the api server")
        procs.append(
            _start(
                [str(server_python), "-m", "langgraph_api.queue_entrypoint"],
                {
                    **env,
                    "N_JOBS_PER_WORKER": "4",
                    "PORT": str(worker_port),
                    "LANGGRAPH_SERVER_HOST": "127.0.0.1",
                },
                app,
                tmp_path / "worker.log",
            )
        )
        _wait(lambda: _answers(f"http://127.0.0.1:{worker_port}/ok"), 120, "the queue worker")
        yield {"api": f"http://127.0.0.1:{api_port}", "logs": [tmp_path / "api.log", tmp_path / "worker.log"]}
    finally:
        realserver.stop_all(procs)


def _run(api: str, shape: str, graph: str) -> None:
    """One run of one shape; returns when the run has finished."""
    body: dict[str, Any] = {
        "assistant_id": graph,
        "input": {"sleep": 0} if graph == "agent" else {"items": []},
    }
    with httpx.Client(base_url=api, timeout=120) as c:
        if shape == "stateless":
            r = c.post("/runs/wait", json=body)
        elif shape == "thread":
            thread = c.post("/threads", json={}).json()["thread_id"]
            r = c.post(f"/threads/{thread}/runs/wait", json=body)
        elif shape == "background":
            thread = c.post("/threads", json={}).json()["thread_id"]
            run = c.post(f"/threads/{thread}/runs", json=body).json()["run_id"]
            r = c.get(f"/threads/{thread}/runs/{run}/join")
        else:  # streamed, no thread
            with c.stream("POST", "/runs/stream", json={**body, "stream_mode": ["updates"]}) as s:
                events = [line for line in s.iter_lines() if line.startswith("event:")]
                assert "event: error" not in events, events
                r = s
        assert r.status_code == 200, f"{shape} {graph}: {r.status_code}"


def test_fifty_runs_of_mixed_shapes_reach_the_beacon_with_the_servers_own_counts(
    server: dict[str, Any], usage: UsageComponent, beacon: StrictBeacon, network: LossyNetwork
) -> None:
    rng = random.Random(50)
    plan = [
        (rng.choice(["stateless", "thread", "background", "stream"]), graph)
        for graph in (["agent"] * 20 + ["fan3"] * 15 + ["withsub"] * 15)
    ]
    rng.shuffle(plan)
    expected = (len(plan), sum(NODES[g] for _, g in plan))
    done: list[int] = []
    lock = threading.Lock()

    def one(item: tuple[str, str]) -> None:
        _run(server["api"], *item)
        with lock:
            done.append(1)

    kills = 0
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(one, item) for item in plan]
        # kill 1: mid-way through the runs, while reports arrive
        _wait(lambda: len(done) >= 20, 180, "20 runs")
        usage.kill()
        kills += 1
        time.sleep(2 * SERVER_INTERVAL)  # the servers' reports fail meanwhile: they keep their counts
        usage.start()
        for f in futures:
            f.result()
    # kill 2: after the runs, before every report was relayed
    usage.kill()
    kills += 1
    time.sleep(SERVER_INTERVAL + 0.5)
    usage.start()

    # every count the server made reaches the beacon ...
    try:
        _wait(lambda: beacon.totals() == expected, 120, "the beacon totals")
    except AssertionError:
        raise AssertionError(f"the beacon totals are {beacon.totals()}, expected {expected}") from None
    # ... and stays there: wait for more reports to be received and windows to be sealed and relayed
    buffer_path = usage.env["LGP_USAGE_BUFFER_PATH"]
    sealed_before = len(beacon.windows())
    _wait(lambda: len(beacon.windows()) >= sealed_before + 2, 60, "two more windows relayed")
    time.sleep(WINDOW_SECONDS)

    assert kills == 2
    assert beacon.totals() == expected, (beacon.totals(), expected)
    assert beacon.changed == []  # no window relayed twice with different counts
    # reports the receiver had stored came again (their answer was lost), and were not counted twice
    assert network.resent_after_a_lost_answer() > 0, (network.lost, network.forwarded)
    assert beacon.bad == []
    assert beacon.refused > 0 and beacon.failed_after_store > 0  # the beacon really failed
    got = beacon.windows()
    starts = sorted(start for _, start in got)
    assert all(b - a >= timedelta(seconds=WINDOW_SECONDS) for a, b in itertools.pairwise(starts))
    for payload in got.values():
        assert payload["license"] == "test-license"
        assert payload["tags"]["langgraph.platform.deployment"] == "agent"
        assert payload["tags"]["langgraph.platform.namespace"] == "team-a"
    # nothing left unsent in the buffer once it drained
    buffer = Buffer(buffer_path)
    store = ReportStore(buffer_path, WINDOW_SECONDS)
    try:
        unsent = [w for w, sent in buffer.all_windows() if not sent]
        open_runs = store.open_totals().get(DEPLOYMENT_ID, (0, 0))
        assert sum(w.runs for w in unsent) + open_runs[0] == 0, (unsent, open_runs)
    finally:
        store.close()
        buffer.close()
    # the kills were seen by the server: it kept the counts of failed reports and sent them again
    logs = "".join(log.read_text() for log in server["logs"])
    assert "All metadata submissions failed, will retry" in logs
    print(
        f"\nusage from the server's own reports: runs/nodes at the beacon {beacon.totals()} = expected"
        f" {expected}; {len(got)} windows; beacon requests {beacon.requests} (refused {beacon.refused},"
        f" stored then 500 {beacon.failed_after_store}, resends of stored {beacon.resends_of_stored});"
        f" usage component SIGKILLed {kills} times; server retries after failed reports:"
        f" {logs.count('All metadata submissions failed, will retry')}; reports forwarded"
        f" {network.forwarded}, answers lost after storing {len(network.lost)}, resent"
        f" {network.resent_after_a_lost_answer()}"
    )
