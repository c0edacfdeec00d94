"""Benchmark: a log request through the listener, end to end: `GET /v1/deployments/{id}/logs` -> the
control plane stores a log request -> the listener's long-poll takes it -> pods/log through the
kube-apiserver -> the SIMULATED kubelet's log endpoint (lines the simulator holds: no container runs)
-> the listener redacts, filters, answers -> the control plane merges the events and answers.

Figures: p50/p99 latency for a short log, a 50,000-line log (the newest 100 lines; a text filter that
scans the listener's tail of 5,000 lines; the oldest 1,000 lines from a time on), 8 requests at once,
next to the raw pods/log call; and how long a new revision takes to be applied while slow log reads
occupy the listener (the sync must not wait for them).

Everything is real and local: Postgres, the control plane (process), the kube-apiserver, the operator
(process), the listener (process, default settings). Prints figures; asserts nothing.
Run: .venv/bin/python bench/logs_bench.py [--requests 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kubernetes import client, config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lgp_local import Cluster, PostgresServer, SimulatedKubelet
from lgp_local.control_plane import LGP, ControlPlane, Process, listener_argv
from lgp_local.crd import install_crd
from lgp_local.procs import wait_for

IMAGE = "registry.example/agent"
BIG = 50_000


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def timed(call: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        call()
        out.append(time.monotonic() - t0)
    return out


def show(label: str, seconds: list[float], extra: str = "") -> None:
    print(
        f"{label:<58} p50 {pct(seconds, 50) * 1000:7.1f} ms  p99 {pct(seconds, 99) * 1000:7.1f} ms"
        f"  (n={len(seconds)}){extra}"
    )


def logs(cp: ControlPlane, deployment_id: str, **params: Any) -> dict[str, Any]:
    r = cp.http.get(f"/deployments/{deployment_id}/logs", params=params, timeout=60)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


def run(
    cp: ControlPlane, kubelet: SimulatedKubelet, api: client.ApiClient, ns: str, listener_id: str, n: int
) -> None:
    d = cp.call(
        "POST",
        "/deployments",
        json={
            "name": f"logs-{uuid.uuid4().hex[:6]}",
            "type": "development",
            "image": f"{IMAGE}:1.0",
            "listener_id": listener_id,
            "namespace": ns,
            "secrets": {"OPENAI_API_KEY": "sk-bench-" + uuid.uuid4().hex},
        },
    )
    cp.wait_revision(d["latest_revision_id"], {"DEPLOYED"}, timeout=120)
    core = client.CoreV1Api(api)
    pod = wait_for(
        lambda: next(
            (
                p.metadata.name
                for p in core.list_namespaced_pod(
                    ns, label_selector="app.kubernetes.io/component=api-server"
                ).items
                if p.status.phase == "Running"
            ),
            None,
        ),
        timeout=60,
        what="the api-server pod",
    )
    wait_for(lambda: logs(cp, d["id"])["containers"] == "complete", timeout=60, what="the listener to answer")

    small = timed(lambda: logs(cp, d["id"]), n)
    raw_small = timed(
        lambda: core.read_namespaced_pod_log(pod, ns, container="api-server", tail_lines=100), n
    )
    show("short log (a few lines), through the listener", small)
    show("short log, raw pods/log (kubernetes client -> apiserver)", raw_small)

    start = datetime.now(UTC) - timedelta(hours=1)
    for i in range(BIG):
        text = f"INFO:     GET /threads/{i} 200 OK" + (" needle" if i % 1000 == 0 else "")
        kubelet.logs.write(ns, pod, "api-server", text, at=start + timedelta(milliseconds=50 * i))
    newest = timed(lambda: logs(cp, d["id"], limit=100), n)
    raw_newest = timed(
        lambda: core.read_namespaced_pod_log(pod, ns, container="api-server", tail_lines=100), n
    )
    show(f"{BIG:,}-line log, newest 100 lines, through the listener", newest)
    show(f"{BIG:,}-line log, raw pods/log tailLines=100", raw_newest)
    found: list[int] = []
    filtered = timed(lambda: found.append(len(logs(cp, d["id"], q="needle", limit=100)["data"])), n)
    show(f"{BIG:,}-line log, text filter over the 5,000-line tail", filtered, f"  {found[-1]} lines found")
    since = (start + timedelta(minutes=10)).isoformat()
    pages: list[dict[str, Any]] = []
    oldest = timed(lambda: pages.append(logs(cp, d["id"], since=since, order="asc", limit=1000)), n)
    size = sum(len(e["message"]) for e in pages[-1]["data"])
    show(
        f"{BIG:,}-line log, oldest 1,000 lines from a time on (asc)",
        oldest,
        f"  {len(pages[-1]['data'])} lines, {size / 1024:.0f} KiB, {pages[-1]['containers']}",
    )

    at_once: list[float] = []
    notices: list[str | None] = []

    def one() -> None:
        t0 = time.monotonic()
        page = logs(cp, d["id"], limit=100)
        at_once.append(time.monotonic() - t0)
        notices.append(page["notice"])

    for _ in range(max(1, n // 8)):
        with ThreadPoolExecutor(8) as pool:
            for _ in range(8):
                pool.submit(one)
    busy = sum(1 for x in notices if x and "busy" in x)
    show("8 requests at once (listener: 4 read at a time, 16 held)", at_once, f"  {busy} answered 'busy'")

    # the sync while slow log reads occupy the listener
    def applied_after(image: str) -> float:
        t0 = time.monotonic()
        rev = cp.call("POST", f"/deployments/{d['id']}/revisions", json={"image": image})
        wait_for(
            lambda: (
                client.CustomObjectsApi(api)
                .get_namespaced_custom_object("lgp.dev", "v1alpha1", ns, "langgraphplatforms", d["name"])
                .get("spec", {})
                .get("revision", {})
                .get("id")
                == rev["id"]
            ),
            timeout=60,
            what="the revision applied",
            interval=0.02,
        )
        took = time.monotonic() - t0
        cp.wait_revision(rev["id"], {"DEPLOYED"}, timeout=120)
        return took

    quiet = [applied_after(f"{IMAGE}:{k}") for k in range(2, 5)]
    kubelet.logs.delay_seconds = 8.0
    readers = [threading.Thread(target=lambda: logs(cp, d["id"])) for _ in range(4)]
    for t in readers:
        t.start()
    wait_for(lambda: kubelet.logs.reading, timeout=30, what="slow reads to start")
    busy_sync = [applied_after(f"{IMAGE}:{k}") for k in range(5, 8)]
    kubelet.logs.delay_seconds = 0.0
    for t in readers:
        t.join(60)
    print(
        f"{'revision created -> LangGraphPlatform applied, no log reads':<58} median "
        f"{sorted(quiet)[1] * 1000:7.1f} ms"
    )
    print(
        f"{'... while 4 log reads wait 8 s each on a slow kubelet':<58} median "
        f"{sorted(busy_sync)[1] * 1000:7.1f} ms"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=30)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lgp-bench-"))
    pg = PostgresServer.start()
    cluster = Cluster.start()
    procs: list[Process] = []
    cp: ControlPlane | None = None
    kubelet = None
    try:
        api = config.new_client_from_config(str(cluster.kubeconfig))
        install_crd(api)
        cp = ControlPlane(pg.create_database(f"bench_{uuid.uuid4().hex[:8]}"), work)
        cp.start()
        kubelet = SimulatedKubelet(api, all_namespaces=True).start()
        procs.append(
            Process(
                "operator",
                [*LGP, "operator", "run", "--kubeconfig", str(cluster.kubeconfig), "--no-leader-election"],
                work,
            ).start()
        )
        ns = f"bench-logs-{uuid.uuid4().hex[:4]}"
        client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
        listener = cp.create_listener([ns])
        token = work / "token"
        token.write_text(listener["token"])
        procs.append(
            Process(
                "listener", listener_argv(cp.url, token, cluster.kubeconfig, [ns]), work, dict(os.environ)
            ).start()
        )
        run(cp, kubelet, api, ns, listener["id"], args.requests)
        print("listener settings: defaults (log concurrency 4, tail 5,000 lines, 2 MiB per container)")
    finally:
        for proc in procs:
            proc.stop()
        if kubelet is not None:
            kubelet.stop()
        if cp is not None:
            cp.stop()
        cluster.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
