"""The example agent on the real node through the whole data path (control plane, listener and operator
as processes): DEPLOYED only after the real readiness probe, a background run executed by the queue
worker while the api server runs none, a streamed run, a rollout with zero failed requests, a missing
image and a crashing server as DEPLOY_FAILED with the kubelet's real reasons, and delete keeping the
database volume (retainOnDelete, the operator's default)."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client

from lgp_local.control_plane import LGP, ControlPlane, Process, listener_argv
from lgp_local.crd import install_crd
from lgp_local.procs import wait_for

from .conftest import NodeStack, pod_ready

REPO = Path(__file__).resolve().parents[3]
AGENT_IMAGE = "localhost/lgp/example-agent:test"
# Small requests: the node has 2 CPUs, and a rollout surges one more pod of each Deployment.
RESOURCES = {
    "server": {"replicas": 1, "cpu": "250m", "memory": "512Mi"},
    "queue": {"enabled": True, "replicas": 1, "jobs_per_worker": 5, "cpu": "250m", "memory": "512Mi"},
    "postgres": {"storage": "1Gi", "cpu": "200m", "memory": "256Mi"},
    "redis": {"cpu": "50m", "memory": "64Mi"},
}


@pytest.fixture(scope="module")
def images(real_node: NodeStack) -> dict[str, str]:
    """The example agent (examples/agent), Postgres and Redis images, built here and loaded into the node."""
    from lgp_local.platform_images import build_platform_images, builder_missing, load_platform_images

    missing = builder_missing()
    if missing:
        pytest.skip(missing)
    return load_platform_images(build_platform_images(agent_name=AGENT_IMAGE), real_node.node.sock)


@pytest.fixture(scope="module")
def stack(
    real_node: NodeStack,
    images: dict[str, str],
    postgres_server: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ControlPlane, Process]]:
    workdir = tmp_path_factory.mktemp("realnode-stack")
    install_crd(real_node.api)
    db = f"cp_{uuid.uuid4().hex[:10]}"
    cp = ControlPlane(postgres_server.create_database(db), workdir)
    cp.start()
    kubeconfig = str(real_node.cluster.kubeconfig)
    env = dict(
        os.environ,
        LGP_OPERATOR_RESYNC_SECONDS="5",
        LGP_OPERATOR_POSTGRES_IMAGE=images["postgres"],
        LGP_OPERATOR_REDIS_IMAGE=images["redis"],
    )
    operator = Process(
        "operator",
        [*LGP, "operator", "run", "--kubeconfig", kubeconfig, "--no-leader-election"],
        workdir,
        env,
    ).start()
    try:
        yield cp, operator
    finally:
        operator.stop()
        cp.stop()
        cp.http.close()
        postgres_server.drop_database(db)


@pytest.fixture
def deploy(
    real_node: NodeStack, stack: tuple[ControlPlane, Process], node_ns: str, tmp_path: Path
) -> Iterator[Callable[..., dict[str, Any]]]:
    """A listener for this test's namespace, and a function that creates a deployment through the API."""
    cp, _ = stack
    listener = cp.create_listener([node_ns])
    token = tmp_path / "token"
    token.write_text(listener["token"])
    token.chmod(0o600)
    argv = listener_argv(cp.url, token, real_node.cluster.kubeconfig, [node_ns])
    env = dict(os.environ, LGP_LISTENER_OBSERVE_INTERVAL_SECONDS="0.5", LGP_LISTENER_POLL_WAIT_SECONDS="10")
    proc = Process(f"listener-{node_ns}", argv, tmp_path, env).start()

    def make(name: str, image: str = AGENT_IMAGE, env: list[dict[str, str]] | None = None) -> dict[str, Any]:
        body = {
            "name": name,
            "type": "development",
            "image": image,
            "listener_id": listener["id"],
            "namespace": node_ns,
            "resources": RESOURCES,
            "env": env or [],
        }
        created: dict[str, Any] = cp.call("POST", "/deployments", json=body)
        return created

    try:
        yield make
    finally:
        proc.stop()


def _pods(real_node: NodeStack, ns: str, component: str) -> list[Any]:
    pods: list[Any] = (
        client.CoreV1Api(real_node.api)
        .list_namespaced_pod(ns, label_selector=f"app.kubernetes.io/component={component}")
        .items
    )
    return pods


def _why(real_node: NodeStack, ns: str, rev: dict[str, Any]) -> str:
    """The revision's reason and what the pods say, for a failure message."""
    lines = [f"{rev['status']}: {rev['status_reason']}: {rev['status_message']}"]
    for pod in client.CoreV1Api(real_node.api).list_namespaced_pod(ns).items:
        for cs in pod.status.container_statuses or []:
            lines.append(f"{pod.metadata.name}: ready={cs.ready} restarts={cs.restart_count}: {cs.state}")
            if cs.restart_count:
                lines.append(_logs(real_node, ns, pod.metadata.name)[-1500:])
    return "\n".join(lines)


def _run_lines(log: str, run_id: str) -> list[str]:
    """The server's log lines about one run, without terminal colours."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    return [line for line in plain.splitlines() if run_id in line]


def _ts(value: str | datetime) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _agent_url(real_node: NodeStack, ns: str, name: str) -> str:
    ip = client.CoreV1Api(real_node.api).read_namespaced_service(name, ns).spec.cluster_ip
    return f"http://{ip}:8000"


def _logs(real_node: NodeStack, ns: str, pod: str) -> str:
    return str(client.CoreV1Api(real_node.api).read_namespaced_pod_log(pod, ns))


def test_the_example_agent_serves_runs_and_rolls_out_without_a_failed_request(
    real_node: NodeStack,
    stack: tuple[ControlPlane, Process],
    deploy: Callable[..., dict[str, Any]],
    node_ns: str,
) -> None:
    from langgraph_sdk import get_client

    cp, _ = stack
    dep = deploy("agent")
    rev = cp.wait_revision(dep["latest_revision_id"], {"DEPLOYED", "DEPLOY_FAILED"}, timeout=420)
    assert rev["status"] == "DEPLOYED", _why(real_node, node_ns, rev)
    # DEPLOYED only after the real readiness probe passed (the kubelet's GET /ok on the pod)
    (api_pod,) = _pods(real_node, node_ns, "api-server")
    ready_at = next(c.last_transition_time for c in api_pod.status.conditions if c.type == "Ready")
    assert pod_ready(api_pod)
    assert _ts(rev["finished_at"]) >= _ts(ready_at)
    container = api_pod.spec.containers[0]
    assert container.readiness_probe.http_get.path == "/ok"
    assert {e.name: e.value for e in container.env if e.value is not None}["N_JOBS_PER_WORKER"] == "0"

    url = _agent_url(real_node, node_ns, "agent")

    async def runs() -> tuple[dict[str, Any], list[str], Any]:
        sdk = get_client(url=url)
        thread = await sdk.threads.create()
        run = await sdk.runs.create(thread["thread_id"], "agent", input={"topic": "lgp", "sleep": 1})
        await sdk.runs.join(thread["thread_id"], run["run_id"])
        done = await sdk.runs.get(thread["thread_id"], run["run_id"])
        state = await sdk.threads.get_state(thread["thread_id"])
        streamed = [
            part.event
            async for part in sdk.runs.stream(
                None, "agent", input={"topic": "stream", "sleep": 0}, stream_mode="updates"
            )
        ]
        return {"run": done, "state": state["values"]}, streamed, run

    result, streamed, run = asyncio.run(runs())
    assert result["run"]["status"] == "success"
    assert result["state"]["steps"][0] == "plan" and result["state"]["steps"][-1] == "review"
    assert streamed[0] == "metadata" and streamed.count("updates") == 4  # plan, research, draft, review
    # the queue worker executed the background run; the api server (N_JOBS_PER_WORKER=0) ran none
    (queue_pod,) = _pods(real_node, node_ns, "queue")
    queue_lines = _run_lines(_logs(real_node, node_ns, queue_pod.metadata.name), run["run_id"])
    api_lines = _run_lines(_logs(real_node, node_ns, api_pod.metadata.name), run["run_id"])
    assert any("Background run succeeded" in line for line in queue_lines), (queue_lines, api_lines)
    assert not any("Background run" in line for line in api_lines), (queue_lines, api_lines)

    # a new revision rolls out while a client calls the agent in a loop: no request fails, and the
    # old pod is removed only after the new one is Ready
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def client_loop() -> None:
        nonlocal answered
        deadline = time.monotonic() + 600
        while not stop.is_set() and time.monotonic() < deadline:
            try:  # a new connection each time, as separate clients would make
                r = httpx.post(f"{url}/threads", json={}, timeout=10, trust_env=False)
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")
                answered += 1
            except httpx.HTTPError as e:
                failures.append(repr(e))
            time.sleep(0.05)

    loop = threading.Thread(target=client_loop, daemon=True)
    loop.start()
    try:
        new = cp.call("POST", f"/deployments/{dep['id']}/revisions", json={"image": AGENT_IMAGE})
        rev2 = cp.wait_revision(new["id"], {"DEPLOYED", "DEPLOY_FAILED"}, timeout=420)
    finally:
        stop.set()
        loop.join(timeout=30)
    assert rev2["status"] == "DEPLOYED", _why(real_node, node_ns, rev2)
    assert not failures, failures[:5]
    assert answered > 20
    (new_pod,) = [p for p in _pods(real_node, node_ns, "api-server") if not p.metadata.deletion_timestamp]
    assert new_pod.metadata.name != api_pod.metadata.name
    new_ready = next(c.last_transition_time for c in new_pod.status.conditions if c.type == "Ready")
    events = client.CoreV1Api(real_node.api).list_namespaced_event(
        node_ns, field_selector=f"involvedObject.name={api_pod.metadata.name},reason=Killing"
    )
    assert events.items, "the old api-server pod was never stopped"
    killed_at = min(_ts(e.first_timestamp or e.event_time) for e in events.items)
    assert killed_at >= _ts(new_ready)

    # delete: the pods go, the database volume stays (retainOnDelete is the default)
    (claim,) = client.CoreV1Api(real_node.api).list_namespaced_persistent_volume_claim(node_ns).items
    volume = client.CoreV1Api(real_node.api).read_persistent_volume(claim.spec.volume_name)
    data_dir = Path(volume.spec.host_path.path)
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    cp.call("DELETE", f"/deployments/{dep['id']}")
    wait_for(
        lambda: not client.CoreV1Api(real_node.api).list_namespaced_pod(node_ns).items,
        timeout=180,
        what="every pod of the deleted deployment to go",
        interval=0.5,
    )
    kept = client.CoreV1Api(real_node.api).read_namespaced_persistent_volume_claim(
        claim.metadata.name, node_ns
    )
    assert kept.status.phase == "Bound"
    assert (data_dir / "pgdata" / "PG_VERSION").exists()


def test_logs_show_the_example_servers_own_startup_lines(
    real_node: NodeStack,
    stack: tuple[ControlPlane, Process],
    deploy: Callable[..., dict[str, Any]],
    node_ns: str,
) -> None:
    """Logs through lgp on real pods: the listener reads pods/log from the real kubelet and the control
    plane answers with the server's and the queue worker's own lines, their levels, newest first."""
    cp, _ = stack
    dep = deploy("logged")
    rev = cp.wait_revision(dep["latest_revision_id"], {"DEPLOYED", "DEPLOY_FAILED"}, timeout=420)
    assert rev["status"] == "DEPLOYED", _why(real_node, node_ns, rev)
    page = cp.call("GET", f"/deployments/{dep['id']}/logs", params={"limit": 1000})
    assert page["containers"] == "complete", page["notice"]
    lines = [e for e in page["data"] if e["source"] == "container"]
    server = [e for e in lines if e["container"] == "api-server"]
    queue = [e for e in lines if e["container"] == "queue-worker"]
    assert any("Application started up" in e["message"] for e in server), [e["message"] for e in server][-20:]
    assert queue, "no line from the queue worker"
    assert {e["revision_id"] for e in lines} == {dep["latest_revision_id"]}
    assert "INFO" in {e["level"] for e in server}
    # the same lines, found by the listener's text filter, are the container's own (colours stripped)
    found = cp.call("GET", f"/deployments/{dep['id']}/logs", params={"q": "application started up"})
    assert found["data"] and all("Application started up" in e["message"] for e in found["data"])
    (pod,) = _pods(real_node, node_ns, "api-server")
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", _logs(real_node, node_ns, pod.metadata.name))
    assert all(e["message"] in plain for e in found["data"] if e["pod"] == pod.metadata.name)


def test_a_missing_image_fails_with_the_kubelets_image_pull_back_off(
    stack: tuple[ControlPlane, Process], deploy: Callable[..., dict[str, Any]]
) -> None:
    cp, _ = stack
    dep = deploy("missing", image="localhost/lgp/no-such-agent:1")
    rev = cp.wait_revision(dep["latest_revision_id"], {"DEPLOYED", "DEPLOY_FAILED"}, timeout=300)
    assert rev["status"] == "DEPLOY_FAILED", rev
    assert rev["status_reason"] in ("ImagePullBackOff", "ErrImagePull"), rev
    assert "localhost/lgp/no-such-agent:1" in (rev["status_message"] or ""), rev


def test_a_crashing_server_fails_with_crash_loop_back_off_and_its_last_log_line(
    real_node: NodeStack,
    stack: tuple[ControlPlane, Process],
    deploy: Callable[..., dict[str, Any]],
    node_ns: str,
) -> None:
    cp, _ = stack
    # a setting the real server cannot parse: it exits at every start, while importing its config,
    # before it touches Postgres or Redis, and says why. (A graph file that does not exist is found
    # only after the server migrated its database; on a fresh database its api and queue processes
    # migrate side by side, and once in three runs here (langgraph-api 0.11.1, langgraph-runtime-pg
    # 0.11.1.post1) both then hung at start instead of exiting, until the startup probe's 300 s.)
    env = [{"name": "BG_JOB_MAX_RETRIES", "value": "many"}]
    dep = deploy("crashing", env=env)
    rev = cp.wait_revision(dep["latest_revision_id"], {"DEPLOYED", "DEPLOY_FAILED"}, timeout=300)
    assert rev["status"] == "DEPLOY_FAILED", rev
    assert rev["status_reason"] == "CrashLoopBackOff", rev
    message = rev["status_message"] or ""
    # the reason carries the end of a crashed container's own log, as its previous run wrote it
    # (each crash writes the same lines but for their timestamps)
    core = client.CoreV1Api(real_node.api)
    ends = []
    for pod in _pods(real_node, node_ns, "api-server") + _pods(real_node, node_ns, "queue"):
        if pod.metadata.name in message:
            log = core.read_namespaced_pod_log(pod.metadata.name, node_ns, previous=True)
            lines = [ln for ln in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", str(log)).splitlines() if ln.strip()]
            last = re.sub(r"^\S*\d{4}-\d\d-\d\dT[\d:.]+Z?\s*", "", lines[-1].strip())
            ends.append(" ".join(last.split())[-60:])
    assert ends and re.search(r"last exit code [1-9]", message), message
    assert any(end in message for end in ends), (ends, message)
